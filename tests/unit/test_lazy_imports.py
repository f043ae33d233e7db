"""Cold start of the order functions (docs/decisions.md, "Cold start"): what a fresh interpreter loads when
it imports a handler, and that what is deferred still works on the first request that needs it.

Each test runs a fresh interpreter with a Lambda-like environment (tracing on, as on Lambda). AWS is
answered in memory by a ``before-send`` hook on the function's clients: ``GetItem`` on the orders table
returns a delivered order, on the products table a product, anything else ``{}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# The request bodies of the intake's catalogue, stock and returns routes: loaded by their route's first request.
BODIES = ("orderflow.catalogue.requests", "orderflow.inventory.requests", "orderflow.returns.requests")
DEFERRED = ("aws_xray_sdk", "aws_lambda_powertools.utilities.idempotency",
            "aws_lambda_powertools.event_handler.openapi.models", "pydantic_settings",
            "aws_lambda_powertools.utilities.parser.models", "orderflow.returns.domain", "orderflow.returns.service",
            "orderflow.fulfilment.domain", "orderflow.fulfilment.sourcing", "orderflow.fulfilment.lifecycle",
            "orderflow.inventory.heat",  # heat: the stock stream's bucket sizing (PublishEventsFunction) only
            *BODIES)
# What the intake builds on the first request that needs it: the catalogue and stock routes' services, the order
# service's adapters that taking and reading orders do not use, and the ports (types only).
INTAKE_LATER = ("orderflow.catalogue.service", "orderflow.inventory.service", "orderflow.inventory.adapters.stock",
                "orderflow.inventory.adapters.demand", "orderflow.inventory.adapters.arrivals",
                "orderflow.fulfilment.adapters.locations", "orderflow.fulfilment.adapters.shipments",
                "orderflow.orders.ports", "orderflow.inventory.ports", "orderflow.shared.ports")
FULFILMENT = {"orderflow.fulfilment.domain", "orderflow.fulfilment.sourcing", "orderflow.fulfilment.lifecycle"}
ORDER_ID = "ord-0123456789abcdef0123"
ORDER_ITEM = {
    "order_id": {"S": ORDER_ID}, "customer_id": {"S": "cust-1"}, "status": {"S": "DELIVERED"},
    "total": {"N": "19.98"}, "lines": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "2"},
                                                    "unit_price": {"N": "9.99"}}}]},
    "created_at": {"S": "2026-01-01T00:00:00.000Z"}, "updated_at": {"S": "2026-01-02T00:00:00.000Z"},
    "version": {"N": "6"}, "timeline": {"L": []},
}
PRODUCT_ITEM = {"sku": {"S": "SKU-1"}, "name": {"S": "Widget"}, "unit_price": {"N": "9.99"}}

# Runs in the child: ``module`` is imported, then each event of EVENTS is handled; prints one JSON line.
CHILD = """
import json, sys, types
from botocore.awsrequest import AWSResponse

def loaded():
    return sorted(m for m in DEFERRED if m in sys.modules)

