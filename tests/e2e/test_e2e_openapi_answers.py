"""An integrator's journey checked against the OpenAPI document alone (docs/api.md): an ERP, a WMS and a shop
call the API with their own roles' tokens, and every answer must be one the document lists for that operation,
with the body its schema describes (required fields, enums, date-time and date formats).

The fuzzing (tests/reliability/test_fuzz.py) sends every operation random requests with an admin's token, so it
rarely reaches a shipment to ship, a return to receive or a purchase order to approve, and never a customer's
token: this walks those states on purpose, the error answers included.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from orderflow_cli.addresses import SAMPLE_ADDRESS

DOCUMENT = "urn:orderflow-openapi"


class Documented:
    """Checks answers against the document; collects what does not match, to list it all at the end."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.document = httpx.get(f"{api_url}/openapi.json", timeout=15).json()
        self.registry = Registry().with_resource(DOCUMENT, Resource.from_contents(self.document, DRAFT202012))
        self.problems: list[str] = []

    def client(self, role: str, customer_id: str | None = None) -> httpx.Client:
        asked = {"role": role} | ({"customer_id": customer_id} if customer_id else {})
        token = httpx.post(f"{self.api_url}/_local/token", json=asked, timeout=15).json()["access_token"]
        return httpx.Client(base_url=self.api_url, timeout=30, headers={"Authorization": f"Bearer {token}"})

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for template, item in self.document["paths"].items():
            if method.lower() in item and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
                return template, item[method.lower()]
        raise AssertionError(f"{method} {path} is in no operation of the document")

    def check(self, response: httpx.Response, status: int) -> dict[str, Any]:
        """The answer's status is ``status`` and documented, and its body matches the documented schema."""
        template, operation = self.operation(response.request.method, response.request.url.path)
        what = f"{response.request.method} {template} -> {response.status_code}"
        if response.status_code != status:
            self.problems.append(f"{what}: wanted {status}: {response.text[:300]}")
        documented = operation["responses"].get(str(response.status_code))
        if documented is None:
            self.problems.append(f"{what}: not a documented answer ({sorted(operation['responses'])})")
            return {}
        body = response.json()
        schema = json.loads(json.dumps(documented["content"]["application/json"]["schema"])
                            .replace('"#/components/', f'"{DOCUMENT}#/components/'))
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry,
                                                    format_checker=jsonschema.FormatChecker())
        self.problems += [f"{what}: {list(e.absolute_path)} {e.message[:200]}" for e in validator.iter_errors(body)]
        for header in documented.get("headers", {}):
            if header.lower() not in response.headers:
                self.problems.append(f"{what}: no {header} header")
        return body


@pytest.fixture
def documented(api_url: str) -> Documented:
    return Documented(api_url)


def test_an_integrators_journey_gets_only_documented_answers(documented, shop):
    admin, warehouse = documented.client("admin"), documented.client("warehouse")
    check = documented.check
    supplier = f"{shop.prefix}-sup"
    check(admin.put(f"/suppliers/{supplier}", json={"name": "Supplier", "approval_threshold": 10}), 200)
    sku, other_sku = (shop.product(name, stock=20, supplier_id=supplier) for name in ("mug", "cup"))
    customer = shop.customer()
    shop_front = documented.client("customer", customer)
    order = {"customer_id": customer, "lines": [{"sku": sku, "quantity": 2}], "shipping_address": SAMPLE_ADDRESS}
    key = {"Idempotency-Key": f"erp-{uuid.uuid4().hex}"}

    first = check(shop_front.post("/orders", json=order, headers=key), 201)
    assert check(shop_front.post("/orders", json=order, headers=key), 201)["order_id"] == first["order_id"]
    reused = check(shop_front.post("/orders", json={**order, "lines": [{"sku": sku, "quantity": 3}]}, headers=key), 422)
    assert reused["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    order_id = first["order_id"]
    shop.wait(order_id, "RESERVED")
    check(shop_front.post("/orders", json={**order, "lines": [{"sku": other_sku, "quantity": 1}]},
                          headers={"Idempotency-Key": uuid.uuid4().hex}), 201)

    page = check(shop_front.get("/orders", params={"customer_id": customer, "limit": 1}), 200)
    assert page["next_cursor"]
    check(shop_front.get("/orders", params={"customer_id": customer, "limit": 1, "cursor": page["next_cursor"]}), 200)
    check(warehouse.get("/locations/main/shipments", params={"status": "RELEASED", "limit": 100}), 200)
    shipment_id = check(warehouse.get(f"/orders/{order_id}"), 200)["shipments"][0]["shipment_id"]
    for step in ("pick", "pack"):
        check(warehouse.post(f"/shipments/{shipment_id}/{step}"), 200)
    check(warehouse.post(f"/shipments/{shipment_id}/ship", json={"carrier": "DHL", "tracking": "JD0001"}), 200)
    check(warehouse.post(f"/shipments/{shipment_id}/deliver"), 200)
    check(shop_front.get(f"/shipments/{shipment_id}"), 200)
    check(shop_front.post(f"/orders/{order_id}/cancel", json={"reason": "too late"}), 409)

    refund = {"lines": [{"sku": sku, "quantity": 1, "reason": "chipped"}]}
    return_id = check(shop_front.post(f"/orders/{order_id}/returns", json=refund,
                                      headers={"Idempotency-Key": uuid.uuid4().hex}), 201)["return_id"]
    check(warehouse.post(f"/returns/{return_id}/receive",
                         json={"lines": [{"sku": sku, "quantity": 1, "condition": "resellable"}]}), 200)
    check(shop_front.get(f"/returns/{return_id}"), 200)
    check(shop_front.get(f"/stock/{sku}"), 200)
    check(warehouse.get(f"/stock/{sku}"), 200)

    po = check(admin.post("/purchase-orders", json={"supplier_id": supplier, "lines": [{"sku": sku, "quantity": 50,
               "unit_cost": 3}]}, headers={"Idempotency-Key": uuid.uuid4().hex}), 201)
    assert po.get("status") == "PENDING_APPROVAL", documented.problems
    check(admin.post(f"/purchase-orders/{po['po_id']}/approve"), 200)
    assert check(admin.post(f"/purchase-orders/{po['po_id']}/approve"), 409)["error"]["code"] == "NOT_PENDING_APPROVAL"

    check(shop_front.post("/orders", json={"customer_id": customer}, headers={"Idempotency-Key": "x-1"}), 422)
    unknown = {**order, "lines": [{"sku": f"{shop.prefix}-none", "quantity": 1}]}
    check(shop_front.post("/orders", json=unknown, headers={"Idempotency-Key": uuid.uuid4().hex}), 422)
    check(shop_front.post("/orders", json={**order, "customer_id": "someone-else"},
                          headers={"Idempotency-Key": uuid.uuid4().hex}), 403)
    check(shop_front.put(f"/products/{sku}", json={"name": "x", "unit_price": 1}), 403)
    check(warehouse.get("/orders/ord-none"), 404)
    check(warehouse.post("/shipments/shp-none/ship", json={}), 404)
    check(admin.post("/purchase-orders/po-none/approve"), 404)
    assert documented.problems == []
