"""Drafting the nightly run's purchase orders: one SKU's order (a SKU with several suppliers), or one order
with the lines a batch buys from a supplier for a location (docs/purchasing.md, "The nightly run's orders").
Each is one transaction: the order (only if new), each line's ``on_order`` and the supplier's capacity."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from orderflow.purchasing.domain import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    order_value,
    purchase_order_id,
)
from orderflow.purchasing.rules import CapacityExceeded
from orderflow.shared.errors import ConditionFailed, TransientError, Unprocessable
from orderflow.shared.types import MAIN_LOCATION, utc_now

if TYPE_CHECKING:
    from orderflow.purchasing.ports import PurchaseOrders, StockOnOrder, Suppliers
    from orderflow.shared.ports import Store

P = PurchaseOrderStatus
# The items of one TransactWriteItems: the order, each line's on_order, the supplier's capacity.
TRANSACTION_ITEMS = 100
MAX_RUN_LINES = TRANSACTION_ITEMS - 2


class DraftLine(NamedTuple):
    """A line the nightly run orders: ``threshold`` is the product's low-stock threshold, set on a location
    whose stock item has none yet."""

    sku: str
    quantity: int
    unit_cost: Decimal
    lead_time_days: float
    threshold: int | None = None


class Drafted(NamedTuple):
    """What drafting an order with lines did: ``po`` is the order written, or the one found under its id
    (``created`` False: a retried batch wrote it before, or a duplicate of the batch did); ``taken`` the
    SKUs left off because another run ordered them this cycle first (nothing was written then), each with
    the id of the order that has it."""

    po: PurchaseOrder | None
    created: bool
    taken: dict[str, str | None]


def _expected_by(cycle: str, lead_time_days: float) -> str:
    return (date.fromisoformat(cycle) + timedelta(days=math.ceil(lead_time_days))).isoformat()


class Drafting:
    """The drafting half of ``PurchasingService``."""

    store: Store
    suppliers: Suppliers
    purchase_orders: PurchaseOrders
    stock: StockOnOrder

    def remaining_capacity(self, supplier: Supplier, cycle: str) -> int | None:
        return self.suppliers.remaining(supplier.supplier_id, cycle, supplier.capacity_per_cycle)

    def _found(self, po_id: str) -> PurchaseOrder:
        """The order a failed ``attribute_not_exists(po_id)`` says is there."""
        po = self.purchase_orders.get(po_id)
        if po is None:  # deleted meanwhile: nothing deletes a purchase order, so a retry will find out
            raise TransientError(f"purchase order {po_id} was there a moment ago; try again")
        return po

    def _new_draft(self, po_id: str, supplier: Supplier, cycle: str, run_id: str | None, deliver_to: str,
                   lines: list[PurchaseOrderLine], lead_time_days: float) -> PurchaseOrder:
        now = utc_now()
        return PurchaseOrder(
            po_id=po_id, supplier_id=supplier.supplier_id, cycle=cycle, run_id=run_id, deliver_to=deliver_to,
            status=P.DRAFT, lines=lines, total=order_value(lines), expected_by=_expected_by(cycle, lead_time_days),
            created_at=now, updated_at=now,
            timeline=[PurchaseOrderEvent(status=P.DRAFT, at=now, by="replenishment",
                                         reason=f"run {run_id}" if run_id else None)])

    def _capacity_refused(self, supplier: Supplier, cycle: str, quantity: int) -> CapacityExceeded:
        remaining = self.remaining_capacity(supplier, cycle) or 0
        return CapacityExceeded(f"supplier {supplier.supplier_id} can take {remaining} more units in cycle "
                                f"{cycle}, not {quantity}", remaining)

    def draft(self, *, cycle: str, run_id: str | None, supplier: Supplier, sku: str, quantity: int,
              unit_cost: Decimal, lead_time_days: float, po_id: str | None = None,
              deliver_to: str = MAIN_LOCATION, threshold: int | None = None) -> tuple[PurchaseOrder, bool]:
        """One transaction: the purchase order (DRAFT; only if this cycle has none for the SKU), the SKU's
        ``on_order`` at ``deliver_to`` (with the product's low-stock ``threshold`` where that location has
        none), and the supplier's capacity for the cycle. ``(po, False)`` when it existed already."""
        if quantity <= 0:
            raise Unprocessable(f"cannot order {quantity} of {sku}", {"sku": sku, "quantity": quantity})
        if not supplier.active:
            raise Unprocessable(f"supplier {supplier.supplier_id} is not active", {"supplier_id": supplier.supplier_id})
        po = self._new_draft(po_id or purchase_order_id(cycle, sku), supplier, cycle, run_id, deliver_to,
                             [PurchaseOrderLine(sku=sku, quantity=quantity, unit_cost=unit_cost)], lead_time_days)
        writes = [self.purchase_orders.create(po), self.stock.order(sku, quantity, deliver_to, threshold)]
        capacity = supplier.capacity_per_cycle
        if capacity is not None:
            writes.append(self.suppliers.capacity_write(supplier.supplier_id, cycle, capacity, quantity))
        try:
            self.store.commit(writes)
        except ConditionFailed as failure:
            if failure.failed(0):
                return self._found(po.po_id), False
            if not failure.failed(len(writes) - 1) or capacity is None:
                raise
            raise self._capacity_refused(supplier, cycle, quantity) from None
        return po, True

    def draft_lines(self, *, cycle: str, run_id: str | None, supplier: Supplier, po_id: str, deliver_to: str,
                    lines: list[DraftLine]) -> Drafted:
        """One purchase order with ``lines`` (at most ``MAX_RUN_LINES``, distinct SKUs), in one transaction
        with each line's ``on_order`` at ``deliver_to`` and the supplier's capacity for the cycle. Each line's
        stock item is marked ordered in ``cycle`` by this order, on condition that it was not already: a SKU
        another run ordered this cycle is named in ``taken`` (nothing written; the caller drafts the rest
        again). Raises ``CapacityExceeded`` when the supplier cannot take the order's units any more."""
        if not 0 < len(lines) <= MAX_RUN_LINES or len({line.sku for line in lines}) != len(lines):
            raise Unprocessable(f"a purchase order of the run has 1 to {MAX_RUN_LINES} lines of distinct SKUs",
                                {"po_id": po_id, "lines": len(lines)})
        po = self._new_draft(po_id, supplier, cycle, run_id, deliver_to,
                             [PurchaseOrderLine(sku=line.sku, quantity=line.quantity, unit_cost=line.unit_cost)
                              for line in lines], max(line.lead_time_days for line in lines))
        writes = [self.purchase_orders.create(po),
                  *(self.stock.order(line.sku, line.quantity, deliver_to, line.threshold, mark=(cycle, po_id))
                    for line in lines)]
        capacity = supplier.capacity_per_cycle
        if capacity is not None:
            writes.append(self.suppliers.capacity_write(supplier.supplier_id, cycle, capacity,
                                                        sum(line.quantity for line in lines)))
        try:
            self.store.commit(writes)
        except ConditionFailed as failure:
            if failure.failed(0):
                return Drafted(self._found(po_id), False, {})
            taken = {line.sku: failure.items.get(index, {}).get("ordered_po")
                     for index, line in enumerate(lines, start=1) if failure.failed(index)}
            if taken:
                return Drafted(None, False, taken)
            if capacity is None or not failure.failed(len(writes) - 1):
                raise
            raise self._capacity_refused(supplier, cycle, sum(line.quantity for line in lines)) from None
        return Drafted(po, True, {})