import {module} as function
import gc
collector = {{"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}}
from orderflow.platform.aws import client
after_import = loaded()

class Body:
    def __init__(self, data): self.data = data
    def stream(self, **_): yield self.data

calls = []
def answer(request, **_):
    target = request.headers.get("X-Amz-Target", b"")
    target = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
    calls.append(target)
    table = json.loads(request.body or b"{{}}").get("TableName")
    item = {{"orders": ORDER_ITEM, "products": PRODUCT_ITEM}}.get(table) if target == "GetItem" else None
    body = {{"Item": item}} if item else {{}}
    return AWSResponse(request.url, 200, {{}}, Body(json.dumps(body).encode()))

for name in ("dynamodb", "stepfunctions"):
    client(name).meta.events.register("before-send", answer)

subsegments = []
if TRACED:
    from aws_xray_sdk.core import xray_recorder
    class Capture:
        def send_entity(self, entity): subsegments.append(entity.to_dict())
        def set_daemon_address(self, address): pass
    xray_recorder.configure(emitter=Capture())

context = types.SimpleNamespace(function_name="fn", function_version="$LATEST", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn", aws_request_id="r-1",
    log_group_name="/aws/lambda/fn", log_stream_name="s", get_remaining_time_in_millis=lambda: 15000)
results = []
for event in EVENTS:
    results.append({{"response": function.handler(event, context), "loaded": loaded()}})
print(json.dumps({{"after_import": after_import, "results": results, "calls": calls,
                   "subsegments": subsegments, "collector": collector}}, default=str))
"""


def run_child(code_dir: str, module: str, events: list[dict[str, Any]], traced: bool = False,
              watched: tuple[str, ...] = DEFERRED) -> dict[str, Any]:
    """``loaded`` in the answer: the modules of ``watched`` loaded by then."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update({
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
        "LAMBDA_TASK_ROOT": str(REPO / "functions" / code_dir), "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "POWERTOOLS_METRICS_NAMESPACE": "Orderflow", "POWERTOOLS_LOG_LEVEL": "WARNING",
        "ORDERS_TABLE": "orders", "IDEMPOTENCY_TABLE": "idempotency", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    })
    if not traced:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    prelude = (f"DEFERRED = {watched!r}\nORDER_ITEM = {ORDER_ITEM!r}\nPRODUCT_ITEM = {PRODUCT_ITEM!r}\n"
               f"TRACED = {traced!r}\n"
               f"EVENTS = json.loads({json.dumps(events)!r})\n")
    code = "import json\n" + prelude + CHILD.format(module=module)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "functions" / code_dir, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def http(method: str, path: str, body: Any = None, query: str = "", headers: dict | None = None) -> dict:
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "test"},
                           "requestId": "r-1", "routeKey": f"{method} {path}", "stage": "$default",
                           # what API Gateway's JWT authorizer passes on for an operator's token
                           "authorizer": {"jwt": {"claims": {"sub": "ops", "scope": "orderflow/admin"},
                                                  "scopes": ["orderflow/admin"]}}},
        "body": None if body is None else json.dumps(body), "isBase64Encoded": False,
    }


def decoded(result: dict) -> tuple[int, Any]:
    response = result["response"]
    body = response.get("body") or ""
    return response["statusCode"], json.loads(body) if body.startswith(("{", "[")) else body


ADDRESS = {"name": "A", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}


def test_intake_cold_import_defers_tracing_idempotency_and_the_swagger_page_until_a_request_needs_them():
    out = run_child("order_intake", "app", [
        http("POST", "/orders", {"customer_id": "cust-1", "lines": [], "shipping_address": ADDRESS},
             headers={"Idempotency-Key": "k-1"}),
        http("GET", f"/orders/{ORDER_ID}"),
        http("GET", "/swagger", query="format=json"),
        http("GET", "/swagger"),
        http("POST", "/orders", {"customer_id": "cust-1", "lines": [{"sku": "SKU-9", "quantity": 1}],
                                 "shipping_address": ADDRESS}, headers={"Idempotency-Key": "k-2"}),
    ])
    assert out["after_import"] == []
    invalid, get, spec, page, unknown_sku = out["results"]

    status, body = decoded(invalid)  # validated on the first request, before any AWS call
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    assert [p["field"] for p in body["error"]["details"]["problems"]] == ["body.lines"]
    status, body = decoded(get)
    assert status == 200 and body["order_id"] == ORDER_ID and body["status"] == "DELIVERED"
    assert set(get["loaded"]) <= {"aws_xray_sdk"}  # a read loads neither idempotency nor OpenAPI models

    status, body = decoded(spec)  # the whole API's document, merged at build time: read, not generated
    assert status == 200 and body["info"]["title"] == "Orderflow API"
    assert {"/orders", "/orders/{order_id}", "/returns/{return_id}/receive", "/purchase-orders"} <= set(body["paths"])
    assert "SubmitOrderIn" in body["components"]["schemas"]
    assert "aws_lambda_powertools.event_handler.openapi.models" not in spec["loaded"]
    status, html = decoded(page)
    assert status == 200 and "swagger-ui" in html.lower()
    assert "aws_lambda_powertools.utilities.idempotency" not in page["loaded"]

    status, body = decoded(unknown_sku)  # the idempotent submit builds its layer on first use
    assert status == 422 and body["error"]["code"] == "UNPROCESSABLE"
    assert "aws_lambda_powertools.utilities.idempotency" in unknown_sku["loaded"]
    assert "PutItem" in out["calls"]  # the key was recorded in the idempotency table ...
    assert "DeleteItem" in out["calls"]  # ... and released, since the request failed


