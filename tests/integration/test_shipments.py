"""Shipments on the in-process services: one per allocated location, released with the reservation; the
warehouse picks, packs, ships (all or part) and delivers them; the order's status and lines follow."""

from __future__ import annotations

import pytest
from test_sourcing_reservations import ADDRESS, reserve, shop

from orderflow.fulfilment import LocationIn, ShipmentStatus
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.requests import OrderLineIn, ShipIn
from orderflow.platform import dynamo
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, Unprocessable
from orderflow.shared.lifecycle import ForbiddenTransition
from orderflow_cli.addresses import SAMPLE_ADDRESS

S, H = OrderStatus, ShipmentStatus


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


@pytest.fixture
def network(places):
    """Three locations (w1, w2, w3 by priority) unique to the test; closed after it (conftest.py)."""
    return places


def count_demand_from_the_stream(service, order) -> None:
    """Play the demand counter (functions/count_demand; this fixture runs no stream) over the stream records
    that made the order's shipments SHIPPED: their new images, as stored."""
    from orderflow.events import shipped

    images = [dynamo.get(service.orders_service.shipments.table, {"shipment_id": ref.shipment_id})
              for ref in order.shipments]
    changes = [(left.key, left.day, left.location_id, left.units) for image in images if (left := shipped(None, image))]
    service.orders_service.demand.count(changes)


def lines(**units: int) -> list[OrderLineIn]:
    return [OrderLineIn(sku=sku, quantity=quantity) for sku, quantity in units.items()]


def at(service, sku: str, location: str) -> tuple[int, int, int]:
    level = service.get_stock(sku).at(location)
    return level.on_hand, level.reserved, level.available


def test_the_reservation_releases_one_shipment_per_location_with_the_address_and_lines(service, network):
    w1, w2, _ = network
    customer, skus = shop(service, {("A", w1): 2, ("A", w2): 3, ("B", w2): 1})
    order = reserve(service, customer, {skus["A"]: 4, skus["B"]: 1})
    shipments = service.shipments_of(order)
    assert [(s.location_id, s.status, {li.sku: li.quantity for li in s.lines}) for s in shipments] == [
        (w1, H.RELEASED, {skus["A"]: 2}), (w2, H.RELEASED, {skus["A"]: 2, skus["B"]: 1})]
    assert all(s.address.model_dump(exclude_none=True) == SAMPLE_ADDRESS for s in shipments)
    assert all(s.order_id == order.order_id and s.customer_id == customer for s in shipments)

    pick_list, _ = service.pick_list(w2, H.RELEASED, 100, None)
    assert [s.shipment_id for s in pick_list] == [shipments[1].shipment_id]
    body = order.public()["lines"]
    assert [(li["allocated"], li["shipped"], li["backordered"]) for li in body] == [(4, 0, 0), (1, 0, 0)]


def test_a_split_order_is_partially_shipped_then_shipped_then_delivered(service, network):
    w1, w2, _ = network
    customer, skus = shop(service, {("A", w1): 1, ("A", w2): 1})
    order = reserve(service, customer, {skus["A"]: 2})
    first, second = (ref.shipment_id for ref in order.shipments)

    assert service.pick(first).status == H.PICKED
    assert service.pick(first).status == H.PICKED  # a retried pick changes nothing
    assert service.pack(first).status == H.PACKED
    assert service.pick(first).status == H.PACKED  # a late pick of a packed shipment is a retry too

    shipped, shipment = service.ship_shipment(first, ShipIn(carrier="DHL", tracking="T1"))
    assert (shipped.status, shipment.status, shipment.carrier) == (S.PARTIALLY_SHIPPED, H.SHIPPED, "DHL")
    assert at(service, skus["A"], w1) == (0, 0, 0) and at(service, skus["A"], w2) == (1, 1, 0)
    again, _ = service.ship_shipment(first, ShipIn(carrier="DHL", tracking="T1"))
    assert again == service.get_order(order.order_id) and again.version == shipped.version  # nothing twice
    assert service.pick(first).status == H.SHIPPED  # a late retry of its pick

    shipped, _ = service.ship_shipment(second, ShipIn(carrier="UPS", tracking="T2"))  # shipped unscanned
    assert shipped.status == S.SHIPPED and shipped.shipped() == {skus["A"]: 2}
    with pytest.raises(ForbiddenTransition):
        service.pick(second)  # it left without being picked: a pick now is not a retry
    with pytest.raises(Conflict) as refused:  # two on the way: the order-level route cannot choose
        service.deliver(order.order_id)
    assert {s["shipment_id"] for s in refused.value.details["shipments"]} == {first, second}

    delivered, shipment = service.deliver_shipment(first)
    assert (delivered.status, shipment.status) == (S.SHIPPED, H.DELIVERED)
    delivered, _ = service.deliver_shipment(second)
    assert delivered.status == S.DELIVERED
    assert service.deliver_shipment(second)[0] == delivered  # a retried delivery changes nothing
    line = delivered.public()["lines"][0]
    assert (line["allocated"], line["shipped"], line["delivered"]) == (0, 2, 2)
    assert [(e.status, e.reason) for e in delivered.timeline][-4:] == [
        (S.PARTIALLY_SHIPPED, f"shipped from {w1} (DHL T1)"), (S.SHIPPED, f"shipped from {w2} (UPS T2)"),
        (S.SHIPPED, f"delivered from {w1}"), (S.DELIVERED, f"delivered from {w2}")]


