"""The demo's scenarios, one test each, over HTTP against the running offline stack."""

from __future__ import annotations

import uuid

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import ApiError

pytestmark = pytest.mark.e2e


def statuses(order: dict) -> list[str]:
    return [entry["status"] for entry in order["timeline"]]


def test_happy_order_is_reserved_shipped_and_delivered(shop):
    widget = shop.product("widget", price=12.5, stock=10)
    gadget = shop.product("gadget", price=89, stock=3)
    customer = shop.customer(credit_limit=1000)

    created = shop.submit(customer, {widget: 2, gadget: 1})
    assert created["total"] == 114.0
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in created["lines"]] == [
        (widget, 2, 12.5), (gadget, 1, 89.0)]

    shop.wait(created["order_id"], "RESERVED")
    assert shop.client.get_stock(widget)["reserved"] == 2
    assert shop.client.get_stock(widget)["available"] == 8
    assert shop.client.get_customer(customer)["exposure"] == 114.0

    shipped = shop.client.ship(created["order_id"], carrier="DHL", tracking="JD0001")
    assert shipped["status"] == "SHIPPED"
    assert shipped["shipment"]["carrier"] == "DHL" and shipped["shipment"]["tracking"] == "JD0001"
    delivered = shop.client.deliver(created["order_id"])
    assert delivered["status"] == "DELIVERED"

    order = shop.client.get_order(created["order_id"])
    assert order["status"] == "DELIVERED"
    assert statuses(order) == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED", "SHIPPED", "DELIVERED"]
    assert all(entry["at"] for entry in order["timeline"])
    assert order["shipment"]["shipped_at"] and order["shipment"]["delivered_at"]
    stock = shop.client.get_stock(widget)
    totals = {"on_hand": 8, "reserved": 0, "available": 8, "on_order": 0, "backordered": 0}
    assert {k: stock[k] for k in totals} == totals
    assert [{k: level[k] for k in ("location_id", *totals)} for level in stock["locations"]] == [
        {"location_id": "main", **totals}]  # no location named: everything at the main location
    assert shop.client.get_stock(gadget)["on_hand"] == 2
    listed = shop.client.list_orders(customer)["orders"]
    assert [o["order_id"] for o in listed] == [created["order_id"]]


def test_order_over_credit_limit_is_rejected_and_holds_nothing(shop):
    sku = shop.product("gadget", price=89, stock=5)
    customer = shop.customer("small", credit_limit=50)

    created = shop.submit(customer, {sku: 1})
    order = shop.wait(created["order_id"], "REJECTED")

    assert "credit" in (order["timeline"][-1].get("reason") or "").lower()
    assert "RESERVED" not in statuses(order)
    assert shop.client.get_stock(sku)["reserved"] == 0
    assert shop.client.get_stock(sku)["available"] == 5
    assert shop.client.get_customer(customer)["exposure"] == 0
    with pytest.raises(ApiError) as refused:
        shop.client.ship(created["order_id"])
    assert refused.value.status == 409


def test_order_with_unknown_sku_is_refused_and_not_stored(shop):
    sku = shop.product("widget", stock=5)
    customer = shop.customer()
    missing = f"{shop.prefix}-missing"

    status, body = shop.client.submit_order(customer, [{"sku": sku, "quantity": 1}, {"sku": missing, "quantity": 1}],
                                            shipping_address=SAMPLE_ADDRESS)

    assert status == 422
    assert body["error"]["code"] == "UNPROCESSABLE"
    assert body["error"]["details"]["unknown_skus"] == [missing]
    assert body["error"]["message"]
    assert shop.client.list_orders(customer)["orders"] == []
    assert shop.client.get_stock(sku)["reserved"] == 0


def test_order_for_unknown_customer_is_refused_and_not_stored(shop):
    sku = shop.product("widget", stock=5)
    stranger = f"{shop.prefix}-stranger"

    status, body = shop.client.submit_order(stranger, [{"sku": sku, "quantity": 1}], shipping_address=SAMPLE_ADDRESS)

    assert status == 422
    assert body["error"]["code"] == "UNPROCESSABLE"
    assert body["error"]["details"]["unknown_customer"] == stranger
    assert shop.client.list_orders(stranger)["orders"] == []


