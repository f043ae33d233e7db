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
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orderflow.catalogue import Product
from orderflow.inventory import StockLevel, StockPosition
from orderflow.purchasing import (
    CapacityExceeded,
    PurchaseOrder,
    PurchaseOrderStatus,
    PurchasingService,
    Supplier,
    purchase_order_id,
)
from orderflow.replenishment.decisions import (
    _BATCH_READ,
    CAPACITY_ATTEMPTS,
    REVIEWED_OUTCOMES,
    Skip,
    _problem,
    _utc_today,
    apply_policy,
    check_parameters,
    cycle_of,
    daily_series,
    decide_sku,
    error_text,
    history_window,
    landed_cost,
    not_due,
    run_name,
    skipped,
    tally,
    timestamp,
)
from orderflow.replenishment.lead_times import (
    RECEIPT_STATUSES,
    RECEIVED_ORDERS_READ,
    observed_lead_times,
    show_lead_time,
    with_learned_lead_time,
)
from orderflow.replenishment.locations import overrides_of, replenished_locations
from orderflow.replenishment.ports import Catalogue, DemandHistory, Locations, Runs, StockLevels, Workflow
from orderflow.replenishment.runs import Decision, ReplenishmentRun, RunCounts, RunStatus, SupplierOrder, decision_key
from orderflow.replenishment.steps import Batch, BatchesFailed, BatchItem, BatchResult, Decided, HistoryRow
from orderflow.shared.errors import NotFound, TransientError, Unprocessable
from orderflow.shared.settings import Settings
from orderflow.shared.types import MAIN_LOCATION, utc_now

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    pass


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
        positions: dict[str, StockPosition] = {}
        skus = [p["sku"] for p in raw]
        for start in range(0, len(skus), _BATCH_READ):
            positions.update(self.stock.get_many(skus[start:start + _BATCH_READ]))
        network = self.network()
        where = {p["sku"]: replenished_locations(overrides_of(p), positions.get(p["sku"]) or StockPosition(
            sku=p["sku"]), network) for p in raw}
        keys = [decision_key(sku, location) for sku, (locations, _) in where.items() for location in locations]
        window = _BatchContext(self, work.run_id, work.cycle, self.runs.last_reviews(keys))
        decisions = []
        for p in raw:
            position, (locations, unknown) = positions.get(p["sku"]) or StockPosition(sku=p["sku"]), where[p["sku"]]
            decisions += [window.decide(p, position.at(location), location) for location in locations]
            decisions += [skipped(p["sku"], why, p.get("supplier_id")).model_copy(update={"location_id": location})
                          for location, why in unknown.items()]
        reviewed = {d.key: work.cycle for d in decisions if d.outcome in REVIEWED_OUTCOMES}
        self.runs.put_decisions(work.run_id, decisions, reviewed)
        return Decided(po_ids=window.to_send, counts=tally(decisions)).model_dump(mode="json")

    def network(self) -> dict[str, bool]:
        """Every location (id → active), first choice first; without a locations port, main alone."""
        if self.locations is None:
            return {MAIN_LOCATION: True}
        return {location.location_id: bool(location.active) for location in self.locations.list_locations()}

    def send_batch(self, run_id: str, batch: Mapping[str, Any] | Batch,
                   decided: Mapping[str, Any] | Decided) -> dict[str, Any]:
        """Send: put the batch's drafts on their suppliers' queues (a draft sent already is left as is),
        then store what the batch did under the run (a retried batch overwrites its own result)."""
        done = Decided.model_validate(decided)
        statuses = [self.purchasing.send(po_id).status for po_id in done.po_ids]
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
        self.split: tuple[str, dict[str, dict[str, int]]] | None = None  # the last SKU's history by location
        self._receipts: dict[tuple[str, str], list[float]] | None = None

    def receipts(self) -> dict[tuple[str, str], list[float]]:
        """Sent-to-received days by (supplier, SKU) from the latest received purchase orders (read once
        per batch, at most RECEIVED_ORDERS_READ of them per status, newest first)."""
        if self._receipts is None:
            orders = []
            for status in RECEIPT_STATUSES:
                orders += self.service.purchasing.list_purchase_orders(status, RECEIVED_ORDERS_READ, None)[0]
            self._receipts = observed_lead_times(orders)
        return self._receipts

    def decide_sku(self, product: Product, stock: StockLevel, history: list[float],
                   remaining: int | None) -> tuple[Decision, Product]:
        """:func:`decide_sku` with the lead time learned from receipts (shown in the decision), and the
        product on those terms (for the policy's re-runs when capacity changes)."""
        product, lead = with_learned_lead_time(product, self.receipts())
        return show_lead_time(decide_sku(product, stock, history, remaining), lead), product

    def decide(self, raw: dict[str, Any], stock: StockLevel, location: str = MAIN_LOCATION) -> Decision:
        """What to buy of one SKU for one location (its purchase orders deliver there)."""
        decision = self._decide(raw, stock, location)
        return decision if decision.location_id == location else decision.model_copy(update={"location_id": location})

    def _decide(self, raw: dict[str, Any], stock: StockLevel, location: str) -> Decision:
        sku = raw["sku"]
        main = self._order_of_cycle(purchase_order_id(self.cycle, sku, None, location))
        several = len(raw.get("suppliers") or []) > 1
        if main is not None and not (several and main.status == PurchaseOrderStatus.REJECTED):
            if several:  # the other suppliers' parts of a split order: their drafts are sent too
                for entry in raw.get("suppliers") or []:
                    part = self._order_of_cycle(purchase_order_id(self.cycle, sku, str(entry.get("supplier_id")),
                                                                  location))
                    if part is not None:
                        self._already(part, sku, location)
            return self._already(main, sku, location)
        try:
            product = Product.model_validate(raw).at_location(location)
        except ValidationError as exc:
            return skipped(sku, f"replenishment parameters: {_problem(exc)}", raw.get("supplier_id"))
        try:
            check_parameters(product)
        except Skip as skip:
            return skipped(sku, skip.reason, product.supplier_id)
        waiting = not_due(product, self.cycle, self.last_reviews.get(decision_key(sku, location)))
        if waiting is not None:
            return waiting
        if several:
            return self._decide_among(product, stock, main, location)
        if product.suppliers:  # one supplier given as a list: on its terms
            product = product.bought_from(product.sources()[0], location)
        try:
            supplier = self._supplier(product.supplier_id or "")
        except Skip as skip:
            return skipped(sku, skip.reason, product.supplier_id)
        decision, product = self.decide_sku(product, stock, self._history(sku, location), self._remaining(supplier))
        if decision.outcome != "ordered":
            return decision
        return self._draft(decision, product, stock, supplier, purchase_order_id(self.cycle, sku, None, location),
                           location)

    def _history(self, sku: str, location: str) -> list[float]:
        """The daily demand of ``sku`` at ``location``: one Query reads every location's history of the SKU,
        kept while the batch decides that SKU's other locations."""
        if self.split is None or self.split[0] != sku:
            self.split = sku, self.service.demand.history_by_location(sku, self.first_day, self.last_day)
        return daily_series(self.split[1].get(location, {}), self.cycle)

    def _order_of_cycle(self, po_id: str) -> PurchaseOrder | None:
        """A purchase order of this SKU and cycle (an earlier run today, a retried batch), if there is one."""
        try:
            return self.service.purchasing.get_purchase_order(po_id)
        except NotFound:
            return None

    def _decide_among(self, product: Product, stock: StockLevel, rejected: PurchaseOrder | None,
                      location: str) -> Decision:
        """A SKU with several suppliers: price each on its own terms (forecast and policy over its lead
        time), order from the cheapest landed cost, and what it cannot take (capacity) from the next.
        A supplier that rejected this SKU's purchase order this cycle is passed over (docs/replenishment.md,
        "Several suppliers")."""
        sku, sources = product.sku, product.sources()
        passed: dict[str, str] = {}
        if rejected is not None:
            passed[rejected.supplier_id] = f"rejected {rejected.po_id} this cycle"
        others = [po for source in sources if source.supplier_id not in passed
                  and (po := self._order_of_cycle(purchase_order_id(self.cycle, sku, source.supplier_id, location)))]
        for po in others:
            if po.status == PurchaseOrderStatus.REJECTED:
                passed[po.supplier_id] = f"rejected {po.po_id} this cycle"
        still = [po for po in others if po.status != PurchaseOrderStatus.REJECTED]
        if still:
            for po in still[1:]:
                self._already(po, sku, location)
            return self._already(still[0], sku, location)
        history = self._history(sku, location)
        options: list[tuple[float, int, Supplier, Product, Decision]] = []
        for index, source in enumerate(sources):
            if source.supplier_id in passed:
                continue
            try:
                supplier = self._supplier(source.supplier_id)
            except Skip as skip:
                passed[source.supplier_id] = skip.reason
                continue
            priced, terms = self.decide_sku(product.bought_from(source, location), stock, history, None)
            if priced.outcome == "skipped":
                passed[source.supplier_id] = priced.reason
                continue
            options.append((landed_cost(priced, terms), index, supplier, terms, priced))
        if not options:
            return skipped(sku, "no supplier can be ordered from: " + "; ".join(f"{k}: {v}" for k, v in passed.items()),
                           product.supplier_id)
        options.sort(key=lambda option: option[:2])
        choice = "cheapest landed cost first: " + ", ".join(f"{o[2].supplier_id} {o[0]:.2f}/unit" for o in options)
        if passed:
            choice += "; passed over: " + "; ".join(f"{k} ({v})" for k, v in passed.items())
        first = options[0][4]
        if first.outcome != "ordered":
            return first.model_copy(update={"supplier_choice": choice})
        return self._split(product, stock, options, choice, main_id_free=rejected is None, location=location)

    def _split(self, product: Product, stock: StockLevel, options: list[tuple[float, int, Supplier, Product, Decision]],
               choice: str, main_id_free: bool, location: str) -> Decision:
        """Q = min(D, A) from each supplier in turn, cheapest first: what one cannot take (its capacity left
        this cycle) the next is asked for, the inventory position counting what the ones before took."""
        sku, position = product.sku, stock
        orders: list[SupplierOrder] = []
        decisions: list[Decision] = []
        short: list[str] = []
        for cost, _, supplier, terms, priced in options:
            try:
                decision = apply_policy(priced, terms, position, self._remaining(supplier))
            except Skip as skip:
                short.append(f"{supplier.supplier_id}: {skip.reason}")
                continue
            if decision.outcome != "ordered":
                if decision.capped:  # needed, but this supplier has no capacity left
                    short.append(f"{supplier.supplier_id} has no capacity left this cycle")
                    continue
                break  # the suppliers before cover the need
            po_id = purchase_order_id(self.cycle, sku, None if main_id_free and not orders else supplier.supplier_id,
                                      location)
            drafted = self._draft(decision, terms, position, supplier, po_id, location)
            if drafted.outcome != "ordered" or drafted.po_id is None:
                short.append(f"{supplier.supplier_id}: {drafted.reason}")
                continue
            why = (f"landed cost {cost:.2f}/unit" + (f", after {'; '.join(short)}" if short else "")
                   + (", capped by its capacity" if drafted.capped else ""))
            orders.append(SupplierOrder(supplier_id=supplier.supplier_id, po_id=drafted.po_id,
                                        quantity=drafted.quantity, reason=why))
            decisions.append(drafted)
            position = position.model_copy(update={"on_order": position.on_order + drafted.quantity})
            if not drafted.capped:
                break
        if not decisions:
            return skipped(sku, "needed, but no supplier can take it this cycle: " + "; ".join(short),
                           product.supplier_id).model_copy(update={"supplier_choice": choice})
        total = sum(order.quantity for order in orders)
        said = "; ".join(f"{o.quantity} from {o.supplier_id} ({o.reason})" for o in orders)
        return decisions[0].model_copy(update={
            "quantity": total, "supplier_choice": choice, "orders": orders if len(orders) > 1 else [],
            "reason": f"{decisions[0].reason} Ordered {said}.", "capped": decisions[-1].capped})

    def _already(self, po: PurchaseOrder, sku: str, location: str) -> Decision:
        if po.status == PurchaseOrderStatus.DRAFT and po.po_id not in self.to_send and self._left_to_us(po):
            self.to_send.append(po.po_id)
        quantity = sum(line.quantity for line in po.lines if line.sku == sku)
        if po.run_id == self.run_id:  # drafted by an earlier attempt of this batch: still this run's order
            prior = self.service.runs.get_decision(self.run_id, sku, location)
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

    def _draft(self, decision: Decision, product: Product, stock: StockLevel, supplier: Supplier, po_id: str,
               location: str) -> Decision:
        """Draft the purchase order; losing the race for the supplier's capacity re-reads what is left
        and decides again."""
        params = product.replenishment
        assert params is not None
        for _ in range(CAPACITY_ATTEMPTS):
            try:
                po, created = self.service.purchasing.draft(
                    cycle=self.cycle, run_id=self.run_id, supplier=supplier, sku=product.sku,
                    quantity=decision.quantity, unit_cost=params.unit_cost, lead_time_days=params.lead_time_days,
                    po_id=po_id, deliver_to=location, threshold=product.low_stock_threshold)
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
                return self._already(po, product.sku, location)
            left = self.remaining.get(supplier.supplier_id)
            if left is not None:
                self.remaining[supplier.supplier_id] = max(0, left - decision.quantity)
            self.to_send.append(po.po_id)
            return decision.model_copy(update={"po_id": po.po_id})
        raise TransientError(f"supplier {supplier.supplier_id}'s capacity kept changing while drafting "
                             f"{product.sku}; try the batch again")

