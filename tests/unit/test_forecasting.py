"""orderflow.forecasting: forecast(), the methods behind it, the metrics and the input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orderflow.forecasting import (
    DEFAULT_METHODS,
    METHODS,
    DemandClass,
    Forecast,
    ForecastInputError,
    forecast,
    mase,
    rmsse,
)
from orderflow.forecasting.auto import backtest_origins, backtest_window, origin_count
from orderflow.forecasting.fits import YEAR_HALF_WINDOW, conditional_total_error_sigma, total_error_sigma
from orderflow.forecasting.methods import applicable, fit_method, heuristic_initial_states
from orderflow.forecasting.theta import seasonal_indices


def weekly(n: int = 210, seed: int = 1, level: float = 40.0) -> np.ndarray:
    """Daily demand with a strong weekly pattern and a little noise."""
    rng = np.random.default_rng(seed)
    pattern = np.array([0.6, 0.9, 1.0, 1.1, 1.3, 1.5, 0.6])
    return np.round(level * pattern[np.arange(n) % 7] + rng.normal(0, 1.5, n)).clip(0)


def sparse(n: int = 300, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.12, rng.integers(1, 9, n), 0).astype(float)


# ------------------------------------------------------------------ forecast()


def test_forecast_shape_and_fields():
    result = forecast(weekly(), horizon=10, season_length=7)
    assert isinstance(result, Forecast)
    assert result.mean.shape == (10,) and (result.mean >= 0).all()
    assert result.sigma > 0 and math.isfinite(result.sigma)
    assert result.demand_class == DemandClass.SMOOTH
    assert all(part in METHODS for part in result.method.split("+"))
    assert result.to_dict()["method"] == result.method


def test_weekly_pattern_is_followed():
    y = weekly()
    result = forecast(y, horizon=14, season_length=7)
    # The forecast repeats the weekly shape: the same weekdays a week apart agree, and the peak
    # weekday of the history is the peak of the forecast.
    np.testing.assert_allclose(result.mean[:7], result.mean[7:], rtol=0.1)
    assert (len(y) + int(np.argmax(result.mean[:7]))) % 7 == 5
    assert result.sigma < 5  # noise sd 1.5 plus rounding; far below the weekly swing


def test_intermittent_history_uses_intermittent_candidates():
    result = forecast(sparse(), horizon=7, season_length=7)
    assert result.demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY)
    assert set(result.method.split("+")) <= {"snaive", "mean", "smean", "ses", "croston", "sba", "tsb"}
    # flat, apart from a seasonal-naive share or a weekday profile shrunk towards the mean
    assert np.ptp(result.mean) < 0.5 * result.mean.mean()
    assert 0 < result.mean[0] < 2


def test_all_zero_history_forecasts_zero():
    result = forecast(np.zeros(400), horizon=5, season_length=7)
    assert result.method == "zero" and result.demand_class == "none"
    assert result.sigma == 0.0 and not result.mean.any()


@pytest.mark.parametrize("history", [[3.0], [3, 4], [2, 0, 5], [5, 6, 5, 7, 6]])
def test_short_histories_never_use_seasonal_methods(history):
    result = forecast(history, horizon=8, season_length=7)
    assert not any(part.startswith("hw") for part in result.method.split("+"))
    assert result.mean.shape == (8,) and np.isfinite(result.mean).all()


def test_shorter_than_a_season_seasonal_naive_is_naive():
    result = forecast([2, 4, 9], horizon=3, season_length=7, methods=["snaive"])
    assert result.method == "snaive" and list(result.mean) == [9, 9, 9]


def test_forcing_a_method_it_cannot_fit_falls_back_to_seasonal_naive():
    y = weekly(17)  # less than 2 seasons + 4 periods of history: no damped Holt-Winters
    assert forecast(y, 7, 7, methods=["hw_damped"]).method == "snaive"
    with_zero = weekly()
    with_zero[3] = 0  # multiplicative seasonality needs every value > 0
    assert forecast(with_zero, 7, 7, methods=["hw_mul"]).method == "snaive"
    assert forecast(weekly(), 7, 7, methods=["hw"]).method == "hw"


@pytest.mark.parametrize(("history", "message"), [
    ([1, 2, float("nan"), 4], r"NaN .*positions 2"),
    ([1, -2, 3, -1], r"negative values at positions 1, 3 \(first: -2\)"),
    ([], "empty"),
    ([1, float("inf")], "infinite"),
    ([[1, 2], [3, 4]], "one-dimensional"),
    (["a", "b"], "numbers"),
])
def test_bad_histories_raise_naming_the_problem(history, message):
    with pytest.raises(ForecastInputError, match=message):
        forecast(history, 3, 1)


@pytest.mark.parametrize(("horizon", "season", "field"), [(0, 7, "horizon"), (3, 0, "season_length"),
                                                           (2.5, 7, "horizon"), (True, 7, "horizon")])
def test_bad_parameters(horizon, season, field):
    with pytest.raises(ForecastInputError, match=field):
        forecast([1, 2, 3], horizon, season)


def test_unknown_method():
    with pytest.raises(ForecastInputError, match="unknown forecasting method"):
        forecast([1, 2, 3], 2, 1, methods=["prophet"])


def test_default_set_is_cheap():
    # SARIMAX is far too slow for the per-SKU default (docs/architecture.md (Targets) throughput target).
    assert "sarimax" not in DEFAULT_METHODS and "snaive" in DEFAULT_METHODS


# ------------------------------------------------------------------ methods


def test_seasonal_naive_repeats_last_season():
    y = np.arange(1.0, 15.0)  # 1..14
    fit = fit_method("snaive", y, 7)
    assert list(fit.forecast(9)) == [8, 9, 10, 11, 12, 13, 14, 8, 9]
    assert fit.sigma == pytest.approx(7.0)  # every y_t - y_{t-7} is 7


def test_applicability_rules():
    y = weekly(30)
    assert applicable("hw", y, 7) and not applicable("hw", y, 1)
    assert not applicable("hw", y[:15], 7)
    assert applicable("croston", np.array([0.0, 1.0]), 7) and not applicable("croston", np.zeros(4), 7)


@pytest.mark.parametrize(("m", "n"), [(4, 14), (7, 16), (7, 400), (12, 24), (12, 100), (5, 41), (2, 12)])
@pytest.mark.parametrize("trend", [False, True])
@pytest.mark.parametrize("seasonal", [None, "add", "mul"])
def test_heuristic_initial_states_equal_statsmodels(m, n, trend, seasonal):
    from statsmodels.tsa.exponential_smoothing.initialization import _initialization_heuristic

    y = np.random.default_rng(n).gamma(2.0, 10.0, n) + 5
    level, slope, seasons = heuristic_initial_states(y, trend, seasonal, m)
    ref_level, ref_slope, ref_seasons = _initialization_heuristic(y, "add" if trend else False, seasonal or False, m)
    assert level == pytest.approx(ref_level, rel=1e-10)
    assert (slope is None) == (ref_slope is None)
    if slope is not None:
        assert slope == pytest.approx(ref_slope, rel=1e-10, abs=1e-10)
    if seasonal:
        np.testing.assert_allclose(seasons, ref_seasons, rtol=1e-10)


def test_long_histories_fit_on_a_recent_window():
    y = weekly(900)
    fit = fit_method("hw", y, 7)
    assert fit.offset == 900 - 400 and fit.first_origin == 501
    assert np.isfinite(fit.at_origins(np.array([600, 900]), 3)).all()
    with pytest.raises(ValueError, match="before the fitted window"):
        fit.at_origins(np.array([100]), 3)


def test_combination_sigma_is_its_own_one_step_error():
    result = forecast(weekly(), 7, 7)
    if "+" in result.method:
        members = [fit_method(name, weekly(), 7) for name in result.method.split("+")]
        assert result.sigma <= max(member.sigma for member in members) * 1.05


@pytest.mark.parametrize("history, horizon, members", [(weekly, 14, 4), (sparse, 7, 3)], ids=["smooth", "sparse"])
def test_the_forecast_weights_the_best_few_by_their_inverse_backtest_error(history, horizon, members):
    """The best four of the backtest (three for sparse demand) are not counted equally: each weighs
    1 / its backtest mean squared error, so a member that backtests twice as badly counts half as much."""
    y = history()
    result = forecast(y, horizon, 7)
    scores = result.details["backtest_mse"]
    best = sorted(scores, key=lambda name: scores[name])[:members]
    assert set(result.method.split("+")) == set(best) and len(scores) >= 5
    weights = {name: 1 / scores[name] for name in best}
    expected = sum(w * fit_method(name, y, 7).forecast(horizon) for name, w in weights.items()) / sum(weights.values())
    np.testing.assert_allclose(result.mean, np.clip(expected, 0, None), rtol=1e-9)
    assert not np.allclose(result.mean, np.mean([fit_method(name, y, 7).forecast(horizon) for name in best], axis=0))
    fitted = result.details["fitted"]
    shares = dict(zip([member.method for member in fitted.members], fitted.weights, strict=True))
    assert shares[best[0]] > shares[best[-1]] and sum(shares.values()) == pytest.approx(1)


def test_smooth_demand_is_backtested_from_two_seasons_of_origins_sparse_from_four():
    """Each position of the season starts a backtest window twice for smooth demand (14 daily
    origins, 24 monthly); intermittent and lumpy demand is judged on the latest four."""
    assert origin_count(7) == 14 and origin_count(12) == 24 and origin_count(1) == 4
    assert origin_count(7, DemandClass.INTERMITTENT) == origin_count(7, DemandClass.LUMPY) == 4
    y = weekly()
    window = backtest_window(y.size, 14, 7)
    fit = fit_method("hw", y, 7)
    origins = backtest_origins(y.size, window, fit.first_origin, origin_count(7))
    assert origins.size == 14 and origins[-1] == y.size - window
    actual = y[origins[:, None] + np.arange(window)[None, :]]
    expected = float(np.mean((actual - fit.at_origins(origins, window)) ** 2))
    assert forecast(y, 14, 7).details["backtest_mse"]["hw"] == pytest.approx(expected, rel=1e-9)


def test_theta_is_ses_on_the_adjusted_history_plus_half_its_slope():
    """Without a season, Theta's forecast is the SES level plus b/2 per step (b the least-squares
    slope) plus the constant (1 − (1 − α)^n) / α · b/2; with a season, it is multiplied back."""
    rng = np.random.default_rng(3)
    t = np.arange(60)
    y = 50 + 0.8 * t + rng.normal(0, 2, t.size)
    fit = fit_method("theta", y, 1)
    ses = fit_method("ses", y, 1)
    slope = np.polyfit(t, y, 1)[0]
    alpha = ses.params["smoothing_level"]
    expected = ses.forecast(5) + slope / 2 * (np.arange(5) + (1 - (1 - alpha) ** y.size) / alpha)
    np.testing.assert_allclose(fit.forecast(5), expected, rtol=1e-9)
    assert fit.forecast(5)[-1] > fit.forecast(5)[0]  # the drift carries the trend on
    seasonal = weekly()
    index = seasonal_indices(seasonal, 7)
    assert index is not None and index.mean() == pytest.approx(1) and index.max() > 1.2
    assert seasonal_indices(y, 7) is None  # a trend without a weekly pattern is not seasonal
    np.testing.assert_allclose(fit_method("theta", seasonal, 7).at_origins(np.array([seasonal.size]), 7)[0],
                               fit_method("theta", seasonal, 7).forecast(7))

# ------------------------------------------------------------------ metrics


def test_mase_and_rmsse_hand_computed():
    insample = [1, 2, 3, 4, 5, 6]  # naive in-sample errors: all 1
    assert mase([7, 8], [6, 6], insample) == pytest.approx(1.5)  # (1 + 2) / 2
    assert rmsse([7, 8], [6, 6], insample) == pytest.approx(math.sqrt(2.5))  # sqrt((1 + 4) / 2)
    seasonal = [1, 5, 2, 6, 3, 7]  # y_t - y_{t-2} = 1 throughout
    assert mase([4, 8], [4, 8], seasonal, 2) == 0.0
    assert mase([4, 8], [5, 10], seasonal, 2) == pytest.approx(1.5)
    # Shorter than a season: scaled by the one-step naive error instead.
    assert mase([5], [4], [1, 3], 7) == pytest.approx(0.5)


def test_metrics_without_scale_are_nan():
    assert math.isnan(mase([1], [1], [3, 3, 3]))
    assert math.isnan(rmsse([1], [1], [3]))


def test_the_sigma_of_a_total_is_measured_on_the_models_own_forecasts_of_totals():
    rng = np.random.default_rng(3)
    noise = rng.normal(50, 5, 600)  # independent days around a constant level
    walk = 50 + np.cumsum(rng.normal(0, 2, 600))  # a level that moves: one-step errors persist
    for y, persistent in ((noise, False), (walk, True)):
        fit = fit_method("ses", y, 7)
        one_step = fit.sigma * np.sqrt(10)
        measured = float(total_error_sigma(fit, y, 10)[0])
        _, errors = fit.total_errors(y, 10)
        assert measured == pytest.approx(float(np.sqrt(np.mean(errors**2))))
        if persistent:
            assert measured > 1.5 * one_step
        else:
            assert measured == pytest.approx(one_step, rel=0.2)
    # known at an origin: only the windows that ended by then; none ended yet: NaN
    early = total_error_sigma(fit, walk, 10, [fit.first_origin + 5, fit.first_origin + 10, 600])
    assert np.isnan(early[0]) and np.isfinite(early[1:]).all()


def spells(rates: list[tuple[int, float]], seed: int = 5) -> np.ndarray:
    """Poisson daily demand at a rate that is constant for each (days, rate) spell, in turn."""
    rate = np.concatenate([np.full(days, r) for days, r in rates])
    return np.random.default_rng(seed).poisson(rate).astype(float)


def test_the_conditional_sigma_of_a_total_is_the_largest_of_three_measured_spreads():
    y = spells([(91, 10.0), (91, 40.0), (91, 15.0), (91, 30.0), (91, 10.0), (91, 40.0), (91, 12.0), (60, 35.0)])
    fit = fit_method("ses", y, 7)
    window, year = 14, 365
    origins = np.array([y.size - 30, y.size])  # both in the last (high) spell
    got = conditional_total_error_sigma(fit, y, window, origins, year)
    absolute = total_error_sigma(fit, y, window, origins)
    starts, errors = fit.total_errors(y, window)
    totals = np.concatenate([[0.0], np.cumsum(y)])
    predicted = totals[starts + window] - totals[starts] - errors
    for i, o in enumerate(origins):
        ended = starts + window <= o
        now = float(np.clip(fit.at_origins(np.array([o]), window), 0, None).sum())
        level = np.sqrt(np.sum(errors[ended] ** 2) / np.sum(predicted[ended] ** 2)) * now
        same_time = ended & (np.abs(starts - (o - year)) <= YEAR_HALF_WINDOW)
        seasonal = np.sqrt(np.mean(errors[same_time] ** 2))
        assert got[i] == pytest.approx(max(absolute[i], level, seasonal))
    # a high spell errs more than the history's average spread says: the level-proportional one is larger
    assert (got > 1.1 * absolute).all()


def test_the_conditional_sigma_anticipates_a_step_that_came_at_this_time_last_year():
    # low demand, stepping up fourfold on the same days every year (a season's start)
    y = spells([(300, 10.0), (90, 40.0), (275, 10.0)])
    fit = fit_method("ses", y, 7)
    origin = y.size  # day 665: the step of last year's day 300 is due now, the last months were low
    before = float(total_error_sigma(fit, y, 14, [origin])[0])
    got = float(conditional_total_error_sigma(fit, y, 14, [origin], 365)[0])
    assert got > 2 * before  # last year's windows at this time straddled the step
    # at a time of year without a step it is the absolute spread (the level is low, nothing last year)
    quiet = 600
    assert float(conditional_total_error_sigma(fit, y, 14, [quiet], 365)[0]) == pytest.approx(
        float(total_error_sigma(fit, y, 14, [quiet])[0]))


def test_the_conditional_sigma_reads_only_what_was_known_at_the_origin():
    y = spells([(300, 10.0), (90, 40.0), (275, 10.0)])
    fit = fit_method("ses", y, 7)
    origins = np.array([500, 560, 620])
    known = conditional_total_error_sigma(fit, y, 14, origins, 365)
    for o, value in zip(origins, known, strict=True):
        changed = y.copy()
        changed[o:] = changed[o:] * 5 + 3  # what happens after the origin
        assert float(conditional_total_error_sigma(fit, changed, 14, [o], 365)[0]) == pytest.approx(float(value))
    first = fit.first_origin
    assert np.isnan(conditional_total_error_sigma(fit, y, 14, [first + 5], 365)[0])  # no window ended yet


def test_seasonal_mean_keeps_a_clear_weekday_pattern_and_shrinks_noise_away():
    from orderflow.forecasting.fits import SeasonalMeanFit

    rng = np.random.default_rng(7)
    shape = np.array([1, 1, 1, 1, 1, 3, 0.5])
    clear = rng.poisson(20 * np.tile(shape, 3)).astype(float)  # three weeks, Saturday three times the rest
    forecast_clear = SeasonalMeanFit(clear, 7).forecast(7)
    assert forecast_clear[5] > 2.3 * forecast_clear[0]  # the peak weekday survives the shrinkage
    flat = rng.poisson(20, 21).astype(float)  # no weekday pattern: the profile is noise
    forecast_flat = SeasonalMeanFit(flat, 7).forecast(7)
    assert np.ptp(forecast_flat) < 0.5 * np.ptp([flat[r::7].mean() for r in range(7)])
    # forecasts from inside the history read only what was observed by then
    fit = SeasonalMeanFit(clear, 7)
    np.testing.assert_allclose(fit.at_origins(np.array([14]), 7)[0], SeasonalMeanFit(clear[:14], 7).forecast(7))


def test_short_daily_history_can_use_the_seasonal_mean():
    rng = np.random.default_rng(3)
    y = rng.poisson(12 * np.tile([0.7, 0.8, 1, 1, 1.2, 1.6, 0.7], 3)).astype(float)
    result = forecast(y, horizon=7, season_length=7, methods=["smean"])
    assert result.method == "smean" and (len(y) + int(np.argmax(result.mean))) % 7 == 5


def test_below_four_seasons_no_holt_winters_or_trend_is_tried():
    """Three weeks cannot estimate seven seasonal states or a trend: those candidates are left out
    (the seasonal mean and the level methods stand in); from four weeks on they compete again."""
    rng = np.random.default_rng(5)
    shape = np.tile([0.7, 0.8, 1, 1, 1.2, 1.6, 0.7], 5)
    short = rng.poisson(12 * shape[:21]).astype(float)
    tried = set(forecast(short, horizon=7, season_length=7).details["backtest_mse"])
    assert tried.isdisjoint({"holt", "hw", "hw_damped", "hw_mul"}) and {"smean", "ses"} <= tried
    longer = rng.poisson(12 * shape[:28]).astype(float)
    assert {"hw", "hw_damped"} <= set(forecast(longer, horizon=7, season_length=7).details["backtest_mse"])
