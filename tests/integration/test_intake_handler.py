"""The intake Lambda handler invoked with API Gateway HTTP API events, against moto (tables from template.yaml)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest

from orderflow.orders.service import order_id_for
from orderflow.platform import aws
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_local.http_api import build_event, match_route

# What API Gateway's JWT authorizer passes on for an operator's token.
OPERATOR = {"jwt": {"claims": {"sub": "ops", "scope": "orderflow/admin"}, "scopes": ["orderflow/admin"]}}


@pytest.fixture
def call(stack):
    def invoke(method: str, path: str, body=None, headers: dict | None = None, query: str = "",
               authorizer: dict | None = OPERATOR) -> tuple[int, dict]:
        route, params = match_route(stack.routes, method, path)
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        header_list = [("content-type", "application/json"), *(headers or {}).items()]
        event = build_event(route, params, method, path, query, header_list, raw, "127.0.0.1", authorizer)
        result = stack.runtime.invoke("OrderIntakeFunction", event)
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else {}

    return invoke


def orders_of(call, customer_id: str) -> list[dict]:
    status, body = call("GET", "/orders", query=f"customer_id={customer_id}")
    assert status == 200
    return body["orders"]


def test_replayed_submit_returns_the_same_order_once(api, call):
    sku, customer = api.product(stock=5), api.customer()
    body = {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS, "lines": [{"sku": sku, "quantity": 1}]}
    first = call("POST", "/orders", body, {"Idempotency-Key": "retry-me"})
    second = call("POST", "/orders", body, {"Idempotency-Key": "retry-me"})

    assert first[0] == second[0] == 201
    assert second[1] == first[1]  # the exact first answer, from the (compressed) idempotency record
    assert len(orders_of(call, customer)) == 1
    api.wait_for(first[1]["order_id"])
    assert api.stock(sku)["reserved"] == 1


def test_same_key_with_another_body_is_refused_and_writes_nothing(api, call):
    sku, customer = api.product(stock=5), api.customer()
    call("POST", "/orders", {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS,
                             "lines": [{"sku": sku, "quantity": 1}]}, {"Idempotency-Key": "k"})
    status, body = call("POST", "/orders", {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS,
                                            "lines": [{"sku": sku, "quantity": 4}]},
                        {"Idempotency-Key": "k"})
    assert status == 422 and body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [o["lines"][0]["quantity"] for o in orders_of(call, customer)] == [1]


def test_a_submit_that_crashed_before_starting_the_workflow_is_finished_by_its_retry(api, call, stack):
    sku, customer = api.product(price=3, stock=5), api.customer()
    order_id = order_id_for(customer, "crashed")
    now = datetime.now(UTC).isoformat()
    table = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    stack.boto3_client("dynamodb").put_item(TableName=table, Item={
        "order_id": {"S": order_id}, "customer_id": {"S": customer}, "status": {"S": "PENDING"},
        "version": {"N": "0"}, "created_at": {"S": now}, "updated_at": {"S": now}, "total": {"N": "6"},
        "channel": {"S": "api"}, "timeline": {"L": []},
        "shipping_address": {"M": {field: {"S": value} for field, value in SAMPLE_ADDRESS.items()}},
        "lines": {"L": [{"M": {"sku": {"S": sku}, "quantity": {"N": "2"}, "unit_price": {"N": "3"}}}]}})

    status, body = call("POST", "/orders", {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS,
                                            "lines": [{"sku": sku, "quantity": 2}]},
                        {"Idempotency-Key": "crashed"})
    assert status == 201 and body["order_id"] == order_id
    assert api.wait_for(order_id)["status"] == "RESERVED"
    assert len(orders_of(call, customer)) == 1


@pytest.mark.parametrize(("lines", "problem"), [
    ([{"sku": "NOPE", "quantity": 1}], "unknown_skus"),
])
def test_unknown_sku_is_422_and_stores_nothing(api, call, lines, problem):
    customer = api.customer()
    status, body = call("POST", "/orders", {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS,
                                            "lines": lines}, {"Idempotency-Key": "u"})
    assert status == 422
    assert body["error"]["code"] == "UNPROCESSABLE" and body["error"]["details"][problem] == ["NOPE"]
    assert orders_of(call, customer) == []


def test_unknown_customer_is_422(api, call):
    sku = api.product(stock=1)
    status, body = call("POST", "/orders", {"customer_id": "ghost", "shipping_address": SAMPLE_ADDRESS,
                                            "lines": [{"sku": sku, "quantity": 1}]},
                        {"Idempotency-Key": "g"})
    assert status == 422 and body["error"]["details"]["unknown_customer"] == "ghost"
    assert api.stock(sku)["available"] == 1


def test_reserved_stock_cannot_be_written_off(api, call):
    sku, customer = api.product(stock=3), api.customer()
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    api.wait_for(order_id)

    status, body = call("POST", f"/stock/{sku}/adjustments", {"quantity": -2, "reason": "damaged"})
    assert status == 409 and body["error"]["details"]["available"] == 1
    stock = api.stock(sku)
    totals = {"on_hand": 3, "reserved": 2, "available": 1, "on_order": 0, "backordered": 0}
    assert {k: stock[k] for k in totals} == totals
    main = api.stock_at(sku, "main")  # no location named: everything at the main location
    assert {k: main[k] for k in totals} == totals
    api.http.post(f"/orders/{order_id}/cancel")


def test_stock_receipt_with_an_idempotency_key_lands_once(api, call):
    sku = api.product()
    for _ in range(3):
        status, _ = call("POST", f"/stock/{sku}/adjustments", {"quantity": 7, "reason": "PO-1 receipt"},
                         {"Idempotency-Key": "grn-1"})
        assert status == 200
    assert api.stock(sku)["on_hand"] == 7


def test_cancel_racing_ship_has_exactly_one_winner(api, call):
    sku, customer = api.product(price=5, stock=40), api.customer(credit_limit=1000)
    order_ids = [api.submit(customer, {sku: 2}).json()["order_id"] for _ in range(8)]
    for order_id in order_ids:
        api.wait_for(order_id)

    results: dict[tuple[str, str], int] = {}

    def act(order_id: str, action: str) -> None:
        results[(order_id, action)] = call("POST", f"/orders/{order_id}/{action}")[0]

    threads = [threading.Thread(target=act, args=(o, a)) for o in order_ids for a in ("cancel", "ship")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    shipped = [o for o in order_ids if api.order(o)["status"] == "SHIPPED"]
    cancelled = [o for o in order_ids if api.order(o)["status"] == "CANCELLED"]
    assert len(shipped) + len(cancelled) == len(order_ids)
    for order_id in order_ids:
        winner = "ship" if order_id in shipped else "cancel"
        loser = "cancel" if winner == "ship" else "ship"
        assert results[(order_id, winner)] == 200 and results[(order_id, loser)] == 409
    stock = api.stock(sku)
    assert stock["on_hand"] == 40 - 2 * len(shipped)
    assert stock["reserved"] == 0 and stock["available"] == stock["on_hand"]
    assert api.credit(customer)["exposure"] == 10 * len(shipped)


def test_listing_a_customers_orders_queries_an_index_never_scans(api, call):
    sku, customer = api.product(stock=5), api.customer()
    api.wait_for(api.submit(customer, {sku: 1}).json()["order_id"])
    operations: list[str] = []
    client, this_thread = aws.client("dynamodb"), threading.get_ident()

    def record(model, **_):  # the order's workflow steps share the client from other threads
        if threading.get_ident() == this_thread:
            operations.append(model.name)

    handler_id = f"count-{uuid.uuid4()}"
    client.meta.events.register("before-call.dynamodb.*", record, unique_id=handler_id)
    try:
        assert len(orders_of(call, customer)) == 1
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id=handler_id)
    assert operations == ["Query", "BatchGetItem"]  # the index holds keys only; the page is read in one call


def test_a_customers_orders_are_found_by_status_and_by_the_days_they_were_placed(api, call):
    sku, customer = api.product(stock=1), api.customer()
    reserved = api.wait_for(api.submit(customer, {sku: 1}).json()["order_id"])
    backordered = api.wait_for(api.submit(customer, {sku: 1}).json()["order_id"])
    today = reserved["created_at"][:10]

    def found(query: str) -> list[str]:
        status, body = call("GET", "/orders", query=f"customer_id={customer}&{query}")
        assert status == 200, body
        return [o["order_id"] for o in body["orders"]]

    assert found("status=RESERVED") == [reserved["order_id"]]
    assert found("status=BACKORDERED") == [backordered["order_id"]]
    assert found("status=SHIPPED") == []
    assert found(f"placed_from={today}&placed_to={today}") == [backordered["order_id"], reserved["order_id"]]
    assert found("placed_to=2000-01-01") == [] and found("placed_from=2999-01-01") == []
    status, body = call("GET", "/orders", query=f"customer_id={customer}&placed_from=2026-02-30")
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    status, body = call("GET", "/orders", query=f"customer_id={customer}&placed_from={today}&placed_to=2000-01-01")
    assert status == 422 and "after" in body["error"]["message"]


def test_a_payment_larger_than_the_exposure_is_refused(api, call):
    customer = api.customer(credit_limit=100)
    status, body = call("POST", f"/customers/{customer}/payments", {"amount": 5, "reference": "PAY-1"})
    assert status == 409 and body["error"]["details"]["exposure"] == 0
    assert api.credit(customer)["credit_available"] == 100


def test_product_threshold_is_kept_beside_available(api, call, stack):
    sku = api.product(stock=4)
    status, _ = call("PUT", f"/products/{sku}", {"name": "Lamp", "unit_price": 3, "low_stock_threshold": 2})
    assert status == 200
    table = next(t.name for t in stack.resources.tables if t.logical_id == "StockTable")
    level = stack.boto3_client("dynamodb").get_item(TableName=table,
                                                    Key={"sku": {"S": sku}, "record": {"S": "LEVEL#main"}})
    assert level["Item"]["threshold"] == {"N": "2"} and level["Item"]["available"] == {"N": "4"}


def test_a_throttled_idempotency_store_answers_503_and_the_retry_with_the_key_places_one_order(api, stack):
    """Powertools' idempotency record is a DynamoDB write too: throttled past the SDK's retries it must be a
    503 TRY_AGAIN (the client retries with its key), not a 500."""
    from botocore.awsrequest import AWSResponse

    class Body:
        def __init__(self, data: bytes):
            self.data = data

        def stream(self, **_):
            yield self.data

    table = next(t.name for t in stack.resources.tables if t.logical_id == "IdempotencyTable")
    client = aws.client("dynamodb")  # the client every function of the stack shares
    throttled = []

    def throttle(request, **_):
        if request.headers.get("X-Amz-Target", b"").endswith(b".PutItem") and table.encode() in request.body:
            throttled.append(1)
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                               "message": "The level of configured provisioned throughput for the table was exceeded"})
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, Body(body.encode()))
        return None

    sku, customer = api.product(stock=5), api.customer()
    client.meta.events.register("before-send.dynamodb", throttle, unique_id="idempotency-throttled")
    try:
        busy = api.submit(customer, {sku: 1}, key="throttled-key")
    finally:
        client.meta.events.unregister("before-send.dynamodb", unique_id="idempotency-throttled")
    assert throttled and busy.status_code == 503, busy.text
    assert busy.json()["error"]["code"] == "TRY_AGAIN"
    assert api.http.get("/orders", params={"customer_id": customer}).json()["orders"] == []  # nothing written

    placed = api.submit(customer, {sku: 1}, key="throttled-key")
    assert placed.status_code == 201, placed.text
    assert placed.json()["order_id"] == order_id_for(customer, "throttled-key")
