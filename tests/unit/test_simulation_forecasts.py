"""Forecasts on review days in the simulation: the scheduled run's own forecast on refit days, the same
model carried forward in between."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from orderflow.catalogue.domain import Product, Replenishment
from orderflow.forecasting.methods import fit_method
from orderflow.replenishment.decisions import forecast_demand
from orderflow.replenishment.simulation.engine import _extend, review_forecasts


def product() -> Product:
    return Product(sku="S", name="s", unit_price=10, supplier_id="SUP",
                   replenishment=Replenishment(unit_cost=4, ordering_cost=50, holding_cost_rate=0.25,
                                               lead_time_days=10, lead_time_sigma_days=2, review_period_days=7))


def weekly_poisson(days: int, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    rate = 40 * np.array([0.7, 1.0, 1.1, 1.2, 1.3, 1.0, 0.7])[t % 7] * (1 + 0.2 * np.sin(2 * np.pi * t / 365))
    return rng.poisson(rate).astype(float)


def statsmodels_filter(fit, y: np.ndarray):
    """statsmodels' own filtering of ``y`` with the fitted parameters and initial states (no optimising)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    p, trend = fit.params, fit.trend is not None
    known = {"initial_level": p["initial_level"]}
    fixed = {"smoothing_level": p["smoothing_level"]}
    if trend:
        known["initial_trend"], fixed["smoothing_trend"] = p["initial_trend"], p["smoothing_trend"]
        fixed["damping_trend"] = p["damping_trend"]
    if fit.seasonal:
        known["initial_seasonal"], fixed["smoothing_seasonal"] = p["initial_seasons"], p["smoothing_seasonal"]
    data = np.log(y[fit.offset:]) if fit.log else y[fit.offset:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = ExponentialSmoothing(data, trend="add" if trend else None, damped_trend=trend, seasonal=fit.seasonal,
                                     seasonal_periods=fit.m if fit.seasonal else None, initialization_method="known",
                                     **known)
        return again.fit(optimized=False, **fixed)


@pytest.mark.parametrize("method", ["ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log"])
def test_carrying_a_model_forward_is_statsmodels_filtering_with_the_same_parameters(method):
    y = weekly_poisson(700) + 1  # > 0 for the multiplicative and log models
    fit = fit_method(method, y[:420], 7)
    carried = _extend(fit, y)
    expected = statsmodels_filter(fit, y)
    fitted = np.exp(expected.fittedvalues) if fit.log else expected.fittedvalues
    # one-step forecasts of every period after the fit, from the carried states, are statsmodels' fitted values
    one_step = carried.at_origins(np.arange(420, 700), 1)[:, 0]
    assert one_step == pytest.approx(np.asarray(fitted)[420 - fit.offset:], rel=1e-9, abs=1e-9)
    # and the forecast after the last day is statsmodels' forecast
    ahead = np.asarray(expected.forecast(3))
    assert carried.forecast(3) == pytest.approx(np.exp(ahead) if fit.log else ahead, rel=1e-6)


def test_refit_reviews_are_the_scheduled_runs_forecast_and_the_others_track_it():
    series = weekly_poisson(600)
    days = list(range(300, 600, 7))
    fast, refits, notes = review_forecasts(product(), series, days, refit_every=6)
    assert not notes and refits == len(range(0, len(days), 6))
    for i, day in enumerate(days):
        exact = forecast_demand(product(), series[:day].tolist())
        if i % 6 == 0:
            assert fast[day] == exact
        else:
            assert fast[day].method == fast[days[i - i % 6]].method  # the model chosen on the refit day
            assert fast[day].forecast_daily == pytest.approx(exact.forecast_daily, rel=0.05)
            assert fast[day].sigma_daily == pytest.approx(exact.sigma_daily, rel=0.1)
            # the σ of totals includes the spread at this time last year, from four weeks of windows of
            # each model's own errors: the carried model and a refit's differ a little more there
            assert fast[day].sigma_lead_time_demand == pytest.approx(exact.sigma_lead_time_demand, rel=0.15)
            assert fast[day].sigma_review_demand == pytest.approx(exact.sigma_review_demand, rel=0.1)
            assert fast[day].history_days == day


def test_a_model_that_cannot_go_on_is_fitted_afresh_at_the_next_review():
    series = weekly_poisson(500) + 1
    series[330:] = np.where(np.arange(170) % 3 == 0, 0.0, series[330:])  # zeros reach a multiplicative model
    days = list(range(300, 500, 7))
    forecasts, refits, _ = review_forecasts(product(), series, days, refit_every=26)
    assert set(forecasts) == set(days) and all(f is not None for f in forecasts.values())
    assert "hw_mul" in forecasts[300].method.split("+")  # chosen while every day had demand
    assert refits > 1
    assert "hw_mul" not in forecasts[days[-1]].method.split("+")  # refitted on the history with zeros


def test_reviews_the_run_would_skip_are_empty_and_noted():
    series = np.zeros(60)
    series[50:] = 3.0  # the first recorded demand comes late; history before it is zeros
    forecasts, _, notes = review_forecasts(product(), series, [5, 12, 40], refit_every=26)
    assert forecasts[5] is None and forecasts[12] is None  # under 14 days of history
    assert any("history too short" in note for note in notes)
    assert forecasts[40] is not None


def test_a_model_with_a_yearly_wave_is_carried_forward_not_refitted():
    from orderflow.forecasting import forecast
    from orderflow.forecasting.fits import YearlyFit
    from orderflow.replenishment.simulation.engine import _extend

    rng = np.random.default_rng(2)
    t = np.arange(3 * 365)
    y = rng.poisson(40 + 12 * np.sin(2 * np.pi * t / 365)).astype(float)
    fitted = forecast(y[:800], 14, 7).details["fitted"]
    assert isinstance(fitted, YearlyFit)
    carried = _extend(fitted, y[:900])
    assert isinstance(carried, YearlyFit) and carried.n == 900
    refitted = forecast(y[:900], 14, 7).details["fitted"]
    np.testing.assert_allclose(carried.forecast(14), refitted.forecast(14), rtol=0.15)


@pytest.mark.parametrize("method", ["snaive", "mean", "smean", "croston", "sba", "tsb"])
def test_a_model_without_optimised_parameters_is_carried_forward_as_its_fit_on_the_longer_history(method):
    y = weekly_poisson(700)
    carried = _extend(fit_method(method, y[:420], 7), y)
    assert carried.forecast(7) == pytest.approx(fit_method(method, y, 7).forecast(7))
