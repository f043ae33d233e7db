"""Bad input over HTTP: a 4xx with the structured error body, and nothing written."""

from __future__ import annotations

import json
import uuid

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import ApiError

pytestmark = pytest.mark.e2e

JSON = {"content-type": "application/json"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"bad-{uuid.uuid4()}"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is ``status`` with ``{"error": {"code", "message", "details"}}``; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "details"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code:
        assert error["code"] == code, error
    return error


@pytest.fixture
def setup(shop):
    """A customer and a SKU with 5 in stock; ``nothing_written()`` checks neither changed."""
    sku = shop.product("widget", stock=5)
    customer = shop.customer()
    stock_before = shop.client.get_stock(sku)

    def nothing_written() -> None:
        assert shop.client.list_orders(customer)["orders"] == []
        assert shop.client.get_stock(sku) == stock_before
        assert shop.client.get_customer(customer)["exposure"] == 0

    return shop.client, customer, sku, nothing_written


def problem_fields(error: dict) -> list[str]:
    return [p["field"] for p in error["details"].get("problems", [])]


def test_malformed_json_is_400(setup):
    client, customer, sku, nothing_written = setup
    text = f'{{"customer_id": "{customer}", "lines": [{{"sku": "{sku}", "quantity": 1}}'  # unclosed

    response = client.request("POST", "/orders", content=text, headers={**JSON, **key()})

    assert_error(response, 400, "MALFORMED_JSON")
    nothing_written()


@pytest.mark.parametrize(("name", "lines", "field"), [
    ("quantity as a string", [{"sku": "SKU", "quantity": "2"}], "body.lines.0.quantity"),
    ("quantity as a float", [{"sku": "SKU", "quantity": 1.5}], "body.lines.0.quantity"),
    ("quantity as a boolean", [{"sku": "SKU", "quantity": True}], "body.lines.0.quantity"),
    ("zero quantity", [{"sku": "SKU", "quantity": 0}], "body.lines.0.quantity"),
    ("negative quantity", [{"sku": "SKU", "quantity": -3}], "body.lines.0.quantity"),
    ("no lines", [], "body.lines"),
    ("lines not a list", {"sku": "SKU", "quantity": 1}, "body.lines"),
    ("duplicate SKUs", [{"sku": "SKU", "quantity": 1}, {"sku": "SKU", "quantity": 2}], "body.lines"),
    ("line without sku", [{"quantity": 1}], "body.lines.0.sku"),
    ("unknown field in a line", [{"sku": "SKU", "quantity": 1, "discount": 5}], "body.lines.0.discount"),
])
def test_invalid_order_body_is_422_and_names_the_field(setup, name, lines, field):
    client, customer, sku, nothing_written = setup
    lines = json.loads(json.dumps(lines).replace('"SKU"', json.dumps(sku)))

    response = client.request("POST", "/orders", json={"shipping_address": SAMPLE_ADDRESS,
                                                       "customer_id": customer, "lines": lines}, headers=key())

    error = assert_error(response, 422, "VALIDATION_FAILED")
    assert field in problem_fields(error), (name, error)
    nothing_written()


@pytest.mark.parametrize("body", [
    pytest.param([{"sku": "x", "quantity": 1}], id="array instead of object"),
    pytest.param({"lines": [{"sku": "x", "quantity": 1}]}, id="no customer_id"),
    pytest.param({"customer_id": 42, "lines": [{"sku": "x", "quantity": 1}]}, id="customer_id a number"),
    pytest.param({"customer_id": "has spaces!", "lines": [{"sku": "x", "quantity": 1}]}, id="bad customer_id"),
])
def test_wrong_shapes_are_422(setup, body):
    client, _customer, _sku, nothing_written = setup
    response = client.request("POST", "/orders", json=body, headers=key())
    assert_error(response, 422, "VALIDATION_FAILED")
    nothing_written()


def test_too_many_lines_is_422(setup, shop):
    client, customer, _sku, nothing_written = setup
    lines = [{"sku": f"{shop.prefix}-n{i}", "quantity": 1} for i in range(41)]
    response = client.request("POST", "/orders", json={"shipping_address": SAMPLE_ADDRESS,
                                                       "customer_id": customer, "lines": lines}, headers=key())
    error = assert_error(response, 422, "VALIDATION_FAILED")
    assert "body.lines" in problem_fields(error)
    nothing_written()


def test_missing_idempotency_key_is_422(setup):
    client, customer, sku, nothing_written = setup
    response = client.request("POST", "/orders", json={"shipping_address": SAMPLE_ADDRESS,
                                                       "customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]})
    error = assert_error(response, 422, "VALIDATION_FAILED")
    assert any("idempotency-key" in f.lower() for f in problem_fields(error)), error
    nothing_written()


def test_oversized_body_is_413(setup):
    client, customer, sku, nothing_written = setup
    order = json.dumps({"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]})
    body = order[:-1] + " " * (64 * 1024) + "}"  # valid JSON, just too big

    response = client.request("POST", "/orders", content=body.encode(), headers={**JSON, **key()})

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    nothing_written()


def test_oversized_body_with_a_big_field_is_413(setup):
    client, customer, sku, nothing_written = setup
    body = {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}], "note": "x" * (70 * 1024)}
    response = client.request("POST", "/orders", json=body, headers=key())
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    nothing_written()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_refused_and_writes_nothing(setup, content_type):
    client, customer, sku, nothing_written = setup
    body = json.dumps({"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]})
    response = client.request("POST", "/orders", content=body.encode(), headers={"content-type": content_type, **key()})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    nothing_written()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415_with_the_structured_error(setup, content_type):
    client, customer, sku, _nothing_written = setup
    body = f"customer_id={customer}&sku={sku}&quantity=1"
    response = client.request("POST", "/orders", content=body.encode(), headers={"content-type": content_type, **key()})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unknown_route_is_a_structured_404(client):
    response = client.request("GET", "/no-such-thing")
    assert_error(response, 404)


# ------------------------------------------------------------------ catalogue and stock
def test_zero_stock_adjustment_is_422_and_changes_nothing(setup):
    client, _customer, sku, nothing_written = setup
    response = client.request("POST", f"/stock/{sku}/adjustments", json={"quantity": 0, "reason": "nothing"})
    assert "body.quantity" in problem_fields(assert_error(response, 422, "VALIDATION_FAILED"))
    nothing_written()


def test_writing_off_more_than_available_is_409_and_changes_nothing(setup):
    client, _customer, sku, nothing_written = setup
    with pytest.raises(ApiError) as refused:
        client.adjust_stock(sku, -6, reason="shrinkage")
    assert refused.value.status == 409
    nothing_written()


def test_stock_of_unknown_sku_is_404(client, shop):
    with pytest.raises(ApiError) as missing:
        client.adjust_stock(f"{shop.prefix}-ghost", 5, reason="receipt")
    assert missing.value.status == 404
    with pytest.raises(ApiError) as missing:
        client.get_stock(f"{shop.prefix}-ghost")
    assert missing.value.status == 404


@pytest.mark.parametrize("body", [
    pytest.param({"name": "x", "unit_price": -1}, id="negative price"),
    pytest.param({"name": "x", "unit_price": "cheap"}, id="price not a number"),
    pytest.param({"name": "", "unit_price": 1}, id="empty name"),
    pytest.param({"unit_price": 1}, id="no name"),
])
def test_invalid_product_is_422_and_not_stored(client, shop, body):
    sku = f"{shop.prefix}-bad"
    response = client.request("PUT", f"/products/{sku}", json=body)
    assert_error(response, 422, "VALIDATION_FAILED")
    with pytest.raises(ApiError) as missing:
        client.get_product(sku)
    assert missing.value.status == 404


def test_invalid_customer_is_422_and_not_stored(client, shop):
    customer = f"{shop.prefix}-bad"
    response = client.request("PUT", f"/customers/{customer}", json={"name": "x", "credit_limit": -5})
    assert_error(response, 422, "VALIDATION_FAILED")
    with pytest.raises(ApiError) as missing:
        client.get_customer(customer)
    assert missing.value.status == 404


def _cursor(payload: dict) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("value", ["", "x" * 1025])
def test_a_cursor_with_a_key_dynamodb_would_refuse_is_a_422_not_a_500(shop, value):
    customer = shop.customer()
    key = {"order_id": {"S": value}, "customer_id": {"S": customer}, "created_at": {"S": "2030-01-01"}}
    orders = shop.client.request("GET", "/orders", params={"customer_id": customer, "cursor": _cursor(key)})
    assert_error(orders, 422, "UNPROCESSABLE")
    start = {"po_id": {"S": value}, "status": {"S": "SENT"}, "created_at": {"S": "2030-01-01"}}
    pos = shop.client.request("GET", "/purchase-orders", params={"cursor": _cursor({"status": 0, "start": start})})
    assert_error(pos, 422, "UNPROCESSABLE")
