"""The forecaster's fast paths give what the slow ones gave: the exponential smoothing fits
(orderflow.forecasting.smoothing) statsmodels' own fit — the same parameters, states, in-sample errors
and forecasts as ``ExponentialSmoothing(...).fit()`` from the same initial states, on fixed series —
and the outlier cap's medians numpy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from orderflow.forecasting.methods import FIT_FTOL, fit_method, fit_offset, heuristic_initial_states
from orderflow.forecasting.robust import _nan_median

MODELS = {  # method: (trend, seasonal, log)
    "ses": (False, None, False),
    "holt": (True, None, False),
    "hw": (False, "add", False),
    "hw_damped": (True, "add", False),
    "hw_mul": (False, "mul", False),
    "hw_mul_damped": (True, "mul", False),
    "hw_log": (True, "add", True),
}


def weekly_wave(days: int, seed: int) -> np.ndarray:
    """Daily demand > 0: a weekly pattern, a yearly wave and a slow trend, Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    week = np.array([0.7, 1.0, 1.1, 1.2, 1.3, 1.0, 0.7])[t % 7]
    rate = (30 + 0.02 * t) * week * (1 + 0.3 * np.sin(2 * np.pi * t / 365))
    return rng.poisson(rate).astype(float) + 1


def statsmodels_fit(y: np.ndarray, m: int, trend: bool, seasonal: str | None, log: bool):
    """What the method was before: statsmodels' ExponentialSmoothing on the same window, from the same
    (heuristic, known) initial states, with the same optimiser settings."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    data = y[fit_offset(y.size, m):]
    data = np.log(data) if log else data
    level, slope, seasons = heuristic_initial_states(data, trend, seasonal, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(data, trend="add" if trend else None, damped_trend=trend, seasonal=seasonal,
                                     seasonal_periods=m if seasonal else None, initialization_method="known",
                                     initial_level=level, initial_trend=slope, initial_seasonal=seasons)
        return model.fit(use_brute=False, minimize_kwargs={"options": {"ftol": FIT_FTOL}})


def random_walk(days: int, seed: int) -> np.ndarray:
    """Daily demand > 0 whose level wanders (a random walk in logs): α near its bound of 1."""
    rng = np.random.default_rng(seed)
    week = np.array([0.7, 1.0, 1.1, 1.2, 1.3, 1.0, 0.7])[np.arange(days) % 7]
    return np.round(20 * np.exp(np.cumsum(rng.normal(0, 0.08, days))) * week) + 1


@pytest.mark.parametrize("method", list(MODELS))
@pytest.mark.parametrize("history", [(weekly_wave, 120, 1), (weekly_wave, 730, 2), (weekly_wave, 400, 3),
                                     (random_walk, 300, 0), (random_walk, 300, 3)],
                         ids=["wave-120", "wave-730", "wave-400", "walk-0", "walk-3"])
def test_the_fit_is_statsmodels_fit(method, history):
    trend, seasonal, log = MODELS[method]
    generate, days, seed = history
    y = generate(days, seed)
    fit = fit_method(method, y, 7)
    reference = statsmodels_fit(y, 7, trend, seasonal, log)
    expected = reference.params
    for name in ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend"):
        if fit.params[name] is None:
            assert np.isnan(expected[name])
        else:
            assert fit.params[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name

    # one-step forecasts from the states at every origin are statsmodels' fitted values
    fitted = np.asarray(reference.fittedvalues)
    fitted = np.exp(fitted) if log else fitted
    origins = np.arange(fit.offset + 1, y.size)
    np.testing.assert_allclose(fit.at_origins(origins, 1)[:, 0], fitted[1:], rtol=1e-9)
    assert fit.sigma == pytest.approx(np.sqrt(np.mean((y[fit.offset:] - fitted) ** 2)), rel=1e-9)

    # and the forecast is statsmodels' (which reuses a stale seasonal at multiples of m, statsmodels#9538)
    ahead = np.asarray(reference.forecast(21))
    ahead = np.exp(ahead) if log else ahead
    steps = [k for k in range(21) if not seasonal or (k + 1) % 7 != 0]
    np.testing.assert_allclose(fit.forecast(21)[steps], ahead[steps], rtol=1e-9)


def test_a_history_too_short_for_the_heuristic_states_is_fitted_with_them_estimated():
    """Below ten periods statsmodels estimates the initial states too; the fit is its own."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = weekly_wave(8, 4)
    fit = fit_method("holt", y, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit(
            use_brute=False, minimize_kwargs={"options": {"ftol": FIT_FTOL}})
    np.testing.assert_allclose(fit.forecast(10), np.asarray(reference.forecast(10)), rtol=1e-9)
    np.testing.assert_allclose(fit.at_origins(np.arange(1, 8), 1)[:, 0], np.asarray(reference.fittedvalues)[1:],
                               rtol=1e-9)


@pytest.mark.parametrize("width", [0, 1, 4, 8])
def test_the_outlier_caps_medians_are_numpys(width):
    rng = np.random.default_rng(width)
    values = rng.integers(0, 6, (300, width)) * rng.random((300, width))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:3] = np.nan  # rows without a value: NaN
    expected = np.array([np.nanmedian(row) if np.isfinite(row).any() else np.nan for row in values])
    np.testing.assert_array_equal(_nan_median(values), expected)