def test_workflow_step_traces_its_first_invocation_and_its_aws_calls():
    out = run_child("process_order", "validate", [{"order_id": ORDER_ID}], traced=True)
    assert out["after_import"] == []
    response = out["results"][0]["response"]
    assert (response["order_id"], response["status"], response["order"]["status"]) == (ORDER_ID, "DELIVERED",
                                                                                       "DELIVERED")
    assert out["calls"] == ["GetItem"]
    names = {s["name"]: s for s in out["subsegments"]}
    assert names["## handler"]["annotations"]["ColdStart"] is True
    assert names["## handler"]["annotations"]["Service"] == "validate_order"
    dynamodb = [s for s in out["subsegments"] if s.get("namespace") == "aws"]
    assert [s["aws"]["operation"] for s in dynamodb] == ["GetItem"]


def test_tracer_keeps_the_decorated_functions_signature_and_results():
    from inspect import signature

    from orderflow.platform.lambda_support import observability

    _, tracer, _ = observability("test")

    @tracer.capture_method
    def double(record: int, *, by: int = 2) -> int:
        return record * by

    @tracer.capture_method(capture_response=False)
    def triple(record: int) -> int:
        return record * 3

    assert list(signature(double).parameters) == ["record", "by"]  # what Powertools' batch processing inspects
    assert (double(4), double(4, by=3), triple(2)) == (8, 12, 6)


def test_traces_keep_no_response_data():
    """A handler's response (orders, customers' names and credit) stays out of X-Ray: the handler's
    subsegment carries its annotations, not the body it returned."""
    out = run_child("order_intake", "app", [http("GET", f"/orders/{ORDER_ID}")], traced=True)
    status, body = decoded(out["results"][0])
    assert status == 200 and body["customer_id"]
    handler = next(s for s in out["subsegments"] if s["name"] == "## handler")
    assert handler["annotations"]["ColdStart"] is True
    recorded = json.dumps(out["subsegments"])
    assert body["customer_id"] not in recorded and "response" not in json.dumps(handler.get("metadata", {}))


ORDER_FUNCTIONS = [("order_intake", "app"), ("warehouse_api", "app"), *(("process_order", m) for m in (
    "validate", "check_credit", "reserve", "await_stock", "compensate", "expire", "wake"))]


@pytest.mark.parametrize(("code_dir", "module"), ORDER_FUNCTIONS)
def test_order_functions_load_without_collections_and_keep_their_objects_out_of_later_ones(code_dir, module):
    """orderflow.init_phase: the collector is off while a handler's modules load, and back on once the
    handler is ready, with what loading built frozen (about 100,000 objects), so no collection scans it."""
    out = run_child(code_dir, module, [])
    assert out["collector"]["enabled"] is True
    assert out["collector"]["frozen"] > 50_000


def test_wake_backorders_loads_no_powertools_parser_models():
    """WakeBackordersFunction reads its SQS bodies with the domain's model, so its init builds no parser model's
    validator (docs/decisions.md, "Cold start")."""
    out = run_child("process_order", "wake", [])
    assert out["after_import"] == []