def test_a_partial_shipment_releases_the_rest_there_and_sources_it_elsewhere(service, network):
    w1, w2, _ = network
    customer, skus = shop(service, {("A", w1): 5, ("A", w2): 5})
    order = reserve(service, customer, {skus["A"]: 4})
    (ref,) = order.shipments
    assert ref.location_id == w1
    with pytest.raises(Unprocessable):  # more than the shipment holds: nothing changes
        service.ship_shipment(ref.shipment_id, ShipIn(lines=lines(**{skus["A"]: 5})))
    assert at(service, skus["A"], w1) == (5, 4, 1)

    after, shipment = service.ship_shipment(ref.shipment_id, ShipIn(carrier="DHL", lines=lines(**{skus["A"]: 1})))
    assert [li.quantity for li in shipment.shipped] == [1] and shipment.status == H.SHIPPED
    assert after.status == S.PARTIALLY_SHIPPED and after.backordered == {}
    assert any(e.reason.endswith("; 3 units not sent: back to sourcing") for e in after.timeline if e.reason)
    resourced = after.shipments[-1]
    assert (resourced.location_id, resourced.lines, resourced.open) == (w2, {skus["A"]: 3}, True)
    assert at(service, skus["A"], w1) == (4, 0, 4)  # one left, three released there
    assert at(service, skus["A"], w2) == (5, 3, 2)  # the rest held at the next location
    position = service.get_stock(skus["A"])
    assert (position.on_hand, position.reserved, position.available) == (9, 3, 6)

    done, _ = service.ship_shipment(resourced.shipment_id, ShipIn(carrier="DHL"))
    assert done.status == S.SHIPPED and done.shipped() == {skus["A"]: 4}
    count_demand_from_the_stream(service, done)
    count_demand_from_the_stream(service, done)  # delivered again: nothing counts twice
    by_location = service.orders_service.demand.history_by_location(skus["A"])  # demand where it left from
    assert {location: sum(days.values()) for location, days in by_location.items() if sum(days.values())} == {
        w1: 1, w2: 3}


