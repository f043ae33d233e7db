"""The whole simulation: forecasts on each review day, every SKU replayed under every policy, and
the service-level/stock trade-off curve.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from orderflow.catalogue import Product, Replenishment
from orderflow.forecasting import classify
from orderflow.forecasting.fits import (
    ExpSmoothingFit,
    Fitted,
    MeanFit,
    PathFit,
    SeasonalMeanFit,
    SeasonalNaiveFit,
    YearlyFit,
    ZeroFit,
)
from orderflow.forecasting.methods import Combination, fit_method
from orderflow.forecasting.theta import ThetaFit
from orderflow.forecasting.trend import TrendFit
from orderflow.replenishment.decisions import (
    MAX_HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    SEASON_LENGTH,
    Skip,
    check_parameters,
    forecast_with_model,
    total_sigmas,
)
from orderflow.replenishment.policy import DAYS_PER_YEAR
from orderflow.replenishment.runs import Decision
from orderflow.replenishment.simulation.replay import (
    DEFAULT_MINMAX_SAFETY,
    MINMAX_SAFETY,
    Costs,
    CurvePoint,
    Metrics,
    PolicyName,
    PolicyResult,
    Replay,
    Rule,
    SimulationConfig,
    SimulationResult,
    Skipped,
    SkuResult,
    lead_time_draws,
    minmax_levels,
    minmax_rule,
    project_rule,
    replay,
    rq_parameters,
    rq_rule,
    sku_rng,
    stationary,
)

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
    lead, review, protection = total_sigmas(fit, y, sigmas, params.lead_time_days, params.review_period_days,
                                            origins, demand_class=decided.demand_class)
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
        return Combination([_extend(member, y) for member in fit.members], y, fit.weights)
    if isinstance(fit, SeasonalNaiveFit | SeasonalMeanFit | PathFit | MeanFit):  # nothing fitted by an optimiser
        return fit_method(fit.method, y, SEASON_LENGTH)
    if isinstance(fit, ZeroFit):
        return fit
    if isinstance(fit, ExpSmoothingFit):
        return _smooth_forward(fit, y)
    if isinstance(fit, YearlyFit):  # the inner model runs on the history divided by the yearly factor
        return YearlyFit(_extend(fit.inner, y / fit.factor(np.arange(y.size))), fit.factor, y)
    if isinstance(fit, ThetaFit):  # its SES runs on the seasonally adjusted history; drift and indices kept
        adjusted = y / fit.index[np.arange(y.size) % fit.m] if fit.index is not None else y
        return ThetaFit(y, fit.m, _smooth_forward(fit.ses, adjusted), fit.index, 2 * fit.drift)
    if isinstance(fit, TrendFit):  # its line is refitted through the new days; the seasonal indices kept
        return TrendFit(y, fit.m, fit.seasonal_index, fit.window)
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
    params = fit.params
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
