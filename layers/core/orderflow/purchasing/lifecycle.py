"""The purchase order lifecycle as data. A status may follow itself: a late reply (an acknowledgement
after the goods shipped, say) or a buyer's change to a DRAFT or PENDING_APPROVAL purchase order adds a
timeline entry and changes nothing else about its status.

A purchase order worth more than its approval threshold goes DRAFT → PENDING_APPROVAL and is put on the
supplier's queue only once approved (APPROVED → SENT); one never approved is CANCELLED when its approval
expires. A buyer may cancel it until the supplier ships (docs/purchasing.md).

``PurchaseOrdersRepository.transition`` makes every status write conditional on the statuses this
table allows before the target, so no code path can write a transition it forbids.
"""

from orderflow.purchasing.domain import PurchaseOrderStatus as P
from orderflow.shared.lifecycle import Lifecycle

_RECEIPTS = {P.PARTIALLY_RECEIVED, P.RECEIVED}
TRANSITIONS: dict[P, frozenset[P]] = {
    P.DRAFT: frozenset({P.DRAFT, P.PENDING_APPROVAL, P.SENT, P.CANCELLED}),
    P.PENDING_APPROVAL: frozenset({P.PENDING_APPROVAL, P.APPROVED, P.CANCELLED}),
    P.APPROVED: frozenset({P.SENT, P.CANCELLED}),
    P.SENT: frozenset({P.SENT, P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, P.CANCELLED,
                       *_RECEIPTS}),
    P.ACKNOWLEDGED: frozenset({P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, P.CANCELLED,
                               *_RECEIPTS}),
    P.PARTIALLY_CONFIRMED: frozenset({P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, P.CANCELLED, *_RECEIPTS}),
    P.SHIPPED: frozenset({P.SHIPPED, *_RECEIPTS}),
    P.PARTIALLY_RECEIVED: frozenset(_RECEIPTS),
    P.RECEIVED: frozenset(),
    P.REJECTED: frozenset(),
    P.CANCELLED: frozenset(),
}
PURCHASE_ORDER_LIFECYCLE = Lifecycle("purchase order", TRANSITIONS)
