"""The order's view of its shipments (pure): where each line's units are, what the open shipments hold,
how new shipments are numbered, and the shipment lifecycle's conditions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderflow.fulfilment import SHIPMENT_LIFECYCLE, ShipmentStatus
from orderflow.orders.domain import Order, OrderStatus, ShipmentRef, holds_of, released, shipment_id_for
from orderflow.shared.lifecycle import ForbiddenTransition

S, H = OrderStatus, ShipmentStatus
AT = "2030-01-01T00:00:00.000Z"


def order(status: OrderStatus, quantity: int = 5, **extra) -> Order:
    return Order(order_id="ord-abc", customer_id="c", status=status, total=Decimal(5), created_at=AT, updated_at=AT,
                 lines=[{"sku": "A", "quantity": quantity, "unit_price": Decimal(1)}], **extra)


def ref(n: int, location: str, units: int, state: str = "open", shipped: int | None = None) -> ShipmentRef:
    return ShipmentRef(shipment_id=shipment_id_for("ord-abc", n), location_id=location, lines={"A": units}, state=state,
                       shipped=None if shipped is None else {"A": shipped})


@pytest.mark.parametrize(("status", "shipments", "backordered", "expected"), [
    # allocated, shipped, delivered, backordered, cancelled
    (S.BACKORDERED, [], {}, (0, 0, 0, 5, 0)),
    (S.RESERVED, [ref(1, "n", 3), ref(2, "s", 2)], {}, (5, 0, 0, 0, 0)),
    (S.PARTIALLY_SHIPPED, [ref(1, "n", 3, "shipped"), ref(2, "s", 2)], {}, (2, 3, 0, 0, 0)),
    (S.PARTIALLY_SHIPPED, [ref(1, "n", 3, "delivered", shipped=1), ref(2, "s", 2)], {"A": 2}, (2, 1, 1, 2, 0)),
    (S.SHIPPED, [ref(1, "n", 3, "delivered"), ref(2, "s", 2, "shipped")], {}, (0, 5, 3, 0, 0)),
    (S.CANCELLED, [ref(1, "n", 3, "cancelled"), ref(2, "s", 2, "cancelled")], {}, (0, 0, 0, 0, 5)),
    (S.DELIVERED, [], {}, (0, 5, 5, 0, 0)),  # delivered before orders had shipments: it moved whole
])
def test_each_unit_of_a_line_is_in_exactly_one_place(status, shipments, backordered, expected):
    placed = order(status, shipments=shipments, backordered=backordered,
                   allocations=holds_of(shipments)).line_quantities("A", 5)
    got = tuple(placed[k] for k in ("allocated", "shipped", "delivered", "backordered", "cancelled"))
    assert got == expected
    assert got[0] + got[1] + got[3] + got[4] == 5


def test_the_holds_are_the_open_shipments_lines_summed_per_location():
    shipments = [ref(1, "n", 3), ref(2, "s", 2, "shipped"), ref(3, "n", 1)]
    assert holds_of(shipments) == {"n": {"A": 4}}


def test_new_shipments_are_numbered_after_the_orders_existing_ones():
    existing = order(S.PARTIALLY_SHIPPED, shipments=[ref(1, "n", 3, "shipped")])
    refs = released(existing, {"s": {"A": 1}, "w": {"A": 1}})
    assert [r.shipment_id for r in refs] == ["shp-abc-2", "shp-abc-3"]
    assert all(r.open for r in refs)


def test_a_shipment_sends_its_lines_or_what_left_in_part_and_nothing_while_open():
    assert ref(1, "n", 3).sent() == {}
    assert ref(1, "n", 3, "shipped").sent() == {"A": 3}
    assert ref(1, "n", 3, "delivered", shipped=1).sent() == {"A": 1}
    assert ref(1, "n", 3, "cancelled").sent() == {}


def test_the_shipment_lifecycle_allows_shipping_unscanned_and_cancelling_only_before_it_ships():
    assert SHIPMENT_LIFECYCLE.sources(H.SHIPPED) == [H.RELEASED, H.PICKED, H.PACKED]
    assert SHIPMENT_LIFECYCLE.sources(H.CANCELLED) == [H.RELEASED, H.PICKED, H.PACKED]
    condition, values = SHIPMENT_LIFECYCLE.condition(H.DELIVERED)
    assert (condition, list(values.values())) == ("#status IN (:from0)", ["SHIPPED"])
    with pytest.raises(ForbiddenTransition):
        SHIPMENT_LIFECYCLE.check(H.SHIPPED, H.CANCELLED, "shipment s")
