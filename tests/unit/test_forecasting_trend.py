"""orderflow.forecasting's local linear trend (``trend``): a growing daily SKU with a weekday pattern
and a yearly wave is forecast close to its true rate, and the candidate is tried only where the
yearly wave has been divided out."""

from __future__ import annotations

import numpy as np

from orderflow.forecasting import forecast
from orderflow.forecasting.trend import TrendFit

WEEKDAYS = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 0.7])


def growing_sku(days: int, seed: int = 0, wave: float = 0.25, growth: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Poisson demand around 30 a day × weekday × a yearly wave × growth of ``growth`` in log per two years."""
    t = np.arange(days)
    rate = 30 * (1 + wave * np.sin(2 * np.pi * t / 365)) * WEEKDAYS[t % 7] * np.exp(growth * t / 730)
    return np.random.default_rng(seed).poisson(rate).astype(float), rate


def test_weekdays_yearly_wave_and_growth_are_forecast_close_to_the_true_rate():
    y, rate = growing_sku(730 + 28)
    result = forecast(y[:730], 28, 7, methods=["trend"])
    truth = rate[730:]
    assert result.method == "trend (yearly)"
    assert np.mean(np.abs(result.mean - truth) / truth) < 0.04  # day by day: Saturday's peak included
    assert abs(result.mean.sum() / truth.sum() - 1) < 0.03  # the four weeks' total
    assert "trend" in forecast(y[:730], 28, 7).method.split(" ")[0].split("+")


def test_the_trend_is_not_tried_on_a_history_that_still_carries_its_yearly_wave():
    y, _ = growing_sku(500)  # under a year and a half: no yearly factor is divided out
    result = forecast(y, 28, 7)
    assert not result.method.endswith("(yearly)")
    assert "trend" not in result.method.split("+")
    assert "trend" not in result.details["backtest_mse"]


def test_a_backtest_origin_sees_only_the_periods_before_it():
    y, _ = growing_sku(600, seed=2)
    changed = y.copy()
    changed[400:] *= 3  # what happens after origin 400
    origins = np.array([100, 250, 400])
    before, after = TrendFit(y, 1, None), TrendFit(changed, 1, None)  # no season: the line alone
    assert np.array_equal(before.at_origins(origins, 14), after.at_origins(origins, 14))
    assert not np.allclose(before.at_origins(np.array([500]), 14), after.at_origins(np.array([500]), 14))
