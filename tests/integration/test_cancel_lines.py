"""Cancelling some units of an order before they ship, on the in-process services (docs/fulfilment.md,
"Cancelling some units"): holds go back at the locations that held them, shipments shrink or are cancelled,
waits shrink, credit comes back in proportion, the lines say what was cancelled; bad requests change nothing
and a retry changes nothing twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from test_fulfilment_policies import AVAILABLE, submit, to_reserve, unstocked, waiting
from test_shipments import at
from test_sourcing_reservations import shop

from orderflow.fulfilment import ShipmentStatus
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.requests import ShipIn
from orderflow.shared.errors import Conflict, Unprocessable

S, H = OrderStatus, ShipmentStatus
COMPLETE = "ship_complete"


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def credit(service, customer: str) -> Decimal:
    return service.get_customer(customer).credit_available


def test_cancelling_units_of_a_split_order_shrinks_the_latest_shipment_and_releases_there(service, places):
    w1, w2, _ = places
    customer, skus = shop(service, {("A", w1): 2, ("A", w2): 3, ("B", w1): 1})
    a, b = skus["A"], skus["B"]
    order = to_reserve(service, customer, {a: 4, b: 1}, "ship_complete")
    assert order.allocations == {w1: {a: 2, b: 1}, w2: {a: 2}}
    before = credit(service, customer)

    after = service.cancel_lines(order.order_id, {a: 3}, "too many", key="k1")
    assert after.status == S.RESERVED and after.total == order.total - 3 * 5
    assert after.allocations == {w1: {a: 1, b: 1}}  # w2's shipment went whole, then one from w1
    first, second = service.shipments_of(after)
    assert (first.status, [(li.sku, li.quantity) for li in first.lines]) == (H.RELEASED, [(a, 1), (b, 1)])
    assert [(li.sku, li.quantity) for li in first.cancelled] == [(a, 1)]
    assert second.status == H.CANCELLED
    assert at(service, a, w1) == (2, 1, 1) and at(service, a, w2) == (3, 0, 3)
    assert credit(service, customer) == before + 15
    line = after.public()["lines"][0]
    assert (line["allocated"], line["cancelled"], line["shipped"]) == (1, 3, 0)

    again = service.cancel_lines(order.order_id, {a: 3}, "too many", key="k1")  # a retry
    assert again.version == after.version and at(service, a, w1) == (2, 1, 1)
    assert credit(service, customer) == before + 15

    shipped = service.ship(order.order_id, ShipIn())  # what is left ships whole: the order is SHIPPED
    assert shipped.status == S.SHIPPED and shipped.shipped() == {a: 1, b: 1}


def test_bad_requests_change_nothing(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 2})
    a = skus["A"]
    order = to_reserve(service, customer, {a: 2}, "ship_complete")
    with pytest.raises(Unprocessable) as unknown:
        service.cancel_lines(order.order_id, {"NOPE": 1}, "x", key="k1")
    assert unknown.value.details == {"unknown_skus": ["NOPE"]}
    with pytest.raises(Conflict) as too_many:
        service.cancel_lines(order.order_id, {a: 3}, "x", key="k2")
    assert too_many.value.details == {"cancellable": {a: 2}}
    assert service.get_order(order.order_id).version == order.version and at(service, a, w1) == (2, 2, 0)


def test_cancelling_everything_left_of_an_unshipped_order_cancels_it(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 2})
    before = credit(service, customer)
    order = to_reserve(service, customer, {skus["A"]: 2}, "ship_complete")
    after = service.cancel_lines(order.order_id, {skus["A"]: 2}, "changed my mind", key="k1")
    assert after.status == S.CANCELLED and at(service, skus["A"], w1) == (2, 0, 2)
    assert credit(service, customer) == before
    again = service.cancel_lines(order.order_id, {skus["A"]: 2}, "changed my mind", key="k1")  # a retry
    assert again.version == after.version and credit(service, customer) == before


def test_a_partially_shipped_order_cancels_what_has_not_shipped(service, places):
    w1, w2, _ = places
    customer, skus = shop(service, {("A", w1): 1, ("A", w2): 2})
    a = skus["A"]
    order = to_reserve(service, customer, {a: 3}, "ship_complete")
    first = next(r for r in order.shipments if r.location_id == w1)
    partly, _ = service.ship_shipment(first.shipment_id, ShipIn())
    assert partly.status == S.PARTIALLY_SHIPPED
    with pytest.raises(Conflict):  # one left already: only the two at w2 can go
        service.cancel_lines(order.order_id, {a: 3}, "x", key="k0")
    done = service.cancel_lines(order.order_id, {a: 2}, "no longer needed", key="k1")
    assert done.status == S.SHIPPED and at(service, a, w2) == (2, 0, 2)
    line = done.public()["lines"][0]
    assert (line["shipped"], line["cancelled"], line["allocated"]) == (1, 2, 0)
    delivered, _ = service.deliver_shipment(first.shipment_id)
    assert delivered.status == S.DELIVERED


def test_cancelling_backordered_units_of_a_ship_available_order_shrinks_its_wait_first(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 1})
    a, b = skus["A"], unstocked(service)
    order = to_reserve(service, customer, {a: 3, b: 2}, AVAILABLE)
    assert (order.status, order.backordered) == (S.PARTIALLY_RESERVED, {a: 2, b: 2})
    after = service.cancel_lines(order.order_id, {a: 1, b: 2}, "not that many", key="k1")
    assert (after.status, after.backordered, after.allocations) == (S.PARTIALLY_RESERVED, {a: 1}, {w1: {a: 1}})
    assert waiting(service, a) == {order.order_id: 1} and waiting(service, b) == {}
    assert at(service, a, w1) == (1, 1, 0)  # the held unit stays: the backordered one went first
    reserved = service.cancel_lines(order.order_id, {a: 1}, "not that many", key="k2")
    assert (reserved.status, reserved.backordered) == (S.RESERVED, {}) and waiting(service, a) == {}


def test_a_backordered_order_drops_the_cancelled_units_and_is_reserved_for_the_rest(service, places):
    """Nothing is held for a whole backorder: its waits shrink (or go), its credit comes back in proportion, and
    the receipt that wakes it holds only what is still owed."""
    w1, *_ = places
    customer, _ = shop(service, {})
    a, b = unstocked(service), unstocked(service)
    order = to_reserve(service, customer, {a: 3, b: 2}, COMPLETE)
    assert order.status == S.BACKORDERED
    before = credit(service, customer)

    after = service.cancel_lines(order.order_id, {a: 1, b: 2}, "fewer", key="k1")
    assert (after.status, after.total, after.cancelled) == (S.BACKORDERED, order.total - 15, {a: 1, b: 2})
    assert after.deadline == order.deadline  # the wait for stock keeps its deadline
    assert waiting(service, a) == {order.order_id: 2} and waiting(service, b) == {}
    assert credit(service, customer) == before + 15
    assert [(li["backordered"], li["cancelled"]) for li in after.public()["lines"]] == [(2, 1), (0, 2)]
    assert service.cancel_lines(order.order_id, {a: 1, b: 2}, "fewer", key="k1").version == after.version

    service.adjust_stock(a, StockAdjustmentIn(quantity=2, reason="receipt", location_id=w1))
    reserved = service.reserve(order.order_id)  # the receipt's wake-up
    assert (reserved.status, reserved.allocations) == (S.RESERVED, {w1: {a: 2}})
    assert at(service, a, w1) == (2, 2, 0) and waiting(service, a) == {}
    assert service.ship(order.order_id, ShipIn()).status == S.SHIPPED  # what is owed left: the order is done


def test_an_order_cancelled_in_part_before_its_workflow_reserves_it_holds_only_the_rest(service, places):
    """A part-cancel lands while the workflow runs (PENDING here): the step that decided on the order before it
    (its ``known`` copy) fails its version condition, reads again, and holds the smaller quantity and credit."""
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 5})
    a = skus["A"]
    pending = submit(service, customer, {a: 4}, COMPLETE)
    before = credit(service, customer)
    after = service.cancel_lines(pending.order_id, {a: 3}, "one is enough", key="k1")
    assert (after.status, after.total, after.deadline) == (S.PENDING, Decimal(5), pending.deadline)
    assert credit(service, customer) == before  # nothing was held yet
    order = pending  # the workflow's stale copy, from before the cancel
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order if order.version == pending.version else None)
    assert (order.status, order.allocations, order.total) == (S.RESERVED, {w1: {a: 1}}, Decimal(5))
    assert credit(service, customer) == before - 5 and at(service, a, w1) == (5, 1, 4)
    assert service.cancel_lines(order.order_id, {a: 1}, "none", key="k2").status == S.CANCELLED
    assert credit(service, customer) == before and at(service, a, w1) == (5, 0, 5)


def test_a_shipped_order_has_nothing_to_cancel(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 1})
    order = to_reserve(service, customer, {skus["A"]: 1}, COMPLETE)
    shipped = service.ship(order.order_id, ShipIn())
    with pytest.raises(Conflict) as refused:
        service.cancel_lines(order.order_id, {skus["A"]: 1}, "x", key=uuid.uuid4().hex)
    assert refused.value.details == {"status": "SHIPPED"}
    assert service.get_order(order.order_id).version == shipped.version
