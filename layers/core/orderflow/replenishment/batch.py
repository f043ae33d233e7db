"""Deciding one batch of the nightly run: for each (SKU, location), whether it was ordered this cycle
already (its stock item's mark, or for a SKU with several suppliers its purchase orders of the cycle),
else forecast → policy → a line on the batch's purchase order to its supplier for that location
(``ordering``), or with several suppliers ranked by landed cost, an order of its own from each
(docs/replenishment.md §2, "Several suppliers"). The service reads the batch and stores what this decides."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
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
from orderflow.replenishment.ahead import ForecastAhead, ForecastKey
from orderflow.replenishment.decisions import (
    CAPACITY_ATTEMPTS,
    Skip,
    _problem,
    apply_policy,
    check_parameters,
    daily_series,
    decide_sku,
    history_window,
    landed_cost,
    not_due,
    skipped,
)
from orderflow.replenishment.lead_times import (
    RECEIPT_STATUSES,
    RECEIVED_ORDERS_READ,
    observed_lead_times,
    show_lead_time,
    with_learned_lead_time,
)
from orderflow.replenishment.ordering import BatchOrders
from orderflow.replenishment.ports import DemandHistory, Runs
from orderflow.replenishment.runs import Decision, SupplierOrder, decision_key
from orderflow.shared.errors import NotFound, TransientError
from orderflow.shared.types import MAIN_LOCATION

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    from orderflow.forecasting import Forecast


class BatchDecider(ForecastAhead):
    """Deciding one batch: suppliers and their remaining capacity are read once per batch and kept
    up to date as drafts take capacity."""

    def __init__(self, purchasing: PurchasingService, runs: Runs, demand: DemandHistory,
                 is_running: Callable[[str | None], bool], run_id: str, cycle: str, last_reviews: dict[str, str],
                 segment: int = 0):
        self.purchasing, self.runs, self.demand, self.is_running = purchasing, runs, demand, is_running
        self.run_id, self.cycle, self.segment = run_id, cycle, segment
        self._earlier: dict[str, Decision] | None = None  # this batch's decisions stored by an earlier attempt
        self.last_reviews = last_reviews
        self.suppliers: dict[str, Supplier | str] = {}  # a Supplier, or why it cannot be ordered from
        self.remaining: dict[str, int | None] = {}
        self.to_send: list[str] = []
        self.running: dict[str, bool] = {}  # run id → still RUNNING (read once per batch)
        self.first_day, self.last_day = history_window(cycle)
        self.split: tuple[str, dict[str, dict[str, int]]] | None = None  # the last SKU's history by location
        self._receipts: dict[tuple[str, str], list[float]] | None = None
        self.known: dict[str, PurchaseOrder | None] = {}  # read ahead for the batch: po id → order (None: none)
        self.histories: dict[str, Future[dict[str, dict[str, int]]]] = {}  # read ahead: SKU → its history by location
        self.forecasts: dict[ForecastKey, Forecast] = {}  # made ahead for the batch (forecast_ahead)
        self.marks: dict[tuple[str, str], str | None] = {}  # (SKU, location) ordered this cycle → its order's id
        self.carried: set[tuple[str, str]] = set()  # (SKU, location) whose order's line marked its stock reviewed
        self.orders = BatchOrders(purchasing, cycle, run_id, segment, self.remaining, self._already)

    def mark(self, positions: dict[str, StockPosition], where: dict[str, list[str]]) -> None:
        """Note the (SKU, location) pairs whose stock says they were ordered this cycle (by an earlier run
        today, or an earlier attempt of this batch), read with the batch's stock."""
        for sku, locations in where.items():
            position = positions.get(sku)
            for location in locations:
                ordered = position.ordered_in(location) if position is not None else None
                if ordered is not None and ordered[0] == self.cycle:
                    self.marks[sku, location] = ordered[1]

    def finish(self, decisions: list[Decision]) -> list[Decision]:
        """Draft the batch's purchase orders (``BatchOrders``); ``decisions`` with each line's order."""
        drafted = self.orders.draft()
        self.carried |= {key for key, decision in drafted.items() if decision.outcome == "ordered"}
        self.to_send += [po_id for po_id in self.orders.to_send if po_id not in self.to_send]
        return [drafted.get((d.sku, d.location_id), d) for d in decisions]

    def _likely_forecast(self, raw: dict[str, Any], location: str) -> bool:
        if (raw["sku"], location) in self.marks or self.known.get(
                purchase_order_id(self.cycle, raw["sku"], None, location)) is not None:
            return False
        try:
            product = Product.model_validate(raw).at_location(location)
        except ValidationError:
            return False
        return product.replenishment is not None and not_due(
            product, self.cycle, self.last_reviews.get(decision_key(raw["sku"], location))) is None

    def receipts(self) -> dict[tuple[str, str], list[float]]:
        """Sent-to-received days by (supplier, SKU) from the latest received purchase orders (read once
        per batch, at most RECEIVED_ORDERS_READ of them per status, newest first)."""
        if self._receipts is None:
            orders = []
            for status in RECEIPT_STATUSES:
                orders += self.purchasing.list_purchase_orders(status, RECEIVED_ORDERS_READ, None)[0]
            self._receipts = observed_lead_times(orders)
        return self._receipts

    def decide_sku(self, product: Product, stock: StockLevel, history: list[float], remaining: int | None,
                   location: str) -> tuple[Decision, Product]:
        """:func:`decide_sku` with the lead time learned from receipts (shown in the decision) and the
        batch's forecast (``forecast_ahead``), and the product on those terms (for the policy's re-runs
        when capacity changes)."""
        product, lead = with_learned_lead_time(product, self.receipts())
        made = self.forecasts.get(self._forecast_key(product, location)) if product.replenishment else None
        return show_lead_time(decide_sku(product, stock, history, remaining, made), lead), product

    def read_ahead(self, raw: dict[str, Any], locations: list[str]) -> list[str]:
        """The ids of this cycle's purchase orders that deciding ``raw`` at ``locations`` looks for; the
        batch reads them all in one go (``know``) instead of one GetItem each. A SKU with one supplier: the
        order its stock's mark names, if it was ordered this cycle (none on a run's first attempt); with
        several: its orders' ids of the cycle."""
        sku, several = raw["sku"], len(raw.get("suppliers") or []) > 1
        if not several:
            return [po_id for location in locations if (po_id := self.marks.get((sku, location), None))]
        return [po_id for location in locations for po_id in [purchase_order_id(self.cycle, sku, None, location)] + (
            [purchase_order_id(self.cycle, sku, str(entry.get("supplier_id")), location)
             for entry in raw.get("suppliers") or [] if isinstance(entry, dict)] if several else [])]

    def know(self, po_ids: list[str]) -> None:
        """Read ``po_ids`` with batched reads; each answer is used once (a later look is read afresh)."""
        if not po_ids:
            return
        found = self.purchasing.find_purchase_orders(po_ids)
        self.known.update({po_id: found.get(po_id) for po_id in po_ids})

    def decide(self, raw: dict[str, Any], stock: StockLevel, location: str = MAIN_LOCATION) -> Decision:
        """What to buy of one SKU for one location (its purchase orders deliver there)."""
        decision = self._decide(raw, stock, location)
        return decision if decision.location_id == location else decision.model_copy(update={"location_id": location})

    def _decide(self, raw: dict[str, Any], stock: StockLevel, location: str) -> Decision:
        sku = raw["sku"]
        several = len(raw.get("suppliers") or []) > 1
        if not several and (sku, location) in self.marks:
            return self._marked(sku, location, self.marks[sku, location])
        main = self._order_of_cycle(purchase_order_id(self.cycle, sku, None, location)) if several else None
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
        decision, product = self.decide_sku(product, stock, self._history(sku, location), self._remaining(supplier),
                                            location)
        if decision.outcome == "ordered":  # a line of the batch's order to this supplier (``finish``)
            decision = decision.model_copy(update={"location_id": location})
            self.orders.add(supplier, decision, product, stock)
        return decision

    def _marked(self, sku: str, location: str, po_id: str | None) -> Decision:
        """A SKU whose stock says it was ordered this cycle, by the order ``po_id``."""
        po = (self.known[po_id] if po_id in self.known else self._order_of_cycle(po_id)) if po_id else None
        if po is not None:  # kept in ``known``: the order's other lines are this batch's SKUs too
            return self._already(po, sku, location)
        return Decision(sku=sku, supplier_id=None, outcome="already_ordered", po_id=po_id,
                        reason=f"ordered this cycle already ({po_id or 'its purchase order is not named'})")

    def _history(self, sku: str, location: str) -> list[float]:
        """The daily demand of ``sku`` at ``location``: one Query reads every location's history of the SKU,
        kept while the batch decides that SKU's other locations."""
        if self.split is None or self.split[0] != sku:
            ahead = self.histories.pop(sku, None)
            self.split = sku, (ahead.result() if ahead is not None else
                               self.demand.history_by_location(sku, self.first_day, self.last_day))
        return daily_series(self.split[1].get(location, {}), self.cycle)

    def _order_of_cycle(self, po_id: str) -> PurchaseOrder | None:
        """A purchase order of this SKU and cycle (an earlier run today, a retried batch), if there is one."""
        if po_id in self.known:
            return self.known.pop(po_id)
        try:
            return self.purchasing.get_purchase_order(po_id)
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
            priced, terms = self.decide_sku(product.bought_from(source, location), stock, history, None, location)
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
            if self._earlier is None:
                self._earlier = self.runs.batch_decisions(self.run_id, self.segment)
            prior = self._earlier.get(decision_key(sku, location))
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
            self.running[po.run_id] = self.is_running(po.run_id)
        return not self.running[po.run_id]

    def _supplier(self, supplier_id: str) -> Supplier:
        if supplier_id not in self.suppliers:
            try:
                supplier = self.purchasing.get_supplier(supplier_id)
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
            self.remaining[supplier.supplier_id] = self.purchasing.remaining_capacity(supplier, self.cycle)
        return self.remaining[supplier.supplier_id]

    def _draft(self, decision: Decision, product: Product, stock: StockLevel, supplier: Supplier, po_id: str,
               location: str) -> Decision:
        """Draft the purchase order; losing the race for the supplier's capacity re-reads what is left
        and decides again."""
        params = product.replenishment
        assert params is not None
        for _ in range(CAPACITY_ATTEMPTS):
            try:
                po, created = self.purchasing.draft(
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

