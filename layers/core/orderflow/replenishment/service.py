"""The replenishment run: record it, split the catalogue into batches, decide each SKU (forecast →
policy → purchase order), send the drafts to the suppliers, close the run with its totals.
Also the demand history that the forecasts read (import and read back).

docs/replenishment.md §1–2 and §9 describe the run. ``orderflow.forecasting`` (numpy, statsmodels)
is imported only by :func:`forecast_demand`: the purchasing API function imports this module
without numpy in its layers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orderflow.inventory import StockPosition
from orderflow.purchasing import (
    PurchaseOrderStatus,
    PurchasingService,
)
from orderflow.replenishment.batch import BatchDecider
from orderflow.replenishment.decisions import (
    REVIEWED_OUTCOMES,
    _problem,
    _utc_today,
    cycle_of,
    error_text,
    reviewed_nightly,
    run_name,
    skipped,
    tally,
    timestamp,
)
from orderflow.replenishment.locations import overrides_of, replenished_locations
from orderflow.replenishment.ports import Catalogue, DemandHistory, Locations, Runs, StockLevels, Workflow
from orderflow.replenishment.runs import Decision, ReplenishmentRun, RunCounts, RunStatus, decision_key
from orderflow.replenishment.steps import Batch, BatchesFailed, BatchItem, BatchResult, Decided, HistoryRow
from orderflow.shared.errors import NotFound, Unprocessable
from orderflow.shared.settings import Settings
from orderflow.shared.types import MAIN_LOCATION, utc_now

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    pass


READERS = 8  # threads reading a batch's stock and demand while its forecasts run (docs/replenishment.md §1)
READ_CHUNK = 25  # SKUs whose stock one thread reads in turn (one Query each)


# ------------------------------------------------------------------ the service
class ReplenishmentService:
    def __init__(self, settings: Settings, runs: Runs, products: Catalogue, stock: StockLevels, demand: DemandHistory,
                 workflow: Workflow, purchasing: PurchasingService, locations: Locations | None = None):
        self.settings = settings
        self.runs, self.products, self.stock, self.demand = runs, products, stock, demand
        self.workflow, self.purchasing, self.locations = workflow, purchasing, locations

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
        """The run, one page of its decisions (batch after batch, SKU order in each) and the next page's cursor."""
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
        expired = self.purchasing.expire_approvals()
        total = max(1, math.ceil(self.products.count() / max(1, self.settings.replenishment_batch_size)))
        return {"run_id": run_id, "cycle": run.cycle, "total_segments": total, "segments": list(range(total)),
                "stale_drafts_cancelled": cancelled, "approvals_expired": expired}

    def cancel_stale_drafts(self, run: ReplenishmentRun | None = None, cycle: str | None = None) -> int:
        """Cancel the drafts of cycles before ``run``'s (or ``cycle``) that their run never sent (it failed or
        was stopped): their units would sit in ``on_order`` for ever and make every later run buy too little.
        The next run decides those SKUs afresh. A draft of a run still RUNNING is left to it. Returns how many."""
        before = run.cycle if run else cycle or cycle_of(utc_now())
        by = f"decided again by run {run.run_id}" if run else "decided again by the next run"
        cancelled, cursor = 0, None
        running: dict[str | None, bool] = {}
        while True:
            drafts, cursor = self.purchasing.list_purchase_orders(PurchaseOrderStatus.DRAFT, 100, cursor)
            for po in drafts:
                if po.cycle >= before or (run and po.run_id == run.run_id):
                    continue
                if po.run_id not in running:
                    running[po.run_id] = self.is_running(po.run_id)
                if running[po.run_id]:
                    continue
                after = self.purchasing.cancel_draft(po.po_id, f"never sent (run {po.run_id} did not finish); {by}")
                cancelled += after.status == PurchaseOrderStatus.CANCELLED
            if not cursor:
                return cancelled

    def sweep(self, now: str | None = None) -> dict[str, Any]:
        """The deadlines of the buying side (run every few minutes, ``ReplenishSweepFunction``), so that
        nothing waits for ever: runs still RUNNING ``replenishment_run_timeout_seconds`` after they started
        are FAILED (their execution was lost or stopped); then drafts no running run will send are cancelled,
        approvals past their expiry cancelled (and approved orders a crash left unsent sent), and purchase
        orders the supplier has not shipped ``purchase_order_grace_days`` after they were expected cancelled."""
        now = now or utc_now()
        started = datetime.fromisoformat(now.replace("Z", "+00:00"))
        cutoff = timestamp(started - timedelta(seconds=self.settings.replenishment_run_timeout_seconds))
        hours = self.settings.replenishment_run_timeout_seconds / 3600
        failed = []
        for run in self.runs.running_since(cutoff):
            closed = self.runs.fail(run.model_copy(update={"finished_at": now}),
                                    f"RunTimedOut: still RUNNING {hours:g} h after it started: its execution was "
                                    "lost or stopped")
            if closed is not None:
                failed.append(run.run_id)
        return {"runs_failed": failed, "stale_drafts_cancelled": self.cancel_stale_drafts(cycle=cycle_of(now)),
                "approvals_expired": self.purchasing.expire_approvals(now),
                "unshipped_cancelled": self.purchasing.cancel_unshipped_overdue(now[:10])}

    def is_running(self, run_id: str | None) -> bool:
        """Whether run ``run_id`` is still RUNNING: a draft it made is its own to send."""
        owner = self.runs.get_run(run_id) if run_id else None
        return owner is not None and owner.status == RunStatus.RUNNING

    def decide_batch(self, item: Mapping[str, Any] | BatchItem) -> dict[str, Any]:
        """Decide: every replenished product of one segment (active, with ``replenishment``
        parameters; the others are not bought by Orderflow and not counted), at each location it is
        replenished at (``replenishment.locations``). Drafts are conditional per cycle, SKU and location, so
        a retried batch drafts nothing twice. Reads per batch: the segment, one Query of the locations, and
        per SKU one Query of its stock (every location's level) and, when it is forecast, one of its demand
        (every location's history)."""
        work = BatchItem.model_validate(item)
        raw = [p for p in self.products.scan_segment(work.batch.segment, work.batch.total_segments)
               if p.get("replenishment") and p.get("active", True) is not False]
        skus = [p["sku"] for p in raw]
        with ThreadPoolExecutor(READERS) as pool:  # I/O on threads, the forecasts on this one
            return self._decide_products(work, raw, pool, {sku: position for part in pool.map(
                self.stock.get_many, [skus[start:start + READ_CHUNK] for start in range(0, len(skus), READ_CHUNK)])
                for sku, position in part.items()})

    def _decide_products(self, work: BatchItem, raw: list[dict[str, Any]], pool: Executor,
                         positions: dict[str, StockPosition]) -> dict[str, Any]:
        network = self.network()
        where = {p["sku"]: replenished_locations(overrides_of(p), positions.get(p["sku"]) or StockPosition(
            sku=p["sku"]), network) for p in raw}
        periodic = {(p["sku"], location) for p in raw for location in where[p["sku"]][0]
                    if not reviewed_nightly(p, location)}  # only their last review says whether they are due
        last_reviews = {decision_key(sku, location): cycle for sku, location in periodic
                        if (position := positions.get(sku)) and (cycle := position.last_review(location))}
        window = BatchDecider(self.purchasing, self.runs, self.demand, self.is_running, work.run_id, work.cycle,
                              last_reviews, segment=work.batch.segment)
        window.mark(positions, {sku: found[0] for sku, found in where.items()})
        window.know(sorted({po_id for p in raw for po_id in window.read_ahead(p, where[p["sku"]][0])}))
        window.read_histories_ahead(pool, [(p, where[p["sku"]][0]) for p in raw])
        window.forecast_ahead([(p, where[p["sku"]][0]) for p in raw])  # the global model: once per batch
        decisions = []
        for p in raw:
            position, (locations, unknown) = positions.get(p["sku"]) or StockPosition(sku=p["sku"]), where[p["sku"]]
            decisions += [window.decide(p, position.at(location), location) for location in locations]
            decisions += [skipped(p["sku"], why, p.get("supplier_id")).model_copy(update={"location_id": location})
                          for location, why in unknown.items()]
        decisions = window.finish(decisions)
        # an ordered line's review rode on its order's stock mark; the others reviewed get one conditional write
        reviewed = [(d.sku, d.location_id) for d in decisions if d.outcome in REVIEWED_OUTCOMES
                    and (d.sku, d.location_id) in periodic - window.carried
                    and last_reviews.get(d.key) != work.cycle]
        list(pool.map(lambda key: self.stock.mark_reviewed(*key, work.cycle), reviewed))
        self.runs.put_decisions(work.run_id, work.batch.segment, decisions)
        return Decided(po_ids=window.to_send, counts=tally(decisions)).model_dump(mode="json")

    def network(self) -> dict[str, bool]:
        """Every location (id → active), first choice first; without a locations port, main alone."""
        if self.locations is None:
            return {MAIN_LOCATION: True}
        return {location.location_id: bool(location.active) for location in self.locations.list_locations()}

    def send_batch(self, run_id: str, batch: Mapping[str, Any] | Batch,
                   decided: Mapping[str, Any] | Decided) -> dict[str, Any]:
        """Send: put the batch's drafts on their suppliers' queues (a draft sent already is left as is; the
        drafts are read together and a supplier's go ten a request, ``PurchasingService.send_many``), then
        store what the batch did under the run (a retried batch overwrites its own result)."""
        done = Decided.model_validate(decided)
        statuses = [po.status for po in self.purchasing.send_many(done.po_ids)]
        waiting = sum(1 for status in statuses if status == PurchaseOrderStatus.PENDING_APPROVAL)
        sent = sum(1 for status in statuses if status not in (PurchaseOrderStatus.DRAFT,
                                                              PurchaseOrderStatus.PENDING_APPROVAL))
        counts = done.counts.model_copy(update={"sent": done.counts.sent + sent,
                                                "awaiting_approval": done.counts.awaiting_approval + waiting})
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
        """Set the demand of each (sku, day, location) row (importing twice changes nothing; a row replaces
        what was recorded that day at its location, the other locations' days stay). A row with an unknown
        SKU or location, a bad or future date, a negative or fractional quantity, or the same SKU, day and
        location as an earlier row is skipped and named (rows count from 1); the others are imported."""
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
        network = self.network() if any(row.location_id != MAIN_LOCATION for _, row in valid) else {}
        seen: dict[tuple[str, date, str], int] = {}
        accepted: list[tuple[str, str, int, str]] = []
        for number, row in valid:
            if row.sku not in known:
                skip(number, {"sku": row.sku}, f"unknown SKU {row.sku}")
            elif row.location_id != MAIN_LOCATION and row.location_id not in network:
                skip(number, {"sku": row.sku}, f"unknown location {row.location_id}")
            elif (key := (row.sku, row.day, row.location_id)) in seen:
                at = f" at {row.location_id}" if row.location_id != MAIN_LOCATION else ""
                skip(number, {"sku": row.sku}, f"the same SKU and day{at} as row {seen[key]}")
            else:
                seen[key] = number
                accepted.append((row.sku, row.day.isoformat(), row.quantity, row.location_id))
        self.demand.set_days(accepted)
        return {"imported": len(accepted), "skipped": sorted(skipped_rows, key=lambda s: s["row"])}

    def history(self, sku: str, start: str | None = None, end: str | None = None,
                location_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded daily demand of ``sku`` between ``start`` and ``end`` (both included), oldest first: the
        total over every location, or with ``location_id`` the demand that location shipped (less the returns
        it received)."""
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
        days = (self.demand.history(sku, start, end) if location_id is None else
                self.demand.history_by_location(sku, start, end).get(location_id, {}))
        return [{"day": day, "quantity": days[day]} for day in sorted(days)]
