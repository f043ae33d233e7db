"""The one OpenAPI document of the whole API (docs/api.md): its operations are exactly template.yaml's routes,
each with its tag, summary, description, bearer scopes, success status, typed answer and the error body; it
is a valid OpenAPI 3.1 document, and the committed copy the intake serves is what the code gives."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from orderflow_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "functions" / "order_intake" / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete"}
OPERATION_VERBS = {"get", "list", "put", "submit", "create", "change", "cancel", "approve", "adjust", "record", "pick",
                   "pack", "ship", "deliver", "request", "receive", "start", "import"}


def _script(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> Any:
    return _script("openapi")


@pytest.fixture(scope="module")
def document(generator) -> dict[str, Any]:
    return generator.build()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in document["paths"].items() for method, op in item.items()
            if method in METHODS}


def template_routes() -> dict[tuple[str, str], tuple[str, ...] | None]:
    return {(e.method, e.path): (e.scopes if e.authorizer else None)
            for f in load_template(ROOT / "template.yaml").functions for e in f.http_events}


def test_the_documents_operations_are_the_templates_routes(document):
    assert sorted(operations(document)) == sorted(template_routes())


def test_the_served_document_is_what_the_code_gives(generator, document):
    assert COMMITTED.read_text(encoding="utf-8") == generator.render(document), \
        "functions/order_intake/openapi.json is out of date: run `make openapi` and commit it"


def test_it_is_a_valid_openapi_3_1_document_with_the_bearer_scheme(document):
    validate(document)
    assert document["openapi"].startswith("3.1")
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")


def test_each_operation_says_what_it_does_under_a_declared_tag_with_the_routes_scopes(document):
    tags = {tag["name"] for tag in document["tags"]}
    scopes = template_routes()
    ids = [op["operationId"] for op in operations(document).values()]
    assert len(ids) == len(set(ids))
    # generated clients call them as methods: each says what it does, verb first (not `kpis`, `location_shipments`)
    assert [i for i in ids if i.split("_")[0] not in OPERATION_VERBS] == []
    for (method, path), op in operations(document).items():
        assert op["tags"] and set(op["tags"]) <= tags, (method, path)
        assert op["summary"] and path not in op["summary"] and op["description"], (method, path)
        expected = [] if scopes[(method, path)] is None else [{"bearer": list(scopes[(method, path)])}]
        assert op["security"] == expected, (method, path)


def _schema_of(response: dict[str, Any]) -> dict[str, Any]:
    return response["content"]["application/json"]["schema"]


def test_answers_are_typed_and_errors_are_the_error_body(document):
    schemas = document["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
    error, gateway = "#/components/schemas/ErrorBody", "#/components/schemas/GatewayMessage"
    assert schemas["ErrorBody"]["required"] == ["error"]
    for (method, path), op in operations(document).items():
        if op["security"] == []:
            continue  # the document and its page
        successes = [code for code in op["responses"] if code.startswith("2")]
        assert len(successes) == 1, (method, path)
        ref = _schema_of(op["responses"][successes[0]])["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert body["type"] == "object" and body["properties"], (method, path)  # typed, not any object
        for code, response in op["responses"].items():
            if code.startswith("2"):
                continue
            schema = _schema_of(response)
            refs = {s["$ref"] for s in schema.get("anyOf", [schema])}
            assert refs <= {error, gateway}, (method, path, code)
            if code in {"400", "404", "409", "422"}:
                assert schema == {"$ref": error}, (method, path, code)
        assert {"401", "403", "429", "500", "503"} <= set(op["responses"]), (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)
        if method in {"POST", "PUT", "PATCH"}:
            assert {"400", "409", "413", "415", "422"} <= set(op["responses"]), (method, path)


def test_creations_answer_201_and_background_work_202_with_a_location(document):
    ops = operations(document)
    for route in [("POST", "/orders"), ("POST", "/orders/{order_id}/returns"), ("POST", "/purchase-orders")]:
        assert "201" in ops[route]["responses"] and "200" not in ops[route]["responses"], route
        assert "Location" in ops[route]["responses"]["201"]["headers"]
    for route in [("POST", "/replenishment/runs"), ("POST", "/replenishment/simulations")]:
        assert "202" in ops[route]["responses"], route


def test_constraints_are_those_of_the_validation(document):
    """Identifiers, money and countries: what the validation refuses, the document does not allow."""
    schemas = document["components"]["schemas"]
    sku = schemas["OrderLineIn"]["properties"]["sku"]
    assert (sku["pattern"], sku["maxLength"]) == ("^[A-Za-z0-9][A-Za-z0-9._:-]*$", 64)
    number, text = schemas["ProductIn"]["properties"]["unit_price"]["anyOf"]
    assert number["multipleOf"] == 0.01 and number["maximum"] == 999999999999.99
    assert text["pattern"] == r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
    assert "GB" in schemas["Address"]["properties"]["country"]["enum"]
    assert "ZZ" not in schemas["Address"]["properties"]["country"]["enum"]
    order = {p["name"]: p for p in operations(document)[("GET", "/orders/{order_id}")]["parameters"]}
    assert order["order_id"]["schema"]["maxLength"] == 128


def test_every_request_body_has_an_example(document):
    for (method, path), op in operations(document).items():
        if "requestBody" in op:
            assert op["requestBody"]["content"]["application/json"]["example"], (method, path)


def test_object_schemas_keep_their_rules_where_client_generators_read_them(document):
    """openapi-python-client (docs/api.md) drops an operation whose body object has a top-level anyOf or oneOf
    (it reads one as a union of types): the rules across fields are ``not`` and ``if``/``then``."""
    for name, schema in document["components"]["schemas"].items():
        if "properties" in schema:
            assert not {"anyOf", "oneOf", "allOf"} & set(schema), name


def test_what_every_answer_carries_is_required_and_what_may_be_left_out_is_not(document):
    """A generated client types a field that is not required as maybe-unset: the counters of a stock read, an
    order's timeline or a customer's credit are always sent, so they are required; a nullable field (a cursor on
    the last page, a carrier before shipping) may be left out and stays optional."""
    required = {name: set(schema.get("required", [])) for name, schema in document["components"]["schemas"].items()}
    assert {"on_hand", "reserved", "available", "on_order", "backordered"} <= required["StockLevel"]
    assert {"on_hand", "available", "locations"} <= required["StockPosition"]
    assert {"status", "timeline", "version", "fulfilment_policy"} <= required["OrderView"]
    assert {"exposure", "credit_available"} <= required["Customer"]
    assert {"timeline", "deliver_to"} <= required["PurchaseOrder"]
    assert "next_cursor" not in required["OrderPage"] and "carrier" not in required["FulfilmentShipment"]
    assert required["SimulationIn"] == {"days"}, "a request body keeps its defaults optional"


def test_pagination_and_idempotency_parameters_say_how_to_use_them(document):
    """A client generated from the document shows these words: where a cursor comes from, that a page may hold
    fewer than ``limit``, what a retried or reused Idempotency-Key does."""
    for (method, path), op in operations(document).items():
        for parameter in op.get("parameters", []):
            name, words = parameter["name"], parameter.get("description", "")
            if name == "cursor":
                assert "next_cursor" in words, (method, path)
            if name == "limit" and any(p["name"] == "cursor" for p in op["parameters"]):
                assert "next_cursor" in words, (method, path)
            if name == "idempotency-key":
                assert "IDEMPOTENCY_KEY_REUSED" in words and "retry" in words, (method, path)


def test_every_error_code_the_code_raises_is_in_the_documented_list():
    """``ErrorBody.code`` points integrators at docs/decisions.md, "HTTP errors": a client switching on codes
    finds each code there with its status (it listed fewer than half of them)."""
    import re

    raised = set()
    for source in [*(ROOT / "layers" / "core" / "orderflow").rglob("*.py"), *(ROOT / "functions").rglob("app.py")]:
        text = source.read_text(encoding="utf-8")
        raised |= set(re.findall(r'^\s+code = "([A-Z_]+)"', text, re.MULTILINE))
        raised |= set(re.findall(r'error\(\d{3}, "([A-Z_]+)"', text))
    decisions = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    table = decisions.split("## HTTP errors", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    assert len(raised) > 20 and {"VALIDATION_FAILED", "INTERNAL_ERROR", "TRY_AGAIN"} <= raised
    assert sorted(raised - listed) == []


def test_moments_and_days_in_answers_are_typed_as_dates(document):
    """The models type them as ``str``; the document says ``date-time`` (``2026-12-07T05:13:53.000Z``) and
    ``date`` (``2026-12-07``), so a generated client hands an integrator dates, not strings to parse."""
    schemas = document["components"]["schemas"]

    def formats(model: str, field: str) -> set[str]:
        form = schemas[model]["properties"][field]
        return {branch.get("format") for branch in form.get("anyOf", [form]) if branch.get("type") == "string"}

    for model, field in [("OrderView", "created_at"), ("TimelineEntry", "at"), ("FulfilmentShipment", "ship_by"),
                         ("PurchaseOrder", "approval_expires_at"), ("Alert", "at"), ("OrderView", "deadline")]:
        assert formats(model, field) == {"date-time"}, (model, field)
    for model, field in [("DemandDay", "day"), ("PurchaseOrder", "cycle"), ("Kpis", "from")]:
        assert formats(model, field) == {"date"}, (model, field)
