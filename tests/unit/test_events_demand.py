"""Which shipments-table changes are units leaving stock (orderflow.events.shipped): pure, no AWS."""

from decimal import Decimal

from orderflow.events import Shipped, shipped

PACKED = {"shipment_id": "shp-1", "order_id": "ord-1", "location_id": "wh-a", "status": "PACKED",
          "updated_at": "2026-12-05T23:59:59.000Z", "lines": [{"sku": "MUG", "quantity": Decimal(3)}]}
SHIPPED = {**PACKED, "status": "SHIPPED", "updated_at": "2026-12-06T00:00:01.000Z",
           "shipped": [{"sku": "MUG", "quantity": Decimal(2)}, {"sku": "TEA", "quantity": Decimal(0)}]}


def test_the_change_that_ships_a_shipment_is_what_it_sent_where_and_when():
    assert shipped(PACKED, SHIPPED) == Shipped(key="shipment:shp-1:shipped", day="2026-12-06", location_id="wh-a",
                                               units={"MUG": 2})
    assert shipped(None, SHIPPED) is not None  # a stream record without the old image


def test_other_changes_count_nothing():
    delivered = {**SHIPPED, "status": "DELIVERED"}
    assert shipped(SHIPPED, delivered) is None  # it left once
    assert shipped(SHIPPED, {**SHIPPED, "tracking": "1Z"}) is None  # updated after it left
    assert shipped(None, PACKED) is None and shipped(PACKED, None) is None
    assert shipped(PACKED, {**SHIPPED, "shipped": [{"sku": "MUG", "quantity": Decimal(0)}]}) is None
