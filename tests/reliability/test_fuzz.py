"""Bad input over HTTP: schemathesis fuzzes every operation of the whole API's OpenAPI document
(GET /openapi.json, every function's routes; docs/api.md) with valid and invalid requests against the running
local stack, and explicit cases add what a schema cannot express: oversized bodies, deep JSON, unicode, huge
numbers, wrong content types.

For every answer: no 5xx; every 4xx is ``{"error": {"code", "message", "details"}}`` and the request wrote
nothing (every DynamoDB write of the API's functions is recorded, per request, by a hook on the client); the
answer is one the document lists, with the body it documents; a request the document calls valid is not
refused by the validation (a "schema validation mismatch": the document would be looser than the API); and
no Idempotency-Key is left INPROGRESS.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from reliability_support import size
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orderflow.platform import aws

INTAKE = "OrderIntakeFunction"
MARKER = "x-fuzz-case"  # which request an invocation serves
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class WriteRecorder:
    """The DynamoDB writes that landed during each API invocation, on any table but the idempotency
    table (Powertools stores and, on an error, deletes its record there; what it leaves is checked at the end)."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.idempotency_table = next(t.name for t in stack.resources.tables if t.logical_id == "IdempotencyTable")
        self.local = threading.local()
        self.last: list[str] | None = None
        self.expected = ""
        self.armed: set[str] = set()
        self.lock = threading.Lock()
        self.functions = {(e.method, e.path): f.logical_id for f in stack.runtime.template.functions
                          for e in f.http_events}

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in WRITES and getattr(self.local, "writes", None) is not None:
            tables = {params.get("TableName")} | set(params.get("RequestItems") or {}) | {
                next(iter(item.values()))["TableName"] for item in params.get("TransactItems") or []}
            context["recorded_write"] = f"{model.name} {sorted(t for t in tables if t)}"
            context["recorded_tables"] = tables - {None}

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        write = context.get("recorded_write")
        if write and http_response.status_code < 300 and context["recorded_tables"] != {self.idempotency_table}:
            self.local.writes.append(write)

    @contextmanager
    def installed(self) -> Iterator[WriteRecorder]:
        client, handler_id = aws.client("dynamodb"), f"record-{uuid.uuid4()}"
        client.meta.events.register("before-parameter-build.dynamodb", self._before, unique_id=f"{handler_id}-in")
        client.meta.events.register("after-call.dynamodb", self._after, unique_id=f"{handler_id}-out")
        try:
            yield self
        finally:
            client.meta.events.unregister("before-parameter-build.dynamodb", unique_id=f"{handler_id}-in")
            client.meta.events.unregister("after-call.dynamodb", unique_id=f"{handler_id}-out")

    def arm(self, method: str, path: str) -> dict[str, str]:
        """Record the invocation of the function serving ``method path`` (a request the HTTP front refuses
        never reaches it, and an unknown route has no function) for the request sent with the headers
        returned: the stack's own callers (the simulated suppliers register themselves with
        ``PUT /suppliers/{id}``) go through unrecorded."""
        return self.arm_function(self.functions.get((method.upper(), path)))

    def arm_function(self, function: str | None) -> dict[str, str]:
        marker = str(uuid.uuid4())
        with self.lock:
            self.last, self.expected = None, marker
            if function is None or function in self.armed:
                return {MARKER: marker}
            self.armed.add(function)

        def record(event: Any, _context: Any) -> Any:
            if (event.get("headers") or {}).get(MARKER) != self.expected:
                # Another caller (a simulated supplier): its invocation runs the handler unrecorded, then the
                # recorder waits again for the request itself. Armed before the call, the call would take the
                # recorder back and recurse until the stack overflowed (a RecursionError in that caller's
                # answer, or Python aborting the whole test run when the overflow hit a gc callback).
                try:
                    return self.stack.runtime.invoke(function, event)
                finally:
                    self.stack.runtime.inject_fault(function, record)
            with self.lock:
                self.armed.discard(function)
            self.local.writes = []
            try:
                return self.stack.runtime.invoke(function, event)
            finally:
                self.last, self.local.writes = self.local.writes, None

        self.stack.runtime.inject_fault(function, record)
        return {MARKER: marker}