def test_order_larger_than_stock_backorders_until_a_receipt_then_ships(shop):
    sku = shop.product("sprocket", price=7.25, stock=6)
    customer = shop.customer()

    created = shop.submit(customer, {sku: 10})
    backordered = shop.wait(created["order_id"], "BACKORDERED")
    assert statuses(backordered)[-1] == "BACKORDERED"
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["backordered"]) == (6, 0, 6, 10)

    with pytest.raises(ApiError) as refused:
        shop.client.ship(created["order_id"])
    assert refused.value.status == 409

    received = shop.client.adjust_stock(sku, 20, reason="supplier delivery")
    assert received["on_hand"] == 26

    shop.wait(created["order_id"], "RESERVED")
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["backordered"]) == (26, 10, 16, 0)

    shop.client.ship(created["order_id"])
    shop.client.deliver(created["order_id"])
    order = shop.client.get_order(created["order_id"])
    assert order["status"] == "DELIVERED"
    assert statuses(order) == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED", "RESERVED", "SHIPPED",
                               "DELIVERED"]
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["backordered"]) == (16, 0, 16, 0)


def test_receipt_too_small_leaves_the_order_backordered(shop):
    sku = shop.product("sprocket", stock=2)
    customer = shop.customer()
    created = shop.submit(customer, {sku: 5})
    shop.wait(created["order_id"], "BACKORDERED")

    shop.client.adjust_stock(sku, 1, reason="partial delivery")  # 3 on hand, 5 wanted

    assert shop.client.get_order(created["order_id"])["status"] == "BACKORDERED"
    shop.client.adjust_stock(sku, 2, reason="rest of the delivery")
    shop.wait(created["order_id"], "RESERVED")
    assert shop.client.get_stock(sku)["available"] == 0


def test_cancelled_order_gives_its_stock_back_and_cannot_ship(shop):
    sku = shop.product("gizmo", price=24.9, stock=25)
    customer = shop.customer()
    created = shop.submit(customer, {sku: 3})
    shop.wait(created["order_id"], "RESERVED")
    assert shop.client.get_stock(sku)["available"] == 22

    cancelled = shop.client.cancel(created["order_id"], reason="changed my mind")

    assert cancelled["status"] == "CANCELLED"
    assert cancelled["timeline"][-1]["reason"] == "changed my mind"
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (25, 0, 25)
    assert shop.client.get_customer(customer)["exposure"] == 0
    assert shop.client.cancel(created["order_id"])["status"] == "CANCELLED"  # cancelling twice is fine
    with pytest.raises(ApiError) as refused:
        shop.client.ship(created["order_id"])
    assert refused.value.status == 409
    assert refused.value.code == "CONFLICT"
    assert shop.client.get_order(created["order_id"])["status"] == "CANCELLED"
    assert shop.client.get_stock(sku)["on_hand"] == 25


def test_cancelling_a_backordered_order_clears_the_backorder(shop):
    sku = shop.product("sprocket", stock=1)
    customer = shop.customer()
    created = shop.submit(customer, {sku: 4})
    shop.wait(created["order_id"], "BACKORDERED")

    shop.client.cancel(created["order_id"])

    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["backordered"]) == (1, 0, 0)
    shop.client.adjust_stock(sku, 10, reason="receipt after the cancel")
    assert shop.client.get_order(created["order_id"])["status"] == "CANCELLED"
    assert shop.client.get_stock(sku)["reserved"] == 0


def test_shipped_order_can_no_longer_be_cancelled(shop):
    sku = shop.product("widget", stock=5)
    customer = shop.customer()
    created = shop.submit(customer, {sku: 1})
    shop.wait(created["order_id"], "RESERVED")
    shop.client.ship(created["order_id"])

    with pytest.raises(ApiError) as refused:
        shop.client.cancel(created["order_id"])

    assert refused.value.status == 409
    assert refused.value.message
    assert shop.client.get_order(created["order_id"])["status"] == "SHIPPED"
    assert shop.client.get_stock(sku)["on_hand"] == 4


