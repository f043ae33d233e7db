"""Cancelling some units of an order before they ship, on the in-process services (docs/fulfilment.md,
"Cancelling some units"): holds go back at the locations that held them, shipments shrink or are cancelled,
waits shrink, credit comes back in proportion, the lines say what was cancelled; bad requests change nothing
and a retry changes nothing twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from test_fulfilment_policies import AVAILABLE, to_reserve, unstocked, waiting
from test_shipments import at
from test_sourcing_reservations import shop

from orderflow.fulfilment import ShipmentStatus
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


def test_an_order_not_reserved_yet_is_cancelled_whole_only(service):
    customer, _ = shop(service, {})
    b = unstocked(service)
    order = to_reserve(service, customer, {b: 2}, COMPLETE)
    assert order.status == S.BACKORDERED
    with pytest.raises(Conflict) as refused:
        service.cancel_lines(order.order_id, {b: 1}, "x", key=uuid.uuid4().hex)
    assert refused.value.details == {"status": "BACKORDERED"}
    assert service.get_order(order.order_id).version == order.version
