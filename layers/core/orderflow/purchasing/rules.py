"""The rules of purchase orders (pure): which supplier replies apply, and what each does to the
purchase order and to stock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orderflow.purchasing.domain import (
    PurchaseOrder,
    PurchaseOrderCancellation,
    PurchaseOrderLine,
    PurchaseOrderMessage,
    PurchaseOrderMessageLine,
    PurchaseOrderStatus,
    ReplyType,
    Supplier,
    SupplierReply,
)
from orderflow.shared.errors import Conflict
from orderflow.shared.types import utc_now

P = PurchaseOrderStatus
# Not yet shipped: the supplier may still confirm less, or reject it.
BEFORE_SHIPPING = (P.SENT, P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED)
# Never put on the supplier's queue (APPROVED may be: it is on its way there).
UNSENT = (P.DRAFT, P.PENDING_APPROVAL)
NOT_YET_SENT = (*UNSENT, P.APPROVED)
EDITABLE = UNSENT  # a buyer may change its lines, delivery date and note
CANCELLABLE = (*NOT_YET_SENT, *BEFORE_SHIPPING)  # a buyer may cancel it: the goods have not left
OPEN = (*NOT_YET_SENT, *BEFORE_SHIPPING, P.SHIPPED, P.PARTIALLY_RECEIVED)
CLOSED = (P.REJECTED, P.RECEIVED, P.CANCELLED)


class CapacityExceeded(Conflict):
    """The supplier cannot take this quantity in this cycle; ``remaining`` is what it still can."""

    code = "CAPACITY_EXCEEDED"

    def __init__(self, message: str, remaining: int):
        super().__init__(message, {"remaining": remaining})
        self.remaining = remaining


class NotPendingApproval(Conflict):
    """Only a purchase order waiting for approval can be approved."""

    code = "NOT_PENDING_APPROVAL"


class ReplyRejected(Conflict):
    """A supplier reply that cannot be applied: unknown purchase order, another supplier's, out of order,
    or more goods than expected. ``details.problem`` says which."""

    code = "REPLY_REJECTED"


class ReplyForged(ReplyRejected):
    """A reply SQS says was sent by another principal than the one registered for the supplier it names."""


def check_sender(reply: SupplierReply, supplier: Supplier | None, sender_id: str | None) -> None:
    """Raise :class:`ReplyForged` unless ``sender_id`` (SQS's ``SenderId``: an IAM user's id, or a role's id
    then ``:session``) is the principal registered for the reply's supplier. A supplier without a registered
    principal accepts no reply: who may claim to be it is not known."""
    registered = supplier.reply_principal if supplier else None
    sender = (sender_id or "").split(":", 1)[0]
    if registered and sender == registered:
        return
    problem = "unknown_supplier" if supplier is None else (
        "no_registered_principal" if not registered else "wrong_sender")
    raise ReplyForged(f"{reply.type.value} reply {reply.reply_id} claims supplier {reply.supplier_id}, but was not "
                      "sent by its registered principal",
                      {"po_id": reply.po_id, "reply_id": reply.reply_id, "supplier_id": reply.supplier_id,
                       "sender_id": sender_id, "problem": problem})


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
    if po.status in CLOSED or po.status in NOT_YET_SENT:
        state = f"has not been sent yet ({po.status.value})" if po.status in NOT_YET_SENT \
            else f"is already {po.status.value}"
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


def on_order_moves(before: dict[str, int], before_at: str, after: dict[str, int], after_at: str
                   ) -> list[tuple[tuple[str, str], int]]:
    """How changing a purchase order's lines (SKU → units) and its location moves ``on_order``: the net
    change per (SKU, location), zeros left out, one entry per stock item (a transaction may touch an item
    only once). Moving it to another location takes its units off the old location and onto the new one."""
    moves: Counter[tuple[str, str]] = Counter()
    for sku, quantity in before.items():
        moves[sku, before_at] -= quantity
    for sku, quantity in after.items():
        moves[sku, after_at] += quantity
    return sorted((key, quantity) for key, quantity in moves.items() if quantity)


def purchase_order_message(po: PurchaseOrder, reply_to: str | None) -> PurchaseOrderMessage:
    """What the supplier receives (``events/schemas/purchase-order.v1.json``)."""
    return PurchaseOrderMessage(
        po_id=po.po_id, supplier_id=po.supplier_id, cycle=po.cycle, total=po.total, expected_by=po.expected_by,
        lines=[PurchaseOrderMessageLine(sku=li.sku, quantity=li.quantity, unit_cost=li.unit_cost) for li in po.lines],
        reply_to=reply_to, deliver_to=po.deliver_to, note=po.note, sent_at=utc_now())


def cancellation_message(po: PurchaseOrder, reason: str, by: str | None) -> PurchaseOrderCancellation:
    """What the supplier receives when a purchase order it was sent is cancelled
    (``events/schemas/purchase-order.v2.json``)."""
    return PurchaseOrderCancellation(po_id=po.po_id, supplier_id=po.supplier_id, reason=reason, cancelled_by=by,
                                     cancelled_at=utc_now())


def was_sent(po: PurchaseOrder) -> bool:
    """Whether the supplier may have the purchase order: it was SENT, or approved and on its way."""
    return any(event.status in (P.SENT, P.APPROVED) for event in po.timeline)


def _rejected(po: PurchaseOrder, reply: SupplierReply, problem: str, why: str) -> ReplyRejected:
    return ReplyRejected(f"{reply.type.value} reply {reply.reply_id} cannot be applied to purchase order "
                         f"{po.po_id}: {why}",
                         {"po_id": po.po_id, "reply_id": reply.reply_id, "problem": problem,
                          "status": po.status.value})


