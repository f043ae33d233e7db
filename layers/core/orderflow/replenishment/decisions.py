"""Deciding one SKU (pure): its history, forecast and policy, into a ``Decision`` with the reasons."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orderflow.catalogue import Product
from orderflow.inventory import StockLevel
from orderflow.replenishment.policy import PolicyInputError, inventory_position
from orderflow.replenishment.policy import decide as policy_decide
from orderflow.replenishment.runs import CappedDemand, Decision, RunCounts

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    from orderflow.forecasting import Forecast


MAX_HISTORY_DAYS = 730  # the most history a forecast reads
MIN_HISTORY_DAYS = 14  # two weekly seasons: less is skipped as "history too short"
SEASON_LENGTH = 7  # daily demand, weekly pattern
YEAR_LENGTH = 365  # days: the σ of totals looks at the same time one year earlier
# Demand classes whose σ of totals is the largest of the absolute, level-proportional and
# time-of-year spreads (conditional_total_error_sigma); intermittent and lumpy demand keep the
# absolute one unless their errors persist (docs/policy.md "Achieved service, measured").
CONDITIONAL_SIGMA_CLASSES = ("smooth", "erratic")
# A total's RMS error above this many times σ·√days (independent daily errors) means the errors
# persist: the level moves (on and off spells), whatever the class, and the spread that applies at the
# review is taken (docs/policy.md §3). The totals tested are over the lead time, and at least
# PERSISTENCE_WINDOW_DAYS: over a few days a rate that changes by the quarter hides in the daily noise.
PERSISTENT_ERROR_RATIO = 1.5
PERSISTENCE_WINDOW_DAYS = 28
CAPACITY_ATTEMPTS = 4  # drafts that lose the supplier-capacity race re-decide at most this often
ERROR_TEXT_LIMIT = 1000
_BATCH_READ = 100  # keys per BatchGetItem
# A SKU is reviewed when the policy decided it; a skip (a missing parameter, no capacity left) is
# decided again on the next cycle instead of waiting for its next review.
REVIEWED_OUTCOMES = frozenset({"ordered", "not_needed"})
# ------------------------------------------------------------------ deciding one SKU (pure)
class Skip(Exception):
    """This SKU cannot be decided this run; ``reason`` says why (it goes on the run record)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def timestamp(moment: datetime) -> str:
    """The stored form of a moment (as ``utc_now``): UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cycle_of(started_at: str) -> str:
    """The replenishment cycle of a run: the UTC day it started (``YYYY-MM-DD``)."""
    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date().isoformat()


def history_window(cycle: str, max_days: int = MAX_HISTORY_DAYS) -> tuple[str, str]:
    """First and last day a forecast of ``cycle`` reads: the last 730 days (``max_days``) before the cycle."""
    end = date.fromisoformat(cycle) - timedelta(days=1)
    return (end - timedelta(days=max_days - 1)).isoformat(), end.isoformat()


def daily_series(recorded: Mapping[str, int], cycle: str, max_days: int = MAX_HISTORY_DAYS) -> list[float]:
    """Daily demand from the first recorded day of the window (``max_days`` long) to the day before
    ``cycle``, days without a record as 0. A negative day (returns received exceeded that day's
    shipments) is netted against the days before it, so the total stays right and no day is negative."""
    first, last = history_window(cycle, max_days)
    days = sorted(day for day in recorded if first <= day <= last)
    if not days:
        return []
    start = date.fromisoformat(days[0])
    series = [0.0] * ((date.fromisoformat(last) - start).days + 1)
    for day in days:
        series[(date.fromisoformat(day) - start).days] = float(recorded[day])
    for i, value in enumerate(series):
        if value < 0:
            series[i], owed = 0.0, -value
            for j in range(i - 1, -1, -1):
                if owed <= 0:
                    break
                taken = min(series[j], owed)
                series[j], owed = series[j] - taken, owed - taken
    return series


def check_parameters(product: Product) -> None:
    """Raise ``Skip`` when the product's parameters cannot drive an order."""
    if not product.supplier_id:
        raise Skip("no supplier: set the product's supplier_id")
    if product.replenishment is None:
        raise Skip("no replenishment parameters")
    if product.replenishment.lead_time_days <= 0:
        raise Skip(f"lead time is {product.replenishment.lead_time_days:g} days: set the supplier's lead time "
                   "(lead_time_days > 0)")


