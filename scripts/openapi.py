"""Build the one OpenAPI 3.1 document of the whole HTTP API (docs/api.md) and write it where the order intake
serves it (``GET /openapi.json``, ``GET /swagger``).

    python scripts/openapi.py           # `make openapi` (and `make build`): write functions/order_intake/openapi.json
    python scripts/openapi.py --check   # exit 1 when the committed document is not what the code gives

Every function with an HttpApi route in template.yaml is imported, Powertools generates its part from the
handlers (parameters and request bodies from the same pydantic models that validate requests, so the
document is exactly as strict), and ``OpenAPIMerge`` joins them. Then ``openapi_reference`` adds what the
handlers cannot say: tags, summaries, success statuses, response bodies, the errors and examples; the
template adds each route's bearer scopes. Anything missing is an error, so a new route cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "functions" / "order_intake" / "openapi.json"
BODY_METHODS = {"POST", "PUT", "PATCH"}
REF = "#/components/schemas/{model}"
UNUSED = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
ERRORS = {
    400: "The body is not readable JSON (MALFORMED_JSON).",
    401: "No valid bearer token (API Gateway's JWT authorizer).",
    403: "The token lacks the route's scope (the authorizer), or may not act for this customer (FORBIDDEN).",
    404: "Not found (NOT_FOUND); customers get this for what is not theirs.",
    409: "Does not fit the current state, or a concurrent change won (CONFLICT and its kinds); retry after a read.",
    413: "The body is over 64 KiB (PAYLOAD_TOO_LARGE).",
    415: "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).",
    422: "Does not match the schema (VALIDATION_FAILED, details.problems), or refers to what does not exist or fit "
         "(UNPROCESSABLE and its kinds, IDEMPOTENCY_KEY_REUSED).",
    429: "Throttled by API Gateway (each route has its own rate); retry with backoff.",
    500: "Unexpected failure; nothing was changed.",
    503: "Throttled by DynamoDB or a lost race (TRY_AGAIN); retry with backoff.",
}
# What a parameter of these names means wherever a handler does not say it.
PARAMETER_WORDS = {
    "cursor": "the `next_cursor` of the previous page, as it came; leave it out for the first page",
    "limit": "the most items to answer",
    "idempotency-key": "Client-chosen key; a retry with the same key and body returns the first response and "
                       "changes nothing, the same key with another body is a 422 IDEMPOTENCY_KEY_REUSED.",
}
PAGED_LIMIT = "the most items in one page; a page may hold fewer, follow `next_cursor` until it is null"
TIMESTAMPS = {"ship_by", "deadline"}  # moments in answers whose names do not end in _at
DAYS = {"day", "cycle", "expected_by", "history_end", "start", "end", "from", "to"}  # days (UTC) in answers
GATEWAY_ONLY = {401, 429}  # API Gateway answers these itself, with {"message": ...}
EITHER = {403, 413, 500, 503}  # the functions, or API Gateway (authorizer, 10 MiB limit, a crashed function)


def _environment() -> None:
    """What importing a handler needs: a region and credentials that are never used (nothing is called)."""
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "unused",
                        "AWS_SECRET_ACCESS_KEY": "unused", "POWERTOOLS_TRACE_DISABLED": "1",
                        "POWERTOOLS_METRICS_NAMESPACE": "orderflow"}.items():
        os.environ.setdefault(name, value)


def http_functions() -> list[Any]:
    from orderflow_local.template import load_template

    return [f for f in load_template(ROOT / "template.yaml").functions if f.http_events]


def _resolver(function: Any) -> Any:
    """The function's Powertools resolver (its module's ``app``), imported under a name of its own."""
    module_file, _ = function.handler.rsplit(".", 1)
    path = Path(function.code_dir) / f"{module_file}.py"
    spec = importlib.util.spec_from_file_location(f"_openapi_{function.logical_id}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its models' annotations resolve against it
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module.app


def _strict_decimals() -> None:
    """pydantic leaves a Decimal's ``max_digits`` and ``decimal_places`` out of its JSON schema, so a client
    would send 0.001 or 10**15 and be refused: put them in (a multiple of 0.01, a maximum, a pattern)."""
    from pydantic.json_schema import GenerateJsonSchema

    plain = GenerateJsonSchema.decimal_schema
    if getattr(plain, "strict", False):
        return

    def decimal_schema(self: GenerateJsonSchema, schema: Any) -> Any:
        places, digits = schema.get("decimal_places"), schema.get("max_digits")
        json_schema = plain(self, schema)
        if places is None or digits is None:
            return json_schema
        for branch in json_schema.get("anyOf", [json_schema]):
            if branch.get("type") == "number":
                branch["multipleOf"] = float(f"1e-{places}")
                branch.setdefault("maximum", float(10 ** (digits - places)) - float(f"1e-{places}"))
            elif branch.get("type") == "string":
                whole = f"[1-9][0-9]{{0,{digits - places - 1}}}"
                zero = "" if schema.get("gt") is not None and float(schema["gt"]) >= 0 else "0|"
                branch["pattern"] = f"^({zero}{whole})(\\.[0-9]{{1,{places}}})?$"
        return json_schema

    decimal_schema.strict = True  # type: ignore[attr-defined]
    GenerateJsonSchema.decimal_schema = decimal_schema  # type: ignore[method-assign]


def build() -> dict[str, Any]:
    _environment()
    _strict_decimals()
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Tag

    sys.path.insert(0, str(ROOT / "scripts"))
    import openapi_reference as reference

    merge = OpenAPIMerge(
        title="Orderflow API", version="1", on_conflict="error",
        description="Orders, fulfilment, returns, stock, catalogue, purchasing and replenishment of Orderflow. "
                    "Every operation but this document needs a bearer token (JWT) from the API's issuer with one "
                    "of the operation's scopes (docs/security.md). Errors answer `{\"error\": {code, message, "
                    "details}}` and change nothing.",
        tags=[Tag(name=name, description=text) for name, text in reference.TAGS],
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT", description=(
            "A JWT from the API's OIDC issuer (Cognito, or the offline stack's /_local/token); an operation's "
            "security lists the scopes (orderflow/customer, orderflow/warehouse, orderflow/admin), any one of "
            "which lets the token call it."))})
    handlers: dict[tuple[str, str], Any] = {}
    scopes: dict[tuple[str, str], tuple[str, ...] | None] = {}
    for function in http_functions():
        app = _resolver(function)
        merge.add_schema(json.loads(app.get_openapi_json_schema()))
        for route in app._static_routes + app._dynamic_routes:
            if route.include_in_schema:
                handlers[(route.method.upper(), route.openapi_path)] = route.func
        for event in function.http_events:
            scopes[(event.method, event.path)] = event.scopes if event.authorizer else None
    document = json.loads(merge.get_openapi_json_schema())
    _finish(document, reference, handlers, scopes)
    return document


def _finish(document: dict[str, Any], reference: Any, handlers: dict, scopes: dict) -> None:
    from pydantic.json_schema import models_json_schema

    schemas = document["components"]["schemas"]
    for name in UNUSED:
        schemas.pop(name, None)
    bodies = sorted({op.body for op in reference.ROUTES.values() if op.body} |
                    {reference.ErrorBody, reference.GatewayMessage}, key=lambda m: m.__name__)
    refs, generated = models_json_schema([(m, "serialization") for m in bodies], ref_template=REF)
    _always_sent_required(generated.get("$defs", {}), requests=set(schemas))
    _timestamps(generated.get("$defs", {}), requests=set(schemas))
    renamed = _short_names(generated.get("$defs", {}))
    generated, refs = _renamed(generated, renamed), {key: _renamed(ref, renamed) for key, ref in refs.items()}
    for old, new in renamed.items():
        generated["$defs"][new] = {**generated["$defs"].pop(old), "title": new}  # generators name classes by title
    for name, schema in generated.get("$defs", {}).items():
        if name in schemas and _plain(schemas[name]) != _plain(schema):
            raise SystemExit(f"OpenAPI: {name} differs as a request and as a response; give the response its own model")
        schemas.setdefault(name, schema)
    ref_of = {model: refs[(model, "serialization")] for model in bodies}
    for target, constraints in reference.VALIDATORS.items():
        model, _, field = target.partition(".")
        schema = schemas[model]["properties"][field] if field else schemas[model]
        forms = [f for f in schema.get("anyOf", [schema]) if f.get("type") != "null"]
        forms[0].update({k: v for k, v in constraints.items() if k != "description"})
        schema["description"] = constraints.get("description", schema.get("description"))

    document["paths"].setdefault("/openapi.json", {})["get"] = {
        "responses": {"200": {"description": "The document", "content": {"application/json": {
            "schema": {"type": "object", "required": ["openapi", "info", "paths"]}}}}}}
    document["paths"].setdefault("/swagger", {})["get"] = {
        "parameters": [{"name": "format", "in": "query", "required": False, "description": "`json`: the document",
                        "schema": {"type": "string", "enum": ["json"]}}],
        "responses": {"200": {"description": "Swagger UI (HTML), or the document with `format=json`", "content": {
            "text/html": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}}}}

    missing = sorted(set(scopes) - {(m.upper(), p) for p, item in document["paths"].items() for m in item})
    undocumented = sorted(set(scopes) - set(reference.ROUTES))
    stale = sorted(set(reference.ROUTES) - set(scopes))
    if missing or undocumented or stale:
        raise SystemExit(f"OpenAPI: routes with no operation {missing}, with no entry in scripts/openapi_reference.py "
                         f"{undocumented}, entries for no route {stale}")
    operation_ids: set[str] = set()
    undescribed = [f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item
                   if not (reference.ROUTES[(m.upper(), p)].description or handlers.get((m.upper(), p)).__doc__)]
    if undescribed:
        raise SystemExit(f"OpenAPI: give these a docstring or a description: {undescribed}")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            op = reference.ROUTES[key]
            handler = handlers.get(key)
            description = (inspect.getdoc(handler) if handler else None) or op.description
            operation_id = handler.__name__ if handler else ("get_swagger" if path == "/swagger" else "get_openapi")
            if operation_id in operation_ids:
                raise SystemExit(f"OpenAPI: two handlers are named {operation_id}; operationIds must be unique")
            operation_ids.add(operation_id)
            operation.update(tags=[op.tag], summary=op.summary, description=description, operationId=operation_id)
            _describe_parameters(operation.get("parameters", []))
            route_scopes = scopes[key]
            operation["security"] = [{"bearer": list(route_scopes)}] if route_scopes is not None else []
            if op.body is not None:
                operation["responses"] = _responses(key, operation, op, ref_of, route_scopes is not None)
            if op.example is not None:
                _example(document, operation, op.example, key)
    document["servers"] = [{"url": "/", "description": "the API's own host (deployed: the HTTP API's URL)"}]


def _describe_parameters(parameters: list[dict[str, Any]]) -> None:
    """Pagination and idempotency parameters say how to use them, where their handler leaves them bare."""
    paged = any(p["name"] == "cursor" for p in parameters)
    for parameter in parameters:
        words = PAGED_LIMIT if paged and parameter["name"] == "limit" else PARAMETER_WORDS.get(parameter["name"])
        if words and not parameter.get("description"):
            parameter["description"] = words


def _always_sent_required(defs: dict[str, Any], requests: set[str]) -> None:
    """pydantic calls an answer's field with a default optional, so a generated client types ``on_hand`` or
    ``timeline`` as maybe-unset. The functions dump every field (``exclude_none`` at most), so a field that
    cannot be null is always in the answer: mark it required. A nullable one may be left out, and stays optional;
    a model that is a request body too (a simulation's ``config``) keeps the request's form."""
    for name, schema in defs.items():
        if name in requests:
            continue
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        required |= {name for name, field in properties.items() if not _nullable(field, defs)}
        if required:
            schema["required"] = [name for name in properties if name in required]


def _timestamps(defs: dict[str, Any], requests: set[str]) -> None:
    """Every moment an answer carries (``at``, ``created_at``, ``ship_by``, ...) is a UTC RFC 3339 string
    (``shared.types.utc_now``) and every day a ``YYYY-MM-DD`` one, which the models type as a plain ``str``: say
    ``date-time`` and ``date``, so a generated client parses them into its language's dates."""
    for name, schema in defs.items():
        if name in requests:
            continue
        for field, form in schema.get("properties", {}).items():
            moment = field == "at" or field.endswith("_at") or field in TIMESTAMPS
            if moment or field in DAYS:
                for branch in form.get("anyOf", [form]):
                    if branch.get("type") == "string":
                        branch.setdefault("format", "date-time" if moment else "date")


def _nullable(field: dict[str, Any], defs: dict[str, Any]) -> bool:
    if "$ref" in field:
        return _nullable(defs.get(field["$ref"].rsplit("/", 1)[1], {}), defs)
    return field.get("type") == "null" or any(_nullable(form, defs) for form in field.get("anyOf", []))


def _short_names(defs: dict[str, Any]) -> dict[str, str]:
    """pydantic names two models of one name by their modules (``orderflow__orders__domain__Shipment``): call
    them by area and name (``OrdersShipment``)."""
    return {name: "".join(part.capitalize() for part in name.split("__")[1:2]) + name.split("__")[-1]
            for name in defs if "__" in name}


def _renamed(value: Any, renamed: dict[str, str]) -> Any:
    text = json.dumps(value)
    for old, new in renamed.items():
        text = text.replace(f'"{REF.format(model=old)}"', f'"{REF.format(model=new)}"')
    return json.loads(text)


def _plain(schema: Any) -> Any:
    """A schema without what Powertools leaves out of its own (defaults), to compare request and response forms."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k != "default"}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


def _responses(key: tuple[str, str], operation: dict, op: Any, ref_of: dict, secured: bool) -> dict[str, Any]:
    method, path = key
    success: dict[str, Any] = {"description": op.summary, "content": {"application/json": {"schema": ref_of[op.body]}}}
    if op.status in (201, 202):
        success["headers"] = {"Location": {"description": "where to read what was made", "schema": {"type": "string"}}}
    answers = {str(op.status): success}
    codes = {401, 403, 429, 500, 503} if secured else {500}
    if "{" in path:
        codes.add(404)
    if method in BODY_METHODS:
        codes |= {400, 409, 413, 415}
    if operation.get("parameters") or operation.get("requestBody") or method in BODY_METHODS:
        codes.add(422)
    error = {"$ref": REF.format(model="ErrorBody")}
    gateway = {"$ref": REF.format(model="GatewayMessage")}
    for code in sorted(codes):
        schema = gateway if code in GATEWAY_ONLY else {"anyOf": [error, gateway]} if code in EITHER else error
        answers[str(code)] = {"description": ERRORS[code], "content": {"application/json": {"schema": schema}}}
    return answers


def _example(document: dict, operation: dict, example: dict, key: tuple[str, str]) -> None:
    """Put the request example in, after checking it against the request body's schema."""
    import jsonschema

    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        raise SystemExit(f"OpenAPI: {key} has an example but no JSON request body")
    schema = {**media["schema"], "components": document["components"]}
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(example)]
    if errors:
        raise SystemExit(f"OpenAPI: the example of {key} does not match its schema: {errors}")
    media["example"] = example


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed document")
    args = parser.parse_args()
    text = render(build())
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    operations = sum(len(item) for item in json.loads(text)["paths"].values())
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {operations} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
