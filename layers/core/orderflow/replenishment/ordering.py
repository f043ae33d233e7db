"""The purchase orders of one batch of the nightly run: the SKUs it orders are grouped by supplier and
delivery location, each group drafted as orders of up to ``MAX_RUN_LINES`` lines, each order in one
transaction with its lines' ``on_order`` and the supplier's capacity (docs/replenishment.md, "Purchase
orders of a batch"). Each line's stock item is marked ordered this cycle in that transaction, so a SKU is
ordered once a cycle whatever runs at once; a line another run ordered first is dropped and the rest drafted
again."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from orderflow.catalogue import Product
from orderflow.inventory import StockLevel
from orderflow.purchasing import (
    MAX_RUN_LINES,
    CapacityExceeded,
    DraftLine,
    PurchaseOrder,
    PurchasingService,
    Supplier,
    run_order_id,
)
from orderflow.replenishment.decisions import CAPACITY_ATTEMPTS, Skip, apply_policy, skipped
from orderflow.replenishment.runs import Decision
from orderflow.shared.errors import TransientError

Key = tuple[str, str]  # (SKU, location)


class Line(NamedTuple):
    """A SKU the batch orders: its decision (with the quantity), the product on the supplier's terms and the
    stock it was decided on (the policy is re-run on them when the supplier's capacity falls)."""

    decision: Decision
    product: Product
    stock: StockLevel

    @property
    def key(self) -> Key:
        return self.decision.sku, self.decision.location_id


class BatchOrders:
    """The lines of one batch by (supplier, location), drafted by :meth:`draft` once the batch decided."""

    def __init__(self, purchasing: PurchasingService, cycle: str, run_id: str, segment: int,
                 remaining: dict[str, int | None], already: Callable[[PurchaseOrder, str, str], Decision]):
        self.purchasing, self.cycle, self.run_id, self.segment = purchasing, cycle, run_id, segment
        self.remaining, self.already = remaining, already  # already: the decision for a line on an order found
        self.groups: dict[str, tuple[Supplier, dict[str, list[Line]]]] = {}
        self.to_send: list[str] = []

    def add(self, supplier: Supplier, decision: Decision, product: Product, stock: StockLevel) -> None:
        """Order ``decision.quantity`` of the SKU from ``supplier`` for ``decision.location_id``; what the
        supplier can still take this cycle falls by as much, for the batch's next SKUs."""
        _, by_location = self.groups.setdefault(supplier.supplier_id, (supplier, {}))
        by_location.setdefault(decision.location_id, []).append(Line(decision, product, stock))
        left = self.remaining.get(supplier.supplier_id)
        if left is not None:
            self.remaining[supplier.supplier_id] = max(0, left - decision.quantity)

    def draft(self) -> dict[Key, Decision]:
        """Draft every group; the decision of each line after it (with its order's id, or why not)."""
        decided: dict[Key, Decision] = {}
        for supplier, by_location in self.groups.values():
            for location, lines in by_location.items():
                decided.update(self._draft_group(supplier, location, sorted(lines, key=lambda line: line.key)))
        return decided

    def _draft_group(self, supplier: Supplier, location: str, pending: list[Line]) -> dict[Key, Decision]:
        decided: dict[Key, Decision] = {}
        refits = 0
        while pending:
            chunk = pending[:MAX_RUN_LINES]
            po_id = run_order_id(self.cycle, supplier.supplier_id, location, self.segment, chunk[0].decision.sku)
            try:
                done = self.purchasing.draft_lines(
                    cycle=self.cycle, run_id=self.run_id, supplier=supplier, po_id=po_id, deliver_to=location,
                    lines=[_draft_line(line) for line in chunk])
            except CapacityExceeded as exc:  # another batch or run took some of it: decide these lines again
                refits += 1
                if refits > CAPACITY_ATTEMPTS:
                    raise TransientError(f"supplier {supplier.supplier_id}'s capacity kept changing while "
                                         f"drafting {po_id}; try the batch again") from None
                kept, dropped = _refit(chunk, exc.remaining)
                self.remaining[supplier.supplier_id] = exc.remaining - sum(line.decision.quantity for line in kept)
                decided.update(dropped)
                pending = kept + pending[len(chunk):]
                continue
            if done.taken:  # another run ordered these this cycle first: left to its orders
                decided.update({line.key: _taken(line.decision, done.taken[line.decision.sku]) for line in chunk
                                if line.decision.sku in done.taken})
                pending = [line for line in pending if line.decision.sku not in done.taken]
                continue
            po = done.po
            assert po is not None
            on_po = {order_line.sku for order_line in po.lines}
            if chunk[0].decision.sku not in on_po:  # cannot be: the id names its first SKU
                raise TransientError(f"purchase order {po_id} does not have {chunk[0].decision.sku}; try again")
            for line in chunk:
                if line.decision.sku not in on_po:
                    continue
                if done.created:
                    decided[line.key] = line.decision.model_copy(update={"po_id": po.po_id})
                else:  # written before (a retried or duplicated batch) or by a duplicate of another run
                    decided[line.key] = self.already(po, line.decision.sku, location)
            if done.created:
                self.to_send.append(po.po_id)
            pending = [line for line in pending if line.decision.sku not in on_po]
        return decided


def _draft_line(line: Line) -> DraftLine:
    params = line.product.replenishment
    assert params is not None
    return DraftLine(sku=line.decision.sku, quantity=line.decision.quantity, unit_cost=params.unit_cost,
                     lead_time_days=params.lead_time_days, threshold=line.product.low_stock_threshold)


def _refit(chunk: list[Line], remaining: int) -> tuple[list[Line], dict[Key, Decision]]:
    """The lines of ``chunk`` decided again, in order, with ``remaining`` units left at the supplier: those
    still ordered (perhaps fewer units), and the decisions of the others."""
    kept: list[Line] = []
    dropped: dict[Key, Decision] = {}
    for line in chunk:
        try:
            decision = apply_policy(line.decision, line.product, line.stock, remaining)
        except Skip as skip:
            dropped[line.key] = skipped(line.decision.sku, skip.reason, line.decision.supplier_id).model_copy(
                update={"location_id": line.decision.location_id})
            continue
        decision = decision.model_copy(update={"location_id": line.decision.location_id})
        if decision.outcome != "ordered":
            dropped[line.key] = decision
            continue
        kept.append(line._replace(decision=decision))
        remaining -= decision.quantity
    return kept, dropped


def _taken(decision: Decision, po_id: str | None) -> Decision:
    return decision.model_copy(update={
        "outcome": "already_ordered", "po_id": po_id, "quantity": 0,
        "reason": f"another run ordered it this cycle while this one was deciding (purchase order {po_id})"})
