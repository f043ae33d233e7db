"""orderflow.forecasting: 80 % and 95 % prediction intervals and their coverage on held-out days."""

from __future__ import annotations

import numpy as np
import pytest

from orderflow.forecasting import forecast
from orderflow.forecasting.intervals import prediction_intervals
from orderflow.forecasting.methods import fit_method


def weekly_poisson(seed: int, days: int = 400 + 28) -> np.ndarray:
    rng = np.random.default_rng(seed)
    week = np.array([0.7, 0.9, 1.0, 1.0, 1.1, 1.6, 0.7])
    return rng.poisson(rng.uniform(5, 60) * week[np.arange(days) % 7]).astype(float)


def assert_held_out_coverage(histories, horizon: int, season: int) -> None:
    """The 80 % and 95 % intervals hold about that share of the last ``horizon`` periods."""
    hits = {80: [], 95: []}
    for y in histories:
        result = forecast(y[:-horizon], horizon, season)
        for level, (lower, upper) in result.intervals.items():
            hits[level].append((y[-horizon:] >= lower) & (y[-horizon:] <= upper))
    assert np.mean(hits[80]) == pytest.approx(0.80, abs=0.04)
    assert np.mean(hits[95]) == pytest.approx(0.95, abs=0.03)


def test_intervals_cover_held_out_days_at_their_level():
    assert_held_out_coverage((weekly_poisson(seed) for seed in range(40)), 28, 7)


def test_intervals_nest_around_the_forecast_and_never_go_below_zero():
    rng = np.random.default_rng(3)
    sparse = np.where(rng.random(300) < 0.1, rng.integers(1, 6, 300), 0).astype(float)
    for y in (weekly_poisson(1), sparse, np.full(30, 4.0)):
        result = forecast(y, 14, 7)
        low80, high80 = result.intervals[80]
        low95, high95 = result.intervals[95]
        assert (low95 <= low80).all() and (low80 <= result.mean + 1e-9).all()
        assert (result.mean <= high80 + 1e-9).all() and (high80 <= high95).all()
        assert (low95 >= 0).all()
    assert result.to_dict()["intervals"]["95"]["upper"] == [float(v) for v in high95]


def test_a_noisier_series_gets_wider_intervals():
    rng = np.random.default_rng(5)
    calm = 50 + rng.normal(0, 2, 300)
    wild = 50 + rng.normal(0, 10, 300)
    width = {name: np.subtract(*forecast(y, 7, 1).intervals[80][::-1]).mean() for name, y in
             (("calm", calm), ("wild", wild))}
    assert width["wild"] > 3 * width["calm"]


def test_without_errors_to_learn_from_the_interval_is_a_laplace_widened_as_student_t():
    from scipy.stats import norm, t

    y = np.array([5.0, 6.0, 5.0])
    fit = fit_method("snaive", y, 1)
    mean = np.full(3, 5.0)
    (lower, upper), = prediction_intervals(fit, y, mean, sigma=1.0, levels=(95,)).values()
    # σ from two one-step errors: the Laplace 95 % quantile (σ/√2 · ln 20 = 2.12σ), widened as t with
    # one degree of freedom widens z, times √(1 + 1/2): far wider than ±1.96
    width = np.log(20) / np.sqrt(2) * t.ppf(0.975, 1) / norm.ppf(0.975) * np.sqrt(1.5)
    np.testing.assert_allclose(lower, 0.0)  # 5 − 16.9, clipped at zero
    assert (upper >= 5.0 + width - 1e-9).all() and width > 7


def test_the_parametric_interval_is_narrower_than_the_normal_at_80_and_wider_at_95_percent():
    from scipy.stats import t

    y = np.array([50.0, 60.0, 50.0, 55.0])
    fit = fit_method("snaive", y, 1)
    bands = prediction_intervals(fit, y, np.full(3, 50.0), sigma=2.0)
    half = {level: (upper - lower) / 2 for level, (lower, upper) in bands.items()}
    normal = {level: t.ppf((1 + level / 100) / 2, 2) * np.sqrt(1 + 1 / 3) * 2.0 for level in (80, 95)}  # 3 errors
    assert (half[80] < normal[80]).all() and (half[95] > normal[95]).all()


def test_a_series_that_has_grown_gets_the_spread_of_its_current_level():
    level = np.linspace(10, 100, 400 + 14)  # ten times the demand of a year ago, 10 % noise

    def grown(seed: int) -> np.ndarray:
        return np.round(level * (1 + 0.1 * np.random.default_rng(seed).standard_normal(level.size)))

    assert_held_out_coverage((grown(seed) for seed in range(40)), 14, 1)


def test_mostly_zero_demand_gets_an_interval_from_zero_up():
    rng = np.random.default_rng(11)
    y = np.where(rng.random(400) < 0.15, rng.integers(1, 4, 400), 0).astype(float)
    result = forecast(y, 14, 7)
    assert all((result.intervals[level][0] == 0).all() for level in (80, 95))
    # 85 % of days sell nothing: [0, below 1] already holds 80 % of days; 95 % needs a sale or more
    assert (result.intervals[80][1] < 1).all() and (result.intervals[95][1] >= 1).all()


def test_errors_of_a_model_fitted_to_the_same_history_are_widened_by_its_parameter_count(monkeypatch):
    import orderflow.forecasting.intervals as intervals

    rng = np.random.default_rng(8)
    quarters = np.arange(120)
    y = 100 + 0.3 * quarters + 15 * np.array([1.0, -0.5, -1.2, 0.7])[quarters % 4] + rng.normal(0, 4, 120)
    fit = fit_method("hw", y, 4)
    p = intervals.estimated_parameters(fit)
    assert p == 2 + 1 + 4  # "hw" (no trend): α, γ, the initial level and four initial seasonals
    assert intervals.estimated_parameters(fit_method("snaive", y, 4)) == 0
    mean = fit.forecast(8)
    corrected = prediction_intervals(fit, y, mean, fit.sigma)
    monkeypatch.setattr(intervals, "estimated_parameters", lambda fit: 0.0)
    raw = prediction_intervals(fit, y, mean, fit.sigma)
    n = y.size - fit.first_origin
    for level in (80, 95):
        np.testing.assert_allclose(corrected[level][1] - mean, (raw[level][1] - mean) * np.sqrt(n / (n - p)))
