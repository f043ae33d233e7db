"""Policy simulation: replay a demand history day by day through the replenishment decision and
measure the service and the stock it buys (docs/simulation.md).

On each review day a SKU's forecast is made from the history known that day and the order is decided
by the scheduled run's own code (``orderflow.replenishment.forecast_demand`` and ``apply_policy``,
i.e. ``decide_sku``); purchase orders arrive after a lead time drawn from the product's mean and σ;
demand is served from stock and what cannot be served is backordered. Compared on the same replay
(same demand, same lead-time draws): the project's policy, a min/max rule set from the same history
as an Odoo or ERPNext user would set it, and for stationary SKUs stockpyl's optimal (r, Q).

Replenish side only: imports numpy, statsmodels (through ``orderflow.forecasting``) and stockpyl.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import math
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, computed_field, field_validator

from .forecasting import classify
from .forecasting.methods import (
    Combination,
    ExpSmoothingFit,
    Fitted,
    MeanFit,
    PathFit,
    SeasonalNaiveFit,
    YearlyFit,
    ZeroFit,
    fit_method,
)
from .models import Product, Replenishment, StockLevel
from .policy import DAYS_PER_YEAR, economic_order_quantity, order_quantity
from .purchasing_models import (
    DEFAULT_SIMULATION_TARGETS,
    Decision,
    SimulationParameters,
    SimulationPolicy,
)
from .replenishment import (
    MAX_HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    SEASON_LENGTH,
    Skip,
    apply_policy,
    check_parameters,
    forecast_with_model,
    total_sigmas,
)

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


# ------------------------------------------------------------------ forecasts on review days


def review_forecasts(product: Product, series: np.ndarray, review_days: Sequence[int],
                     refit_every: int = 1) -> tuple[dict[int, Decision | None], int, list[str]]:
    """The forecast part of the run's decision on each review day, from the history before that day
    (at most the last 730 days, as the run reads them).

    Every ``refit_every``-th review the run's own ``forecast_demand`` fits the model afresh; on the
    reviews in between, the model chosen then keeps its parameters and its states are filtered
    through the days since (σ too: the in-sample one-step errors up to the day). A review the run
    would skip is ``None``. Returns the forecasts, the number of refits and notes on skipped reviews.
    """
    forecasts: dict[int, Decision | None] = {}
    notes: dict[str, int] = {}
    refits = i = 0
    while i < len(review_days):
        day = review_days[i]
        base = max(0, day - MAX_HISTORY_DAYS)
        refits += 1
        try:
            decided, fitted = forecast_with_model(product, series[base:day].tolist())
        except Skip as skip:
            forecasts[day] = None
            notes[skip.reason] = notes.get(skip.reason, 0) + 1
            i += 1
            continue
        forecasts[day] = decided
        block = list(review_days[i + 1:i + refit_every]) if decided.method != "zero" else []
        filtered = (_filtered(decided, fitted.details["fitted"], series[base:block[-1]], [d - base for d in block],
                              product.replenishment) if block else None)
        if filtered is None:  # decide the next review afresh
            i += 1
            continue
        forecasts.update(zip(block, filtered, strict=True))
        i += 1 + len(block)
    return forecasts, refits, [f"{count} review(s) skipped: {reason}" for reason, count in notes.items()]


def _filtered(decided: Decision, model: Fitted, y: np.ndarray, origins: Sequence[int],
              params: Replenishment) -> list[Decision] | None:
    """The forecasts at ``origins`` (periods of ``y`` observed) of ``model``, the model ``decided``
    came from (fitted on the start of ``y``), its parameters kept and its states filtered through the
    days since; the σ of one-step errors and of lead-time and review totals as the run measures them,
    from the errors known at each origin. None when the model cannot be carried forward (a zero
    reaching a multiplicative or log model)."""
    horizon = decided.horizon_days or 1
    try:
        with np.errstate(all="ignore"):
            fit = _extend(model, y)
            means = np.clip(fit.at_origins(np.asarray(origins), horizon), 0.0, None)
            errors = y[1:] - fit.one_step(y.size)
    except (ValueError, ArithmeticError, TypeError, np.linalg.LinAlgError):
        return None
    if not np.isfinite(means).all():
        return None
    known = np.isfinite(errors)
    counts = np.cumsum(known)
    squares = np.cumsum(np.where(known, errors, 0.0) ** 2)
    sigmas = []
    for origin in origins:
        seen = counts[origin - 2] if origin >= 2 else 0  # errors of y[1:origin]
        sigmas.append(math.sqrt(squares[origin - 2] / seen) if seen else 0.0)
    lead, review = total_sigmas(fit, y, sigmas, params.lead_time_days, params.review_period_days, origins,
                                demand_class=decided.demand_class)
    protection, _ = total_sigmas(fit, y, sigmas, params.lead_time_days + params.review_period_days, 0, origins,
                                 demand_class=decided.demand_class)
    out = []
    for i, (origin, mean) in enumerate(zip(origins, means, strict=True)):
        daily = [round(float(v), 4) for v in mean]
        out.append(decided.model_copy(update={
            "forecast": daily, "forecast_daily": round(sum(daily) / horizon, 4), "sigma_daily": round(sigmas[i], 4),
            "sigma_lead_time_demand": round(float(lead[i]), 4), "sigma_review_demand": round(float(review[i]), 4),
            "sigma_protection_demand": round(float(protection[i]), 4),
            "history_days": min(origin, MAX_HISTORY_DAYS)}))
    return out


def _extend(fit: Fitted, y: np.ndarray) -> Fitted:
    """The same model with its states filtered through ``y`` (its history and the days since),
    parameters kept."""
    if isinstance(fit, Combination):
        return Combination([_extend(member, y) for member in fit.members], y)
    if isinstance(fit, SeasonalNaiveFit | PathFit | MeanFit):  # no estimated parameters: the same as a refit
        return fit_method(fit.method, y, SEASON_LENGTH)
    if isinstance(fit, ZeroFit):
        return fit
    if isinstance(fit, ExpSmoothingFit):
        return _smooth_forward(fit, y)
    if isinstance(fit, YearlyFit):  # the inner model runs on the history divided by the yearly factor
        return YearlyFit(_extend(fit.inner, y / fit.factor(np.arange(y.size))), fit.factor, y)
    raise TypeError(f"cannot carry a {fit.method} model forward")


def _smooth_forward(fit: ExpSmoothingFit, y: np.ndarray) -> ExpSmoothingFit:
    """Holt–Winters' recursions (statsmodels' equations) from the fitted states through the new days
    of ``y``; a copy of ``fit`` whose level, trend and seasonal states cover ``y``."""
    new = y[fit.offset + fit.level.size:]
    if fit.log:
        if (new <= 0).any():
            raise ValueError("a zero reached a log model")
        new = np.log(new)
    if fit.seasonal == "mul" and (new <= 0).any():
        raise ValueError("a zero reached a multiplicative model")
    params = fit.result.params
    alpha, phi = float(params["smoothing_level"]), fit.phi
    beta = float(params["smoothing_trend"]) if fit.trend is not None else 0.0
    gamma = float(params["smoothing_seasonal"]) if fit.seasonal else 0.0
    level, trend = float(fit.level[-1]), float(fit.trend[-1]) if fit.trend is not None else 0.0
    season = fit.season.tolist() if fit.seasonal else []
    levels, trends = [], []
    for i, x in enumerate(new.tolist()):
        base = level + phi * trend
        if fit.seasonal:
            s = season[fit.level.size + i]  # the seasonal state of this period, set one season ago
            multiplicative = fit.seasonal == "mul"
            updated = alpha * (x / s if multiplicative else x - s) + (1 - alpha) * base
            season.append(gamma * (x / base if multiplicative else x - base) + (1 - gamma) * s)
        else:
            updated = alpha * x + (1 - alpha) * base
        trend = beta * (updated - level) + (1 - beta) * phi * trend
        level = updated
        levels.append(level)
        trends.append(trend)
    extended = copy.copy(fit)
    extended.level = np.concatenate([fit.level, levels])
    if fit.trend is not None:
        extended.trend = np.concatenate([fit.trend, trends])
    if fit.seasonal:
        extended.season = np.asarray(season)
    return extended


# ------------------------------------------------------------------ the whole simulation

_ADDITIVE = ("skus", "demand", "served", "cycles", "stockout_cycles", "purchase_orders", "average_on_hand",
             "average_inventory_value", "ordering_cost", "holding_cost", "backorder_days")


class _Sum:
    """Metrics added up over SKUs; peaks are those of the summed daily levels (the calendar's days:
    every history ends on the same day)."""

    def __init__(self, days: int):
        self.metrics = Metrics(skus=0)
        self.units = np.zeros(days)
        self.value = np.zeros(days)

    def add(self, run: Replay, unit_cost: float) -> None:
        days = run.on_hand.size
        self.units[self.units.size - days:] += run.on_hand
        self.value[self.value.size - days:] += run.on_hand * unit_cost
        for name in _ADDITIVE:
            setattr(self.metrics, name, getattr(self.metrics, name) + getattr(run.metrics, name))
        self.metrics.days = max(self.metrics.days, run.metrics.days)

    def total(self) -> Metrics:
        return self.metrics.model_copy(update={"peak_on_hand": float(self.units.max(initial=0.0)),
                                               "peak_inventory_value": float(self.value.max(initial=0.0))})


def simulate(histories: Mapping[str, Sequence[float]], products: Mapping[str, Product | None],
             config: SimulationConfig, progress: Callable[[str], None] | None = None) -> SimulationResult:
    """Replay each SKU's daily demand (oldest first; every history ends on the same day, the last day
    replayed) under each policy of ``config``. SKUs that cannot be simulated are listed in ``skipped``
    with the reason; ``progress(sku)`` is called after each SKU."""
    sums: dict[tuple, _Sum] = {}
    skus: list[SkuResult] = []
    skipped: list[Skipped] = []
    for sku in [*histories, *(s for s in products if s not in histories)]:
        try:
            if sku not in histories:
                raise Skip("no demand history for this SKU")
            series = np.asarray(histories[sku], dtype=float)
            result, runs = _simulate_sku(sku, series, products.get(sku), config)
        except Skip as skip:
            skipped.append(Skipped(sku=sku, reason=skip.reason))
        else:
            skus.append(result)
            unit_cost = float(products[sku].replenishment.unit_cost)
            scopes = ("all", "stationary") if result.stationary else ("all",)
            for (policy, setting, main), run in runs.items():
                keys = [("curve", scope, policy, setting) for scope in scopes if setting is not None]
                if main:
                    keys += [("total", policy), ("class", result.demand_class, policy)]
                for key in keys:
                    sums.setdefault(key, _Sum(config.days)).add(run, unit_cost)
        if progress is not None:
            progress(sku)
    totals = {key[1]: s.total() for key, s in sums.items() if key[0] == "total"}
    by_class: dict[str, dict[str, Metrics]] = {}
    for key, s in sums.items():
        if key[0] == "class":
            by_class.setdefault(key[1], {})[key[2]] = s.total()
    curve = _curve({key[1:]: s.total() for key, s in sums.items() if key[0] == "curve"})
    return SimulationResult(config=config, skus=skus, skipped=skipped, totals=totals,
                            by_class=dict(sorted(by_class.items())), curve=curve)


def _simulate_sku(sku: str, series: np.ndarray, product: Product | None, config: SimulationConfig
                  ) -> tuple[SkuResult, dict[tuple[str, float | None, bool], Replay]]:
    """One SKU under every policy and setting; raises ``Skip`` for what cannot be simulated."""
    if product is None:
        raise Skip("no product parameters: add the SKU to the products file (or to the catalogue)")
    check_parameters(product)
    params = product.replenishment
    assert params is not None
    if series.ndim != 1 or not np.isfinite(series).all() or (series < 0).any():
        raise Skip("the history has missing, infinite or negative quantities")
    if not series.any():
        raise Skip("no demand in the history: nothing to replay")
    review = params.review_period_days
    start = max(series.size - config.days, MIN_HISTORY_DAYS)
    if series.size - start < 2 * review:
        raise Skip(f"history too short: {series.size} days; a replay needs {MIN_HISTORY_DAYS} days of history "
                   f"before it (two weekly seasons) and at least two review periods ({2 * review} days) to replay")
    demand = series[start:]
    days = list(range(0, demand.size, review))  # review days, counted from the replay's first day
    costs = Costs(float(params.unit_cost), float(params.ordering_cost), params.holding_cost_rate)
    lead_times = lead_time_draws(params.lead_time_days, params.lead_time_sigma_days, demand.size,
                                 sku_rng(config.seed, sku))
    warmup = series[max(0, start - DAYS_PER_YEAR):start]
    is_stationary = "rq" in config.policies and stationary(warmup)
    if set(config.policies) == {"rq"} and not is_stationary:
        raise Skip("demand is not stationary (KPSS / Ljung-Box on the year before the replay): the (r, Q) "
                   "reference is only defined for stationary demand")
    own = params.service_level
    runs: dict[tuple[str, float | None, bool], Replay] = {}
    results: list[PolicyResult] = []
    refits, notes = 0, []

    def run(policy: PolicyName, setting: float, rule: Rule, main: bool, curve: bool) -> None:
        outcome = replay(demand, rule.order, costs=costs, review_period=review, lead_times=lead_times,
                         on_hand=rule.start)
        if main:
            results.append(PolicyResult(policy=policy, setting=setting, parameters=rule.parameters,
                                        metrics=outcome.metrics))
            runs[(policy, None, True)] = outcome
        if curve:
            runs[(policy, setting, False)] = outcome

    def with_level(level: float) -> Product:
        return product.model_copy(update={"replenishment": params.model_copy(update={"service_level": level})})

    targets = sorted(set(config.targets))
    if "orderflow" in config.policies:
        forecasts, refits, notes = review_forecasts(product, series, [start + d for d in days], config.refit_every)
        relative = {day - start: decided for day, decided in forecasts.items()}
        for level in sorted({own, *targets}):
            run("orderflow", level, project_rule(with_level(level), relative), level == own, level in targets)
    if "minmax" in config.policies:
        safeties = sorted({DEFAULT_MINMAX_SAFETY, *(MINMAX_SAFETY if targets else ())})
        for safety in safeties:
            levels = minmax_levels(series, [start + d for d in days], product, safety)
            rule = minmax_rule(product, {day - start: level for day, level in levels.items()})
            run("minmax", safety, rule, safety == DEFAULT_MINMAX_SAFETY, bool(targets))
    if is_stationary:
        mean, sigma = float(warmup.mean()), float(warmup.std())
        for level in sorted({own, *targets}):
            run("rq", level, rq_rule(product, *rq_parameters(mean, sigma, product, level)), level == own,
                level in targets)
    result = SkuResult(sku=sku, demand_class=classify(series).demand_class.value, stationary=is_stationary,
                       days=int(demand.size), reviews=len(days), refits=refits, notes=notes, results=results)
    return result, runs


def _curve(points: Mapping[tuple[str, str, float], Metrics]) -> list[CurvePoint]:
    """The trade-off curve (achieved cycle service level against average inventory value), per scope:
    every SKU, and the stationary ones (the only ones with an rq reference)."""
    curve = [CurvePoint(scope=scope, policy=policy, setting=setting, skus=m.skus,
                        cycle_service_level=m.cycle_service_level, fill_rate=m.fill_rate,
                        average_inventory_value=m.average_inventory_value, cost=m.cost)
             for (scope, policy, setting), m in sorted(points.items())
             if not (scope == "all" and policy == "rq")]
    for point in curve:
        if point.policy == "orderflow" and point.cycle_service_level is not None:
            minmax = [(p.cycle_service_level, p.average_inventory_value) for p in curve
                      if p.scope == point.scope and p.policy == "minmax" and p.cycle_service_level is not None]
            point.minmax_value_at_same_level = value_at_level(minmax, point.cycle_service_level)
    return curve


def value_at_level(points: Iterable[tuple[float, float]], level: float) -> float | None:
    """Inventory value at a cycle service level, interpolated linearly between the curve's points
    (sorted by level; None outside their range)."""
    ordered = sorted(points)
    for (low, low_value), (high, high_value) in itertools.pairwise(ordered):
        if low <= level <= high:
            return low_value if high == low else low_value + (level - low) / (high - low) * (high_value - low_value)
    return None
