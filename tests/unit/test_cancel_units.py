"""Which units a part-cancel takes (orderflow.orders.domain.cancel_units): backordered ones first, then the open
shipments, the latest released first; shipped or cancelled shipments are never touched."""

from __future__ import annotations

import pytest
from test_shipments_domain import order, ref

from orderflow.inventory import Units
from orderflow.orders.domain import OrderStatus, cancel_units, cancellable

S = OrderStatus


def test_backordered_units_go_first_and_nothing_is_released_for_them():
    o = order(S.PARTIALLY_RESERVED, 5, shipments=[ref(1, "w1", 3)], backordered={"A": 2})
    change = cancel_units(o, {"A": 2})
    assert (change.backordered, change.released, change.changed) == ({}, [], [])
    assert change.shipments == o.shipments


def test_then_the_latest_open_shipment_shrinks_or_goes_and_its_hold_is_released_there():
    o = order(S.RESERVED, 5, shipments=[ref(1, "w1", 2), ref(2, "w2", 3)])
    change = cancel_units(o, {"A": 4})
    assert change.released == [("w2", Units("A", 3)), ("w1", Units("A", 1))]
    assert [(r.location_id, r.state, r.lines) for r in change.shipments] == [
        ("w1", "open", {"A": 1}), ("w2", "cancelled", {"A": 3})]
    assert [r.location_id for r in change.changed] == ["w1", "w2"]


def test_shipped_and_cancelled_shipments_are_not_cancellable():
    o = order(S.PARTIALLY_SHIPPED, 6, shipments=[ref(1, "w1", 2, "shipped"), ref(2, "w2", 1, "cancelled"),
                                                  ref(3, "w3", 3)], backordered={"A": 1})
    assert cancellable(o) == {"A": 4}
    with pytest.raises(ValueError, match="A"):
        cancel_units(o, {"A": 5})


def test_what_is_owed_is_each_line_less_what_was_cancelled():
    assert order(S.RESERVED, 5, cancelled={"A": 2}).owed() == {"A": 3}
    line = order(S.RESERVED, 5, cancelled={"A": 2}, shipments=[ref(1, "w1", 3)],
                 allocations={"w1": {"A": 3}}).public()["lines"][0]
    assert (line["allocated"], line["cancelled"]) == (3, 2)
