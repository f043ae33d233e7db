"""Replaying demand through an order rule: the configuration, the result models, the day-by-day
replay, and the rules compared (Orderflow's own policy, min/max, and (R, Q)).
"""

from __future__ import annotations

import importlib.util
import math
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, computed_field, field_validator

from orderflow.catalogue import Product
from orderflow.inventory import StockLevel
from orderflow.replenishment.decisions import (
    apply_policy,
)
from orderflow.replenishment.policy import DAYS_PER_YEAR, economic_order_quantity, order_quantity
from orderflow.replenishment.runs import Decision
from orderflow.replenishment.simulation.models import DEFAULT_SIMULATION_TARGETS, SimulationParameters, SimulationPolicy

PolicyName = SimulationPolicy
POLICIES: tuple[PolicyName, ...] = ("orderflow", "minmax", "rq")
DEFAULT_TARGETS = DEFAULT_SIMULATION_TARGETS
MINMAX_SAFETY = (0.0, 0.25, 0.5, 1.0, 1.5)  # min/max safety cover (share of the protection interval's demand)
DEFAULT_MINMAX_SAFETY = 0.5  # "safety stock = half the lead-time demand", the usual rule of thumb
MINMAX_WINDOW_DAYS = 90  # min/max: average demand of the last 90 days, rules re-set every 90 days
STATIONARY_P = 0.05  # KPSS and Ljung-Box p-values above which a SKU's demand counts as stationary
STATIONARY_MIN_WEEKS = 8


class SimulationConfig(SimulationParameters):
    """The replay's parameters, checked against what this environment can run."""

    @field_validator("policies")
    @classmethod
    def _reference_needs_stockpyl(cls, policies: list[PolicyName]) -> list[PolicyName]:
        if "rq" in policies and not stockpyl_installed():
            raise ValueError("policy rq needs stockpyl: pip install --no-deps stockpyl==1.0.2")
        return policies


def stockpyl_installed() -> bool:
    return importlib.util.find_spec("stockpyl") is not None


class Metrics(BaseModel):
    """What one policy did, for one SKU or summed over several. Levels are averaged over each day as
    ``(after receipts + end of day) / 2``, as if demand came evenly through the day."""

    skus: int = 1
    days: int = 0
    demand: float = 0.0
    served: float = Field(0.0, description="demand served from stock on the day it came")
    cycles: int = Field(0, description="replenishment cycles: from one receipt to the next")
    stockout_cycles: int = 0
    purchase_orders: int = 0
    average_on_hand: float = 0.0
    peak_on_hand: float = 0.0
    average_inventory_value: float = 0.0
    peak_inventory_value: float = 0.0
    ordering_cost: float = 0.0
    holding_cost: float = 0.0
    backorder_days: float = Field(0.0, description="units backordered × days they waited")

    @computed_field
    @property
    def cycle_service_level(self) -> float | None:
        return None if self.cycles == 0 else 1.0 - self.stockout_cycles / self.cycles

    @computed_field
    @property
    def fill_rate(self) -> float | None:
        return None if self.demand <= 0 else self.served / self.demand

    @computed_field
    @property
    def cost(self) -> float:
        """Ordering + holding cost over the replay."""
        return self.ordering_cost + self.holding_cost


class PolicyResult(BaseModel):
    policy: PolicyName
    setting: float = Field(description="target service level (orderflow, rq) or safety cover (minmax)")
    parameters: dict[str, float] = Field(default_factory=dict, description="rq: r and Q; minmax: the first min "
                                                                               "and max")
    metrics: Metrics


class SkuResult(BaseModel):
    sku: str
    demand_class: str
    stationary: bool
    days: int = Field(description="days replayed (fewer than asked when the history starts inside the window)")
    reviews: int
    refits: int = Field(description="review days on which the forecast was fitted afresh")
    notes: list[str] = []
    results: list[PolicyResult]


class Skipped(BaseModel):
    sku: str
    reason: str


class CurvePoint(BaseModel):
    scope: Literal["all", "stationary"]
    policy: PolicyName
    setting: float
    skus: int
    cycle_service_level: float | None
    fill_rate: float | None
    average_inventory_value: float
    cost: float
    minmax_value_at_same_level: float | None = Field(
        None, description="orderflow points: the min/max rule's average inventory value at the same achieved "
                          "cycle service level (interpolated on its curve; None outside it)")


class SimulationResult(BaseModel):
    config: SimulationConfig
    skus: list[SkuResult]
    skipped: list[Skipped]
    totals: dict[str, Metrics] = Field(description="per policy, over every simulated SKU (rq: stationary ones)")
    by_class: dict[str, dict[str, Metrics]]
    curve: list[CurvePoint]


# ------------------------------------------------------------------ the replay


