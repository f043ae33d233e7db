"""Fulfilment policies over HTTP, through the real workflow and handlers: a ship_available order holds what is
in stock and its warehouse ships that part while the rest waits (PARTIALLY_RESERVED, then PARTIALLY_SHIPPED);
a receipt elsewhere wakes it and the rest is released there in a new shipment, which ships (SHIPPED). The
default ship_complete order holds nothing while a line is short."""

from __future__ import annotations

import time
import uuid

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.e2e
WAIT = 30.0  # seconds a receipt may take to wake the order through the queue and the workflow

ADDRESS = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}


@pytest.fixture
def network(client: OrderflowClient):
    """Two warehouses unique to the test; closed after it so no other test sources from them."""
    tag = uuid.uuid4().hex[:6]
    names = [f"north-{tag}", f"south-{tag}"]
    for priority, name in enumerate(names, start=1):
        client.put_location(name, name, ADDRESS, priority=priority)
    yield names
    for name in names:
        client.put_location(name, "closed", ADDRESS, active=False)


def submit(client: OrderflowClient, customer: str, lines: dict[str, int], policy: str | None) -> dict:
    status, body = client.submit_order(customer, [{"sku": s, "quantity": q} for s, q in lines.items()],
                                       shipping_address=SAMPLE_ADDRESS, fulfilment_policy=policy)
    assert status == 201, body
    return body


def until(client: OrderflowClient, order_id: str, done) -> dict:
    """Poll the order until ``done(order)``: a receipt wakes it asynchronously."""
    deadline = time.monotonic() + WAIT
    while not done(order := client.get_order(order_id)):
        assert time.monotonic() < deadline, order
        time.sleep(0.1)
    return order


def test_ship_available_ships_what_is_in_stock_then_the_rest_when_it_arrives(shop, network):
    client, (north, south) = shop.client, network
    kettle, mug = shop.product("kettle", price=20), shop.product("mug", price=5)
    client.adjust_stock(kettle, 2, reason="receipt", location_id=north)
    customer = shop.customer()
    order_id = submit(client, customer, {kettle: 3, mug: 1}, "ship_available")["order_id"]
    order = shop.wait(order_id, "PARTIALLY_RESERVED")
    assert order["fulfilment_policy"] == "ship_available"
    assert [(li["allocated"], li["backordered"]) for li in order["lines"]] == [(2, 1), (0, 1)]
    (first,) = order["shipments"]
    assert (first["location_id"], first["status"], first["lines"]) == (north, "RELEASED", [{"sku": kettle,
                                                                                             "quantity": 2}])
    assert client.get_stock(mug)["backordered"] == 1

    shipped = client.ship_shipment(first["shipment_id"], carrier="DHL", tracking="T1")
    assert shipped["status"] == "SHIPPED"
    partly = client.get_order(order_id)
    assert partly["status"] == "PARTIALLY_SHIPPED"
    assert [(li["shipped"], li["backordered"]) for li in partly["lines"]] == [(2, 1), (0, 1)]

    client.adjust_stock(kettle, 1, reason="receipt", location_id=south)
    client.adjust_stock(mug, 1, reason="receipt", location_id=south)
    rest = until(client, order_id, lambda o: not any(li["backordered"] for li in o["lines"]))
    later = rest["shipments"][1:]  # one per wake-up: each receipt wakes the order on its own
    assert {(s["location_id"], s["status"]) for s in later} == {(south, "RELEASED")}
    assert sorted((li["sku"], li["quantity"]) for s in later for li in s["lines"]) == sorted([(kettle, 1), (mug, 1)])
    for shipment in later:
        client.ship_shipment(shipment["shipment_id"])
    done = client.get_order(order_id)
    assert done["status"] == "SHIPPED" and [li["shipped"] for li in done["lines"]] == [3, 1]
    assert client.get_stock(mug)["backordered"] == 0


def test_ship_complete_is_the_default_and_holds_nothing_while_a_line_is_short(shop, network):
    client, (north, _) = shop.client, network
    kettle, mug = shop.product("kettle", price=20), shop.product("mug", price=5)
    client.adjust_stock(kettle, 2, reason="receipt", location_id=north)
    order_id = submit(client, shop.customer(), {kettle: 2, mug: 1}, None)["order_id"]
    order = shop.wait(order_id, "BACKORDERED")
    assert order["fulfilment_policy"] == "ship_complete" and order["shipments"] == []
    north_level = next(lv for lv in client.get_stock(kettle)["locations"] if lv["location_id"] == north)
    assert north_level["reserved"] == 0


def test_an_unknown_policy_is_a_422_naming_the_field(shop):
    status, body = shop.client.submit_order(shop.customer(), [{"sku": shop.product(), "quantity": 1}],
                                            shipping_address=SAMPLE_ADDRESS, fulfilment_policy="ship_whenever")
    assert status == 422 and "fulfilment_policy" in str(body["error"])
