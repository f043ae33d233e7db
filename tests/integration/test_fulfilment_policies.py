"""Fulfilment policies on the in-process services (docs/fulfilment.md, "Fulfilment policies"): a ship_available
order holds what is in stock now and releases shipments for it (PARTIALLY_RESERVED), the rest waits for stock;
a receipt sources the rest into new shipments; its shipments ship meanwhile; cancelling gives everything back.
The default, ship_complete, holds nothing until every line can be."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from test_shipments import at
from test_sourcing_reservations import shop

from orderflow.catalogue.requests import ProductIn
from orderflow.fulfilment import FulfilmentPolicy, ShipmentStatus
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.requests import OrderLineIn, ShipIn, SubmitOrderIn
from orderflow.shared.errors import Conflict, OutOfStock
from orderflow_cli.addresses import SAMPLE_ADDRESS

S, H = OrderStatus, ShipmentStatus
AVAILABLE, COMPLETE = FulfilmentPolicy.SHIP_AVAILABLE, FulfilmentPolicy.SHIP_COMPLETE


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def unstocked(service) -> str:
    sku = f"U-{uuid.uuid4().hex[:8]}"
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(5)))
    return sku


def submit(service, customer: str, units: dict[str, int], policy: FulfilmentPolicy, key: str | None = None):
    request = SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS, fulfilment_policy=policy,
                            lines=[OrderLineIn(sku=s, quantity=q) for s, q in units.items()])
    return service.submit(request, key or uuid.uuid4().hex)


def to_reserve(service, customer: str, units: dict[str, int], policy: FulfilmentPolicy):
    """Submit and run the workflow's steps up to Reserve (OutOfStock then: Backorder, as the ASL does)."""
    order = submit(service, customer, units, policy)
    for step in (service.validate, service.check_credit):
        order = step(order.order_id, order)
    try:
        return service.reserve(order.order_id, order)
    except OutOfStock:
        return service.await_stock(order.order_id)


def waiting(service, sku: str) -> dict[str, int]:
    return {w["order_id"]: int(w["quantity"]) for w in service.inventory.stock.waiting(sku)}


def test_ship_available_holds_what_is_in_stock_and_backorders_the_rest(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 2})
    a, b = skus["A"], unstocked(service)
    order = to_reserve(service, customer, {a: 3, b: 1}, AVAILABLE)
    assert order.status == S.PARTIALLY_RESERVED and order.fulfilment_policy == AVAILABLE
    assert (order.allocations, order.backordered) == ({w1: {a: 2}}, {a: 1, b: 1})
    (shipment,) = service.shipments_of(order)
    assert (shipment.location_id, shipment.status, [(li.sku, li.quantity) for li in shipment.lines]) == (
        w1, H.RELEASED, [(a, 2)])
    assert [(li["allocated"], li["backordered"]) for li in order.public()["lines"]] == [(2, 1), (0, 1)]
    assert at(service, a, w1) == (2, 2, 0)
    assert (service.get_stock(a).backordered, service.get_stock(b).backordered) == (1, 1)
    assert waiting(service, a) == {order.order_id: 1} and waiting(service, b) == {order.order_id: 1}
    assert service.reserve(order.order_id).version == order.version  # a duplicate run, nothing new in stock


def test_ship_complete_with_the_same_stock_holds_nothing(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 2})
    order = to_reserve(service, customer, {skus["A"]: 3, unstocked(service): 1}, COMPLETE)
    assert order.status == S.BACKORDERED and order.shipments == []
    assert at(service, skus["A"], w1) == (2, 0, 2)


