"""WakeBackordersFunction, the consumer of stock arrivals: what a receipt, a return put back on the shelf
or a supplier's delivery announces, turned into woken backorders away from the request that brought the
stock."""

from __future__ import annotations

import json

from sqs_support import sqs_batch

from orderflow import wiring

FUNCTION = "WakeBackordersFunction"


def batch(*bodies: str) -> tuple[dict, list[str]]:
    return sqs_batch("orderflow-dev-stock-arrivals", *bodies)


def failures(stack, event: dict) -> list[str]:
    return [f["itemIdentifier"] for f in stack.runtime.invoke(FUNCTION, event)["batchItemFailures"]]


def backordered(api, sku: str, count: int, quantity: int) -> list[str]:
    customer = api.customer()
    order_ids = []
    for _ in range(count):  # one after the other: the oldest waits first
        response = api.submit(customer, {sku: quantity})
        assert response.status_code == 201, response.text
        order_ids.append(response.json()["order_id"])
        api.wait_for(order_ids[-1], {"BACKORDERED"})
    return order_ids


def test_an_arrival_wakes_the_oldest_backorders_its_stock_can_serve(stack, api):
    sku = api.product()
    first, second, third = backordered(api, sku, 3, quantity=2)
    wiring.order_service().stock.adjust(sku, 5)  # stock that came without an announcement

    assert failures(stack, batch(json.dumps({"sku": sku}))[0]) == []

    assert api.wait_for(first, {"RESERVED"})["status"] == "RESERVED"
    assert api.wait_for(second, {"RESERVED"})["status"] == "RESERVED"
    assert api.order(third)["status"] == "BACKORDERED"  # 1 unit left, it needs 2
    assert (api.stock(sku)["reserved"], api.stock(sku)["available"], api.stock(sku)["backordered"]) == (4, 1, 2)


def test_an_arrival_seen_twice_reserves_once(stack, api):
    sku = api.product()
    (order_id,) = backordered(api, sku, 1, quantity=3)
    wiring.order_service().stock.adjust(sku, 3)
    arrival = json.dumps({"sku": sku})

    assert failures(stack, batch(arrival, arrival)[0]) == []
    api.wait_for(order_id, {"RESERVED"})
    assert failures(stack, batch(arrival)[0]) == []

    assert (api.stock(sku)["reserved"], api.stock(sku)["available"]) == (3, 0)
    assert [e["status"] for e in api.order(order_id)["timeline"]].count("RESERVED") == 1


def test_an_unreadable_arrival_fails_alone(stack, api):
    sku = api.product()
    (order_id,) = backordered(api, sku, 1, quantity=1)
    wiring.order_service().stock.adjust(sku, 1)
    event, ids = batch("not json", json.dumps({"product": sku}), json.dumps({"sku": sku}))

    assert failures(stack, event) == ids[:2]
    assert api.wait_for(order_id, {"RESERVED"})["status"] == "RESERVED"