@pytest.fixture(scope="module")
def recorder(stack) -> Iterator[WriteRecorder]:  # type: ignore[no-untyped-def]
    with WriteRecorder(stack).installed() as installed:
        yield installed


def operator(stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('admin')}"}


@pytest.fixture(scope="module")
def known(stack) -> dict[str, str]:
    """Products with stock, a customer and a supplier, those of the document's examples among them, so that
    some generated requests reach real data."""
    with httpx.Client(base_url=stack.api_url, headers=operator(stack)) as http:
        assert http.put("/suppliers/SUP-1", json={"name": "Fuzz supplier"}).is_success
        for sku in ("FUZZ-1", "SKU-RED-M", "SKU-RED-L"):
            assert http.put(f"/products/{sku}", json={"name": "Fuzzed", "unit_price": 2, "supplier_id": "SUP-1"}
                            ).is_success
            assert http.post(f"/stock/{sku}/adjustments", json={"quantity": 50, "reason": "fuzz"}).is_success
        for customer in ("FUZZ-C", "C-1001"):
            assert http.put(f"/customers/{customer}", json={"name": "Fuzz", "credit_limit": 100}).is_success
    return {"sku": "FUZZ-1", "customer_id": "FUZZ-C"}


# Methods sent to every path besides its own.
UNEXPECTED_METHODS = ["get", "put", "post", "delete", "options", "patch", "trace", "query"]


@pytest.fixture(scope="module")
def api_schema(stack, known):  # type: ignore[no-untyped-def]
    config = schemathesis.Config.from_dict({"headers": operator(stack),  # an operator may call every route
                                            "phases": {"coverage": {"unexpected-methods": UNEXPECTED_METHODS}}})
    return schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")
outcomes: Counter[str] = Counter()

# What API Gateway's JWT authorizer answers itself (an HTTP API cannot change these bodies).
AUTHORIZER_REFUSALS = {401: {"message": "Unauthorized"}, 403: {"message": "Forbidden"}}


def check_answer(status: int, content_type: str, content: bytes, writes: list[str] | None, what: str) -> None:
    """No 5xx; a 4xx has the structured error body (or, refused by the authorizer, API Gateway's) and
    wrote nothing."""
    assert status < 500, f"{what}: {status} {content[:300]!r}"
    if status < 400:
        outcomes["2xx" + (" (wrote)" if writes else "")] += 1
        return
    assert content_type.startswith("application/json"), f"{what}: {content_type}"
    body = json.loads(content)
    if body == AUTHORIZER_REFUSALS.get(status):
        assert not writes, f"{what}: {status} from the authorizer but wrote {writes}"
        outcomes[f"{status} from the authorizer"] += 1
        return
    assert set(body) == {"error"} and isinstance(body["error"], dict), f"{what}: {body}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"{what}: {body}"
    assert isinstance(error.get("message"), str) and error["message"], f"{what}: {body}"
    assert isinstance(error.get("details"), dict), f"{what}: {body}"
    assert not writes, f"{what}: {status} {error['code']} but wrote {writes}"
    outcomes[f"{status} {error['code']}"] += 1


# What only the request's own data can be refused for: the document called it valid, so it is a mismatch.
SCHEMA_REFUSALS = {"VALIDATION_FAILED", "MALFORMED_JSON"}
# The one rule JSON Schema cannot say: a SKU on one line only, a supplier named once (uniqueItems forbids
# only equal items). The document says it in words, and only a refusal for it alone is not a mismatch.
UNIQUE_BY_KEY = ("put the total on one line", "put its whole quantity on one", "a supplier is named twice")


def said_in_words(error: dict[str, Any]) -> bool:
    problems = error.get("details", {}).get("problems") or [{}]
    return all(any(rule in str(p.get("problem")) for rule in UNIQUE_BY_KEY) for p in problems)


CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance]