@dataclass(frozen=True)
class Costs:
    unit_cost: float
    ordering_cost: float
    holding_cost_rate: float  # per year, as a fraction of the unit cost


OrderRule = Callable[[int, int, int, int], int]
"""``rule(day, on_hand, on_order, backordered) -> units to order`` (called on review days only)."""


@dataclass(frozen=True)
class Replay:
    metrics: Metrics
    on_hand: np.ndarray  # the day's average level, per day


def replay(demand: Sequence[float], rule: OrderRule, *, costs: Costs, review_period: int,
           lead_times: Sequence[int], on_hand: int, first_review: int = 0) -> Replay:
    """Replay ``demand`` (units per day) under ``rule``, starting with ``on_hand`` and nothing on order.

    Each day: on a review day (``first_review``, then every ``review_period`` days) the rule sees the
    stock and may order; the n-th order arrives ``lead_times[n]`` days later (0: the same day); the
    day's receipts are booked, backorders served first, then the day's demand is served from stock
    and the rest backordered. A cycle runs from one receipt to the next; it is a stock-out cycle if
    some demand in it was not served from stock on the day it came.
    """
    days = len(demand)
    wanted = [float(x) for x in demand]
    arriving: dict[int, int] = {}
    level = [0.0] * days
    waiting = [0.0] * days
    short = [False] * days
    receipts: list[int] = []
    on_order = backlog = orders = 0
    served = 0.0
    stock = float(on_hand)
    for day in range(days):
        if day >= first_review and (day - first_review) % review_period == 0:
            quantity = rule(day, int(stock), on_order, math.ceil(backlog))
            if quantity > 0:
                arrival = day + max(0, int(lead_times[orders]))
                orders += 1
                on_order += quantity
                arriving[arrival] = arriving.get(arrival, 0) + quantity
        received = arriving.pop(day, 0)
        if received:
            on_order -= received
            stock += received
            receipts.append(day)
            cleared = min(backlog, stock)
            backlog -= cleared
            stock -= cleared
        start, start_backlog = stock, backlog
        today = min(wanted[day], stock)
        stock -= today
        served += today
        if wanted[day] > today:
            backlog += wanted[day] - today
            short[day] = True
        level[day] = (start + stock) / 2
        waiting[day] = (start_backlog + backlog) / 2
    on_hand_days = np.asarray(level)
    cycles = stockouts = 0
    if len(receipts) > 1:
        stockout_days = np.cumsum(short)
        bounds = np.asarray(receipts)
        hits = stockout_days[bounds[1:] - 1] - np.concatenate([[0], stockout_days])[bounds[:-1]]
        cycles, stockouts = len(receipts) - 1, int(np.count_nonzero(hits))
    average = float(on_hand_days.mean()) if days else 0.0
    peak = float(on_hand_days.max()) if days else 0.0
    metrics = Metrics(
        days=days, demand=float(sum(wanted)), served=served, cycles=cycles, stockout_cycles=stockouts,
        purchase_orders=orders, average_on_hand=average, peak_on_hand=peak,
        average_inventory_value=average * costs.unit_cost, peak_inventory_value=peak * costs.unit_cost,
        ordering_cost=orders * costs.ordering_cost,
        holding_cost=float(on_hand_days.sum()) * costs.unit_cost * costs.holding_cost_rate / DAYS_PER_YEAR,
        backorder_days=float(sum(waiting)))
    return Replay(metrics, on_hand_days)


def lead_time_draws(mean: float, sigma: float, count: int, rng: np.random.Generator) -> list[int]:
    """Lead times in whole days: normal with the product's mean and σ, rounded half up, never negative."""
    draws = rng.normal(mean, sigma, count) if sigma > 0 else np.full(count, float(mean))
    return np.maximum(0, np.floor(draws + 0.5)).astype(int).tolist()


def sku_rng(seed: int, sku: str) -> np.random.Generator:
    """One stream per SKU: its draws do not depend on which other SKUs are simulated."""
    return np.random.default_rng([seed, zlib.crc32(sku.encode())])


# ------------------------------------------------------------------ the policies


@dataclass
class Rule:
    """An order rule and the stock it starts the replay with (its own order-up-to level)."""

    order: OrderRule
    start: int
    parameters: dict[str, float]


def project_rule(product: Product, forecasts: Mapping[int, Decision | None]) -> Rule:
    """The scheduled run's policy on the forecast made on each review day."""

    def order(day: int, on_hand: int, on_order: int, backordered: int) -> int:
        forecasted = forecasts.get(day)
        if forecasted is None:
            return 0
        stock = StockLevel(sku=product.sku, on_hand=on_hand, on_order=on_order, backordered=backordered)
        return apply_policy(forecasted, product, stock, None).quantity

    first = next((d for d in forecasts.values() if d is not None), None)
    start = 0
    if first is not None:
        top = apply_policy(first, product, StockLevel(sku=product.sku), None).order_up_to or 0.0
        start = math.ceil(top)
    return Rule(order, start, {"service_level": product.replenishment.service_level})