def test_receipts_source_the_rest_into_new_shipments_until_it_is_reserved(service, places):
    w1, w2, _ = places
    customer, skus = shop(service, {("A", w1): 2})
    a, b = skus["A"], unstocked(service)
    order = to_reserve(service, customer, {a: 3, b: 1}, AVAILABLE)

    service.adjust_stock(a, StockAdjustmentIn(quantity=1, reason="receipt", location_id=w2))
    more = service.reserve(order.order_id)  # what the workflow runs when the receipt wakes the order
    assert more.status == S.PARTIALLY_RESERVED and more.backordered == {b: 1}
    assert (more.shipments[-1].location_id, more.shipments[-1].lines) == (w2, {a: 1})
    assert waiting(service, a) == {} and waiting(service, b) == {more.order_id: 1}

    service.adjust_stock(b, StockAdjustmentIn(quantity=4, reason="receipt", location_id=w1))
    whole = service.reserve(order.order_id)
    assert whole.status == S.RESERVED and whole.backordered == {}
    assert (whole.shipments[-1].location_id, whole.shipments[-1].lines) == (w1, {b: 1})
    assert [len(s.lines) for s in service.shipments_of(whole)] == [1, 1, 1]
    assert waiting(service, b) == {} and service.get_stock(b).backordered == 0
    assert at(service, b, w1) == (4, 1, 3)
    assert [li["allocated"] for li in whole.public()["lines"]] == [3, 1]
    assert service.reserve(order.order_id).version == whole.version  # a retried wake changes nothing


def test_a_backordered_ship_available_order_takes_the_part_a_receipt_brings(service, places):
    w1, *_ = places
    customer, _ = shop(service, {})
    a, b = unstocked(service), unstocked(service)
    order = to_reserve(service, customer, {a: 2, b: 2}, AVAILABLE)
    assert order.status == S.BACKORDERED  # nothing in stock: nothing to ship yet
    service.adjust_stock(a, StockAdjustmentIn(quantity=5, reason="receipt", location_id=w1))
    woken = service.reserve(order.order_id)
    assert (woken.status, woken.allocations, woken.backordered) == (S.PARTIALLY_RESERVED, {w1: {a: 2}}, {b: 2})
    assert waiting(service, a) == {} and waiting(service, b) == {order.order_id: 2}


def test_its_shipments_ship_while_the_rest_waits_then_the_rest_ships(service, places):
    w1, w2, _ = places
    customer, skus = shop(service, {("A", w1): 1})
    a = skus["A"]
    order = to_reserve(service, customer, {a: 3}, AVAILABLE)
    first = service.ship(order.order_id, ShipIn(carrier="UPS", tracking="1Z"))  # its one open shipment
    assert (first.status, first.backordered, first.deadline) == (S.PARTIALLY_SHIPPED, {a: 2}, None)
    assert [(li["shipped"], li["backordered"]) for li in first.public()["lines"]] == [(1, 2)]
    assert waiting(service, a) == {order.order_id: 2}

    service.adjust_stock(a, StockAdjustmentIn(quantity=2, reason="receipt", location_id=w2))
    rest = service.reserve(order.order_id)
    assert (rest.status, rest.shipments[-1].location_id, rest.backordered) == (S.PARTIALLY_SHIPPED, w2, {})
    done, _ = service.ship_shipment(rest.shipments[-1].shipment_id, ShipIn())
    assert done.status == S.SHIPPED and done.shipped() == {a: 3}


def test_cancelling_a_partially_reserved_order_gives_back_holds_waits_and_credit(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 2})
    a = skus["A"]
    credit = service.get_customer(customer).credit_available
    order = to_reserve(service, customer, {a: 5}, AVAILABLE)
    assert service.get_customer(customer).credit_available == credit - order.total
    cancelled = service.cancel(order.order_id, "changed my mind")
    assert cancelled.status == S.CANCELLED
    assert [s.status for s in service.shipments_of(cancelled)] == [H.CANCELLED]
    assert at(service, a, w1) == (2, 0, 2) and waiting(service, a) == {}
    assert service.get_customer(customer).credit_available == credit
    assert cancelled.public()["lines"][0]["cancelled"] == 5


def test_a_retried_submit_with_another_policy_is_refused(service, places):
    w1, *_ = places
    customer, skus = shop(service, {("A", w1): 1})
    key = uuid.uuid4().hex
    submit(service, customer, {skus["A"]: 1}, AVAILABLE, key)
    with pytest.raises(Conflict):
        submit(service, customer, {skus["A"]: 1}, COMPLETE, key)
    assert submit(service, customer, {skus["A"]: 1}, AVAILABLE, key).fulfilment_policy == AVAILABLE