@schema.parametrize()
@settings(max_examples=size(12, 150), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_get_a_documented_answer_and_a_4xx_writes_nothing(case, recorder):
    marker = recorder.arm(case.method, case.path)
    response = case.call(timeout=30, headers=marker)
    what = f"{case.method} {case.formatted_path}"
    check_answer(response.status_code, (response.headers.get("content-type") or [""])[0], response.content,
                 recorder.last, what)
    if case.meta is not None and case.meta.generation.mode.is_positive and response.status_code in (400, 422):
        error = json.loads(response.content).get("error", {})
        code = None if said_in_words(error) else error.get("code")
        assert code not in SCHEMA_REFUSALS, (
            f"schema validation mismatch: {what} is valid by the document but was refused: {response.content[:600]!r}"
            f"\nrequest body: {case.body!r:.600}")
    if case.method.upper() == case.operation.method.upper():  # not a method the route does not have
        case.validate_response(response, checks=CONFORMANCE)


def deep(depth: int) -> str:
    return '{"customer_id": "FUZZ-C", "lines": ' + "[" * depth + "]" * depth + "}"


EXPLICIT = [
    ("body over 64 KiB", "POST", "/orders", {"content-type": "application/json"},
     json.dumps({"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": 1}], "channel": "x" * 70_000})),
    ("body over API Gateway's 10 MiB", "POST", "/orders", {"content-type": "application/json"}, "[" * (11 << 20)),
    ("JSON nested 20,000 deep (under 64 KiB)", "POST", "/orders", {"content-type": "application/json"}, deep(20_000)),
    ("JSON nested 900 deep", "PUT", "/customers/FUZZ-D", {"content-type": "application/json"},
     '{"name": ' + "[" * 900 + "]" * 900 + ', "credit_limit": 1}'),
    ("a 5,000-digit quantity", "POST", "/orders", {"content-type": "application/json"},
     '{"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": ' + "9" * 5000 + "}]}"),
    ("a quantity of 1e400", "POST", "/orders", {"content-type": "application/json"},
     '{"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": 1e400}]}'),
    ("a quantity of 2**63", "POST", "/orders", {"content-type": "application/json"},
     json.dumps({"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": 2**63}]})),
    ("a price of 1e30", "PUT", "/products/FUZZ-2", {"content-type": "application/json"},
     json.dumps({"name": "Big", "unit_price": 1e30})),
    ("NaN as a price", "PUT", "/products/FUZZ-2", {"content-type": "application/json"},
     '{"name": "NaN", "unit_price": NaN}'),
    ("a stock adjustment of -10**12", "POST", "/stock/FUZZ-1/adjustments", {"content-type": "application/json"},
     json.dumps({"quantity": -10**12, "reason": "x"})),
    ("unicode SKU in the body", "POST", "/orders", {"content-type": "application/json"},
     json.dumps({"customer_id": "FUZZ-C", "lines": [{"sku": "ŠKU-ß-😀", "quantity": 1}]}, ensure_ascii=False)),
    ("unicode customer id in the path", "GET", "/customers/%F0%9F%98%80-%C3%BC", {}, ""),
    ("a 3,000-character SKU in the path", "PUT", "/products/" + "S" * 3000, {"content-type": "application/json"},
     json.dumps({"name": "Long", "unit_price": 1})),
    ("a 3,000-character order id", "GET", "/orders/" + "o" * 3000, {}, ""),
    ("invalid UTF-8", "POST", "/orders", {"content-type": "application/json"}, b'{"customer_id": "\xff\xfe"}'),
    ("a lone surrogate escape", "POST", "/orders", {"content-type": "application/json"},
     '{"customer_id": "\\ud800", "lines": [{"sku": "FUZZ-1", "quantity": 1}]}'),
    ("text/plain", "POST", "/orders", {"content-type": "text/plain"},
     json.dumps({"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": 1}]})),
    ("form-encoded", "POST", "/stock/FUZZ-1/adjustments", {"content-type": "application/x-www-form-urlencoded"},
     "quantity=5&reason=x"),
    ("XML", "PUT", "/customers/FUZZ-D", {"content-type": "application/xml"}, "<customer><name>x</name></customer>"),
    ("JSON that is not an object", "POST", "/orders", {"content-type": "application/json"}, "[1, 2, 3]"),
    ("an empty body", "POST", "/orders", {"content-type": "application/json"}, ""),
    ("a JSON null", "PUT", "/products/FUZZ-2", {"content-type": "application/json"}, "null"),
    ("duplicate keys", "POST", "/stock/FUZZ-1/adjustments", {"content-type": "application/json"},
     '{"quantity": 5, "quantity": -99999999, "reason": "x"}'),
    ("an Idempotency-Key of 10,000 characters", "POST", "/orders",
     {"content-type": "application/json", "idempotency-key": "k" * 10_000},
     json.dumps({"customer_id": "FUZZ-C", "lines": [{"sku": "FUZZ-1", "quantity": 1}]})),
    ("a limit of 10**30", "GET", "/orders?customer_id=FUZZ-C&limit=" + "1" + "0" * 30, {}, ""),
    ("a cursor that is not ours", "GET", "/orders?customer_id=FUZZ-C&cursor=bm90LWEtY3Vyc29y", {}, ""),
    ("another customer's cursor", "GET", "/orders?customer_id=FUZZ-C&cursor=" + base64.urlsafe_b64encode(json.dumps(
        {"order_id": {"S": "ord-1"}, "customer_id": {"S": "OTHER"}, "created_at": {"S": "2025"}}).encode()).decode(),
     {}, ""),
    ("a TRACE", "TRACE", "/orders", {}, ""),
    ("a QUERY", "QUERY", "/orders", {}, ""),
    ("a made-up method", "FROB", "/orders", {}, ""),
]


