"""Every route needs a token: the JWT authorizer of template.yaml, run by the local stack's HTTP front as
API Gateway runs it (401, 403 with API Gateway's own bodies), and customers acting only for themselves."""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from orderflow_cli import main
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient, local_token
from orderflow_local.auth import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer

SHIP_TO = ("--ship-to", f"{SAMPLE_ADDRESS['name']}, {SAMPLE_ADDRESS['line1']}, {SAMPLE_ADDRESS['city']}, "
                        f"{SAMPLE_ADDRESS['postal_code']}, {SAMPLE_ADDRESS['country']}")

def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def anonymous(api_url):
    with httpx.Client(base_url=api_url, timeout=15) as http:
        yield http


def test_no_token_or_a_token_the_issuer_did_not_sign_is_401(anonymous, shop):
    sku = shop.product(stock=1)
    forged = LocalIssuer(LOCAL_ISSUER, LOCAL_AUDIENCE).token(["orderflow/admin"])  # right claims, another key
    for headers in ({}, bearer("not-a-jwt"), bearer(forged), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = anonymous.get(f"/stock/{sku}", headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json() == {"message": "Unauthorized"}
        assert "bearer" in response.headers["www-authenticate"].lower()
    response = anonymous.put(f"/products/{sku}", json={"name": "Hijacked", "unit_price": 0.01})
    assert response.status_code == 401
    assert shop.client.get_product(sku)["name"] != "Hijacked"


def test_an_expired_token_is_401(anonymous, e2e_stack):
    if e2e_stack.local is None:
        pytest.skip("needs the in-process local stack's issuer")
    old = e2e_stack.local.issuer.token(["orderflow/admin"], ttl_seconds=-1)
    assert anonymous.get("/replenishment/runs", headers=bearer(old)).status_code == 401
    fresh = e2e_stack.local.issuer.token(["orderflow/admin"])
    assert anonymous.get("/replenishment/runs", headers=bearer(fresh)).status_code == 200


@pytest.mark.parametrize(("role", "method", "path"), [
    ("customer", "PUT", "/products/ANY-SKU"),
    ("customer", "POST", "/stock/ANY-SKU/adjustments"),
    ("customer", "POST", "/orders/ord-1/ship"),
    ("customer", "PUT", "/suppliers/ACME"),
    ("customer", "POST", "/replenishment/runs"),
    ("warehouse", "POST", "/orders"),
    ("warehouse", "PUT", "/customers/C-1"),
    ("warehouse", "GET", "/customers/C-1"),  # a customer's credit and exposure are not the warehouse's business
    ("warehouse", "POST", "/customers/C-1/payments"),
    ("warehouse", "GET", "/purchase-orders"),
])
def test_a_token_without_the_routes_scope_is_403_and_changes_nothing(anonymous, api_url, role, method, path):
    token = local_token(api_url, role, customer_id="C-1" if role == "customer" else None)
    response = anonymous.request(method, path, headers=bearer(token), json={})
    assert response.status_code == 403, response.text
    assert response.json() == {"message": "Forbidden"}


def test_customers_see_and_change_only_their_own_orders(api_url, shop):
    sku = shop.product(price=5, stock=10)
    alice, bob = shop.customer("alice"), shop.customer("bob")
    with OrderflowClient(api_url, role="customer", customer_id=alice) as as_alice, \
            OrderflowClient(api_url, role="customer", customer_id=bob) as as_bob:
        status, order = as_alice.submit_order(alice, [{"sku": sku, "quantity": 2}], shipping_address=SAMPLE_ADDRESS)
        assert status == 201, order
        order_id = order["order_id"]
        assert as_alice.get_order(order_id)["customer_id"] == alice
        assert [o["order_id"] for o in as_alice.request("GET", "/orders", params={"customer_id": alice})
                .json()["orders"]] == [order_id]
        assert as_alice.request("GET", f"/customers/{alice}").status_code == 200

        # bob: alice's order does not exist for him, and he cannot act in her name
        assert as_bob.request("GET", f"/orders/{order_id}").status_code == 404
        cancel = as_bob.request("POST", f"/orders/{order_id}/cancel", json={})
        assert cancel.status_code == 404 and cancel.json()["error"]["code"] == "NOT_FOUND"
        for method, path, body in (("POST", "/orders", {"customer_id": alice, "lines": [{"sku": sku, "quantity": 1}],
                                                 "shipping_address": SAMPLE_ADDRESS}),
                                   ("GET", f"/orders?customer_id={alice}", None),
                                   ("GET", f"/customers/{alice}", None)):
            refused = as_bob.request(method, path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "FORBIDDEN"

        settled = shop.wait(order_id, "RESERVED")
        assert settled["status"] == "RESERVED"  # bob's attempts changed nothing
        assert len(shop.client.request("GET", "/orders", params={"customer_id": alice}).json()["orders"]) == 1
        cancelled = as_alice.cancel(order_id)
        assert cancelled["status"] == "CANCELLED" and cancelled["timeline"][-1]["by"] == "customer"


def test_the_timeline_names_the_role_that_cancelled_or_returned(api_url, shop):
    """Customer service (an admin token) acting on a customer's order is not written down as the customer."""
    sku, customer = shop.product(price=4, stock=5), shop.customer()
    cancelled_id = shop.submit(customer, {sku: 1})["order_id"]
    shop.wait(cancelled_id, "RESERVED")
    with OrderflowClient(api_url, role="admin") as customer_service:
        cancelled = customer_service.cancel(cancelled_id)
    assert cancelled["status"] == "CANCELLED" and cancelled["timeline"][-1]["by"] == "admin"


def test_the_warehouse_ships_what_customers_cannot(api_url, shop):
    sku, customer = shop.product(price=3, stock=5), shop.customer()
    order_id = shop.submit(customer, {sku: 1})["order_id"]
    shop.wait(order_id, "RESERVED")
    with OrderflowClient(api_url, role="customer", customer_id=customer) as as_customer:
        assert as_customer.request("POST", f"/orders/{order_id}/ship", json={}).status_code == 403
    with OrderflowClient(api_url, role="warehouse") as warehouse:
        assert warehouse.get_order(order_id)["status"] == "RESERVED"  # the warehouse reads any order
        assert warehouse.ship(order_id)["status"] == "SHIPPED"
        deadline = time.monotonic() + 15
        while warehouse.deliver(order_id)["status"] != "DELIVERED" and time.monotonic() < deadline:
            time.sleep(0.1)


def test_the_openapi_document_of_every_function_and_its_page_are_public(anonymous):
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Orderflow API"
    spec = response.json()  # every function's routes, each telling clients which token scopes it takes
    assert {"/orders", "/purchase-orders", "/replenishment/runs", "/kpis", "/alerts"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/purchase-orders"]["post"]["security"] == [{"bearer": ["orderflow/admin"]}]
    assert anonymous.get("/swagger", params={"format": "json"}).json() == spec
    page = anonymous.get("/swagger")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and "<script src=" not in page.text  # nothing from a CDN


def test_the_command_line_acts_as_the_role_it_is_given(api_url, shop):
    sku, customer = shop.product(stock=3), shop.customer()
    runner = CliRunner()
    as_customer = runner.invoke(main.app, ["--api", api_url, "--as", f"customer:{customer}", "adjust", sku, "5",
                                           "--reason", "found more"])
    assert as_customer.exit_code == 1 and "403" in as_customer.stderr
    own = runner.invoke(main.app, ["--api", api_url, "--as", f"customer:{customer}", "submit", "--customer",
                                   customer, "--line", f"{sku}=1", *SHIP_TO])
    assert own.exit_code == 0, own.output
    other = runner.invoke(main.app, ["--api", api_url, "--as", f"customer:{customer}", "submit", "--customer",
                                     shop.customer("other"), "--line", f"{sku}=1", *SHIP_TO])
    assert other.exit_code == 1 and "FORBIDDEN" in other.stderr


def test_the_local_log_says_why_a_request_was_refused_while_the_body_stays_api_gateways(
        anonymous, api_url, e2e_stack, caplog):
    if e2e_stack.local is None:
        pytest.skip("reads the log of the stack this process runs")
    caplog.set_level(logging.INFO, logger="orderflow_local.http")
    no_token = anonymous.get("/purchase-orders")
    warehouse = anonymous.get("/purchase-orders", headers=bearer(local_token(api_url, "warehouse")))
    assert (no_token.status_code, no_token.json()) == (401, {"message": "Unauthorized"})
    assert (warehouse.status_code, warehouse.json()) == (403, {"message": "Forbidden"})
    refusals = [r.getMessage() for r in caplog.records if r.name == "orderflow_local.http"]
    assert "401 on GET /purchase-orders [GET /purchase-orders], the authorizer's reason: no token" in refusals
    assert any(m.startswith("403 on GET /purchase-orders [GET /purchase-orders], the authorizer's reason: the route "
                            "needs one of orderflow/admin; the token of ")
               and m.endswith("has orderflow/warehouse") for m in refusals), refusals
