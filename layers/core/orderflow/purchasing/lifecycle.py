"""The purchase order lifecycle as data. A status may follow itself: a late reply (an acknowledgement
after the goods shipped, say) adds a timeline entry and changes nothing else.

``PurchaseOrdersRepository.transition`` makes every status write conditional on the statuses this
table allows before the target, so no code path can write a transition it forbids.
"""

from orderflow.purchasing.domain import PurchaseOrderStatus as P
from orderflow.shared.lifecycle import Lifecycle

_RECEIPTS = {P.PARTIALLY_RECEIVED, P.RECEIVED}
TRANSITIONS: dict[P, frozenset[P]] = {
    P.DRAFT: frozenset({P.SENT, P.CANCELLED}),
    P.SENT: frozenset({P.SENT, P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, *_RECEIPTS}),
    P.ACKNOWLEDGED: frozenset({P.ACKNOWLEDGED, P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, *_RECEIPTS}),
    P.PARTIALLY_CONFIRMED: frozenset({P.PARTIALLY_CONFIRMED, P.SHIPPED, P.REJECTED, *_RECEIPTS}),
    P.SHIPPED: frozenset({P.SHIPPED, *_RECEIPTS}),
    P.PARTIALLY_RECEIVED: frozenset(_RECEIPTS),
    P.RECEIVED: frozenset(),
    P.REJECTED: frozenset(),
    P.CANCELLED: frozenset(),
}
PURCHASE_ORDER_LIFECYCLE = Lifecycle("purchase order", TRANSITIONS)