def minmax_levels(series: np.ndarray, review_days: Sequence[int], product: Product,
                  safety: float) -> dict[int, tuple[float, float]]:
    """Min and max on each review day, as a planner sets them by hand from the sales report: d̄ is the
    average daily demand of the last 90 days; ``min = d̄·(LT + R)·(1 + safety)``; ``max = min +
    max(EOQ, d̄·R)``. Set on the first review day and re-set every 90 days."""
    params = product.replenishment
    protection = params.lead_time_days + params.review_period_days
    holding = params.holding_cost_rate * float(params.unit_cost)
    levels: dict[int, tuple[float, float]] = {}
    current, set_on = (0.0, 0.0), None
    for day in review_days:
        if set_on is None or day - set_on >= MINMAX_WINDOW_DAYS:
            recent = series[max(0, day - MINMAX_WINDOW_DAYS):day]
            mean = float(recent.mean()) if recent.size else 0.0
            low = mean * protection * (1 + safety)
            eoq = economic_order_quantity(mean * DAYS_PER_YEAR, float(params.ordering_cost), holding)
            current, set_on = (low, low + max(eoq, mean * params.review_period_days)), day
        levels[day] = current
    return levels


def minmax_rule(product: Product, levels: Mapping[int, tuple[float, float]]) -> Rule:
    """Reorder when the position is at or below min, up to max (MOQ and pack as the supplier wants)."""
    params = product.replenishment

    def order(day: int, on_hand: int, on_order: int, backordered: int) -> int:
        low, high = levels[day]
        position = on_hand + on_order - backordered
        if position > low:
            return 0
        return order_quantity(high - position, params.moq, params.pack_size)[0]

    low, high = levels[min(levels)] if levels else (0.0, 0.0)
    return Rule(order, math.ceil(high), {"min": low, "max": high})


def rq_parameters(mean: float, sigma: float, product: Product, service_level: float) -> tuple[float, float]:
    """The (r, Q) with the least ordering + holding cost that meets the target cycle service level when
    daily demand is stationary with this mean and σ: ``r = μ_L + z·σ_L``, ``Q = EOQ``
    (``stockpyl.rq.r_q_eoqss_approximation``; a cycle-service constraint does not involve Q, so Q is
    the EOQ). Continuous review is turned into periodic review the usual way, by taking the protection
    interval LT + R as the lead time; lead-time variability enters through the σ of demand over it
    (``σ² + d̄²·σ_LT² / (LT + R)`` per day). stockpyl's stock-out cost p only sets the critical ratio
    ``p / (p + h)``, here the target."""
    from stockpyl.rq import r_q_eoqss_approximation

    params = product.replenishment
    holding = params.holding_cost_rate * float(params.unit_cost)
    protection = params.lead_time_days + params.review_period_days
    daily_sd = math.sqrt(sigma**2 + mean**2 * params.lead_time_sigma_days**2 / protection)
    r, q = r_q_eoqss_approximation(holding, holding * service_level / (1 - service_level),
                                   float(params.ordering_cost), mean * DAYS_PER_YEAR,
                                   daily_sd * math.sqrt(DAYS_PER_YEAR), protection / DAYS_PER_YEAR)
    return float(r), float(q)


def rq_rule(product: Product, r: float, q: float) -> Rule:
    """(r, nQ): at a review with the position at or below r, order the fewest multiples of Q that lift it
    above r (then MOQ and pack)."""
    params = product.replenishment

    def order(day: int, on_hand: int, on_order: int, backordered: int) -> int:
        position = on_hand + on_order - backordered
        if position > r:
            return 0
        batches = max(1, math.floor((r - position) / q) + 1)
        return order_quantity(batches * q, params.moq, params.pack_size)[0]

    return Rule(order, math.ceil(r + q), {"r": r, "Q": q})


def stationary(history: np.ndarray) -> bool:
    """Demand that neither trends, shifts nor cycles, so that one mean and σ describe it: on weekly
    totals (the weekly pattern summed out; at least eight weeks), KPSS does not reject a constant level
    and Ljung–Box does not reject independence, both at 5 %."""
    weeks = history[history.size % 7:].reshape(-1, 7).sum(axis=1)
    if weeks.size < STATIONARY_MIN_WEEKS or np.ptp(weeks) == 0:
        return False
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.tsa.stattools import kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values outside KPSS's table come with a warning
        level = kpss(weeks, regression="c", nlags="auto")[1]
        independent = acorr_ljungbox(weeks, lags=[min(10, weeks.size // 5)])["lb_pvalue"].iloc[0]
    return bool(level > STATIONARY_P and independent > STATIONARY_P)


