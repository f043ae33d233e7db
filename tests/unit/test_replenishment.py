"""Deciding one SKU (forecast → policy) and the run's bookkeeping, without any AWS."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from orderflow.catalogue.domain import Product, Replenishment
from orderflow.inventory.domain import StockLevel
from orderflow.replenishment.decisions import (
    MIN_HISTORY_DAYS,
    apply_policy,
    cycle_of,
    daily_series,
    decide_sku,
    error_text,
    forecast_demand,
    history_window,
    landed_cost,
    largest_total,
    not_due,
    run_name,
    tally,
    total_sigmas,
)
from orderflow.replenishment.runs import Decision

CYCLE = "2025-03-01"


def product(supplier_id: str | None = "acme", **params) -> Product:
    defaults = {"unit_cost": Decimal("4.00"), "ordering_cost": Decimal("50"), "holding_cost_rate": 0.25,
                "lead_time_days": 7, "service_level": 0.95, "moq": 0, "pack_size": 1, "review_period_days": 7}
    return Product(sku="MUG", name="Mug", unit_price=Decimal("9.90"), supplier_id=supplier_id,
                   replenishment=Replenishment(**{**defaults, **params}))


def steady(days: int = 120, per_day: float = 10.0) -> list[float]:
    """A weekly pattern around ``per_day`` a day."""
    week = [0.8, 1.0, 1.0, 1.1, 1.2, 1.4, 0.5]
    return [per_day * week[i % 7] for i in range(days)]


def stock(on_hand: int, **counters) -> StockLevel:
    return StockLevel(sku="MUG", on_hand=on_hand, available=on_hand, **counters)


# ------------------------------------------------------------------ cycle and history
def test_cycle_is_the_utc_day_the_run_started():
    assert cycle_of("2025-03-01T02:00:00.123Z") == "2025-03-01"
    assert cycle_of("2025-03-01T23:30:00-02:00") == "2025-03-02"
    assert cycle_of("2025-03-01T00:30:00+01:00") == "2025-02-28"


def test_history_is_zero_filled_from_first_record_to_the_day_before_the_cycle():
    recorded = {"2025-02-20": 4, "2025-02-23": 2, "2025-03-01": 99, "2025-03-05": 99}
    assert daily_series(recorded, CYCLE) == [4, 0, 0, 2, 0, 0, 0, 0, 0]  # 20 Feb .. 28 Feb


def test_history_reads_at_most_the_last_730_days():
    first, last = history_window(CYCLE)
    assert (first, last) == ("2023-03-02", "2025-02-28")
    series = daily_series({"2020-01-01": 50, first: 3, last: 1}, CYCLE)
    assert len(series) == 730 and series[0] == 3 and series[-1] == 1 and sum(series) == 4


def test_returns_that_exceed_a_days_shipments_are_netted_against_earlier_days():
    recorded = {"2025-02-24": 5, "2025-02-25": 3, "2025-02-26": -6, "2025-02-27": 2}
    series = daily_series(recorded, CYCLE)
    assert series == [2, 0, 0, 2, 0]
    assert min(series) >= 0 and sum(series) == 5 + 3 - 6 + 2


def test_no_history_gives_an_empty_series():
    assert daily_series({}, CYCLE) == []
    assert daily_series({"2020-01-01": 3}, CYCLE) == []


# ------------------------------------------------------------------ one SKU
def test_a_sku_below_its_reorder_point_is_ordered_in_packs_and_at_least_the_moq():
    decision = decide_sku(product(moq=100, pack_size=12), stock(5), steady(), remaining=None)

    assert decision.outcome == "ordered"
    assert decision.quantity >= 100 and decision.quantity % 12 == 0
    assert decision.inventory_position == 5 and decision.reorder_point > 5
    assert decision.horizon_days == 14 and len(decision.forecast) == 14
    assert 8 < decision.forecast_daily < 12  # about 10 a day
    assert decision.sigma_daily is not None and decision.safety_stock > 0
    assert decision.reason.startswith(f"Order {decision.quantity}")
    assert decision.supplier_id == "acme" and decision.unit_cost == Decimal("4.00")


def test_a_decision_carries_the_sigmas_the_policy_used():
    history = [10.0 + (i // 30) * 3 for i in range(240)]  # steps up every month: errors persist
    decided = forecast_demand(product(lead_time_days=10), history)
    assert decided.sigma_lead_time_demand is not None and decided.sigma_review_demand is not None
    # over lead time + review the persisting errors add up: more than the two in quadrature
    assert decided.sigma_protection_demand > np.hypot(decided.sigma_lead_time_demand, decided.sigma_review_demand)
    assert decided.sigma_lead_time_demand > decided.sigma_daily * np.sqrt(10)  # persistent errors add up
    with_stock = apply_policy(decided, product(lead_time_days=10), stock(0), None)
    without = apply_policy(decided.model_copy(update={"sigma_lead_time_demand": None, "sigma_review_demand": None}),
                           product(lead_time_days=10), stock(0), None)
    assert with_stock.reorder_point > without.reorder_point


def test_without_a_finished_window_the_one_step_sigma_is_scaled_by_root_days():
    from orderflow.forecasting.methods import fit_method

    y = np.asarray(steady(20))
    fit = fit_method("ses", y, 7)
    lead, review, _ = total_sigmas(fit, y, 2.0, 30, 7)  # no 30-day window inside 20 days
    assert float(lead[0]) == pytest.approx(2.0 * np.sqrt(30))
    assert np.isfinite(review).all() and float(review[0]) >= 0
    assert float(total_sigmas(fit, y, 2.0, 3, 0)[1][0]) == 0.0  # continuous review: no review period


def test_demand_on_most_days_or_with_errors_that_persist_gets_the_spread_that_applies_now():
    from orderflow.forecasting.fits import conditional_total_error_sigma, total_error_sigma
    from orderflow.forecasting.methods import fit_method

    rng = np.random.default_rng(4)
    y = rng.poisson(np.repeat([10.0, 40.0, 12.0, 45.0, 10.0, 40.0], 91)).astype(float)  # ends in a high spell
    fit = fit_method("ses", y, 7)
    one_step = float(fit.sigma)
    smooth = total_sigmas(fit, y, one_step, 10, 7, demand_class="erratic")
    moving = total_sigmas(fit, y, one_step, 10, 7, demand_class="lumpy")
    conditional = float(conditional_total_error_sigma(fit, y, 10, None, 365)[0])
    assert float(smooth[0][0]) == pytest.approx(conditional)
    # the level steps: the lead-time errors persist (far above σ·√10), so a lumpy forecast gets it too
    assert float(total_error_sigma(fit, y, 10)[0]) > 1.5 * one_step * np.sqrt(10)
    assert float(moving[0][0]) == pytest.approx(conditional)
    assert float(moving[1][0]) == pytest.approx(float(smooth[1][0]))
    assert conditional > float(total_error_sigma(fit, y, 10)[0])


def test_a_slow_mover_whose_rate_changes_by_the_quarter_gets_the_spread_that_applies_even_with_a_short_lead_time():
    from orderflow.forecasting.fits import conditional_total_error_sigma, total_error_sigma
    from orderflow.forecasting.methods import fit_method

    rng = np.random.default_rng(5)  # a quarter at a time at 0, 0.3, 1 or 2.5 a day: a tourism-like series
    y = rng.poisson(np.repeat([1.0, 2.5, 0.0, 2.5, 0.3, 1.0, 1.0, 0.3], 91)).astype(float)
    fit = fit_method("ses", y, 7)
    one_step = float(fit.sigma)
    # over a 3-day lead time the errors look independent; over four weeks they plainly persist
    assert float(total_error_sigma(fit, y, 3)[0]) < 1.5 * one_step * np.sqrt(3)
    assert float(total_error_sigma(fit, y, 28)[0]) > 1.5 * one_step * np.sqrt(28)
    lead, review, _ = total_sigmas(fit, y, one_step, 3, 7, demand_class="intermittent")
    assert float(lead[0]) == pytest.approx(float(conditional_total_error_sigma(fit, y, 3)[0]))
    assert float(review[0]) == pytest.approx(float(conditional_total_error_sigma(fit, y, 7)[0]))


def test_intermittent_demand_whose_errors_do_not_persist_keeps_the_average_spread():
    from orderflow.forecasting.fits import total_error_sigma
    from orderflow.forecasting.methods import fit_method

    rng = np.random.default_rng(4)  # independent days: demand on 20 % of them, sizes 1 to 30
    y = np.where(rng.random(728) < 0.2, rng.integers(1, 31, 728), 0).astype(float)
    fit = fit_method("croston", y, 7)
    one_step = float(fit.sigma)
    lead, review, _ = total_sigmas(fit, y, one_step, 10, 7, demand_class="lumpy")
    assert float(total_error_sigma(fit, y, 10)[0]) < 1.5 * one_step * np.sqrt(10)
    assert float(lead[0]) == pytest.approx(float(total_error_sigma(fit, y, 10)[0]))
    assert float(review[0]) == pytest.approx(float(total_error_sigma(fit, y, 7)[0]))


def test_the_largest_total_is_that_of_the_windows_ended_before_each_origin():
    y = [0.0, 0.0, 5.0, 1.0, 0.0, 3.0]  # two-day totals 0, 5, 6, 1, 3
    at = largest_total(y, 2, [1, 2, 3, 4, 6])
    assert np.isnan(at[0]) and at[1:].tolist() == [0.0, 5.0, 6.0, 6.0]
    assert np.isnan(largest_total(y, 7, [6])).all()  # no seven-day window yet


def test_a_first_spell_of_sales_after_a_year_of_none_gets_no_spread_beyond_anything_sold():
    from orderflow.forecasting.fits import conditional_total_error_sigma
    from orderflow.forecasting.methods import fit_method

    rng = np.random.default_rng(1)
    y = np.concatenate([np.zeros(400), rng.poisson(470, 20)]).astype(float)  # 20 days into a first spell
    fit = fit_method("mean", y, 7)  # its in-sample forecasts lag far below the spell
    level_proportional = float(conditional_total_error_sigma(fit, y, 14)[0])
    lead, review, _ = total_sigmas(fit, y, float(fit.sigma), 14, 7, demand_class="intermittent")
    largest = float(largest_total(y, 14, [y.size])[0])
    assert level_proportional > 5 * largest  # error / a forecast near 0, times today's forecast
    assert float(lead[0]) == pytest.approx(largest)  # capped: 14 days of the spell at most
    assert float(review[0]) <= float(largest_total(y, 7, [y.size])[0])


def test_one_500_unit_day_neither_inflates_safety_stock_nor_buys_months_of_demand():
    rng = np.random.default_rng(8)
    clean = rng.poisson(5.0, 400).astype(float).tolist()
    spiked = [*clean[:-30], 500.0, *clean[-29:]]  # one huge day a month ago
    normal = decide_sku(product(), stock(20), clean, remaining=None)
    decided = decide_sku(product(), stock(20), spiked, remaining=None)
    assert decided.safety_stock < 1.3 * normal.safety_stock
    assert decided.quantity < 1.3 * normal.quantity + 12
    [day] = decided.outliers_capped
    assert day.days_ago == 30 and day.value == 500.0 and day.capped_to < 30
    assert "1 outlier day(s) in the history capped before forecasting (largest: 500 30 day(s) ago" in decided.reason
    assert normal.outliers_capped == [] and "outlier" not in normal.reason


def test_a_well_stocked_sku_is_not_ordered():
    decision = decide_sku(product(), stock(5000), steady(), remaining=None)
    assert decision.outcome == "not_needed" and decision.quantity == 0
    assert "above the reorder point" in decision.reason


def test_open_purchase_orders_and_backorders_count_in_the_position():
    covered = decide_sku(product(), stock(0, on_order=5000), steady(), remaining=None)
    assert covered.outcome == "not_needed" and covered.inventory_position == 5000
    owed = decide_sku(product(), stock(300, reserved=100, backordered=250), steady(), remaining=None)
    assert owed.inventory_position == 300 - 100 - 250 and owed.outcome == "ordered"


def test_supplier_capacity_caps_the_quantity():
    free = decide_sku(product(pack_size=10), stock(0), steady(), remaining=None)
    capped = decide_sku(product(pack_size=10), stock(0), steady(), remaining=55)
    assert free.quantity > 50
    assert capped.outcome == "ordered" and capped.quantity == 50 and capped.capped
    assert "capped" in capped.reason


def test_a_needed_sku_the_supplier_cannot_take_is_skipped_with_the_reason():
    decision = decide_sku(product(), stock(0), steady(), remaining=0)
    assert decision.outcome == "skipped" and decision.quantity == 0
    assert "no remaining capacity" in decision.reason


def test_capacity_lost_to_a_race_is_decided_again_on_the_same_forecast():
    first = decide_sku(product(), stock(0), steady(), remaining=None)
    again = apply_policy(first, product(), stock(0), remaining=30)
    assert again.quantity == 30 and again.capped
    assert again.forecast == first.forecast and again.method == first.method


@pytest.mark.parametrize(("make", "history", "reason"), [
    (lambda: product(supplier_id=None), steady(), "no supplier"),
    (lambda: product(lead_time_days=0), steady(), "lead time is 0 days"),
    (lambda: product(), [], "no demand history"),
    (lambda: product(), steady(MIN_HISTORY_DAYS - 1), "history too short: 13 days"),
    (lambda: product(service_level=1.0), steady(), "replenishment parameters: target_service_level"),
])
def test_a_sku_that_cannot_be_decided_is_skipped_with_the_reason(make, history, reason):
    decision = decide_sku(make(), stock(0), history, remaining=None)
    assert decision.outcome == "skipped" and decision.quantity == 0
    assert reason in decision.reason


@pytest.mark.parametrize("history", [[], steady(5)])
def test_a_new_sku_with_backorders_is_bought_what_they_need_without_a_forecast(history):
    waiting = StockLevel(sku="MUG", on_hand=2, available=2, on_order=3, backordered=12)
    decision = decide_sku(product(moq=10, pack_size=4), waiting, history, remaining=None)
    assert decision.outcome == "ordered" and decision.quantity == 12  # short 7, raised to the MOQ, whole packs
    assert decision.method == "backorders only" and decision.forecast_daily == 0
    assert decision.reason.startswith("No forecast (") and "buying for the backorders only" in decision.reason
    assert decide_sku(product(supplier_id=None), waiting, history, None).outcome == "skipped"
    covered = StockLevel(sku="MUG", on_hand=2, available=2, on_order=10, backordered=12)
    assert decide_sku(product(), covered, history, None).outcome == "skipped"  # position 0: nothing short


def test_a_sku_without_any_demand_orders_nothing():
    decision = decide_sku(product(), stock(0), [0.0] * 60, remaining=None)
    assert decision.method == "zero" and decision.quantity == 0 and decision.outcome == "not_needed"


# ------------------------------------------------------------------ the run
def test_counts_add_up_per_outcome():
    decisions = [Decision(sku="A", outcome="ordered", reason="", quantity=40),
                 Decision(sku="B", outcome="ordered", reason="", quantity=2),
                 Decision(sku="C", outcome="not_needed", reason=""),
                 Decision(sku="D", outcome="skipped", reason="no supplier"),
                 Decision(sku="E", outcome="already_ordered", reason="", quantity=7),
                 Decision(sku="F", outcome="not_due", reason="Not due")]
    counts = tally(decisions)
    assert counts.model_dump() == {"skus": 6, "ordered": 2, "not_needed": 1, "already_ordered": 1, "not_due": 1,
                                   "skipped": 1, "sent": 0, "awaiting_approval": 0, "units_ordered": 42}
    assert (counts + counts).ordered == 4


def test_run_names_sort_by_time_and_differ():
    now = datetime(2025, 3, 1, 2, 0, 5, tzinfo=UTC)
    first, second = run_name(now), run_name(now)
    assert re.fullmatch(r"run-20250301T020005-[0-9a-f]{6}", first)
    assert first != second


def test_a_step_failure_is_kept_as_one_readable_line():
    cause = json.dumps({"errorType": "TransientError", "errorMessage": "DynamoDB is busy", "stackTrace": []})
    assert error_text({"Error": "TransientError", "Cause": cause}) == "TransientError: DynamoDB is busy"
    assert error_text({"Error": "States.Timeout"}) == "States.Timeout"
    assert error_text({"Error": "X", "Cause": "plain words"}) == "X: plain words"


def test_a_forecast_that_fails_for_one_sku_skips_that_sku_with_the_error(monkeypatch):
    import orderflow.forecasting

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(orderflow.forecasting, "forecast", singular)
    decision = decide_sku(product(), stock(0), steady(), None)
    assert decision.outcome == "skipped" and decision.quantity == 0
    assert decision.reason == "the forecast failed: LinAlgError: SVD did not converge"


@pytest.mark.parametrize(("last_review", "due"), [
    (None, True),  # never reviewed
    ("2025-03-01", True),  # reviewed in this cycle already (a second run today, a retried batch)
    ("2025-02-23", False),  # 6 days ago, reviewed every 7
    ("2025-02-22", True),  # 7 days ago
    ("2025-01-01", True),  # runs were missed: caught up at once
])
def test_a_sku_is_due_once_its_review_period_has_passed_since_its_last_review(last_review, due):
    waiting = not_due(product(review_period_days=7), CYCLE, last_review)
    assert (waiting is None) == due
    if not due:
        assert waiting.outcome == "not_due" and waiting.reason.endswith("next on 2025-03-02")


def test_a_products_method_set_is_what_its_forecast_chooses_from():
    decided = forecast_demand(product(forecast_methods=["sarimax"]), steady(140))
    assert decided.method == "sarimax"
    decided = forecast_demand(product(forecast_methods=["ses", "snaive"]), steady(140))
    assert set(decided.method.split("+")) <= {"ses", "snaive"}


def test_the_method_names_a_product_accepts_are_the_forecasting_methods():
    from typing import get_args

    from orderflow.catalogue.domain import ForecastMethod
    from orderflow.catalogue.requests import ReplenishmentIn
    from orderflow.forecasting import METHODS

    assert set(get_args(ForecastMethod)) == set(METHODS)
    params = {"unit_cost": "4.00", "ordering_cost": "20", "holding_cost_rate": 0.25, "lead_time_days": 5}
    assert ReplenishmentIn(**params, forecast_methods=["sarimax", "hw"]).forecast_methods == ["sarimax", "hw"]
    with pytest.raises(ValueError, match="forecast_methods"):
        ReplenishmentIn(**params, forecast_methods=["prophet"])


def test_landed_cost_counts_the_safety_stock_a_slow_supplier_needs():
    """Per unit on the shelf: price, ordering cost per EOQ, and the holding of cycle and safety stock."""
    params = Replenishment(unit_cost=Decimal("3.00"), ordering_cost=Decimal("20"), holding_cost_rate=0.25,
                           lead_time_days=5)
    product = Product(sku="A", name="A", unit_price=Decimal("9"), supplier_id="quick", replenishment=params)
    quick = Decision(sku="A", outcome="ordered", reason="", forecast_daily=10.0, eoq=400.0, safety_stock=20.0)
    assert landed_cost(quick, product) == pytest.approx(3.0 + 20 / 400 + 0.25 * 3.0 * (200 + 20) / 3650)
    slow = product.model_copy(update={"replenishment": params.model_copy(update={"unit_cost": Decimal("2.95")})})
    far = quick.model_copy(update={"safety_stock": 400.0})
    assert landed_cost(far, slow) > landed_cost(quick, product)  # 5 cents cheaper, 380 more units held
    assert landed_cost(quick, slow) < landed_cost(quick, product)
    moq = product.model_copy(update={"replenishment": params.model_copy(update={"moq": 1000})})
    assert landed_cost(quick, moq) == pytest.approx(3.0 + 20 / 1000 + 0.25 * 3.0 * (500 + 20) / 3650)
    no_demand = quick.model_copy(update={"forecast_daily": 0.0})
    assert landed_cost(no_demand, product) == pytest.approx(3.0 + 20 / 400)
