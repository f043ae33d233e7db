"""Locations over HTTP: the main location always exists; an admin adds warehouses, stores and 3PLs with
their addresses; a bad address is a 422 naming the field and writes nothing; the warehouse may read them
and may not change them."""

from __future__ import annotations

import uuid

import pytest

from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.e2e

ADDRESS = {"name": "North DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "gb"}


def test_the_main_location_exists_before_anyone_creates_it(client: OrderflowClient):
    main = client.request("GET", "/locations/main")
    assert main.status_code == 200 and main.json()["location_id"] == "main"
    listed = client.request("GET", "/locations").json()["locations"]
    assert "main" in [loc["location_id"] for loc in listed]


def test_an_admin_adds_a_location_with_its_address_and_kind(client: OrderflowClient):
    location_id = f"store-{uuid.uuid4().hex[:8]}"
    body = {"name": "Leeds store", "address": ADDRESS, "priority": 2, "kind": "store"}
    put = client.request("PUT", f"/locations/{location_id}", json=body)
    assert put.status_code == 200, put.text
    stored = client.request("GET", f"/locations/{location_id}").json()
    assert stored["address"]["country"] == "GB"  # normalised
    assert (stored["priority"], stored["kind"], stored["active"]) == (2, "store", True)
    listed = [loc["location_id"] for loc in client.request("GET", "/locations").json()["locations"]]
    assert listed.index(location_id) < listed.index("main")  # priority 2 ranks before the main's 100


@pytest.mark.parametrize(("field", "value"), [("country", "XX"), ("country", "GBR"), ("postal_code", ""),
                                              ("line1", "x" * 201)])
def test_a_bad_address_is_a_422_naming_the_field_and_writes_nothing(client: OrderflowClient, field, value):
    location_id = f"bad-{uuid.uuid4().hex[:8]}"
    response = client.request("PUT", f"/locations/{location_id}",
                              json={"name": "Bad", "address": {**ADDRESS, field: value}})
    assert response.status_code == 422, response.text
    assert field in response.text
    assert client.request("GET", f"/locations/{location_id}").status_code == 404


def test_the_warehouse_reads_locations_and_cannot_change_them(api_url: str):
    with OrderflowClient(api_url, role="warehouse") as warehouse:
        assert warehouse.request("GET", "/locations").status_code == 200
        assert warehouse.request("PUT", "/locations/main", json={"name": "Mine", "address": ADDRESS}).status_code == 403


def test_an_order_needs_a_valid_shipping_address_and_keeps_it(shop):
    sku, customer = shop.product("globe", stock=3), shop.customer()
    lines = [{"sku": sku, "quantity": 1}]
    missing = shop.client.request("POST", "/orders", json={"customer_id": customer, "lines": lines},
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
    assert missing.status_code == 422 and "shipping_address" in missing.text
    status, body = shop.client.submit_order(customer, lines, shipping_address={**ADDRESS, "country": "UK"})
    assert status == 422 and "shipping_address.country" in str(body), body  # UK is not ISO 3166 (GB is)
    assert shop.client.list_orders(customer)["orders"] == []  # nothing stored

    status, body = shop.client.submit_order(customer, lines, shipping_address=ADDRESS)
    assert status == 201, body
    stored = shop.client.get_order(body["order_id"])["shipping_address"]
    assert {k: v for k, v in stored.items() if v is not None} == {**ADDRESS, "country": "GB"}


def test_the_warehouse_receives_stock_and_may_not_count_it_down(shop, api_url: str):
    sku = shop.product("crate", stock=2)
    with OrderflowClient(api_url, role="warehouse") as warehouse:
        received = warehouse.request("POST", f"/stock/{sku}/adjustments", json={"quantity": 5, "reason": "receipt"})
        assert received.status_code == 200, received.text
        assert received.json()["on_hand"] == 7
        written_off = warehouse.request("POST", f"/stock/{sku}/adjustments",
                                        json={"quantity": -3, "reason": "damaged"})
        assert written_off.status_code == 403
        assert written_off.json()["error"]["details"] == {"scope": "orderflow/admin"}
    assert shop.client.get_stock(sku)["on_hand"] == 7  # the refused write-off changed nothing
    counted_down = shop.client.request("POST", f"/stock/{sku}/adjustments", json={"quantity": -3, "reason": "damaged"})
    assert counted_down.status_code == 200 and counted_down.json()["on_hand"] == 4
