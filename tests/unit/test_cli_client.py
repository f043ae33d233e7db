"""The HTTP client and the catalogue seeding, against httpx.MockTransport (no network, no stack)."""

from __future__ import annotations

import json

import httpx
import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.catalogue import CatalogueError, load_catalogue, seed_catalogue, validate_catalogue
from orderflow_cli.client import ApiError, OrderflowClient, WaitTimeout


def client_for(handler) -> OrderflowClient:
    return OrderflowClient("http://api.test/", transport=httpx.MockTransport(handler))


def error(status: int, code: str, message: str = "nope", details: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "details": details or {}}})


def test_error_responses_raise_api_error_with_code_message_and_details():
    client = client_for(lambda request: error(409, "CONFLICT", "order is SHIPPED", {"status": "SHIPPED"}))
    with pytest.raises(ApiError) as raised:
        client.cancel("ord-1")
    assert (raised.value.status, raised.value.code, raised.value.message) == (409, "CONFLICT", "order is SHIPPED")
    assert raised.value.details == {"status": "SHIPPED"}
    assert "409 CONFLICT: order is SHIPPED" in str(raised.value)


def test_non_json_error_still_raises_a_readable_api_error():
    client = client_for(lambda request: httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(ApiError) as raised:
        client.get_stock("SKU")
    assert raised.value.status == 502
    assert raised.value.code == "HTTP_502"
    assert "Bad Gateway" in raised.value.message


def test_submit_order_returns_the_raw_answer_and_sends_an_idempotency_key():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if json.loads(request.content)["lines"][0]["sku"] == "GHOST":
            return error(422, "UNPROCESSABLE", details={"unknown_skus": ["GHOST"]})
        return httpx.Response(201, json={"order_id": "ord-1", "status": "PENDING"})

    client = client_for(handler)
    assert client.submit_order("C1", [{"sku": "A", "quantity": 2}], channel="web", shipping_address=SAMPLE_ADDRESS) == (
        201, {"order_id": "ord-1", "status": "PENDING"})
    status, body = client.submit_order("C1", [{"sku": "GHOST", "quantity": 1}], idempotency_key="k-1",
                                       shipping_address=SAMPLE_ADDRESS)
    assert status == 422 and body["error"]["details"]["unknown_skus"] == ["GHOST"]

    first, second = seen
    assert first.url.path == "/orders" and first.method == "POST"
    assert json.loads(first.content) == {"customer_id": "C1", "lines": [{"sku": "A", "quantity": 2}], "channel": "web",
                                         "shipping_address": SAMPLE_ADDRESS}
    assert len(first.headers["idempotency-key"]) == 36  # a fresh uuid4
    assert second.headers["idempotency-key"] == "k-1"


def test_requests_hit_the_documented_routes():
    seen: list[tuple[str, str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url).removeprefix("http://api.test"), body))
        return httpx.Response(200, json={"ok": True})

    c = client_for(handler)
    c.put_product("A", "Apple", 1.5, supplier_id="S1")
    c.put_customer("C1", "Cust", 100)
    c.adjust_stock("A", 5, reason="receipt")
    c.get_stock("A")
    c.get_order("ord-1")
    c.list_orders("C1", limit=5)
    c.cancel("ord-1", reason="changed mind")
    c.ship("ord-1", carrier="DHL")
    c.deliver("ord-1")
    assert seen == [
        ("PUT", "/products/A", {"name": "Apple", "unit_price": 1.5, "supplier_id": "S1"}),
        ("PUT", "/customers/C1", {"name": "Cust", "credit_limit": 100}),
        ("POST", "/stock/A/adjustments", {"quantity": 5, "reason": "receipt"}),
        ("GET", "/stock/A", None),
        ("GET", "/orders/ord-1", None),
        ("GET", "/orders?customer_id=C1&limit=5", None),
        ("POST", "/orders/ord-1/cancel", {"reason": "changed mind"}),
        ("POST", "/orders/ord-1/ship", {"carrier": "DHL"}),
        ("POST", "/orders/ord-1/deliver", None),
    ]


def test_list_all_orders_follows_the_cursor():
    pages = {None: {"orders": [{"order_id": "o1"}, {"order_id": "o2"}], "next_cursor": "c2"},
             "c2": {"orders": [{"order_id": "o3"}], "next_cursor": None}}
    client = client_for(lambda request: httpx.Response(200, json=pages[request.url.params.get("cursor")]))
    assert [o["order_id"] for o in client.list_all_orders("C1")] == ["o1", "o2", "o3"]


def order_sequence(*statuses: str):
    remaining = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return httpx.Response(200, json={"order_id": "ord-1", "status": status})

    return handler


def test_wait_for_status_polls_until_a_wanted_status():
    client = client_for(order_sequence("PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED"))
    assert client.wait_for_status("ord-1", {"RESERVED", "BACKORDERED"}, interval=0)["status"] == "BACKORDERED"


def test_wait_for_status_gives_up_at_once_on_an_unwanted_final_status():
    client = client_for(order_sequence("PENDING", "REJECTED"))
    with pytest.raises(WaitTimeout) as raised:
        client.wait_for_status("ord-1", "RESERVED", timeout=60, interval=0)
    assert raised.value.status == "REJECTED"
    assert "ended REJECTED" in str(raised.value)


def test_wait_for_status_times_out_with_the_last_status():
    client = client_for(order_sequence("PENDING"))
    with pytest.raises(WaitTimeout) as raised:
        client.wait_for_status("ord-1", "RESERVED", timeout=0.05, interval=0.01)
    assert raised.value.status == "PENDING"
    assert "did not reach RESERVED" in str(raised.value)


def flaky(failures: int, answer: httpx.Response):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) <= failures:
            raise httpx.ReadError("Connection reset by peer", request=request)
        return answer

    return handler, calls


