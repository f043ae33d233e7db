"""The replenishment run: record it, split the catalogue into batches, decide each SKU (forecast →
policy → purchase order), send the drafts to the suppliers, close the run with its totals.
Also the demand history that the forecasts read (import and read back).

docs/replenishment.md §1–2 and §9 describe the run. ``orderflow.forecasting`` (numpy, statsmodels)
is imported only by :func:`forecast_demand`: the purchasing API function imports this module
without numpy in its layers.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from .adapters.demand import DemandRepository
from .adapters.products import ProductsRepository
from .adapters.replenishment_runs import ReplenishmentRunsRepository
from .adapters.stock import StockRepository
from .adapters.workflow import StepFunctionsWorkflow
from .errors import NotFound, OrderflowError, TransientError, Unprocessable
from .models import Identifier, Product, StockLevel, Strict, utc_now
from .policy import PolicyInputError, inventory_position
from .policy import decide as policy_decide
from .purchasing import CapacityExceeded, PurchasingService
from .purchasing_models import (
    CappedDemand,
    Decision,
    PurchaseOrder,
    PurchaseOrderStatus,
    ReplenishmentRun,
    RunCounts,
    RunStatus,
    Supplier,
    purchase_order_id,
)
from .settings import Settings, get_settings

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    from .forecasting import Forecast

MAX_HISTORY_DAYS = 730  # the most history a forecast reads
MIN_HISTORY_DAYS = 14  # two weekly seasons: less is skipped as "history too short"
SEASON_LENGTH = 7  # daily demand, weekly pattern
YEAR_LENGTH = 365  # days: the σ of totals looks at the same time one year earlier
# Demand classes whose σ of totals is the largest of the absolute, level-proportional and
# time-of-year spreads (conditional_total_error_sigma); intermittent and lumpy demand keep the
# absolute one (docs/policy.md "Achieved service, measured").
CONDITIONAL_SIGMA_CLASSES = ("smooth", "erratic")
CAPACITY_ATTEMPTS = 4  # drafts that lose the supplier-capacity race re-decide at most this often
ERROR_TEXT_LIMIT = 1000
_BATCH_READ = 100  # keys per BatchGetItem
# A SKU is reviewed when the policy decided it; a skip (a missing parameter, no capacity left) is
# decided again on the next cycle instead of waiting for its next review.
REVIEWED_OUTCOMES = frozenset({"ordered", "not_needed"})


# ------------------------------------------------------------------ what the workflow passes around
class Batch(BaseModel):
    """One parallel-scan segment of the Products table."""

    segment: Annotated[int, Field(ge=0)]
    total_segments: Annotated[int, Field(ge=1)]


class BatchItem(BaseModel):
    """One item of the run's Map (a segment of StartRun's ``segments``, with the run), Decide's input."""

    run_id: str
    cycle: str
    batch: Batch


class Decided(BaseModel):
    """The Decide step's output: the drafts to send and what the batch decided."""

    po_ids: list[str] = []
    counts: RunCounts = RunCounts()


class BatchResult(BaseModel):
    """What one batch did, stored under the run by the Send step: FinishRun adds them up."""

    batch: Batch
    counts: RunCounts


class StartRunEvent(BaseModel):
    """StartRun's input: the execution's name, start time and input (``{"trigger", "note"?}``)."""

    run_id: str
    started_at: str
    input: dict[str, Any] = {}


class SendEvent(BaseModel):
    run_id: str
    batch: Batch
    decided: Decided


class FinishEvent(BaseModel):
    """FinishRun's input (``total_segments``), or RunFailed's (``error``, with the execution's start and
    input)."""

    run_id: str
    total_segments: Annotated[int, Field(ge=1)] | None = None
    error: Any = None
    started_at: str | None = None
    input: dict[str, Any] = {}


class BatchesFailed(OrderflowError):
    """Some batches of the run stored no result (their Map iteration failed): the run cannot complete."""

    http_status = 500
    code = "BATCHES_FAILED"


class HistoryRow(Strict):
    sku: Identifier
    day: date
    quantity: Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]


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


def forecast_demand(product: Product, history: Sequence[float]) -> Decision:
    """Forecast the product's demand over lead time + review period; a Decision with the forecast
    filled in (outcome still to be decided). Raises ``Skip`` for a history it cannot use."""
    return forecast_with_model(product, history)[0]


