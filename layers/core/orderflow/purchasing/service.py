"""Buying: suppliers, purchase orders, and the suppliers' replies turned into stock.

Like orders, every change is one conditional write or one transaction whose first item is the purchase
order's own write, guarded by its status and version: drafting puts it (only if new) together with the
SKU's ``on_order`` and the supplier's capacity for the cycle; each supplier reply moves it together
with the stock it affects, and records the reply's id, so a redelivered reply changes nothing twice.
``purchasing.rules`` is the rule book (pure); ``PurchasingService`` reads, writes and retries lost races.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from orderflow.inventory import InventoryService
from orderflow.purchasing.domain import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReplyType,
    Supplier,
    SupplierIn,
    SupplierReply,
    purchase_order_id,
)
from orderflow.purchasing.ports import PurchaseOrders, StockOnOrder, SupplierQueues, Suppliers
from orderflow.purchasing.rules import OPEN, CapacityExceeded, ReplyRejected, plan_reply, purchase_order_message
from orderflow.shared.errors import ConditionFailed, NotFound, TransientError, Unprocessable
from orderflow.shared.ports import Change, Store
from orderflow.shared.settings import Settings
from orderflow.shared.types import utc_now

P = PurchaseOrderStatus
T = TypeVar("T")
RACE_ATTEMPTS = 8
# ------------------------------------------------------------------ the service
class PurchasingService:
    def __init__(self, settings: Settings, store: Store, suppliers: Suppliers, purchase_orders: PurchaseOrders,
                 stock: StockOnOrder, queues: SupplierQueues, inventory: InventoryService | None = None):
        self.settings, self.store = settings, store
        self.suppliers, self.purchase_orders, self.stock, self.queues = suppliers, purchase_orders, stock, queues
        self.inventory = inventory

    # ------------------------------------------------------------------ suppliers
    def put_supplier(self, supplier_id: str, data: SupplierIn) -> Supplier:
        """Register or update a supplier; its purchase-order queue is created the first time."""
        supplier = self.suppliers.put(supplier_id, data, self.queues.ensure(supplier_id))
        return self._with_reply_queue(supplier)

    def get_supplier(self, supplier_id: str) -> Supplier:
        supplier = self.suppliers.get(supplier_id)
        if supplier is None:
            raise NotFound(f"supplier {supplier_id} not found")
        return self._with_reply_queue(supplier)

    def remaining_capacity(self, supplier: Supplier, cycle: str) -> int | None:
        return self.suppliers.remaining(supplier.supplier_id, cycle, supplier.capacity_per_cycle)

    def _with_reply_queue(self, supplier: Supplier) -> Supplier:
        return supplier.model_copy(update={"reply_queue_url": self.settings.supplier_replies_queue_url})

    # ------------------------------------------------------------------ purchase orders
    def draft(self, *, cycle: str, run_id: str | None, supplier: Supplier, sku: str, quantity: int,
              unit_cost: Decimal, lead_time_days: float) -> tuple[PurchaseOrder, bool]:
        """One transaction: the purchase order (DRAFT; only if this cycle has none for the SKU), the SKU's
        ``on_order``, and the supplier's capacity for the cycle. ``(po, False)`` when it existed already."""
        if quantity <= 0:
            raise Unprocessable(f"cannot order {quantity} of {sku}", {"sku": sku, "quantity": quantity})
        if not supplier.active:
            raise Unprocessable(f"supplier {supplier.supplier_id} is not active", {"supplier_id": supplier.supplier_id})
        now = utc_now()
        po = PurchaseOrder(
            po_id=purchase_order_id(cycle, sku), supplier_id=supplier.supplier_id, cycle=cycle, run_id=run_id,
            status=P.DRAFT, lines=[PurchaseOrderLine(sku=sku, quantity=quantity, unit_cost=unit_cost)],
            total=unit_cost * quantity,
            expected_by=(date.fromisoformat(cycle) + timedelta(days=math.ceil(lead_time_days))).isoformat(),
            created_at=now, updated_at=now,
            timeline=[PurchaseOrderEvent(status=P.DRAFT, at=now, by="replenishment",
                                         reason=f"run {run_id}" if run_id else None)],
        )
        writes = [self.purchase_orders.create(po), self.stock.order(sku, quantity)]
        capacity = supplier.capacity_per_cycle
        if capacity is not None:
            writes.append(self.suppliers.capacity_write(supplier.supplier_id, cycle, capacity, quantity))
        try:
            self.store.commit(writes)
        except ConditionFailed as failure:
            if failure.failed(0):
                return self.get_purchase_order(po.po_id), False
            if not failure.failed(len(writes) - 1) or capacity is None:
                raise
            remaining = self.remaining_capacity(supplier, cycle) or 0
            raise CapacityExceeded(f"supplier {supplier.supplier_id} can take {remaining} more units in cycle "
                                   f"{cycle}, not {quantity}", remaining) from None
        return po, True

    def send(self, po_id: str) -> PurchaseOrder:
        """Put a DRAFT purchase order on its supplier's queue and mark it SENT; later statuses are left as they
        are. A crash between the two sends it again on retry: suppliers deduplicate on ``po_id``."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status != P.DRAFT:
                return po
            supplier = self.get_supplier(po.supplier_id)
            message = purchase_order_message(po, self.settings.supplier_replies_queue_url)
            self.queues.send(supplier.queue_url, message.model_dump_json())
            write, after = self.purchase_orders.transition(po, P.SENT, by="replenishment",
                                                           reason=f"on queue {supplier.queue_url}")
            self.store.commit([write])
            return after

        return self._race(po_id, attempt, missing=NotFound)

    def cancel_draft(self, po_id: str, reason: str) -> PurchaseOrder:
        """A DRAFT never sent becomes CANCELLED and its units leave ``on_order``, in one transaction; any
        other status is left as it is (a draft sent meanwhile is the supplier's now)."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status != P.DRAFT:
                return po
            write, after = self.purchase_orders.transition(po, P.CANCELLED, by="replenishment", reason=reason)
            self.store.commit([write, *(self.stock.order(line.sku, -line.quantity) for line in po.lines)])
            return after

        return self._race(po_id, attempt, missing=NotFound)

    def get_purchase_order(self, po_id: str) -> PurchaseOrder:
        po = self.purchase_orders.get(po_id)
        if po is None:
            raise NotFound(f"purchase order {po_id} not found")
        return po

    def list_purchase_orders(self, status: PurchaseOrderStatus | None, limit: int,
                             cursor: str | None) -> tuple[list[PurchaseOrder], str | None]:
        """By status, newest first; without a status, the open ones (DRAFT to PARTIALLY_RECEIVED)."""
        return self.purchase_orders.list_by_status(status or OPEN, limit, cursor)

    # ------------------------------------------------------------------ supplier replies
    def apply_reply(self, reply: SupplierReply) -> PurchaseOrder:
        """Apply one supplier reply in one transaction (purchase order + stock). A reply already applied
        changes nothing. A receipt then resumes the backordered orders its stock can serve."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if reply.reply_id in po.applied_replies:
                return po
            plan = plan_reply(po, reply)
            write, after = self.purchase_orders.transition(
                po, plan.status, by=f"supplier {reply.supplier_id}", reason=plan.reason, reply_id=reply.reply_id,
                lines=plan.lines)
            writes: list[Change] = [write, *(self.stock.order(sku, q) for sku, q in plan.on_order.items()),
                                   *(self.stock.receive(sku, q) for sku, q in plan.received.items())]
            self.store.commit(writes)
            return after

        def unknown(_: str) -> ReplyRejected:
            return ReplyRejected(f"{reply.type.value} reply {reply.reply_id} names purchase order {reply.po_id}, "
                                 "which does not exist",
                                 {"po_id": reply.po_id, "reply_id": reply.reply_id, "problem": "unknown_po"})

        po = self._race(reply.po_id, attempt, missing=unknown)
        if reply.type == ReplyType.RECEIVED and self.inventory is not None:
            # Also after a redelivery: it finishes an announcement that failed after the receipt was committed.
            self.inventory.stock_arrived(sorted({line.sku for line in reply.lines if line.quantity}))
        return po

    def _race(self, po_id: str, attempt: Callable[[PurchaseOrder], T],
              missing: Callable[[str], Exception]) -> T:
        """Run ``attempt`` on a fresh read of the purchase order until its conditional writes land."""
        for _ in range(RACE_ATTEMPTS):
            po = self.purchase_orders.get(po_id)
            if po is None:
                raise missing(f"purchase order {po_id} not found")
            try:
                return attempt(po)
            except ConditionFailed as failure:
                if not failure.failed(0):
                    raise
        raise TransientError(f"purchase order {po_id} kept changing; try again")
