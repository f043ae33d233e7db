"""Cancelling some units over HTTP, through the real handlers: the order's lines say what was cancelled, the
shipment shrinks, the stock and credit come back; bad requests are clear 4xx that change nothing; a retry with
the same Idempotency-Key changes nothing twice; a partially shipped order cancels what has not left."""

from __future__ import annotations

import uuid

import pytest

from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.e2e


def cancel(client: OrderflowClient, order_id: str, lines: dict[str, int], key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"reason": "fewer please", "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    return client.request("POST", f"/orders/{order_id}/cancel", headers=headers, json=body)


def test_cancelling_some_units_of_a_reserved_order(shop):
    client = shop.client
    kettle, mug = shop.product("kettle", price=20, stock=5), shop.product("mug", price=5, stock=2)
    customer = shop.customer(credit_limit=1_000)
    order_id = shop.submit(customer, {kettle: 3, mug: 2})["order_id"]
    order = shop.wait(order_id, "RESERVED")
    exposure = client.get_customer(customer)["credit_available"]

    assert cancel(client, order_id, {kettle: 1}, None).status_code == 422  # the key is required
    unknown = cancel(client, order_id, {"nope": 1}, "k0")
    assert unknown.status_code == 422 and unknown.json()["error"]["details"] == {"unknown_skus": ["nope"]}
    too_many = cancel(client, order_id, {kettle: 4}, "k0")
    assert too_many.status_code == 409 and too_many.json()["error"]["details"] == {"cancellable": {kettle: 3}}
    assert client.get_order(order_id)["version"] == order["version"]  # nothing changed

    key = uuid.uuid4().hex
    for _ in range(2):  # the second is a retry: nothing twice
        answer = cancel(client, order_id, {kettle: 1, mug: 2}, key)
        assert answer.status_code == 200, answer.text
    after = client.get_order(order_id)
    assert after["status"] == "RESERVED" and float(after["total"]) == 40
    assert [(li["sku"], li["allocated"], li["cancelled"]) for li in after["lines"]] == [(kettle, 2, 1), (mug, 0, 2)]
    (shipment,) = after["shipments"]
    assert shipment["lines"] == [{"sku": kettle, "quantity": 2}]
    assert client.get_stock(kettle)["reserved"] == 2 and client.get_stock(mug)["available"] == 2
    assert float(client.get_customer(customer)["credit_available"]) == float(exposure) + 30


def test_a_partially_shipped_order_cancels_what_has_not_left(shop, client: OrderflowClient):
    tag = uuid.uuid4().hex[:6]
    address = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}
    north, south = f"north-{tag}", f"south-{tag}"
    for priority, name in enumerate((north, south), start=1):
        client.put_location(name, name, address, priority=priority)
    try:
        sku = shop.product("kettle", price=20)
        client.adjust_stock(sku, 1, reason="receipt", location_id=north)
        client.adjust_stock(sku, 2, reason="receipt", location_id=south)
        order_id = shop.submit(shop.customer(), {sku: 3})["order_id"]
        order = shop.wait(order_id, "RESERVED")
        first = next(s for s in order["shipments"] if s["location_id"] == north)
        client.ship_shipment(first["shipment_id"])
        assert cancel(client, order_id, {sku: 3}, "k1").status_code == 409  # one left already
        done = client.cancel(order_id, "no longer needed", lines={sku: 2})
        assert done["status"] == "SHIPPED"
        line = done["lines"][0]
        assert (line["shipped"], line["cancelled"], line["allocated"]) == (1, 2, 0)
        rest = next(s for s in client.get_order(order_id)["shipments"] if s["location_id"] == south)
        assert rest["status"] == "CANCELLED"
        south_level = next(lv for lv in client.get_stock(sku)["locations"] if lv["location_id"] == south)
        assert (south_level["reserved"], south_level["available"]) == (0, 2)
    finally:
        for name in (north, south):
            client.put_location(name, "closed", address, active=False)


def test_a_backordered_order_cancels_some_units_and_the_receipt_reserves_the_rest(shop):
    """Over HTTP through the real workflow: a whole backorder is cancelled in part (it was a 409 before), the
    SKU's backordered count and the customer's credit follow, and a receipt of what is still owed reserves it."""
    client = shop.client
    kettle = shop.product("kettle", price=20)
    customer = shop.customer(credit_limit=1_000)
    order_id = shop.submit(customer, {kettle: 3})["order_id"]
    shop.wait(order_id, "BACKORDERED")
    available = float(client.get_customer(customer)["credit_available"])

    key = uuid.uuid4().hex
    for _ in range(2):  # the second is a retry: nothing twice
        answer = cancel(client, order_id, {kettle: 2}, key)
        assert answer.status_code == 200, answer.text
    order = answer.json()
    assert order["status"] == "BACKORDERED" and float(order["total"]) == 20
    assert [(li["backordered"], li["cancelled"]) for li in order["lines"]] == [(1, 2)]
    assert client.get_stock(kettle)["backordered"] == 1
    assert float(client.get_customer(customer)["credit_available"]) == available + 40

    client.adjust_stock(kettle, 1, reason="receipt")
    reserved = shop.wait(order_id, "RESERVED")
    assert [(li["allocated"], li["cancelled"]) for li in reserved["lines"]] == [(1, 2)]
    assert client.get_stock(kettle)["available"] == 0 and client.get_stock(kettle)["backordered"] == 0