def test_keyed_submit_is_retried_after_a_dropped_connection_with_the_same_key():
    handler, calls = flaky(2, httpx.Response(201, json={"order_id": "ord-1", "status": "PENDING"}))
    assert client_for(handler).submit_order("C1", [{"sku": "A", "quantity": 1}],
                                            shipping_address=SAMPLE_ADDRESS)[0] == 201
    assert len(calls) == 3
    assert len({c.headers["idempotency-key"] for c in calls}) == 1


def test_unkeyed_stock_adjustment_is_not_retried():
    handler, calls = flaky(1, httpx.Response(200, json={}))
    with pytest.raises(httpx.ReadError):
        client_for(handler).adjust_stock("A", 5)
    assert len(calls) == 1


def test_retries_are_bounded():
    handler, calls = flaky(10, httpx.Response(200, json={}))
    with pytest.raises(httpx.ReadError):
        OrderflowClient("http://api.test", transport=httpx.MockTransport(handler), retries=1).get_stock("A")
    assert len(calls) == 2


def throttled(times: int, answer: httpx.Response):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, json={"message": "Too Many Requests"}) if len(calls) <= times else answer

    return handler, calls


def test_a_throttled_request_is_retried_even_unkeyed_because_nothing_ran(monkeypatch):
    monkeypatch.setattr("orderflow_cli.client.time.sleep", lambda _: None)
    handler, calls = throttled(2, httpx.Response(200, json={"sku": "A", "on_hand": 5}))
    assert client_for(handler).adjust_stock("A", 5) == {"sku": "A", "on_hand": 5}
    assert len(calls) == 3


def test_a_busy_answer_is_retried_only_when_repeating_is_safe(monkeypatch):
    monkeypatch.setattr("orderflow_cli.client.time.sleep", lambda _: None)
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        busy = {"error": {"code": "TRY_AGAIN", "message": "DynamoDB is busy", "details": {}}}
        return httpx.Response(503, json=busy) if len(calls) == 1 else httpx.Response(200, json={"sku": "A"})

    assert client_for(handler).adjust_stock("A", 5, idempotency_key="k1") == {"sku": "A"}
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(ApiError) as raised:
        client_for(handler).adjust_stock("A", 5)  # no key: a retry could count it twice
    assert raised.value.status == 503 and len(calls) == 1


def test_throttling_that_lasts_is_answered_as_an_error(monkeypatch):
    monkeypatch.setattr("orderflow_cli.client.time.sleep", lambda _: None)
    handler, calls = throttled(10, httpx.Response(200, json={}))
    with pytest.raises(ApiError) as raised:
        OrderflowClient("http://api.test", transport=httpx.MockTransport(handler), retries=1).get_stock("A")
    assert (raised.value.status, raised.value.message, len(calls)) == (429, "Too Many Requests", 2)


# ------------------------------------------------------------------ catalogue
def test_the_demo_catalogue_fits_the_demo_scenarios():
    from orderflow_cli.catalogue import DEMO_CATALOGUE
    from orderflow_cli.demo import HAPPY_CUSTOMER, SMALL_CUSTOMER, UNKNOWN_SKU

    catalogue = load_catalogue(DEMO_CATALOGUE)
    products, customers = catalogue["products"], catalogue["customers"]
    assert {"WIDGET-RED", "GADGET-PRO", "GIZMO-MINI", "SPROCKET-XL"} <= set(products) == set(catalogue["stock"])
    assert UNKNOWN_SKU not in products
    # the small customer cannot afford a gadget (the credit scenario); the other one can afford many runs
    assert customers[SMALL_CUSTOMER]["credit_limit"] < products["GADGET-PRO"]["unit_price"]
    assert customers[HAPPY_CUSTOMER]["credit_limit"] >= 10_000


@pytest.mark.parametrize(("data", "problem"), [
    ([], "JSON object"),
    ({"products": {}, "extra": {}}, "unknown section"),
    ({"products": {"A": {"name": "a"}}}, "unit_price"),
    ({"customers": {"C": {"name": "c"}}}, "credit_limit"),
    ({"stock": {"A": -1}}, "whole number"),
    ({"stock": {"A": 1.5}}, "whole number"),
])
def test_bad_catalogues_are_refused_with_a_reason(data, problem):
    with pytest.raises(CatalogueError, match=problem):
        validate_catalogue(data)


def test_unreadable_catalogue_files_are_refused(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_catalogue(broken)


def test_seeding_brings_stock_to_the_catalogue_level():
    on_hand = {"A": 3, "B": 10}
    adjustments: list[tuple[str, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if parts[0] == "stock" and request.method == "POST":
            qty = json.loads(request.content)["quantity"]
            adjustments.append((parts[1], qty))
            on_hand[parts[1]] += qty
        if parts[0] == "stock":
            return httpx.Response(200, json={"sku": parts[1], "on_hand": on_hand[parts[1]], "reserved": 0,
                                             "available": on_hand[parts[1]], "on_order": 0, "backordered": 0})
        return httpx.Response(200, json={})

    catalogue = validate_catalogue({"products": {"A": {"name": "a", "unit_price": 1}, "B": {"name": "b",
                                                                                           "unit_price": 2}},
                                    "customers": {"C": {"name": "c", "credit_limit": 5}},
                                    "stock": {"A": 5, "B": 10}})
    steps: list[str] = []
    result = seed_catalogue(client_for(handler), catalogue, on_step=steps.append)

    assert adjustments == [("A", 2)]  # B already had 10
    assert result.stock_adjusted == {"A": 2}
    assert (result.products, result.customers) == (2, 1)
    assert len(steps) == 5
    assert result.stock["A"]["on_hand"] == 5
