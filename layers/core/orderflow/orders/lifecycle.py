"""The order lifecycle as data, and what each status holds.

Every status write is a DynamoDB conditional update on the statuses this table allows before the
target, on the current status and on the version, so a transition that is not in this table, or
that lost a race, never lands (``OrdersRepository.transition``).
"""

from orderflow.orders.domain import OrderStatus as S
from orderflow.shared.lifecycle import Lifecycle

TRANSITIONS: dict[S, frozenset[S]] = {
    # Each to itself too: some of its units were cancelled before the reservation (orderflow.orders.cancelling).
    S.PENDING: frozenset({S.PENDING, S.VALIDATED, S.REJECTED, S.CANCELLED, S.FAILED}),
    S.VALIDATED: frozenset({S.VALIDATED, S.CREDIT_APPROVED, S.REJECTED, S.CANCELLED, S.FAILED}),
    S.CREDIT_APPROVED: frozenset({S.CREDIT_APPROVED, S.RESERVED, S.PARTIALLY_RESERVED, S.BACKORDERED, S.CANCELLED,
                                  S.FAILED}),
    S.BACKORDERED: frozenset({S.BACKORDERED, S.RESERVED, S.PARTIALLY_RESERVED, S.CANCELLED, S.FAILED}),
    # ship_available: what was in stock is held and released; a receipt sources the rest (to the same status
    # while some still waits), and its shipments ship meanwhile.
    S.PARTIALLY_RESERVED: frozenset({S.PARTIALLY_RESERVED, S.RESERVED, S.PARTIALLY_SHIPPED, S.CANCELLED,
                                     S.FAILED}),
    # To itself: some of its units were cancelled (orderflow.orders.cancelling).
    S.RESERVED: frozenset({S.RESERVED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.FAILED}),
    # Derived from the shipments: each shipment that leaves or arrives is a transition, to the same status
    # while others are still open (a timeline entry naming the shipment).
    # DELIVERED: what had not left was cancelled, and every shipment that left is delivered.
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED}),
    S.SHIPPED: frozenset({S.SHIPPED, S.DELIVERED}),
    # After-sales (orderflow.returns): a delivered order can be returned, in part, several times, and a
    # further return may be asked for while another is open.
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    S.RETURN_REQUESTED: frozenset({S.RETURN_REQUESTED, S.RETURNED}),
    S.RETURNED: frozenset({S.RETURN_REQUESTED}),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
}

ORDER_LIFECYCLE = Lifecycle("order", TRANSITIONS)

# Statuses only a return moves: the order's workflow is over (it ended at DELIVERED).
AFTER_SALES = frozenset({S.DELIVERED, S.RETURN_REQUESTED, S.RETURNED})
RETURNABLE = AFTER_SALES  # a further return may be asked for while another is open or after one ended
# Where the order workflow has nothing left to do (compensation leaves these alone).
TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets) | AFTER_SALES
CANCELLABLE = frozenset(status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets)
# The order workflow's own statuses: they share one deadline, set at submit (an Express execution lives at most
# five minutes), so Validate and CheckCredit leave it, and its index entry, as they are.
IN_WORKFLOW = frozenset({S.PENDING, S.VALIDATED, S.CREDIT_APPROVED})
# Statuses whose deadline is their open shipments' (each shipment's ``ship_by``). The sweep finds them from the
# late shipments themselves, in the pick list's index, so the order carries its ``deadline`` but no by-deadline
# entry then (orders/adapters/table.py; docs/decisions.md, "Cost per order").
SHIPMENTS_DUE = frozenset({S.RESERVED, S.PARTIALLY_RESERVED, S.PARTIALLY_SHIPPED})

# What an order in each status holds, and so what cancelling or failing it must give back.
HOLDS_CREDIT = frozenset({S.CREDIT_APPROVED, S.BACKORDERED, S.RESERVED, S.PARTIALLY_RESERVED, S.PARTIALLY_SHIPPED,
                          S.SHIPPED})
# A partially shipped order holds stock for its open shipments too, but is neither cancelled nor failed
# whole: what is open ships (cancelling some lines is its own change, docs/fulfilment.md).
HOLDS_STOCK = frozenset({S.RESERVED, S.PARTIALLY_RESERVED})
COUNTS_AS_BACKORDERED = frozenset({S.BACKORDERED})  # whole; a PARTIALLY_RESERVED order waits for its ``backordered``
