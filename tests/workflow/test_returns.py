"""Returns (RMA) and exchanges on the running stack: orders are shipped and delivered over HTTP, then
returned, received by the warehouse and refunded; the exchange order runs the real order workflow."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.workflow


def statuses(entity: dict) -> list[str]:
    return [entry["status"] for entry in entity["timeline"]]


def table(stack, logical_id: str) -> str:
    return next(t.name for t in stack.resources.tables if t.logical_id == logical_id)


def demand_today(stack, sku: str) -> int:
    from orderflow.inventory.adapters.demand import DemandRepository

    day = datetime.now(UTC).date().isoformat()
    return DemandRepository(table(stack, "DemandTable")).history(sku, day, day).get(day, 0)


def delivered(api, customer: str, lines: dict[str, int]) -> dict:
    """An order taken through allocation, shipping and delivery to DELIVERED."""
    order_id = api.submit(customer, lines).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "RESERVED"
    assert api.http.post(f"/orders/{order_id}/ship").status_code == 200
    assert api.http.post(f"/orders/{order_id}/deliver").status_code == 200
    counted(api, lines)
    return api.order(order_id)


def counted(api, lines: dict[str, int], timeout: float = 20.0) -> None:
    """Wait until the demand counter (the shipments stream's consumer) has added today's shipped units of
    each (fresh) SKU to its demand history."""
    today = datetime.now(UTC).date().isoformat()
    deadline = time.monotonic() + timeout
    for sku, units in lines.items():
        while (history := api.http.get(f"/demand/{sku}", params={"start": today}).json()["history"]) != [
                {"day": today, "quantity": units}] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert history == [{"day": today, "quantity": units}], history


def ask_return(api, order_id: str, lines: dict[str, int], exchange: dict[str, int] | None = None,
               key: str | None = None):
    body: dict = {"lines": [{"sku": s, "quantity": q, "reason": "does not fit"} for s, q in lines.items()]}
    if exchange:
        body["exchange"] = [{"sku": s, "quantity": q} for s, q in exchange.items()]
    return api.http.post(f"/orders/{order_id}/returns", json=body,
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})


def receive(api, return_id: str, *lines: tuple[str, int, str]):
    return api.http.post(f"/returns/{return_id}/receive",
                         json={"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines]})


def test_full_return_is_restocked_refunded_and_returns_the_order(api, stack):
    sku, customer = api.product(price=12.5, stock=10), api.customer(credit_limit=1000)
    order = delivered(api, customer, {sku: 4})
    assert api.stock(sku)["on_hand"] == 6
    assert demand_today(stack, sku) == 4

    response = ask_return(api, order["order_id"], {sku: 4})
    assert response.status_code == 201, response.text
    ret = response.json()
    assert response.headers["Location"] == f"/returns/{ret['return_id']}"
    assert ret["status"] == "APPROVED" and ret["refund_amount"] == 50.0
    assert statuses(ret) == ["REQUESTED", "APPROVED"]
    assert [e["by"] for e in ret["timeline"]] == ["admin", "policy"]  # customer service (an admin token) asked
    assert ret["lines"] == [{"sku": sku, "name": f"Product {sku}", "quantity": 4, "reason": "does not fit",
                             "unit_price": 12.5, "refund": 50.0}]
    requested = api.order(order["order_id"])
    assert requested["status"] == "RETURN_REQUESTED"
    assert requested["returned"] == {sku: 4}
    assert requested["returns"] == [{"return_id": ret["return_id"], "status": "APPROVED", "refund_amount": 50.0,
                                     "lines": [{"sku": sku, "quantity": 4}], "created_at": ret["created_at"]}]
    exposure = api.credit(customer)["exposure"]

    received = receive(api, ret["return_id"], (sku, 4, "resellable"))
    assert received.status_code == 200, received.text
    refunded = received.json()
    assert refunded["status"] == "REFUNDED"
    assert statuses(refunded) == ["REQUESTED", "APPROVED", "RECEIVED", "RESTOCKED", "REFUNDED"]
    assert refunded["lines"][0]["disposition"] == "restocked" and refunded["restocked"] == {sku: 4}
    assert refunded["scrapped"] == {}
    assert api.http.get(f"/returns/{ret['return_id']}").json() == refunded

    assert api.stock(sku) == {"sku": sku, "on_hand": 10, "reserved": 0, "available": 10, "on_order": 0,
                              "backordered": 0}
    assert demand_today(stack, sku) == 0  # the goods came back: forecasts must not count them
    assert api.credit(customer)["exposure"] == pytest.approx(exposure - 50.0)
    final = api.order(order["order_id"])
    assert final["status"] == "RETURNED"
    assert statuses(final)[-3:] == ["DELIVERED", "RETURN_REQUESTED", "RETURNED"]
    assert final["returns"][0]["status"] == "REFUNDED"


def test_partial_return_with_a_damaged_line_scraps_it(api, stack):
    mug, tea = api.product(price=10, stock=5), api.product(price=3, stock=5)
    customer = api.customer()
    order = delivered(api, customer, {mug: 3, tea: 2})
    exposure = api.credit(customer)["exposure"]

    ret = ask_return(api, order["order_id"], {mug: 1, tea: 2}).json()
    assert ret["refund_amount"] == 16.0
    refunded = receive(api, ret["return_id"], (mug, 1, "resellable"), (tea, 2, "damaged")).json()

    assert statuses(refunded)[2:] == ["RECEIVED", "RESTOCKED", "REFUNDED"]
    assert {li["sku"]: li["disposition"] for li in refunded["lines"]} == {mug: "restocked", tea: "scrapped"}
    assert refunded["restocked"] == {mug: 1} and refunded["scrapped"] == {tea: 2}
    assert api.stock(mug)["on_hand"] == 3 and api.stock(mug)["available"] == 3
    assert api.stock(tea)["on_hand"] == 3 and api.stock(tea)["available"] == 3  # damaged: not back on the shelf
    assert demand_today(stack, mug) == 2 and demand_today(stack, tea) == 0
    assert api.credit(customer)["exposure"] == pytest.approx(exposure - 16.0)  # damaged units are refunded too
    assert api.order(order["order_id"])["status"] == "RETURNED"
    assert api.order(order["order_id"])["returned"] == {mug: 1, tea: 2}


def test_an_all_damaged_return_is_scrapped(api):
    sku, customer = api.product(price=2, stock=3), api.customer()
    order = delivered(api, customer, {sku: 3})
    ret = ask_return(api, order["order_id"], {sku: 3}).json()

    refunded = receive(api, ret["return_id"], (sku, 3, "damaged")).json()

    assert statuses(refunded)[2:] == ["RECEIVED", "SCRAPPED", "REFUNDED"]
    assert refunded["scrapped"] == {sku: 3}
    assert api.stock(sku)["on_hand"] == 0


def test_return_beyond_delivered_across_two_returns_is_refused_and_writes_nothing(api, stack):
    sku, customer = api.product(price=5, stock=5), api.customer()
    order = delivered(api, customer, {sku: 3})
    first = ask_return(api, order["order_id"], {sku: 2})
    assert first.status_code == 201
    before = api.order(order["order_id"])

    second = ask_return(api, order["order_id"], {sku: 2})

    assert second.status_code == 422
    error = second.json()["error"]
    assert error["code"] == "RETURN_EXCEEDS_DELIVERED"
    assert error["details"]["lines"] == [{"sku": sku, "requested": 2, "delivered": 3, "already_returned": 2,
                                          "returnable": 1, "problem": "more than was delivered and not yet returned"}]
    after = api.order(order["order_id"])
    assert after == before  # returned counts, timeline, version and the returns list all unchanged
    assert after["returned"] == {sku: 2} and len(after["returns"]) == 1
    returns = stack.boto3_client("dynamodb").query(
        TableName=table(stack, "ReturnsTable"), IndexName="by-order", KeyConditionExpression="order_id = :o",
        ExpressionAttributeValues={":o": {"S": order["order_id"]}})["Items"]
    assert len(returns) == 1

    assert ask_return(api, order["order_id"], {sku: 1}).status_code == 201  # what is left can still go back
    assert api.order(order["order_id"])["returned"] == {sku: 3}


def test_unknown_sku_not_delivered_order_and_unknown_order_are_refused(api):
    sku, other, customer = api.product(stock=5), api.product(stock=5), api.customer()
    order = delivered(api, customer, {sku: 1})
    refused = ask_return(api, order["order_id"], {other: 1})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "RETURN_EXCEEDS_DELIVERED"
    assert refused.json()["error"]["details"]["lines"][0]["sku"] == other

    reserved = api.submit(customer, {sku: 1}).json()["order_id"]
    assert api.wait_for(reserved)["status"] == "RESERVED"
    conflict = ask_return(api, reserved, {sku: 1})
    assert conflict.status_code == 409 and conflict.json()["error"]["details"] == {"status": "RESERVED"}
    assert api.order(reserved)["returns"] == []

    missing = ask_return(api, "ord-nope", {sku: 1})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert api.http.get("/returns/ret-nope").status_code == 404
    api.http.post(f"/orders/{reserved}/cancel")


def test_return_after_the_window_is_refused(api, stack):
    sku, customer = api.product(stock=5), api.customer()
    order = delivered(api, customer, {sku: 2})
    long_ago = (datetime.now(UTC) - timedelta(days=31)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    stack.boto3_client("dynamodb").update_item(
        TableName=table(stack, "OrdersTable"), Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="SET shipment.delivered_at = :at", ExpressionAttributeValues={":at": {"S": long_ago}})
    before = api.order(order["order_id"])

    refused = ask_return(api, order["order_id"], {sku: 1})

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "RETURN_WINDOW_CLOSED"
    assert error["details"]["window_days"] == 30 and error["details"]["delivered_at"] == long_ago
    assert api.order(order["order_id"]) == before


def test_exchange_places_a_linked_order_that_runs_the_workflow(api):
    small, large = api.product(price=20, stock=5), api.product(price=22, stock=5)
    customer = api.customer()
    order = delivered(api, customer, {small: 1})

    response = ask_return(api, order["order_id"], {small: 1}, exchange={large: 1}, key="swap-size")
    assert response.status_code == 201, response.text
    ret = response.json()
    exchange_id = ret["exchange_order_id"]

    replacement = api.wait_for(exchange_id)
    assert replacement["status"] == "RESERVED"
    assert replacement["channel"] == "exchange" and replacement["exchange_for_return"] == ret["return_id"]
    assert replacement["timeline"][0]["reason"] == "received via exchange"
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in replacement["lines"]] == [(large, 1, 22.0)]
    assert replacement["total"] == 22.0  # priced and credit-checked like any order
    assert api.stock(large)["reserved"] == 1
    assert api.http.get(f"/returns/{ret['return_id']}").json()["exchange_order_id"] == exchange_id
    assert api.order(order["order_id"])["returns"][0]["exchange_order_id"] == exchange_id

    again = ask_return(api, order["order_id"], {small: 1}, exchange={large: 1}, key="swap-size")
    assert again.status_code == 201 and again.json()["exchange_order_id"] == exchange_id  # one order, not two
    assert len(api.http.get("/orders", params={"customer_id": customer}).json()["orders"]) == 2

    refunded = receive(api, ret["return_id"], (small, 1, "resellable")).json()
    assert refunded["status"] == "REFUNDED" and refunded["exchange_order_id"] == exchange_id


def test_exchange_for_an_unknown_product_is_refused_before_anything_is_written(api):
    sku, customer = api.product(stock=5), api.customer()
    order = delivered(api, customer, {sku: 1})
    before = api.order(order["order_id"])

    refused = ask_return(api, order["order_id"], {sku: 1}, exchange={"NO-SUCH-SKU": 1})

    assert refused.status_code == 422 and refused.json()["error"]["details"] == {"unknown_skus": ["NO-SUCH-SKU"]}
    assert api.order(order["order_id"]) == before


def test_an_exchange_that_cannot_be_ordered_writes_no_return(api):
    sku, pricey, customer = api.product(stock=5), api.product(price=1_000_000), api.customer()
    order = delivered(api, customer, {sku: 1})
    before = api.order(order["order_id"])

    # 1,000,000 × 1,000,000 is more than an order may hold: found before the return is written, not after.
    refused = ask_return(api, order["order_id"], {sku: 1}, exchange={pricey: 1_000_000}, key="too-dear")

    assert refused.status_code == 422 and refused.json()["error"]["code"] == "UNPROCESSABLE", refused.text
    assert api.order(order["order_id"]) == before and before["returns"] == []
    assert len(api.http.get("/orders", params={"customer_id": customer}).json()["orders"]) == 1
    allowed = ask_return(api, order["order_id"], {sku: 1}, exchange={pricey: 1}, key="too-dear")  # key reusable
    assert allowed.status_code == 201, allowed.text


def test_a_failed_exchange_start_is_finished_by_the_retry_with_one_return_and_one_exchange(api):
    from orderflow.platform import aws

    sku, other, customer = api.product(stock=5), api.product(price=7, stock=5), api.customer()
    order = delivered(api, customer, {sku: 2})
    refusals = []

    def refuse_once(**_):
        if not refusals:
            refusals.append(1)
            raise aws.client("stepfunctions").exceptions.ServiceQuotaExceededException(
                {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "StartExecution")

    sfn = aws.client("stepfunctions")  # the client every function of the stack shares
    sfn.meta.events.register("before-call.sfn.StartExecution", refuse_once, unique_id="exchange-start-fails")
    try:
        failed = ask_return(api, order["order_id"], {sku: 1}, exchange={other: 1}, key="swap-then-retry")
    finally:
        sfn.meta.events.unregister("before-call.sfn.StartExecution", unique_id="exchange-start-fails")
    assert refusals and failed.status_code >= 500 and "error" in failed.json(), failed.text

    retried = ask_return(api, order["order_id"], {sku: 1}, exchange={other: 1}, key="swap-then-retry")

    assert retried.status_code == 201, retried.text
    ret = retried.json()
    assert api.wait_for(ret["exchange_order_id"])["status"] == "RESERVED"
    assert [r["return_id"] for r in api.order(order["order_id"])["returns"]] == [ret["return_id"]]
    assert api.order(order["order_id"])["returned"] == {sku: 1}
    assert len(api.http.get("/orders", params={"customer_id": customer}).json()["orders"]) == 2


def test_idempotency_key_replays_the_same_return(api):
    sku, customer = api.product(stock=5), api.customer()
    order = delivered(api, customer, {sku: 3})

    first = ask_return(api, order["order_id"], {sku: 1}, key="rma-1")
    second = ask_return(api, order["order_id"], {sku: 1}, key="rma-1")
    reused = ask_return(api, order["order_id"], {sku: 2}, key="rma-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    after = api.order(order["order_id"])
    assert after["returned"] == {sku: 1} and len(after["returns"]) == 1


def test_receive_must_match_and_a_second_receive_changes_nothing(api, stack):
    sku, customer = api.product(price=4, stock=5), api.customer()
    order = delivered(api, customer, {sku: 2})
    ret = ask_return(api, order["order_id"], {sku: 2}).json()

    mismatch = receive(api, ret["return_id"], (sku, 1, "resellable"))
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "RECEIPT_MISMATCH"
    assert mismatch.json()["error"]["details"]["lines"] == [{"sku": sku, "approved": 2, "received": 1}]
    assert api.http.get(f"/returns/{ret['return_id']}").json()["status"] == "APPROVED"
    assert api.stock(sku)["on_hand"] == 3

    first = receive(api, ret["return_id"], (sku, 2, "resellable"))
    exposure, level, demand = api.credit(customer)["exposure"], api.stock(sku), demand_today(stack, sku)
    second = receive(api, ret["return_id"], (sku, 2, "resellable"))
    other = receive(api, ret["return_id"], (sku, 2, "damaged"))

    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert other.status_code == 409 and other.json()["error"]["code"] == "CONFLICT"
    assert (api.credit(customer)["exposure"], api.stock(sku), demand_today(stack, sku)) == (exposure, level, demand)


def test_order_stays_return_requested_until_its_last_open_return_is_refunded(api):
    sku, customer = api.product(stock=5), api.customer()
    order = delivered(api, customer, {sku: 3})
    one = ask_return(api, order["order_id"], {sku: 1}).json()
    two = ask_return(api, order["order_id"], {sku: 1}).json()

    receive(api, one["return_id"], (sku, 1, "resellable"))
    assert api.order(order["order_id"])["status"] == "RETURN_REQUESTED"
    receive(api, two["return_id"], (sku, 1, "resellable"))
    assert api.order(order["order_id"])["status"] == "RETURNED"

    third = ask_return(api, order["order_id"], {sku: 1})  # a returned order can be returned again, what is left
    assert third.status_code == 201
    assert api.order(order["order_id"])["status"] == "RETURN_REQUESTED"
    assert [r["status"] for r in api.order(order["order_id"])["returns"]] == ["REFUNDED", "REFUNDED", "APPROVED"]


def test_restocked_returns_wake_a_backordered_order(api):
    sku, customer = api.product(stock=2), api.customer()
    order = delivered(api, customer, {sku: 2})
    waiting = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(waiting)["status"] == "BACKORDERED"

    ret = ask_return(api, order["order_id"], {sku: 2}).json()
    receive(api, ret["return_id"], (sku, 2, "resellable"))

    assert api.wait_for(waiting, {"RESERVED", "FAILED"})["status"] == "RESERVED"
    api.http.post(f"/orders/{waiting}/cancel")


def test_concurrent_returns_never_exceed_what_was_delivered(api):
    sku, customer = api.product(stock=10), api.customer()
    order = delivered(api, customer, {sku: 5})
    racers = 8
    barrier = threading.Barrier(racers)

    def race(_: int) -> int:
        barrier.wait(timeout=30)
        return ask_return(api, order["order_id"], {sku: 2}, key=uuid.uuid4().hex).status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        codes = list(pool.map(race, range(racers)))

    assert sorted(codes) == [201, 201] + [422] * (racers - 2)
    after = api.order(order["order_id"])
    assert after["returned"] == {sku: 4}
    assert len(after["returns"]) == 2 and after["open_returns"] == 2



def test_a_return_without_an_idempotency_key_is_refused_and_makes_nothing(api):
    sku, customer = api.product(stock=4), api.customer()
    order = delivered(api, customer, {sku: 1})
    refused = api.http.post(f"/orders/{order['order_id']}/returns",
                            json={"lines": [{"sku": sku, "quantity": 1, "reason": "no key"}]})
    assert refused.status_code == 422 and "header.idempotency-key" in refused.text
    assert api.order(order["order_id"])["status"] == "DELIVERED"


def test_a_return_received_at_a_store_nets_that_stores_demand(api, stack):
    """The goods came back to the store's shelf: the store's demand history is netted, so its forecast does
    not count them; the day's total is netted as before."""
    from orderflow import wiring

    store = f"store-{uuid.uuid4().hex[:8]}"
    address = {"name": "Shop", "line1": "1 High St", "city": "York", "postal_code": "YO1 1AA", "country": "GB"}
    assert api.http.put(f"/locations/{store}", json={"name": "Shop", "address": address, "kind": "store"}).is_success
    sku, customer = api.product(price=5, stock=10), api.customer(credit_limit=1000)
    order = delivered(api, customer, {sku: 3})
    ret = ask_return(api, order["order_id"], {sku: 2}).json()
    received = api.http.post(f"/returns/{ret['return_id']}/receive", json={
        "location_id": store, "lines": [{"sku": sku, "quantity": 2, "condition": "resellable"}]})
    assert received.status_code == 200, received.text

    today = datetime.now(UTC).date().isoformat()
    split = wiring.replenishment_service().demand.history_by_location(sku, today, today)
    assert demand_today(stack, sku) == 1
    assert (split["main"], split[store]) == ({today: 3}, {today: -2})
