"""Returns and exchanges over HTTP, as a shop and its warehouse would use them."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.e2e


def statuses(entity: dict) -> list[str]:
    return [entry["status"] for entry in entity["timeline"]]


@pytest.fixture
def delivered(shop, e2e_stack):
    """``delivered(customer, {sku: qty})``: an order shipped and delivered, its workflow finished."""

    def deliver(customer: str, lines: dict[str, int]) -> dict:
        order = shop.submit(customer, lines)
        shop.wait(order["order_id"], "RESERVED")
        shop.client.ship(order["order_id"], carrier="UPS", tracking=f"1Z{uuid.uuid4().hex[:8]}")
        shop.client.deliver(order["order_id"])
        assert e2e_stack.wait_for_workflow(order["order_id"]) in (None, "SUCCEEDED")
        return shop.client.get_order(order["order_id"])

    return deliver


def ask_return(client: OrderflowClient, order_id: str, lines: dict[str, int],
               exchange: dict[str, int] | None = None, key: str | None = None) -> tuple[int, dict]:
    body: dict = {"lines": [{"sku": s, "quantity": q, "reason": "changed my mind"} for s, q in lines.items()]}
    if exchange:
        body["exchange"] = [{"sku": s, "quantity": q} for s, q in exchange.items()]
    response = client.request("POST", f"/orders/{order_id}/returns", json=body,
                              headers={"Idempotency-Key": key or uuid.uuid4().hex})
    return response.status_code, response.json()


def receive(client: OrderflowClient, return_id: str, *lines: tuple[str, int, str]) -> tuple[int, dict]:
    response = client.request("POST", f"/returns/{return_id}/receive", retry=True,
                              json={"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines]})
    return response.status_code, response.json()


def test_a_full_return_goes_back_on_the_shelf_and_is_refunded(shop, delivered):
    sku = shop.product("kettle", price=30, stock=4)
    customer = shop.customer()
    order = delivered(customer, {sku: 2})
    assert shop.client.get_stock(sku)["on_hand"] == 2

    status, ret = ask_return(shop.client, order["order_id"], {sku: 2})
    assert status == 201, ret
    assert (ret["status"], ret["refund_amount"]) == ("APPROVED", 60.0)
    assert shop.client.get_order(order["order_id"])["status"] == "RETURN_REQUESTED"
    exposure = shop.client.get_customer(customer)["exposure"]

    status, refunded = receive(shop.client, ret["return_id"], (sku, 2, "resellable"))

    assert status == 200, refunded
    assert statuses(refunded) == ["REQUESTED", "APPROVED", "RECEIVED", "RESTOCKED", "REFUNDED"]
    assert shop.client.request("GET", f"/returns/{ret['return_id']}").json() == refunded
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["available"]) == (4, 4)
    assert shop.client.get_customer(customer)["exposure"] == pytest.approx(exposure - 60)
    order = shop.client.get_order(order["order_id"])
    assert order["status"] == "RETURNED"
    assert [(r["return_id"], r["status"]) for r in order["returns"]] == [(ret["return_id"], "REFUNDED")]


def test_a_damaged_line_is_scrapped_not_restocked(shop, delivered):
    cup, plate = shop.product("cup", price=5, stock=6), shop.product("plate", price=8, stock=6)
    customer = shop.customer()
    order = delivered(customer, {cup: 2, plate: 2})

    _, ret = ask_return(shop.client, order["order_id"], {cup: 2, plate: 1})
    status, refunded = receive(shop.client, ret["return_id"], (cup, 2, "resellable"), (plate, 1, "damaged"))

    assert status == 200
    assert refunded["refund_amount"] == 18.0
    assert {li["sku"]: li["disposition"] for li in refunded["lines"]} == {cup: "restocked", plate: "scrapped"}
    assert refunded["scrapped"] == {plate: 1}
    assert shop.client.get_stock(cup)["on_hand"] == 6
    assert shop.client.get_stock(plate)["on_hand"] == 4


def test_returning_more_than_was_delivered_is_refused_across_returns(shop, delivered):
    sku = shop.product("lamp", price=40, stock=5)
    order = delivered(shop.customer(), {sku: 2})
    assert ask_return(shop.client, order["order_id"], {sku: 1})[0] == 201
    before = shop.client.get_order(order["order_id"])

    status, body = ask_return(shop.client, order["order_id"], {sku: 2})

    assert status == 422
    assert body["error"]["code"] == "RETURN_EXCEEDS_DELIVERED"
    assert body["error"]["details"]["lines"][0]["returnable"] == 1
    assert shop.client.get_order(order["order_id"]) == before


def test_a_return_after_the_window_is_refused(shop, delivered, e2e_stack):
    if e2e_stack.external:
        pytest.skip("needs the local stack's tables to move the delivery date back")
    sku = shop.product("chair", stock=2)
    order = delivered(shop.customer(), {sku: 1})
    stack = e2e_stack.local
    table = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    long_ago = (datetime.now(UTC) - timedelta(days=45)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    stack.boto3_client("dynamodb").update_item(
        TableName=table, Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="SET shipment.delivered_at = :at", ExpressionAttributeValues={":at": {"S": long_ago}})

    status, body = ask_return(shop.client, order["order_id"], {sku: 1})

    assert status == 422 and body["error"]["code"] == "RETURN_WINDOW_CLOSED"
    assert shop.client.get_order(order["order_id"])["returns"] == []


def test_an_exchange_is_a_new_order_linked_to_the_return(shop, delivered):
    blue, red = shop.product("blue-shirt", price=15, stock=3), shop.product("red-shirt", price=15, stock=3)
    customer = shop.customer()
    order = delivered(customer, {blue: 1})

    status, ret = ask_return(shop.client, order["order_id"], {blue: 1}, exchange={red: 1})

    assert status == 201, ret
    replacement = shop.wait(ret["exchange_order_id"], "RESERVED")
    assert replacement["channel"] == "exchange"
    assert replacement["exchange_for_return"] == ret["return_id"]
    assert [(li["sku"], li["quantity"]) for li in replacement["lines"]] == [(red, 1)]
    assert shop.client.get_order(order["order_id"])["returns"][0]["exchange_order_id"] == replacement["order_id"]
    shop.client.ship(replacement["order_id"])
    assert shop.client.deliver(replacement["order_id"])["status"] == "DELIVERED"


def test_racing_returns_never_take_back_more_than_was_delivered(shop, delivered, api_url):
    sku = shop.product("vase", price=9, stock=6)
    order = delivered(shop.customer(), {sku: 6})
    racers = 10
    barrier = threading.Barrier(racers)

    def race(_: int) -> int:
        with OrderflowClient(api_url, timeout=30) as c:
            barrier.wait(timeout=30)
            return ask_return(c, order["order_id"], {sku: 1})[0]

    with ThreadPoolExecutor(max_workers=racers) as pool:
        codes = list(pool.map(race, range(racers)))

    assert sorted(codes) == [201] * 6 + [422] * 4
    after = shop.client.get_order(order["order_id"])
    assert after["returned"] == {sku: 6} and len(after["returns"]) == 6


def test_a_return_brought_to_a_store_goes_on_that_store_s_shelf(shop, delivered):
    store = f"store-{uuid.uuid4().hex[:8]}"
    address = {"name": "Leeds store", "line1": "2 Briggate", "city": "Leeds", "postal_code": "LS1 6HD", "country": "GB"}
    assert shop.client.request("PUT", f"/locations/{store}",
                               json={"name": "Leeds store", "address": address, "kind": "store"}).status_code == 200
    sku = shop.product("lamp", price=20, stock=3)
    order = delivered(shop.customer(), {sku: 1})
    status, ret = ask_return(shop.client, order["order_id"], {sku: 1})
    assert status == 201, ret

    unknown = shop.client.request("POST", f"/returns/{ret['return_id']}/receive",
                                  json={"lines": [{"sku": sku, "quantity": 1, "condition": "resellable"}],
                                        "location_id": "nowhere"})
    assert unknown.status_code == 422 and "nowhere" in unknown.text  # and nothing received
    assert shop.client.request("GET", f"/returns/{ret['return_id']}").json()["status"] == "APPROVED"

    received = shop.client.request("POST", f"/returns/{ret['return_id']}/receive",
                                   json={"lines": [{"sku": sku, "quantity": 1, "condition": "resellable"}],
                                         "location_id": store})
    assert received.status_code == 200, received.text
    levels = {lv["location_id"]: lv for lv in shop.client.get_stock(sku)["locations"]}
    assert (levels[store]["on_hand"], levels[store]["available"]) == (1, 1)
    assert levels["main"]["on_hand"] == 2  # shipped from main; it came back to the store
