"""Reservations across locations, on the in-process services: one location when one can fill the order,
else the fewest; the holds sit at the locations chosen, and cancelling or shipping moves stock there."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.fulfilment import LocationIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.domain import order_id_for
from orderflow.orders.requests import OrderLineIn, ShipIn, SubmitOrderIn
from orderflow.shared.errors import Conflict, NotFound, OutOfStock, TransactionLimitExceeded
from orderflow_cli.addresses import SAMPLE_ADDRESS

S = OrderStatus
ADDRESS = {"name": "DC", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


@pytest.fixture
def network(service):
    """Two warehouses (w1 first choice, w2 second), beside the main location, unique to the test."""
    tag = uuid.uuid4().hex[:6]
    w1, w2 = f"w1-{tag}", f"w2-{tag}"
    service.put_location(w1, LocationIn(name="First", address=ADDRESS, priority=1))
    service.put_location(w2, LocationIn(name="Second", address=ADDRESS, priority=2))
    yield w1, w2
    for location in (w1, w2):  # other tests' orders must not be sourced from these
        service.put_location(location, LocationIn(name="closed", address=ADDRESS, active=False))


def shop(service, stock: dict[tuple[str, str], int]) -> tuple[str, dict[str, str]]:
    customer = f"C-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(10_000)))
    skus = {}
    for sku_name, location in stock:
        sku = skus.setdefault(sku_name, f"{sku_name}-{uuid.uuid4().hex[:8]}")
        service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(5)))
        service.adjust_stock(sku, StockAdjustmentIn(quantity=stock[sku_name, location], reason="receipt",
                                                    location_id=location))
    return customer, skus


def reserve(service, customer: str, lines: dict[str, int]):
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=s, quantity=q)
                                                                      for s, q in lines.items()]),
                           uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    return order


def test_an_order_that_could_split_past_the_transaction_limit_is_refused_at_submit(service, network):
    """With 3 or more active locations, 25 lines of 3 units could take 1 + 75 holds + 3 shipments + 25 waits
    = 104 items in one reservation: refused before anything is stored. The same lines of 1 unit (at most
    1 + 25 + 3 + 25 = 54 items, a few more with more locations) are accepted."""
    customer = f"C-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100_000)))
    skus = [f"L-{uuid.uuid4().hex[:8]}" for _ in range(25)]
    for sku in skus:
        service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(1)))

    def submit(quantity: int, key: str):
        return service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                            lines=[OrderLineIn(sku=s, quantity=quantity) for s in skus]), key)

    key = uuid.uuid4().hex
    with pytest.raises(TransactionLimitExceeded) as refused:
        submit(3, key)
    assert refused.value.http_status == 422
    assert refused.value.code == "TRANSACTION_ITEM_LIMIT_EXCEEDED"
    details = refused.value.details
    assert details["active_locations"] >= 3 and details["worst_case_items"] >= 104
    assert details["max_items"] == 100 and details["lines"] == 25
    with pytest.raises(NotFound):  # nothing stored
        service.get_order(order_id_for(customer, key))
    assert submit(1, uuid.uuid4().hex).status == S.PENDING


def test_one_location_fills_the_order_when_one_can(service, network):
    w1, w2 = network
    customer, skus = shop(service, {("A", w1): 2, ("A", w2): 5, ("B", w2): 3})
    order = reserve(service, customer, {skus["A"]: 2, skus["B"]: 1})
    assert order.status == S.RESERVED
    assert order.allocations == {w2: {skus["A"]: 2, skus["B"]: 1}}  # w1 ranks first but has no B
    position = service.get_stock(skus["A"])
    assert (position.at(w2).reserved, position.at(w2).available, position.at(w1).available) == (2, 3, 2)
    assert (position.on_hand, position.reserved, position.available) == (7, 2, 5)  # totals = sums


def test_else_the_fewest_locations_and_holds_go_back_where_they_were_taken(service, network):
    w1, w2 = network
    customer, skus = shop(service, {("A", w1): 2, ("A", w2): 3})
    order = reserve(service, customer, {skus["A"]: 4})
    assert order.allocations == {w1: {skus["A"]: 2}, w2: {skus["A"]: 2}}
    assert "split across 2 locations" in order.timeline[-1].reason

    cancelled = service.cancel(order.order_id, "changed my mind")
    assert cancelled.status == S.CANCELLED
    position = service.get_stock(skus["A"])
    assert [(lv.location_id, lv.available, lv.reserved) for lv in position.locations] == [(w1, 2, 0), (w2, 3, 0)]


def test_shipping_takes_the_goods_from_the_locations_that_hold_them(service, network):
    w1, w2 = network
    customer, skus = shop(service, {("A", w1): 1, ("A", w2): 2})
    order = reserve(service, customer, {skus["A"]: 3})
    with pytest.raises(Conflict) as refused:  # two shipments: the order-level route cannot choose
        service.ship(order.order_id, ShipIn(carrier="DHL", tracking="1"))
    assert [s["location_id"] for s in refused.value.details["shipments"]] == [w1, w2]
    for ref in order.shipments:
        service.ship_shipment(ref.shipment_id, ShipIn(carrier="DHL", tracking="1"))
    position = service.get_stock(skus["A"])
    assert [(lv.location_id, lv.on_hand, lv.reserved) for lv in position.locations] == [(w1, 0, 0), (w2, 0, 0)]


def test_short_everywhere_backorders_without_holding_anything(service, network):
    w1, w2 = network
    customer, skus = shop(service, {("A", w1): 1, ("A", w2): 1})
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=skus["A"], quantity=3)]),
                           uuid.uuid4().hex)
    for step in (service.validate, service.check_credit):
        order = step(order.order_id, order)
    with pytest.raises(OutOfStock):
        service.reserve(order.order_id, order)
    assert service.get_stock(skus["A"]).reserved == 0


def test_an_inactive_location_is_never_allocated_from(service, network):
    w1, w2 = network
    customer, skus = shop(service, {("A", w1): 5, ("A", w2): 5})
    service.put_location(w1, LocationIn(name="Closed for stocktake", address=ADDRESS, priority=1, active=False))
    order = reserve(service, customer, {skus["A"]: 2})
    assert order.allocations == {w2: {skus["A"]: 2}}


def test_between_equal_priorities_the_location_in_the_ship_to_country_wins(service, network):
    w1, w2 = network
    berlin = {**ADDRESS, "city": "Berlin", "postal_code": "10115", "country": "DE"}
    service.put_location(w2, LocationIn(name="Berlin", address=berlin, priority=1))  # same priority as w1 (GB)
    customer, skus = shop(service, {("A", w1): 5, ("A", w2): 5})
    to_germany = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=berlin,
                                              lines=[OrderLineIn(sku=skus["A"], quantity=1)]), uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        to_germany = step(to_germany.order_id, to_germany)
    assert to_germany.allocations == {w2: {skus["A"]: 1}}
    to_britain = reserve(service, customer, {skus["A"]: 1})  # ships to the sample address in GB
    assert to_britain.allocations == {w1: {skus["A"]: 1}}