def test_the_global_model_predicts_each_origin_and_step_once_and_the_same_as_fresh():
    """GlobalFit keeps what it predicted from each origin: a later, longer request predicts only the
    steps it lacks, and the forecasts equal those of a fit asked for the first time."""
    from orderflow.forecasting.global_model import GlobalModel, single_series_global_fit

    y = weekly_wave(400, 5)
    fit = single_series_global_fit(y)
    fresh = single_series_global_fit(y)
    rows = []
    original = GlobalModel.predict

    def counted(model, data, origins, h, first=1):
        rows.append(len(origins) * (h - first + 1))
        return original(model, data, origins, h, first)

    lead = np.arange(380 - 21, 100, -7)[::-1]  # the σ of totals' origins for a 21-day lead time, one a week
    both = lead[lead <= 380 - 28]  # ... and for lead + a 7-day review: the same origins
    GlobalModel.predict = counted
    try:
        first = fit.at_origins(lead, 21)
        longer = fit.at_origins(both, 28)
        ahead = fit.forecast(10), fit.forecast(14)
    finally:
        GlobalModel.predict = original
    assert rows == [lead.size * 21, both.size * 7, 10, 4]
    np.testing.assert_array_equal(first, fresh.at_origins(lead, 21))
    np.testing.assert_array_equal(longer, fresh.at_origins(both, 28))
    np.testing.assert_array_equal(ahead[1], fresh.forecast(14))
    np.testing.assert_array_equal(ahead[0], fresh.forecast(14)[:10])


def test_the_seasonal_means_from_an_origin_are_those_of_the_history_up_to_it():
    """The seasonal mean keeps its shrunk means for every origin: forecasting from origin o is
    forecasting from the first o periods."""
    from orderflow.forecasting.fits import SeasonalMeanFit

    y = np.random.default_rng(6).poisson(np.tile([1.0, 3.0, 2.0, 0.5, 4.0, 2.0, 0.2], 60)).astype(float)
    fit = SeasonalMeanFit(y, 7)
    origins = np.array([14, 15, 100, 101, 377, y.size])
    expected = np.array([SeasonalMeanFit(y[:o], 7).forecast(12) for o in origins])
    np.testing.assert_array_equal(fit.at_origins(origins, 12), expected)


def test_the_yearly_factor_of_whole_periods_is_the_formulas():
    """Whole periods read the yearly factor from a table of one year; it is the formula's value, in
    the past, the history and the future."""
    from orderflow.forecasting.robust import yearly_profile

    factor, _ = yearly_profile(weekly_wave(800, 7))
    periods = np.arange(-30, 2000)
    np.testing.assert_allclose(factor(periods), factor(periods.astype(float)), rtol=1e-12)
    assert factor(periods).shape == periods.shape
    grid = periods.reshape(-1, 10)
    np.testing.assert_array_equal(factor(grid), factor(periods).reshape(-1, 10))


def test_a_multiplicative_season_on_a_zero_is_refused_as_statsmodels_refuses_it():
    y = weekly_wave(100, 8)
    y[50] = 0.0
    with pytest.raises(ValueError, match="> 0"):
        fit_method("hw_mul", y, 7)