def test_delivering_before_shipping_is_refused(shop):
    sku = shop.product("widget", stock=5)
    customer = shop.customer()
    created = shop.submit(customer, {sku: 1})
    shop.wait(created["order_id"], "RESERVED")

    with pytest.raises(ApiError) as refused:
        shop.client.deliver(created["order_id"])

    assert refused.value.status == 409
    assert shop.client.get_order(created["order_id"])["status"] == "RESERVED"


def test_same_idempotency_key_and_body_gives_the_same_single_order(shop):
    sku = shop.product("widget", price=12.5, stock=5)
    customer = shop.customer()
    key = f"key-{uuid.uuid4()}"
    lines = [{"sku": sku, "quantity": 1}]

    first_status, first = shop.client.submit_order(customer, lines, idempotency_key=key,
                                                   shipping_address=SAMPLE_ADDRESS)
    second_status, second = shop.client.submit_order(customer, lines, idempotency_key=key,
                                                     shipping_address=SAMPLE_ADDRESS)

    assert first_status == 201
    assert second_status in (200, 201)
    assert second["order_id"] == first["order_id"]
    assert [o["order_id"] for o in shop.client.list_orders(customer)["orders"]] == [first["order_id"]]
    shop.wait(first["order_id"], "RESERVED")
    assert shop.client.get_stock(sku)["reserved"] == 1  # reserved once, not twice


def test_same_idempotency_key_with_another_body_is_refused(shop):
    sku = shop.product("widget", stock=5)
    customer = shop.customer()
    key = f"key-{uuid.uuid4()}"
    _, first = shop.client.submit_order(customer, [{"sku": sku, "quantity": 1}], idempotency_key=key,
                                        shipping_address=SAMPLE_ADDRESS)

    status, body = shop.client.submit_order(customer, [{"sku": sku, "quantity": 2}], idempotency_key=key,
                                            shipping_address=SAMPLE_ADDRESS)

    assert status in (409, 422)
    assert body["error"]["code"] and body["error"]["message"]
    assert [o["order_id"] for o in shop.client.list_orders(customer)["orders"]] == [first["order_id"]]
    order = shop.wait(first["order_id"], "RESERVED")
    assert [li["quantity"] for li in order["lines"]] == [1]


def test_unknown_order_is_404(client):
    with pytest.raises(ApiError) as missing:
        client.get_order(f"ord-{uuid.uuid4().hex[:20]}")
    assert missing.value.status == 404
    assert missing.value.code == "NOT_FOUND"


def test_orders_list_pages_with_a_cursor(shop):
    sku = shop.product("widget", stock=50)
    customer = shop.customer()
    ids = {shop.submit(customer, {sku: 1})["order_id"] for _ in range(3)}

    first = shop.client.list_orders(customer, limit=2)
    assert len(first["orders"]) == 2 and first["next_cursor"]
    rest = shop.client.list_orders(customer, limit=2, cursor=first["next_cursor"])

    seen = [o["order_id"] for o in first["orders"] + rest["orders"]]
    assert sorted(seen) == sorted(ids)
    assert all(o["customer_id"] == customer for o in first["orders"] + rest["orders"])


def test_cancel_straight_after_submit_holds_nothing_once_the_workflow_ends(shop, e2e_stack):
    sku = shop.product("widget", price=10, stock=5)
    customer = shop.customer(credit_limit=100)
    created = shop.submit(customer, {sku: 2})

    cancelled = shop.client.cancel(created["order_id"])  # the workflow is still on its way
    assert cancelled["status"] == "CANCELLED"

    e2e_stack.wait_for_workflow(created["order_id"])
    order = shop.client.get_order(created["order_id"])
    assert order["status"] == "CANCELLED"
    assert statuses(order)[-1] == "CANCELLED"
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["backordered"]) == (5, 0, 5, 0)
    assert shop.client.get_customer(customer)["exposure"] == 0