@pytest.mark.parametrize(("name", "method", "path", "headers", "body"),
                         [pytest.param(*case, id=case[0]) for case in EXPLICIT])
def test_explicit_bad_input_gets_a_4xx_with_the_error_body_and_writes_nothing(stack, recorder, known, name, method,
                                                                               path, headers, body):
    marker = recorder.arm_function(INTAKE)  # every explicit case is sent to one of its routes
    content = body.encode() if isinstance(body, str) else body
    headers = {"idempotency-key": f"fuzz-{uuid.uuid4()}", **marker, **headers}
    with httpx.Client(base_url=stack.api_url, timeout=60, headers=operator(stack)) as http:
        response = http.request(method, path, headers=headers, content=content)
    assert 400 <= response.status_code < 500, f"{name}: {response.status_code} {response.text[:300]}"
    check_answer(response.status_code, response.headers.get("content-type", ""), response.content, recorder.last,
                 name)


def test_a_request_the_recorder_is_not_waiting_for_is_answered_and_not_recorded(stack, recorder):
    """The stack's own callers (the simulated suppliers) reach a function armed for a fuzzed request: they get
    their answer, unrecorded, and the request the recorder waits for is still the one recorded."""
    marker = recorder.arm("GET", "/products/{sku}")
    with httpx.Client(base_url=stack.api_url, timeout=60, headers=operator(stack)) as http:
        unmarked = http.get("/products/FUZZ-UNKNOWN-SKU")
        recorder.last = None
        marked = http.get("/products/FUZZ-UNKNOWN-SKU", headers=marker)
    assert (unmarked.status_code, marked.status_code) == (404, 404), unmarked.text[:300]
    assert recorder.last == []  # the marked request was recorded, and wrote nothing


def test_nothing_is_left_in_progress_and_the_figures(stack, figures):
    """Runs after the fuzzing: every idempotency record is COMPLETED (a rejected request deletes its own)."""
    table = next(t.name for t in stack.resources.tables if t.logical_id == "IdempotencyTable")
    items = stack.boto3_client("dynamodb").get_paginator("scan").paginate(TableName=table).build_full_result()["Items"]
    assert [i for i in items if i.get("status", {}).get("S") != "COMPLETED"] == []
    if outcomes:  # the fuzzing ran in this session: the write recorder saw the writes that did happen
        assert outcomes["2xx (wrote)"] > 0
    figures("5. Fuzzed HTTP input (schemathesis + explicit cases)", "requests",
            f"{sum(outcomes.values())} answered ({len(EXPLICIT)} explicit cases): no 5xx, every 4xx with the error "
            "body and no write")
    figures("5. Fuzzed HTTP input (schemathesis + explicit cases)", "answers",
            ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
