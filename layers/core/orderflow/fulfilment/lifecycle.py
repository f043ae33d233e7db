"""The shipment lifecycle as data: RELEASED → PICKED → PACKED → SHIPPED → DELIVERED, or CANCELLED before
it ships. A location that does not scan picks and packs may ship a released shipment directly."""

from orderflow.fulfilment.domain import ShipmentStatus as H
from orderflow.shared.lifecycle import Lifecycle

TRANSITIONS: dict[H, frozenset[H]] = {
    H.RELEASED: frozenset({H.PICKED, H.PACKED, H.SHIPPED, H.CANCELLED}),
    H.PICKED: frozenset({H.PACKED, H.SHIPPED, H.CANCELLED}),
    H.PACKED: frozenset({H.SHIPPED, H.CANCELLED}),
    H.SHIPPED: frozenset({H.DELIVERED}),
    H.DELIVERED: frozenset(),
    H.CANCELLED: frozenset(),
}
SHIPMENT_LIFECYCLE = Lifecycle("shipment", TRANSITIONS)
