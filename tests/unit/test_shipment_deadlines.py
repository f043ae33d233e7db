"""Deadlines per shipment (orderflow.orders.domain): each shipment has its own, the order's is the earliest of its
open shipments', and the sweep finds and cancels the late ones whole."""

from __future__ import annotations

from test_shipments_domain import order, ref

from orderflow.inventory import Units
from orderflow.orders.domain import OrderStatus, cancel_shipments, earliest_deadline, overdue_shipments

S = OrderStatus
DAY1, DAY2, DAY3 = "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"


def due(n: int, location: str, units: int, deadline: str | None, state: str = "open"):
    return ref(n, location, units, state).model_copy(update={"deadline": deadline})


def test_the_order_is_due_when_its_earliest_open_shipment_is():
    shipments = [due(1, "n", 1, DAY1, "shipped"), due(2, "s", 1, DAY3), due(3, "w", 1, DAY2)]
    assert earliest_deadline(shipments) == DAY2  # a shipment that left has no deadline any more
    assert earliest_deadline([due(1, "n", 1, DAY1, "shipped")]) is None  # nothing open: nothing due
    assert earliest_deadline([due(1, "n", 1, None), due(2, "s", 1, DAY3)], legacy=DAY1) == DAY1


def test_only_open_shipments_past_their_deadline_are_late():
    o = order(S.PARTIALLY_SHIPPED, 4, deadline=DAY1, shipments=[
        due(1, "n", 1, DAY1, "shipped"), due(2, "s", 1, DAY1), due(3, "w", 1, DAY3), due(4, "x", 1, None)])
    assert [r.shipment_id for r in overdue_shipments(o, DAY2)] == ["shp-abc-2", "shp-abc-4"]  # 4: the order's
    assert overdue_shipments(o.model_copy(update={"deadline": None}), "2025-12-31T00:00:00.000Z") == []


def test_a_late_shipment_is_cancelled_whole_its_holds_go_back_there_and_what_waits_stays():
    o = order(S.PARTIALLY_RESERVED, 6, backordered={"A": 1},
              shipments=[due(1, "n", 2, DAY1), due(2, "s", 3, DAY3)])
    change = cancel_shipments(o, {"shp-abc-1"})
    assert change.released == [("n", Units("A", 2))]
    assert [(r.shipment_id, r.state) for r in change.shipments] == [("shp-abc-1", "cancelled"), ("shp-abc-2", "open")]
    assert [r.shipment_id for r in change.changed] == ["shp-abc-1"]
    assert change.backordered == {"A": 1}