def test_an_area_loads_its_service_on_first_use_not_with_its_models():
    """Importing an area's models (as the order aggregate imports fulfilment's ``Address``) does not load the
    area's service; naming the service still gives it (docs/decisions.md, "Cold start")."""
    areas = ("orders", "catalogue", "inventory", "fulfilment")
    code = (f"import json, sys\nimport {', '.join(f'orderflow.{a}' for a in areas)}\n"
            f"before = sorted(m for m in sys.modules if m.endswith('.service'))\n"
            "from orderflow.orders import OrderService\nfrom orderflow.catalogue import CatalogueService\n"
            "from orderflow.inventory import InventoryService\nfrom orderflow.fulfilment import FulfilmentService\n"
            "print(json.dumps({'before': before, 'services': [c.__module__ for c in (OrderService, "
            "CatalogueService, InventoryService, FulfilmentService)]}))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "layers" / "core", capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["before"] == []
    assert out["services"] == [f"orderflow.{a}.service" for a in areas]
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        import orderflow.orders

        orderflow.orders.Nothing  # noqa: B018


def test_intake_loads_the_returns_area_only_for_a_request_about_returns():
    """The intake names the returns' request bodies in its routes (orderflow.returns.requests), but loads the
    returns service, models and table on the first request that reads or makes a return: reading an order that
    never had one needs none of it (docs/decisions.md, "Cold start")."""
    out = run_child("order_intake", "app", [http("GET", f"/orders/{ORDER_ID}"),
                                            http("GET", "/returns/ret-0123456789abcdef0123")])
    assert out["after_import"] == []
    read_order, read_return = out["results"]
    status, body = decoded(read_order)  # delivered, never returned: no returns, and no query for them
    assert status == 200 and body["order_id"] == ORDER_ID and body["returns"] == []
    assert out["calls"] == ["GetItem", "GetItem"]  # the order's, then the return's (below); no Query
    assert not {"orderflow.returns.domain", "orderflow.returns.service"} & set(read_order["loaded"])
    status, body = decoded(read_return)  # the returns area loads for the request that needs it
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert {"orderflow.returns.domain", "orderflow.returns.service"} <= set(read_return["loaded"])


def test_intake_loads_the_catalogue_stock_and_returns_bodies_with_their_routes_first_request():
    """Taking and reading orders need none of them; each route still validates its body with its model and
    answers as before, and only its own area's bodies load (docs/decisions.md, "Cold start")."""
    out = run_child("order_intake", "app", [
        http("POST", "/orders", {"customer_id": "cust-1", "lines": [{"sku": "SKU-9", "quantity": 1}],
                                 "shipping_address": ADDRESS}, headers={"Idempotency-Key": "k-1"}),
        http("GET", f"/orders/{ORDER_ID}"),
        http("PUT", "/products/SKU-1", {"name": "Widget", "unit_price": -1}),
        http("POST", "/stock/SKU-1/adjustments", {"quantity": 5, "reason": "receipt", "extra": 1}),
        http("POST", f"/orders/{ORDER_ID}/returns", {"lines": []}, headers={"Idempotency-Key": "k-2"}),
    ])
    assert out["after_import"] == []
    submit, read, product, adjustment, ret = out["results"]
    assert not set(BODIES) & {*submit["loaded"], *read["loaded"]}
    assert decoded(read)[0] == 200
    for result, field, loaded in ((product, "body.unit_price", BODIES[:1]), (adjustment, "body.extra", BODIES[:2]),
                                  (ret, "body.lines", BODIES)):
        status, body = decoded(result)  # refused by the route's model, before any AWS call
        assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
        assert field in [p["field"] for p in body["error"]["details"]["problems"]]
        assert sorted(set(BODIES) & set(result["loaded"])) == sorted(loaded)


def test_intake_builds_the_catalogue_and_stock_services_and_the_adapters_an_order_rarely_needs_on_first_use():
    """Taking and reading an order use the orders, customers and products adapters and the workflow; the stock,
    demand, arrivals, locations and shipments adapters, and the catalogue and inventory services, are built by the
    first request that uses them, and then answer as before (docs/decisions.md, "Cold start")."""
    out = run_child("order_intake", "app", [
        http("POST", "/orders", {"customer_id": "cust-1", "lines": [{"sku": "SKU-1", "quantity": 1}],
                                 "shipping_address": ADDRESS}, headers={"Idempotency-Key": "k-1"}),
        http("GET", f"/orders/{ORDER_ID}"),
        http("GET", "/products/SKU-1"),
        http("GET", "/stock/SKU-1"),
    ], watched=INTAKE_LATER)
    assert out["after_import"] == []
    submit, read, product, stock = out["results"]
    assert decoded(submit)[0] == 422  # no such customer: refused by the catalogue check
    assert decoded(read)[0] == 200
    assert submit["loaded"] == read["loaded"] == []
    status, body = decoded(product)
    assert status == 200 and body["sku"] == "SKU-1" and body["name"] == "Widget"
    assert "orderflow.catalogue.service" in product["loaded"]
    status, body = decoded(stock)
    assert status == 200 and body["sku"] == "SKU-1" and body["on_hand"] == 0
    assert {"orderflow.inventory.service", "orderflow.inventory.adapters.stock"} <= set(stock["loaded"])


def test_warehouse_api_loads_the_ship_body_with_the_ship_routes_first_request():
    """The warehouse's routes read locations and shipments; only ``ship`` takes an order-area body (``ShipIn``),
    loaded by that route's first request and validated as before."""
    out = run_child("warehouse_api", "app", [
        http("GET", "/locations/wh-1"),
        http("POST", "/shipments/shp-1/ship", {"carrier": "x" * 101}),
    ], watched=("orderflow.orders.requests",))
    assert out["after_import"] == []
    read, ship = out["results"]
    assert decoded(read)[0] == 404 and read["loaded"] == []
    status, body = decoded(ship)
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    assert [p["field"] for p in body["error"]["details"]["problems"]] == ["body.carrier"]
    assert ship["loaded"] == ["orderflow.orders.requests"]


def test_intake_loads_locations_shipments_and_sourcing_only_for_a_request_that_touches_them():
    """Taking and reading orders name fulfilment's address, policy and shipment statuses only: the locations,
    shipments, their lifecycle and sourcing load on the first request that reads or writes one (here a stock
    receipt at a location, which checks that the location exists), not at init (docs/decisions.md, "Cold start")."""
    out = run_child("order_intake", "app", [
        http("POST", "/orders", {"customer_id": "cust-1", "lines": [{"sku": "SKU-9", "quantity": 1}],
                                 "shipping_address": ADDRESS}, headers={"Idempotency-Key": "k-1"}),
        http("GET", f"/orders/{ORDER_ID}"),
        http("POST", "/stock/SKU-1/adjustments", {"quantity": 5, "reason": "receipt", "location_id": "wh-2"}),
    ])
    assert out["after_import"] == []
    submit, read, receipt = out["results"]
    status, body = decoded(submit)  # an unknown customer and SKU: refused by the catalogue check, as before
    assert status == 422 and body["error"]["code"] == "UNPROCESSABLE"
    status, body = decoded(read)
    assert status == 200 and body["order_id"] == ORDER_ID and body["shipments"] == []
    assert not FULFILMENT & {*submit["loaded"], *read["loaded"]}
    status, body = decoded(receipt)  # the location is looked up: its model loads for this request
    assert status == 422 and "unknown location wh-2" in body["error"]["message"]
    assert "orderflow.fulfilment.domain" in receipt["loaded"]


def test_fulfilment_names_load_on_first_access_and_are_the_areas_own():
    """``orderflow.fulfilment`` hands out the same classes and functions its modules define, loaded when named."""
    import orderflow.fulfilment as fulfilment
    from orderflow.fulfilment import domain, lifecycle, service, sourcing

    assert (fulfilment.Shipment, fulfilment.Location, fulfilment.OPEN_SHIPMENT) == (
        domain.Shipment, domain.Location, domain.OPEN_SHIPMENT)
    assert (fulfilment.plan, fulfilment.Candidate) == (sourcing.plan, sourcing.Candidate)
    assert fulfilment.SHIPMENT_LIFECYCLE is lifecycle.SHIPMENT_LIFECYCLE
    assert fulfilment.FulfilmentService is service.FulfilmentService
    assert fulfilment.Address is domain.Address and fulfilment.ShipmentStatus is domain.ShipmentStatus
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        fulfilment.Nothing  # noqa: B018