def test_a_remainder_no_location_has_waits_for_stock_and_a_receipt_sources_it(service, network):
    w1, w2, _ = network
    customer, skus = shop(service, {("A", w1): 3})
    order = reserve(service, customer, {skus["A"]: 3})
    (ref,) = order.shipments
    service.put_location(w1, LocationIn(name="closing", address=ADDRESS, active=False))  # still ships what it has
    after, _ = service.ship_shipment(ref.shipment_id, ShipIn(lines=lines(**{skus["A"]: 1})))
    assert (after.status, after.backordered, after.open_shipments()) == (S.PARTIALLY_SHIPPED, {skus["A"]: 2}, [])
    position = service.get_stock(skus["A"])
    assert (position.on_hand, position.reserved, position.backordered) == (2, 0, 2)  # the rest waits, nothing held
    assert after.public()["lines"][0]["backordered"] == 2
    with pytest.raises(Conflict):  # nothing open to ship
        service.ship(order.order_id, ShipIn())

    service.adjust_stock(skus["A"], StockAdjustmentIn(quantity=2, reason="receipt", location_id=w2))
    assert [w["order_id"] for w in service.inventory.stock.waiting(skus["A"])] == [order.order_id]
    woken = service.reserve(order.order_id)  # what the workflow runs when the receipt wakes the order
    assert (woken.backordered, woken.shipments[-1].location_id, woken.shipments[-1].lines) == ({}, w2, {skus["A"]: 2})
    assert list(service.inventory.stock.waiting(skus["A"])) == []
    assert at(service, skus["A"], w2) == (2, 2, 0)
    done, _ = service.ship_shipment(woken.shipments[-1].shipment_id, ShipIn())
    assert done.status == S.SHIPPED and done.shipped() == {skus["A"]: 3}


def test_cancelling_a_reserved_order_cancels_its_shipments_and_releases_their_holds(service, network):
    w1, w2, _ = network
    customer, skus = shop(service, {("A", w1): 1, ("A", w2): 1})
    order = reserve(service, customer, {skus["A"]: 2})
    service.pick(order.shipments[0].shipment_id)
    cancelled = service.cancel(order.order_id, "changed my mind")
    assert [s.status for s in service.shipments_of(cancelled)] == [H.CANCELLED, H.CANCELLED]
    assert at(service, skus["A"], w1) == (1, 0, 1) and at(service, skus["A"], w2) == (1, 0, 1)
    assert service.pick_list(w1, H.RELEASED, 100, None)[0] == []
    line = cancelled.public()["lines"][0]
    assert (line["allocated"], line["cancelled"]) == (0, 2)
    with pytest.raises(Conflict):
        service.ship_shipment(order.shipments[0].shipment_id, ShipIn())


def test_the_store_refuses_a_shipment_transition_its_lifecycle_forbids(service, network):
    """Even a write built without reading the shipment cannot land a transition the table forbids."""
    w1, _, _ = network
    customer, skus = shop(service, {("A", w1): 1})
    order = reserve(service, customer, {skus["A"]: 1})
    (ref,) = order.shipments
    service.ship_shipment(ref.shipment_id, ShipIn())
    with pytest.raises(ConditionFailed):
        service.store.commit([service.orders_service.shipments.move(ref.shipment_id, w1, H.CANCELLED, by="test")])
    assert service.get_shipment(ref.shipment_id).status == H.SHIPPED


def test_the_pick_list_pages_with_a_cursor_it_issued_and_refuses_others(service, network):
    w1, _, _ = network
    customer, skus = shop(service, {("A", w1): 3})
    released = [reserve(service, customer, {skus["A"]: 1}).shipments[0].shipment_id for _ in range(3)]
    page, cursor = service.pick_list(w1, H.RELEASED, 2, None)
    rest, _ = service.pick_list(w1, H.RELEASED, 2, cursor)
    assert [s.shipment_id for s in page + rest] == released  # oldest first
    with pytest.raises(Unprocessable):
        service.pick_list(w1, H.RELEASED, 2, "bm90LWEtY3Vyc29y")
    with pytest.raises(NotFound):
        service.pick_list("no-such-location", H.RELEASED, 2, None)


def test_a_customer_credit_and_the_order_total_are_untouched_by_shipping(service, network):
    w1, _, _ = network
    customer, skus = shop(service, {("A", w1): 2})
    order = reserve(service, customer, {skus["A"]: 2})
    before = service.get_customer(customer)
    service.ship_shipment(order.shipments[0].shipment_id, ShipIn())
    assert service.get_customer(customer).credit_available == before.credit_available


def test_the_stored_shipment_item_carries_its_pick_list_key(service, network):
    w1, _, _ = network
    customer, skus = shop(service, {("A", w1): 1})
    order = reserve(service, customer, {skus["A"]: 1})
    item = dynamo.get(service.orders_service.shipments.table, {"shipment_id": order.shipments[0].shipment_id})
    assert item["at_location"] == f"{w1}#RELEASED"
