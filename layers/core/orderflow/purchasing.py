"""Buying: suppliers, purchase orders, and the suppliers' replies turned into stock.

Like orders, every change is one conditional write or one transaction whose first item is the purchase
order's own write, guarded by its status and version: drafting puts it (only if new) together with the
SKU's ``on_order`` and the supplier's capacity for the cycle; each supplier reply moves it together
with the stock it affects, and records the reply's id, so a redelivered reply changes nothing twice.
``plan_reply`` is the rule book (pure); ``PurchasingService`` reads, writes and retries lost races.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from .adapters.dynamo import ConditionFailed, Write, transact
from .adapters.purchase_orders import PurchaseOrdersRepository
from .adapters.queues import SupplierQueues
from .adapters.stock import StockRepository
from .adapters.suppliers import SuppliersRepository
from .errors import Conflict, NotFound, TransientError, Unprocessable
from .models import utc_now
from .purchasing_models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderMessage,
    PurchaseOrderMessageLine,
    PurchaseOrderStatus,
    ReplyType,
    Supplier,
    SupplierIn,
    SupplierReply,
    purchase_order_id,
)
from .service import OrderService
from .settings import Settings, get_settings

P = PurchaseOrderStatus
T = TypeVar("T")
RACE_ATTEMPTS = 8
# Not yet shipped: the supplier may still confirm less, or reject it.
BEFORE_SHIPPING = (P.SENT, P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED)
OPEN = (P.DRAFT, *BEFORE_SHIPPING, P.SHIPPED, P.PARTIALLY_RECEIVED)
CLOSED = (P.REJECTED, P.RECEIVED, P.CANCELLED)


class CapacityExceeded(Conflict):
    """The supplier cannot take this quantity in this cycle; ``remaining`` is what it still can."""

    code = "CAPACITY_EXCEEDED"

    def __init__(self, message: str, remaining: int):
        super().__init__(message, {"remaining": remaining})
        self.remaining = remaining


class ReplyRejected(Conflict):
    """A supplier reply that cannot be applied: unknown purchase order, another supplier's, out of order,
    or more goods than expected. ``details.problem`` says which."""

    code = "REPLY_REJECTED"


# ------------------------------------------------------------------ the rules of replies
@dataclass
class ReplyPlan:
    """What one reply does to its purchase order and to stock."""

    status: PurchaseOrderStatus
    lines: list[PurchaseOrderLine]
    reason: str
    on_order: dict[str, int] = field(default_factory=dict)  # SKU → change of on_order (negative: will not come)
    received: dict[str, int] = field(default_factory=dict)  # SKU → units put on the shelf


def plan_reply(po: PurchaseOrder, reply: SupplierReply) -> ReplyPlan:
    """The effect of ``reply`` on ``po`` (docs/replenishment.md §3); ``ReplyRejected`` if it does not fit."""
    if reply.supplier_id != po.supplier_id:
        raise _rejected(po, reply, "wrong_supplier", f"it belongs to supplier {po.supplier_id}, "
                        f"not {reply.supplier_id}")
    if po.status in CLOSED or po.status == P.DRAFT:
        state = "has not been sent yet" if po.status == P.DRAFT else f"is already {po.status.value}"
        raise _rejected(po, reply, "out_of_order", f"it {state}")
    by_sku = {line.sku: line for line in po.lines}
    quantities: Counter[str] = Counter()
    for line in reply.lines:
        if line.sku not in by_sku:
            raise _rejected(po, reply, "unknown_sku", f"it has no line for SKU {line.sku}")
        quantities[line.sku] += line.quantity
    says = f"supplier: {reply.reason}" if reply.reason else f"supplier replied {reply.type.value}"

    match reply.type:
        case ReplyType.ACKNOWLEDGED | ReplyType.SHIPPED:
            target = P(reply.type.value)
            if po.status == P.SENT or (target == P.SHIPPED and po.status in BEFORE_SHIPPING):
                return ReplyPlan(target, po.lines, says)
            return ReplyPlan(po.status, po.lines, f"late {reply.type.value} reply while {po.status.value}; "
                                                  "nothing changed")
        case ReplyType.REJECTED:
            if po.status not in BEFORE_SHIPPING:
                raise _rejected(po, reply, "out_of_order", f"it is already {po.status.value}")
            return ReplyPlan(P.REJECTED, po.lines, says,
                             on_order={li.sku: -li.open for li in po.lines if li.open})
        case ReplyType.PARTIALLY_CONFIRMED:
            if po.status not in BEFORE_SHIPPING:
                raise _rejected(po, reply, "out_of_order", f"it is already {po.status.value}")
            lines, on_order = [], {}
            for line in po.lines:
                if line.sku not in quantities:
                    lines.append(line)
                    continue
                confirmed = quantities[line.sku]
                if confirmed > line.expected:
                    raise _rejected(po, reply, "over_confirmation",
                                    f"it confirms {confirmed} of {line.sku} but only {line.expected} are on order")
                lines.append(line.model_copy(update={"confirmed": confirmed}))
                if confirmed < line.expected:
                    on_order[line.sku] = confirmed - line.expected
            return ReplyPlan(P.PARTIALLY_CONFIRMED, lines, says, on_order=on_order)
        case ReplyType.RECEIVED:
            received = {sku: q for sku, q in quantities.items() if q}
            if not received:
                raise _rejected(po, reply, "nothing_received", "the receipt has no units")
            lines = []
            for line in po.lines:
                units = received.get(line.sku, 0)
                if units > line.open:
                    raise _rejected(po, reply, "over_receipt",
                                    f"it receives {units} of {line.sku} but only {line.open} are still expected "
                                    f"({line.received} of {line.expected} already received)")
                lines.append(line.model_copy(update={"received": line.received + units}))
            done = all(line.received >= line.expected for line in lines)
            what = ", ".join(f"{q} {sku}" for sku, q in received.items())
            return ReplyPlan(P.RECEIVED if done else P.PARTIALLY_RECEIVED, lines, f"received {what}",
                             received=received)
    raise AssertionError(reply.type)  # pragma: no cover - every ReplyType is matched above


def purchase_order_message(po: PurchaseOrder, reply_to: str | None) -> PurchaseOrderMessage:
    """What the supplier receives (``events/schemas/purchase-order.v1.json``)."""
    return PurchaseOrderMessage(
        po_id=po.po_id, supplier_id=po.supplier_id, cycle=po.cycle, total=po.total, expected_by=po.expected_by,
        lines=[PurchaseOrderMessageLine(sku=li.sku, quantity=li.quantity, unit_cost=li.unit_cost) for li in po.lines],
        reply_to=reply_to, sent_at=utc_now())


def _rejected(po: PurchaseOrder, reply: SupplierReply, problem: str, why: str) -> ReplyRejected:
    return ReplyRejected(f"{reply.type.value} reply {reply.reply_id} cannot be applied to purchase order "
                         f"{po.po_id}: {why}",
                         {"po_id": po.po_id, "reply_id": reply.reply_id, "problem": problem,
                          "status": po.status.value})


# ------------------------------------------------------------------ the service
class PurchasingService:
    def __init__(self, settings: Settings, suppliers: SuppliersRepository, purchase_orders: PurchaseOrdersRepository,
                 stock: StockRepository, queues: SupplierQueues, orders: OrderService | None = None):
        self.settings = settings
        self.suppliers, self.purchase_orders, self.stock, self.queues = suppliers, purchase_orders, stock, queues
        self.orders = orders

    @classmethod
    def from_settings(cls, settings: Settings | None = None, orders: OrderService | None = None) -> PurchasingService:
        s = settings or get_settings()
        return cls(s, SuppliersRepository(s.suppliers_table), PurchaseOrdersRepository(s.purchase_orders_table),
                   StockRepository(s.stock_table), SupplierQueues(s.supplier_queue_prefix),
                   orders or OrderService.from_settings(s))

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
            transact(writes)
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
            transact([write])
            return after

        return self._race(po_id, attempt, missing=NotFound)

    def cancel_draft(self, po_id: str, reason: str) -> PurchaseOrder:
        """A DRAFT never sent becomes CANCELLED and its units leave ``on_order``, in one transaction; any
        other status is left as it is (a draft sent meanwhile is the supplier's now)."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status != P.DRAFT:
                return po
            write, after = self.purchase_orders.transition(po, P.CANCELLED, by="replenishment", reason=reason)
            transact([write, *(self.stock.order(line.sku, -line.quantity) for line in po.lines)])
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
            writes: list[Write] = [write, *(self.stock.order(sku, q) for sku, q in plan.on_order.items()),
                                   *(self.stock.receive(sku, q) for sku, q in plan.received.items())]
            transact(writes)
            return after

        def unknown(_: str) -> ReplyRejected:
            return ReplyRejected(f"{reply.type.value} reply {reply.reply_id} names purchase order {reply.po_id}, "
                                 "which does not exist",
                                 {"po_id": reply.po_id, "reply_id": reply.reply_id, "problem": "unknown_po"})

        po = self._race(reply.po_id, attempt, missing=unknown)
        if reply.type == ReplyType.RECEIVED and self.orders is not None:
            # Also after a redelivery: it finishes an announcement that failed after the receipt was committed.
            self.orders.stock_arrived(sorted({line.sku for line in reply.lines if line.quantity}))
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