def forecast_with_model(product: Product, history: Sequence[float]) -> tuple[Decision, Forecast]:
    """:func:`forecast_demand` and the forecast it came from (the fitted model in
    ``details["fitted"]``), for a caller that carries the model forward (the simulation)."""
    from .forecasting import ForecastInputError, forecast

    check_parameters(product)
    params = product.replenishment
    assert params is not None
    if not history:
        raise Skip(f"no demand history in the last {MAX_HISTORY_DAYS} days (import it with `orderflow history "
                   "import`)")
    if len(history) < MIN_HISTORY_DAYS:
        raise Skip(f"history too short: {len(history)} days since the first recorded demand, at least "
                   f"{MIN_HISTORY_DAYS} needed")
    horizon = math.ceil(params.lead_time_days + params.review_period_days)
    try:
        # intervals=False: the policy reads the σ of totals (total_sigmas), not per-day intervals
        result = forecast(history, horizon=horizon, season_length=SEASON_LENGTH, intervals=False,
                          methods=params.forecast_methods)  # the product's method set (e.g. with sarimax)
    except ForecastInputError as exc:
        raise Skip(f"history cannot be forecast: {exc}") from None
    except Exception as exc:  # a numerical failure in one SKU's fit must not stop the batch's other SKUs
        raise Skip(f"the forecast failed: {type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]) from None
    daily = [round(float(v), 4) for v in result.mean]
    # σ of totals from the history the model was fitted to: outliers capped (listed in the decision)
    lead, review = total_sigmas(result.details["fitted"], result.details["history"], float(result.sigma),
                                params.lead_time_days, params.review_period_days, demand_class=result.demand_class)
    # and over lead time + review: what the policy's order-up-to regime covers (errors that persist
    # make it more than the two added in quadrature)
    protection, _ = total_sigmas(result.details["fitted"], result.details["history"], float(result.sigma),
                                 params.lead_time_days + params.review_period_days, 0,
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
                 origins: Any = None, demand_class: str | None = None) -> tuple[Any, Any]:
    """σ of the forecast error of the demand totals the policy covers, over the lead time and over one
    review period (``ceil`` of each, in days): the RMS of the fitted model's own in-sample errors of
    such totals (``orderflow.forecasting.methods.total_error_sigma``), at each of ``origins`` (days of
    ``history`` observed; default all of it), as arrays like ``origins``. Where no window has ended
    yet, or the model cannot forecast its past, ``sigma·√days`` from the one-step ``sigma``. That
    scaling assumes independent days; a forecast whose errors persist (a level that moved and is
    caught up with over weeks) has a lead-time error several times larger, and this measures it
    (docs/policy.md §3). For a ``demand_class`` in :data:`CONDITIONAL_SIGMA_CLASSES` (demand on most
    days) it is the spread that applies at the origin: the largest of that RMS, the spread in
    proportion to the origin's forecast and the spread at the same time a year earlier
    (``orderflow.forecasting.methods.conditional_total_error_sigma``)."""
    import numpy as np

    from .forecasting.methods import conditional_total_error_sigma, total_error_sigma

    y = np.asarray(history, dtype=float)
    at = np.atleast_1d(np.asarray(y.size if origins is None else origins))
    one_step = np.broadcast_to(np.asarray(sigma, dtype=float), at.shape)
    out = []
    for days in (max(1, math.ceil(lead_time_days)), review_period_days):
        if days <= 0:
            out.append(np.zeros(at.shape))
            continue
        try:
            with np.errstate(all="ignore"):
                direct = (conditional_total_error_sigma(model, y, days, at, YEAR_LENGTH)
                          if demand_class in CONDITIONAL_SIGMA_CLASSES else total_error_sigma(model, y, days, at))
        except (ValueError, ArithmeticError, TypeError, np.linalg.LinAlgError):  # a model that cannot say
            direct = np.full(at.shape, np.nan)
        out.append(np.where(np.isfinite(direct), direct, one_step * math.sqrt(days)))
    return out[0], out[1]


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


def decide_sku(product: Product, stock: StockLevel, history: Sequence[float], remaining: int | None) -> Decision:
    """What to buy of one SKU this cycle: forecast, then the policy. A SKU that cannot be decided comes
    back ``skipped`` with the reason; one whose history cannot be forecast (a new product) but whose
    backorders exceed what is in stock and on order is bought what the backorders need."""
    try:
        check_parameters(product)
        try:
            forecasted = forecast_demand(product, history)
        except Skip as unforecastable:
            if _position(stock) >= 0:
                raise
            return cover_backorders(product, stock, remaining, unforecastable.reason, len(history))
        return apply_policy(forecasted, product, stock, remaining)
    except Skip as skip:
        return skipped(product.sku, skip.reason, product.supplier_id)


def cover_backorders(product: Product, stock: StockLevel, remaining: int | None, why: str,
                     history_days: int = 0) -> Decision:
    """The policy with no demand forecast: the reorder point is 0, so exactly the shortfall of a
    negative inventory position is bought (raised to the MOQ, in whole packs, within capacity)."""
    params = product.replenishment
    assert params is not None
    horizon = math.ceil(params.lead_time_days + params.review_period_days)
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


# ------------------------------------------------------------------ the service
class ReplenishmentService:
    def __init__(self, settings: Settings, runs: ReplenishmentRunsRepository, products: ProductsRepository,
                 stock: StockRepository, demand: DemandRepository, workflow: StepFunctionsWorkflow,
                 purchasing: PurchasingService):
        self.settings = settings
        self.runs, self.products, self.stock, self.demand = runs, products, stock, demand
        self.workflow, self.purchasing = workflow, purchasing

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ReplenishmentService:
        s = settings or get_settings()
        return cls(s, ReplenishmentRunsRepository(s.replenishment_table), ProductsRepository(s.products_table),
                   StockRepository(s.stock_table), DemandRepository(s.demand_table),
                   StepFunctionsWorkflow(s.replenishment_state_machine_arn), PurchasingService.from_settings(s))

    # ------------------------------------------------------------------ starting and reading runs
    def request_run(self, note: str | None = None) -> ReplenishmentRun:
        """Start a run now: record it (so it can be read at once), then start the workflow execution
        named after it, whose first step keeps this record."""
        now = datetime.now(UTC)
        run_id = run_name(now)
        run = self.runs.start(ReplenishmentRun(run_id=run_id, cycle=now.date().isoformat(), status=RunStatus.RUNNING,
                                               trigger="api", started_at=timestamp(now), note=note))
        self.workflow.start_named(run_id, {"trigger": "api", "note": note})
        return run

    def get_run(self, run_id: str) -> tuple[ReplenishmentRun, list[Decision]]:
        found = self.runs.get(run_id)
        if found is None:
            raise NotFound(f"replenishment run {run_id} not found")
        return found

    def get_run_page(self, run_id: str, limit: int, cursor: str | None = None
                     ) -> tuple[ReplenishmentRun, list[Decision], str | None]:
        """The run, one page of its decisions (SKU order) and the cursor of the next page."""
        run = self.runs.get_run(run_id)
        if run is None:
            raise NotFound(f"replenishment run {run_id} not found")
        decisions, next_cursor = self.runs.decisions_page(run_id, limit, cursor)
        return run, decisions, next_cursor

    def list_runs(self, limit: int = 20) -> list[ReplenishmentRun]:
        return self.runs.list(limit)

    # ------------------------------------------------------------------ the workflow's steps
    def start_run(self, run_id: str, started_at: str, trigger: str, note: str | None = None) -> dict[str, Any]:
        """StartRun: record the run (a retry keeps the first record) and split the catalogue into
        ``ceil(products / batch size)`` parallel-scan segments, numbered in ``segments`` (the Map's
        items: a few bytes each, so the state stays small whatever the catalogue's size)."""
        cycle = cycle_of(started_at)
        started_at = timestamp(datetime.fromisoformat(started_at.replace("Z", "+00:00")))
        run = self.runs.start(ReplenishmentRun(run_id=run_id, cycle=cycle, status=RunStatus.RUNNING,
                                               trigger=trigger, started_at=started_at, note=note))
        cancelled = self.cancel_stale_drafts(run)
        total = max(1, math.ceil(self.products.count() / max(1, self.settings.replenishment_batch_size)))
        return {"run_id": run_id, "cycle": run.cycle, "total_segments": total, "segments": list(range(total)),
                "stale_drafts_cancelled": cancelled}

    def cancel_stale_drafts(self, run: ReplenishmentRun) -> int:
        """Cancel the drafts of earlier cycles that their run never sent (it failed or was stopped): their
        units would sit in ``on_order`` for ever and make every later run buy too little. This run then
        decides those SKUs afresh. A draft of a run still RUNNING is left to it. Returns how many."""
        cancelled, cursor = 0, None
        running: dict[str | None, bool] = {}
        while True:
            drafts, cursor = self.purchasing.list_purchase_orders(PurchaseOrderStatus.DRAFT, 100, cursor)
            for po in drafts:
                if po.cycle >= run.cycle or po.run_id == run.run_id:
                    continue
                if po.run_id not in running:
                    running[po.run_id] = self.is_running(po.run_id)
                if running[po.run_id]:
                    continue
                after = self.purchasing.cancel_draft(
                    po.po_id, f"never sent (run {po.run_id} did not finish); decided again by run {run.run_id}")
                cancelled += after.status == PurchaseOrderStatus.CANCELLED
            if not cursor:
                return cancelled

    def is_running(self, run_id: str | None) -> bool:
        """Whether run ``run_id`` is still RUNNING: a draft it made is its own to send."""
        owner = self.runs.get_run(run_id) if run_id else None
        return owner is not None and owner.status == RunStatus.RUNNING

    def decide_batch(self, item: Mapping[str, Any] | BatchItem) -> dict[str, Any]:
        """Decide: every replenished product of one segment (active, with ``replenishment``
        parameters; the others are not bought by Orderflow and not counted). Drafts are conditional
        per cycle and SKU, so a retried batch drafts nothing twice."""
        work = BatchItem.model_validate(item)
        raw = [p for p in self.products.scan_segment(work.batch.segment, work.batch.total_segments)
               if p.get("replenishment") and p.get("active", True) is not False]
        levels: dict[str, StockLevel] = {}
        skus = [p["sku"] for p in raw]
        for start in range(0, len(skus), _BATCH_READ):
            levels.update(self.stock.get_many(skus[start:start + _BATCH_READ]))
        window = _BatchContext(self, work.run_id, work.cycle, self.runs.last_reviews(skus))
        decisions = [window.decide(p, levels.get(p["sku"]) or StockLevel(sku=p["sku"])) for p in raw]
        reviewed = {d.sku: work.cycle for d in decisions if d.outcome in REVIEWED_OUTCOMES}
        self.runs.put_decisions(work.run_id, decisions, reviewed)
        return Decided(po_ids=window.to_send, counts=tally(decisions)).model_dump(mode="json")

    def send_batch(self, run_id: str, batch: Mapping[str, Any] | Batch,
                   decided: Mapping[str, Any] | Decided) -> dict[str, Any]:
        """Send: put the batch's drafts on their suppliers' queues (a draft sent already is left as is),
        then store what the batch did under the run (a retried batch overwrites its own result)."""
        done = Decided.model_validate(decided)
        sent = sum(1 for po_id in done.po_ids if self.purchasing.send(po_id).status != PurchaseOrderStatus.DRAFT)
        counts = done.counts.model_copy(update={"sent": done.counts.sent + sent})
        result = BatchResult(batch=Batch.model_validate(batch), counts=counts)
        self.runs.put_batch_result(run_id, result.batch.segment, result.counts)
        return result.model_dump(mode="json")

    def finish(self, run_id: str, total_segments: int) -> ReplenishmentRun:
        """FinishRun: the totals of every batch on the run record, status COMPLETED (once). A segment
        without a stored result (a failed Map iteration that did not fail the Map) raises
        ``BatchesFailed``."""
        results = self.runs.batch_results(run_id)
        missing = [segment for segment in range(total_segments) if segment not in results]
        if missing:
            raise BatchesFailed(f"{len(missing)} of {total_segments} batches of run {run_id} failed; their SKUs "
                                "were not decided", {"segments": missing[:100]})
        counts = sum((results[segment] for segment in range(total_segments)), RunCounts())
        return self.runs.finish(run_id, counts, utc_now()) or self.get_run(run_id)[0]

    def fail(self, run_id: str, error: Any, started_at: str | None = None, trigger: str | None = None
             ) -> ReplenishmentRun:
        """RunFailed: status FAILED with the error (also when StartRun itself never recorded the run)."""
        started = started_at or utc_now()
        run = ReplenishmentRun(run_id=run_id, cycle=cycle_of(started), status=RunStatus.FAILED,
                               trigger=trigger or "manual", started_at=started, finished_at=utc_now())
        return self.runs.fail(run, error_text(error)) or self.get_run(run_id)[0]

    # ------------------------------------------------------------------ demand history
    def import_history(self, rows: Sequence[Any]) -> dict[str, Any]:
        """Set the demand of each (sku, day) row (importing twice changes nothing). A row with an
        unknown SKU, a bad or future date, a negative or fractional quantity, or the same SKU and day as
        an earlier row is skipped and named (rows count from 1); the others are imported."""
        today = _utc_today()
        valid: list[tuple[int, HistoryRow]] = []
        skipped_rows: list[dict[str, Any]] = []

        def skip(number: int, row: Any, problem: str) -> None:
            sku = row.get("sku") if isinstance(row, Mapping) else None
            skipped_rows.append({"row": number, "sku": sku if isinstance(sku, str) else None, "problem": problem})

        for number, row in enumerate(rows, start=1):
            try:
                parsed = HistoryRow.model_validate(row)
            except ValidationError as exc:
                skip(number, row, _problem(exc))
                continue
            if parsed.day > today:
                skip(number, row, f"day {parsed.day.isoformat()} is in the future")
                continue
            valid.append((number, parsed))
        known = self.products.existing(sorted({row.sku for _, row in valid}))
        seen: dict[tuple[str, date], int] = {}
        accepted: list[tuple[str, str, int]] = []
        for number, row in valid:
            if row.sku not in known:
                skip(number, {"sku": row.sku}, f"unknown SKU {row.sku}")
            elif (row.sku, row.day) in seen:
                skip(number, {"sku": row.sku}, f"the same SKU and day as row {seen[row.sku, row.day]}")
            else:
                seen[row.sku, row.day] = number
                accepted.append((row.sku, row.day.isoformat(), row.quantity))
        self.demand.set_days(accepted)
        return {"imported": len(accepted), "skipped": sorted(skipped_rows, key=lambda s: s["row"])}

    def history(self, sku: str, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Recorded daily demand of ``sku`` between ``start`` and ``end`` (both included), oldest first."""
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise Unprocessable(f"{name} must be a date (YYYY-MM-DD), got {value!r}", {"field": name}) \
                        from None
        if start and end and start > end:
            raise Unprocessable(f"start {start} is after end {end}", {"start": start, "end": end})
        if not self.products.existing([sku]):
            raise NotFound(f"product {sku} not found")
        days = self.demand.history(sku, start, end)
        return [{"day": day, "quantity": days[day]} for day in sorted(days)]


class _BatchContext:
    """Deciding one batch: suppliers and their remaining capacity are read once per batch and kept
    up to date as drafts take capacity."""

    def __init__(self, service: ReplenishmentService, run_id: str, cycle: str, last_reviews: dict[str, str]):
        self.service, self.run_id, self.cycle = service, run_id, cycle
        self.last_reviews = last_reviews
        self.suppliers: dict[str, Supplier | str] = {}  # a Supplier, or why it cannot be ordered from
        self.remaining: dict[str, int | None] = {}
        self.to_send: list[str] = []
        self.running: dict[str, bool] = {}  # run id → still RUNNING (read once per batch)
        self.first_day, self.last_day = history_window(cycle)

    def decide(self, raw: dict[str, Any], stock: StockLevel) -> Decision:
        sku = raw["sku"]
        existing = self._existing_order(sku)
        if existing is not None:
            return existing
        try:
            product = Product.model_validate(raw)
        except ValidationError as exc:
            return skipped(sku, f"replenishment parameters: {_problem(exc)}", raw.get("supplier_id"))
        try:
            check_parameters(product)
        except Skip as skip:
            return skipped(sku, skip.reason, product.supplier_id)
        waiting = not_due(product, self.cycle, self.last_reviews.get(sku))
        if waiting is not None:
            return waiting
        try:
            supplier = self._supplier(product.supplier_id or "")
        except Skip as skip:
            return skipped(sku, skip.reason, product.supplier_id)
        history = daily_series(self.service.demand.history(sku, self.first_day, self.last_day), self.cycle)
        decision = decide_sku(product, stock, history, self._remaining(supplier))
        return self._draft(decision, product, stock, supplier) if decision.outcome == "ordered" else decision

    def _existing_order(self, sku: str) -> Decision | None:
        """A purchase order for this SKU and cycle exists (an earlier run today, a retried batch):
        nothing to decide; a draft not yet sent is sent by this batch."""
        po_id = purchase_order_id(self.cycle, sku)
        try:
            po = self.service.purchasing.get_purchase_order(po_id)
        except NotFound:
            return None
        return self._already(po, sku)

    def _already(self, po: PurchaseOrder, sku: str) -> Decision:
        if po.status == PurchaseOrderStatus.DRAFT and po.po_id not in self.to_send and self._left_to_us(po):
            self.to_send.append(po.po_id)
        quantity = sum(line.quantity for line in po.lines if line.sku == sku)
        if po.run_id == self.run_id:  # drafted by an earlier attempt of this batch: still this run's order
            prior = self.service.runs.get_decision(self.run_id, sku)
            if prior is not None and prior.po_id == po.po_id:
                return prior
            return Decision(sku=sku, supplier_id=po.supplier_id, outcome="ordered", po_id=po.po_id,
                            quantity=quantity, reason=f"Order {quantity}: drafted by an earlier attempt of this "
                                                      "run's batch")
        return Decision(sku=sku, supplier_id=po.supplier_id, outcome="already_ordered", po_id=po.po_id,
                        quantity=quantity, reason=f"purchase order {po.po_id} for this cycle exists already "
                                                  f"({po.status.value}, {quantity} units)")

    def _left_to_us(self, po: PurchaseOrder) -> bool:
        """Whether this batch sends a draft: one of this run's (a retried batch), or one left by a run that
        ended without sending it (it failed). A draft of another run that is still RUNNING is that run's to
        send: sending it here too would put it on the supplier's queue twice."""
        if po.run_id is None or po.run_id == self.run_id:
            return True
        if po.run_id not in self.running:
            self.running[po.run_id] = self.service.is_running(po.run_id)
        return not self.running[po.run_id]

    def _supplier(self, supplier_id: str) -> Supplier:
        if supplier_id not in self.suppliers:
            try:
                supplier = self.service.purchasing.get_supplier(supplier_id)
                self.suppliers[supplier_id] = (supplier if supplier.active else
                                               f"supplier {supplier_id} is inactive")
            except NotFound:
                self.suppliers[supplier_id] = f"unknown supplier {supplier_id}: register it with PUT /suppliers/" \
                                              f"{supplier_id}"
        found = self.suppliers[supplier_id]
        if isinstance(found, str):
            raise Skip(found)
        return found

    def _remaining(self, supplier: Supplier) -> int | None:
        if supplier.supplier_id not in self.remaining:
            self.remaining[supplier.supplier_id] = self.service.purchasing.remaining_capacity(supplier, self.cycle)
        return self.remaining[supplier.supplier_id]

    def _draft(self, decision: Decision, product: Product, stock: StockLevel, supplier: Supplier) -> Decision:
        """Draft the purchase order; losing the race for the supplier's capacity re-reads what is left
        and decides again."""
        params = product.replenishment
        assert params is not None
        for _ in range(CAPACITY_ATTEMPTS):
            try:
                po, created = self.service.purchasing.draft(
                    cycle=self.cycle, run_id=self.run_id, supplier=supplier, sku=product.sku,
                    quantity=decision.quantity, unit_cost=params.unit_cost, lead_time_days=params.lead_time_days)
            except CapacityExceeded as exc:
                self.remaining[supplier.supplier_id] = exc.remaining
                try:
                    decision = apply_policy(decision, product, stock, exc.remaining)
                except Skip as skip:
                    return skipped(product.sku, skip.reason, product.supplier_id)
                if decision.outcome != "ordered":
                    return decision
                continue
            if not created:  # another run of this cycle drafted it first
                return self._already(po, product.sku)
            left = self.remaining.get(supplier.supplier_id)
            if left is not None:
                self.remaining[supplier.supplier_id] = max(0, left - decision.quantity)
            self.to_send.append(po.po_id)
            return decision.model_copy(update={"po_id": po.po_id})
        raise TransientError(f"supplier {supplier.supplier_id}'s capacity kept changing while drafting "
                             f"{product.sku}; try the batch again")
