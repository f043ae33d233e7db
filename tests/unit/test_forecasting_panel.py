"""orderflow.forecasting.forecast_many: a panel forecast with the global gradient-boosted model."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from orderflow.forecasting import Forecast, ForecastInputError, forecast, forecast_many, mase
from orderflow.forecasting.global_model import FEATURES, SeriesData, features, series_calendar, training_cutoff
from orderflow.forecasting.panel import stratified_sample

pytest.importorskip("lightgbm")


def retail_panel(count: int = 120, days: int = 28, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    panel = {}
    for i in range(count):
        level = rng.gamma(2.0, 5.0)
        week = np.clip(1 + 0.4 * rng.standard_normal(7), 0.1, None)
        panel[f"sku{i}"] = rng.poisson(level * week[np.arange(days) % 7]).astype(float)
    return panel


def test_each_series_gets_what_forecast_returns_with_the_global_model_as_a_candidate():
    panel = {key: y[:21] for key, y in retail_panel(80).items()}
    results = forecast_many(panel, 7, 7)
    assert set(results) == set(panel)
    for result in results.values():
        assert isinstance(result, Forecast) and result.mean.shape == (7,) and (result.mean >= 0).all()
        assert np.isfinite(result.sigma) and result.demand_class
        assert result.details["global_model"]["panel"] == 80
    assert any("gbm" in r.method for r in results.values())  # it wins some series
    assert all("gbm" in r.details["backtest_mse"] for r in results.values() if "backtest_mse" in r.details)
    without = forecast_many(panel, 7, 7, global_model=False)
    for key in panel:
        plain = forecast(panel[key], 7, 7)
        assert without[key].method == plain.method
        np.testing.assert_allclose(without[key].mean, plain.mean)


def test_a_list_in_a_list_out_and_per_series_method_sets():
    panel = retail_panel(30)
    histories = list(panel.values())
    results = forecast_many(histories, 7, 7, global_model=False)
    assert isinstance(results, list) and len(results) == 30
    per = forecast_many(panel, 7, 7, methods={"sku0": ["sarimax"], "sku1": ["ses"]}, global_model=False)
    assert per["sku0"].method in ("sarimax", "snaive") and per["sku1"].method == "ses"
    assert "+" in per["sku2"].method  # the default set for the others


def test_each_series_is_forecast_over_its_own_horizon_and_one_missing_is_a_clear_error():
    panel = {key: y[:28] for key, y in retail_panel(40).items()}
    horizons = {key: 3 + i % 12 for i, key in enumerate(panel)}  # a batch's lead time + review per SKU
    results = forecast_many(panel, horizons, 7, intervals=False)
    assert {key: r.mean.size for key, r in results.items()} == horizons
    assert all(r.intervals == {} for r in results.values())
    with pytest.raises(ForecastInputError, match="horizon has no value for series 'sku1'"):
        forecast_many(panel, {"sku0": 7}, 7)


def test_a_trained_global_model_forecasts_another_panel_without_training_again(monkeypatch):
    from orderflow.forecasting.global_model import GlobalModel

    panel = {key: y[:28] for key, y in retail_panel(60).items()}
    first = forecast_many(dict(list(panel.items())[:30]), 14, 7)
    model = first["sku0"].details["global_model"]["model"]
    assert first["sku0"].details["global_model"]["reused"] is False and model.horizon == 14

    trainings = []
    monkeypatch.setattr(GlobalModel, "train", staticmethod(lambda *args, **kwargs: trainings.append(args)))
    second = forecast_many(dict(list(panel.items())[30:]), 7, 7, model=model)
    assert trainings == []  # the other half of the panel (the next batch of a run) reuses it
    assert all(r.details["global_model"]["reused"] for r in second.values())
    assert any("gbm" in r.method for r in second.values())
    assert all(np.isfinite(r.mean).all() and r.mean.size == 7 for r in second.values())
    forecast_many(dict(list(panel.items())[30:]), 21, 7, model=model)  # a longer horizon than it learnt
    assert trainings  # trained again


def test_the_global_model_never_learns_from_the_backtest_periods():
    # every series jumps to 10x its level inside the backtest: a model that saw it would forecast it
    panel = {}
    for i in range(40):
        y = np.full(60, 5.0 + i % 3)
        cutoff = training_cutoff(60, 7, 7)
        y[cutoff:] *= 10
        panel[i] = y
    model = forecast_many(panel, 7, 7, methods=["gbm", "snaive"])[0].details["fitted"]
    gbm = model if model.method == "gbm" else next(m for m in model.members if m.method == "gbm")
    before = gbm.at_origins(np.array([training_cutoff(60, 7, 7) - 7]), 1)[0, 0]
    assert before < 10  # it learnt the flat level only


def test_the_model_uses_holidays_of_the_configured_country():
    # demand triples on US public holidays; two years of daily history
    end = date(2025, 12, 20)
    days = 730
    dates = [end - timedelta(days=days - 1 - i) for i in range(days + 14)]
    import holidays

    us = holidays.country_holidays("US", years=range(2023, 2027))
    on_holiday = np.array([d in us for d in dates])
    rng = np.random.default_rng(1)
    panel, truth = {}, {}
    for i in range(60):
        y = rng.poisson(np.where(on_holiday, 30.0, 10.0)).astype(float)
        panel[i], truth[i] = y[:days], y[days:]
    with_cal = forecast_many(panel, 14, 7, methods=["gbm"], last_dates=end, country="US", cap_outliers=False)
    ahead = [dates.index(date(2025, 12, 25)) - days, dates.index(date(2026, 1, 1)) - days]
    assert (with_cal[0].mean[ahead] > 20).all()  # the model knows Christmas and New Year are coming
    assert np.delete(with_cal[0].mean, ahead).max() < 16
    blind = forecast_many(panel, 14, 7, methods=["gbm"], cap_outliers=False)
    assert (blind[0].mean[ahead] < 16).all()


def test_an_unknown_country_is_a_clear_error():
    with pytest.raises(ForecastInputError, match="no country 'XX'"):
        forecast_many(retail_panel(5), 7, 7, last_dates=date(2025, 1, 1), country="XX")


def test_promotions_are_learnt_when_the_panel_carries_them():
    rng = np.random.default_rng(2)
    panel, promos = {}, {}
    for i in range(80):
        promo = (rng.random(200 + 7) < 0.1).astype(float)
        promo[-7:] = [0, 0, 1, 0, 0, 0, 0]
        panel[i] = rng.poisson(np.where(promo[:200] > 0, 24.0, 8.0)).astype(float)
        promos[i] = promo  # history and the horizon's planned promotions
    results = forecast_many(panel, 7, 7, methods=["gbm"], promos=promos, cap_outliers=False)
    mean = results[0].mean
    assert mean[2] > 2 * np.delete(mean, 2).max()


def test_bad_panel_input_names_the_series():
    with pytest.raises(ForecastInputError, match=r"series 'b'.*negative"):
        forecast_many({"a": [1.0] * 20, "b": [1.0, -1.0] * 10}, 7, 7)
    with pytest.raises(ForecastInputError, match="prices of series 'a'"):
        forecast_many({"a": [1.0] * 20}, 7, 7, prices={"a": [1.0] * 5})


def test_stratified_sample_keeps_every_class_and_volume():
    rng = np.random.default_rng(0)
    histories = {f"fast{i}": rng.poisson(50, 100).astype(float) for i in range(900)}
    histories |= {f"sparse{i}": np.where(rng.random(100) < 0.1, 3.0, 0.0) for i in range(100)}
    sample = stratified_sample(list(histories), histories, 100, seed=1)
    assert 95 <= len(sample) <= 105
    sparse = sum(key.startswith("sparse") for key in sample)
    assert 8 <= sparse <= 12  # a tenth, as in the panel
    assert stratified_sample(list(histories)[:50], histories, 100) == list(histories)[:50]


def test_features_scale_by_level_so_one_model_serves_every_volume():
    y = np.tile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8)
    cal = series_calendar(y.size, 7, None, None)
    small, _, _ = features(SeriesData(y, cal), np.array([49]), 3)
    large, scale, _ = features(SeriesData(y * 1000, cal), np.array([49]), 3)
    assert scale[0] == pytest.approx(4000.0)
    level = FEATURES.index("log_level")
    np.testing.assert_allclose(np.delete(small, level, axis=1), np.delete(large, level, axis=1))


def test_the_global_model_learns_a_weekly_shape_that_three_noisy_weeks_cannot_show():
    rng = np.random.default_rng(9)
    shape = np.array([0.6, 0.7, 0.8, 0.9, 1.2, 2.2, 0.6])  # every SKU peaks on the same day
    panel = {f"sku{i}": rng.poisson(rng.gamma(2.0, 2.0) * shape[np.arange(28) % 7]).astype(float)
             for i in range(300)}
    train = {key: y[:21] for key, y in panel.items()}
    pooled = forecast_many(train, 7, 7, methods=["gbm"])
    alone = {key: forecast(y, 7, 7) for key, y in train.items()}

    def score(results):
        return np.nanmean([mase(panel[k][21:], results[k].mean, train[k], 7) for k in train])

    assert score(pooled) < 0.95 * score(alone)
    peak = np.mean([r.mean[5] / r.mean.mean() for r in pooled.values()])
    assert peak == pytest.approx(2.2 / shape.mean(), rel=0.15)


def test_importing_the_package_loads_neither_lightgbm_nor_holidays():
    import subprocess
    import sys

    code = ("import sys, orderflow.forecasting; "
            "print(sorted(m for m in ('lightgbm', 'holidays', 'pandas', 'statsmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_global_model_is_a_default_candidate_for_daily_histories_only():
    """Its features are days (weekday, holidays, 7/28/91-day means): on monthly data it is not tried unless named."""
    rng = np.random.default_rng(3)
    months = np.arange(72)
    panel = {f"m{i}": 100 + 20 * np.sin(2 * np.pi * months / 12) + rng.normal(0, 5, months.size) for i in range(12)}
    monthly = forecast_many(panel, 12, 12)
    assert all("gbm" not in r.method and "gbm" not in r.details.get("backtest_mse", {}) for r in monthly.values())
    named = forecast_many(panel, 12, 12, methods=["snaive", "ses", "gbm"])
    assert all("gbm" in r.details["backtest_mse"] for r in named.values())