def forecast_horizon(product: Product) -> int:
    """The days a forecast of ``product`` covers: its lead time + review period, rounded up."""
    params = product.replenishment
    assert params is not None
    return math.ceil(params.lead_time_days + params.review_period_days)


def forecast_demand(product: Product, history: Sequence[float], forecasted: Forecast | None = None) -> Decision:
    """Forecast the product's demand over lead time + review period; a Decision with the forecast
    filled in (outcome still to be decided). Raises ``Skip`` for a history it cannot use.
    ``forecasted``: that forecast made already, for the whole batch at once (``forecast_many``)."""
    return forecast_with_model(product, history, forecasted)[0]


def forecast_with_model(product: Product, history: Sequence[float],
                        forecasted: Forecast | None = None) -> tuple[Decision, Forecast]:
    """:func:`forecast_demand` and the forecast it came from (the fitted model in
    ``details["fitted"]``), for a caller that carries the model forward (the simulation)."""
    from orderflow.forecasting import ForecastInputError, forecast

    check_parameters(product)
    params = product.replenishment
    assert params is not None
    if not history:
        raise Skip(f"no demand history in the last {MAX_HISTORY_DAYS} days (import it with `orderflow history "
                   "import`)")
    if len(history) < MIN_HISTORY_DAYS:
        raise Skip(f"history too short: {len(history)} days since the first recorded demand, at least "
                   f"{MIN_HISTORY_DAYS} needed")
    horizon = forecast_horizon(product)
    try:
        # intervals=False: the policy reads the σ of totals (total_sigmas), not per-day intervals
        result = forecasted if forecasted is not None else forecast(
            history, horizon=horizon, season_length=SEASON_LENGTH, intervals=False,
            methods=params.forecast_methods)  # the product's method set (e.g. with sarimax)
    except ForecastInputError as exc:
        raise Skip(f"history cannot be forecast: {exc}") from None
    except Exception as exc:  # a numerical failure in one SKU's fit must not stop the batch's other SKUs
        raise Skip(f"the forecast failed: {type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]) from None
    daily = [round(float(v), 4) for v in result.mean]
    # σ of totals from the history the model was fitted to: outliers capped (listed in the decision)
    # and over lead time + review: what the policy's order-up-to regime covers (errors that persist
    # make it more than the two added in quadrature)
    lead, review, protection = total_sigmas(result.details["fitted"], result.details["history"],
                                            float(result.sigma), params.lead_time_days, params.review_period_days,
                                            demand_class=result.demand_class)
    capped = [CappedDemand(days_ago=len(history) - c["period"], value=c["value"], capped_to=round(c["capped_to"], 4))
              for c in result.details.get("capped", [])]
    decision = Decision(sku=product.sku, supplier_id=product.supplier_id, outcome="not_needed", reason="",
                        demand_class=result.demand_class, method=result.method, history_days=len(history),
                        horizon_days=horizon, forecast=daily, forecast_daily=round(sum(daily) / horizon, 4),
                        sigma_daily=round(float(result.sigma), 4), sigma_lead_time_demand=round(float(lead[0]), 4),
                        sigma_review_demand=round(float(review[0]), 4),
                        sigma_protection_demand=round(float(protection[0]), 4), outliers_capped=capped,
                        unit_cost=params.unit_cost)
    return decision, result


def total_sigmas(model: Any, history: Any, sigma: Any, lead_time_days: float, review_period_days: int,
                 origins: Any = None, demand_class: str | None = None) -> tuple[Any, Any, Any]:
    """σ of the forecast error of the demand totals the policy covers, over the lead time, over one
    review period and over both (the order-up-to regime's cover; ``ceil`` of each, in days): the RMS of
    the fitted model's own in-sample errors of such totals (``orderflow.forecasting.methods
    .total_error_sigma``), at each of ``origins`` (days of ``history`` observed; default all of it), as
    arrays like ``origins``. Where no window has ended
    yet, or the model cannot forecast its past, ``sigma·√days`` from the one-step ``sigma``. That
    scaling assumes independent days; a forecast whose errors persist (a level that moved and is
    caught up with over weeks) has a lead-time error several times larger, and this measures it
    (docs/policy.md §3). For a ``demand_class`` in :data:`CONDITIONAL_SIGMA_CLASSES` (demand on most
    days), and at origins where the errors persist (the RMS of totals over the lead time, and at least
    :data:`PERSISTENCE_WINDOW_DAYS`, above :data:`PERSISTENT_ERROR_RATIO` × ``sigma·√days``: a slow
    mover with on and off spells; tested once for the three totals), it is the
    spread that applies at the origin: the largest of that RMS, the spread in proportion to the
    origin's forecast and the spread at the same time a year earlier
    (``orderflow.forecasting.methods.conditional_total_error_sigma``)."""
    import numpy as np

    from orderflow.forecasting.fits import conditional_total_error_sigma, total_error_sigma

    y = np.asarray(history, dtype=float)
    at = np.atleast_1d(np.asarray(y.size if origins is None else origins))
    one_step = np.broadcast_to(np.asarray(sigma, dtype=float), at.shape)
    windows = (max(1, math.ceil(lead_time_days)), review_period_days,
               max(1, math.ceil(lead_time_days + review_period_days)))

    def measured(days: int, spread: Any) -> Any:
        try:
            with np.errstate(all="ignore"):
                return spread(days)
        except (ValueError, ArithmeticError, TypeError, np.linalg.LinAlgError):  # a model that cannot say
            return np.full(at.shape, np.nan)

    plain_sigmas: dict[int, Any] = {}

    def plain(days: int) -> Any:
        if days not in plain_sigmas:
            plain_sigmas[days] = total_error_sigma(model, y, days, at)
        return plain_sigmas[days]

    def conditional(days: int) -> Any:
        return conditional_total_error_sigma(model, y, days, at, YEAR_LENGTH)

    if demand_class in CONDITIONAL_SIGMA_CLASSES:
        applies = np.ones(at.shape, dtype=bool)
    else:
        with np.errstate(invalid="ignore"):
            test = max(windows[0], PERSISTENCE_WINDOW_DAYS)
            applies = measured(test, plain) > PERSISTENT_ERROR_RATIO * one_step * math.sqrt(test)
    out = []
    for days in windows:
        if days <= 0:
            out.append(np.zeros(at.shape))
            continue
        direct = measured(days, plain) if not applies.all() else np.full(at.shape, np.nan)
        if applies.any():
            direct = np.where(applies, measured(days, conditional), direct)
        spread = np.where(np.isfinite(direct), direct, one_step * math.sqrt(days))
        out.append(np.fmin(spread, largest_total(y, days, at)))
    return out[0], out[1], out[2]


def largest_total(history: Any, days: int, origins: Any) -> Any:
    """The largest demand total of ``days`` consecutive days in ``history`` before each of ``origins``
    (NaN where no such window has ended): the cap on the σ of a total's forecast error. A spread in
    proportion to in-sample forecasts near 0 (a SKU's first spell of sales after months of none)
    can otherwise come out at many times anything ever sold, and the order-up-to level with it
    (docs/policy.md §3, "Spreads beyond anything sold")."""
    import numpy as np

    y = np.asarray(history, dtype=float)
    at = np.atleast_1d(np.asarray(origins))
    if days <= 0 or y.size < days:
        return np.full(at.shape, np.nan)
    cumulative = np.concatenate([[0.0], np.cumsum(y)])
    running = np.maximum.accumulate(cumulative[days:] - cumulative[:-days])  # window i = y[i:i + days]
    last = np.minimum(at, y.size) - days  # the last window that ended by the origin
    return np.where(last >= 0, running[np.clip(last, 0, running.size - 1)], np.nan)


def apply_policy(forecasted: Decision, product: Product, stock: StockLevel, remaining: int | None) -> Decision:
    """The inventory policy on a forecast (stdlib only, cheap: re-run when the supplier's capacity
    changes under a draft). Raises ``Skip`` for parameters the policy refuses."""
    params = product.replenishment
    assert params is not None and forecasted.forecast_daily is not None
    review = params.review_period_days
    try:
        decided = policy_decide({
            "sku": product.sku,
            "mean_daily_demand": forecasted.forecast_daily,
            "sigma_daily": forecasted.sigma_daily or 0.0,
            "sigma_lead_time_demand": forecasted.sigma_lead_time_demand,
            "sigma_review_demand": forecasted.sigma_review_demand,
            "sigma_protection_demand": forecasted.sigma_protection_demand,
            "lead_time_days": params.lead_time_days,
            "sigma_lead_time_days": params.lead_time_sigma_days,
            "review_period_days": review,
            "review_period_forecast": sum(forecasted.forecast[-review:]),
            "ordering_cost": params.ordering_cost,
            "unit_cost": params.unit_cost,
            "holding_cost_rate": params.holding_cost_rate,
            "target_service_level": params.service_level,
            "moq": params.moq,
            "pack_size": params.pack_size,
            "supplier_capacity": remaining,
            "on_hand": max(0, stock.on_hand),
            "on_order": max(0, stock.on_order),
            "reserved": max(0, stock.reserved),
            "backordered": max(0, stock.backordered),
        })
    except PolicyInputError as exc:
        raise Skip(f"replenishment parameters: {exc.message}") from None
    # Needed but the supplier cannot take any of it: skipped, for a planner to look at.
    outcome = "ordered" if decided.quantity > 0 else "skipped" if decided.capped else "not_needed"
    reason = decided.reason
    if forecasted.outliers_capped:
        worst = max(forecasted.outliers_capped, key=lambda day: day.value - day.capped_to)
        reason += (f" {len(forecasted.outliers_capped)} outlier day(s) in the history capped before forecasting "
                   f"(largest: {worst.value:g} {worst.days_ago} day(s) ago, used as {worst.capped_to:g}).")
    return forecasted.model_copy(update={
        "outcome": outcome, "reason": reason, "quantity": decided.quantity, "capped": decided.capped,
        "safety_stock": round(decided.safety_stock, 4), "reorder_point": round(decided.reorder_point, 4),
        "order_up_to": round(decided.order_up_to, 4), "eoq": round(decided.eoq, 4),
        "inventory_position": decided.inventory_position})


def landed_cost(decision: Decision, product: Product) -> float:
    """What one unit bought on ``product``'s terms costs once it is on the shelf, per the policy's decision:
    the unit cost, plus the ordering cost spread over the usual order (EOQ, at least the MOQ), plus the
    yearly holding cost of the cycle and safety stock that supplier needs to meet the service target
    (a longer or less reliable lead time needs more), spread over a year's demand. The replenishment
    policy compares suppliers on it (docs/replenishment.md, "Several suppliers")."""
    params = product.replenishment
    assert params is not None
    cost = float(params.unit_cost)
    size = max(decision.eoq or 0.0, float(params.moq), 1.0)  # the steady-state order, not this cycle's catch-up
    yearly = (decision.forecast_daily or 0.0) * 365
    holding = params.holding_cost_rate * cost * (size / 2 + (decision.safety_stock or 0.0)) / yearly if yearly else 0.0
    return cost + float(params.ordering_cost) / size + holding


def reviewed_nightly(raw: Mapping[str, Any], location: str) -> bool:
    """Whether the product (as stored) is reviewed every night at ``location`` (a review period of 1 day, the
    default): :func:`not_due` then finds it due whatever its last review, so the run neither reads nor writes
    that review (docs/replenishment.md, "Review period")."""
    params = raw.get("replenishment") or {}
    override = ((params.get("locations") or {}).get(location) or {}).get("review_period_days")
    return (override if override is not None else params.get("review_period_days", 1)) == 1


def not_due(product: Product, cycle: str, last_review: str | None) -> Decision | None:
    """A ``not_due`` decision when the SKU was reviewed fewer than its ``review_period_days`` ago (the
    reorder point already covers the days until its next review); ``None`` when it is due. A SKU never
    reviewed, or reviewed in this same cycle (an earlier run today, a retried batch), is due. Counting from
    the last review, not from a calendar, means a missed or failed nightly run is caught up the next night."""
    params = product.replenishment
    assert params is not None
    if last_review is None or last_review >= cycle:
        return None
    next_review = date.fromisoformat(last_review) + timedelta(days=params.review_period_days)
    if date.fromisoformat(cycle) >= next_review:
        return None
    return Decision(sku=product.sku, supplier_id=product.supplier_id, outcome="not_due",
                    reason=f"Not due: reviewed every {params.review_period_days} days, last on {last_review}, "
                           f"next on {next_review.isoformat()}")


def decide_sku(product: Product, stock: StockLevel, history: Sequence[float], remaining: int | None,
               forecasted: Forecast | None = None) -> Decision:
    """What to buy of one SKU this cycle: forecast (or ``forecasted``, made for the batch), then the
    policy. A SKU that cannot be decided comes back ``skipped`` with the reason; one whose history
    cannot be forecast (a new product) but whose backorders exceed what is in stock and on order is
    bought what the backorders need."""
    try:
        check_parameters(product)
        try:
            forecasted_demand = forecast_demand(product, history, forecasted)
        except Skip as unforecastable:
            if _position(stock) >= 0:
                raise
            return cover_backorders(product, stock, remaining, unforecastable.reason, len(history))
        return apply_policy(forecasted_demand, product, stock, remaining)
    except Skip as skip:
        return skipped(product.sku, skip.reason, product.supplier_id)


def cover_backorders(product: Product, stock: StockLevel, remaining: int | None, why: str,
                     history_days: int = 0) -> Decision:
    """The policy with no demand forecast: the reorder point is 0, so exactly the shortfall of a
    negative inventory position is bought (raised to the MOQ, in whole packs, within capacity)."""
    params = product.replenishment
    assert params is not None
    horizon = forecast_horizon(product)
    none = Decision(sku=product.sku, supplier_id=product.supplier_id, outcome="not_needed", reason="",
                    method="backorders only", history_days=history_days, horizon_days=horizon, forecast=[0.0] * horizon,
                    forecast_daily=0.0, sigma_daily=0.0, unit_cost=params.unit_cost)
    decided = apply_policy(none, product, stock, remaining)
    return decided.model_copy(update={"reason": f"No forecast ({why}); buying for the backorders only. "
                                                f"{decided.reason}"})


def _position(stock: StockLevel) -> int:
    """The inventory position as ``apply_policy`` counts it (negative counters read as 0)."""
    return inventory_position(*(max(0, n) for n in (stock.on_hand, stock.on_order, stock.reserved, stock.backordered)))


def skipped(sku: str, reason: str, supplier_id: str | None = None) -> Decision:
    return Decision(sku=sku, supplier_id=supplier_id, outcome="skipped", reason=reason)


def tally(decisions: Sequence[Decision]) -> RunCounts:
    counts = RunCounts(skus=len(decisions))
    for d in decisions:
        setattr(counts, d.outcome, getattr(counts, d.outcome) + 1)
        if d.outcome == "ordered":
            counts.units_ordered += d.quantity
    return counts


def run_name(now: datetime) -> str:
    """An execution name (= run id) that sorts by time and does not collide."""
    return f"run-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def error_text(error: Any) -> str:
    """A Step Functions Catch payload (``{"Error", "Cause"}``) as one readable line."""
    if not isinstance(error, Mapping):
        return str(error)[:ERROR_TEXT_LIMIT]
    name, cause = error.get("Error") or "Error", error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, Mapping):
            cause = parsed.get("errorMessage") or cause
    except (TypeError, ValueError):
        pass
    return f"{name}: {cause}"[:ERROR_TEXT_LIMIT] if cause else str(name)[:ERROR_TEXT_LIMIT]


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "row"
    return f"{field}: {first['msg']}"


def _utc_today() -> date:
    return datetime.now(UTC).date()

