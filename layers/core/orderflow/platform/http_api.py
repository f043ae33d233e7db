"""What the HTTP API functions share: the request guards and the one error body,
``{"error": {"code", "message", "details"}}`` (docs/decisions.md, "HTTP errors").

Lambda-aware like ``lambda_support`` (it knows Powertools' resolver); only the API functions import it.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
from collections.abc import Callable
from re import Match
from typing import Annotated, Any, NamedTuple
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths

from orderflow.platform.lambda_support import Tracer, observability
from orderflow.shared.access import Caller
from orderflow.shared.errors import OrderflowError

JSON_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Path parameters: SKUs, customer and supplier ids follow the same rule as in bodies
# (``orderflow.models.Identifier``); ids we issue (orders, returns, runs, purchase orders) only need to
# stay far below DynamoDB's 2,048-byte key limit, which answers a 500 on AWS.
PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
IssuedId = Annotated[str, Path(min_length=1, max_length=128)]


class Bodies:
    """An area's request bodies (``orderflow.<area>.requests``), imported when a route first names one. Powertools
    resolves a route's annotations in its handler module's globals on that route's first request, so a route that
    annotates ``product: catalogue_in.ProductIn`` with ``catalogue_in = Bodies("orderflow.catalogue.requests")`` loads
    that module with its first request, not with every cold start (docs/decisions.md, "Cold start")."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self._module), name)


def _number(text: str) -> float | int:
    """A JSON number without a fraction is an integer, as JSON Schema (and so the OpenAPI document) says:
    ``1.0`` is the quantity 1, which pydantic's strict integers would otherwise refuse."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _json_body(body: str) -> Any:
    return json.loads(body, parse_float=_number)


class HttpApiResolver(APIGatewayHttpResolver):
    """Powertools' resolver, reading requests as the OpenAPI document describes them: path parameters
    percent-decoded (a client may send the SKU ``A:B`` as ``A%3AB``; API Gateway passes the raw path on),
    and whole numbers written ``1.0`` as integers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(json_body_deserializer=_json_body, **kwargs)

    def _convert_matches_into_route_keys(self, match: Match) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def error(status: int, code: str, message: str, details: Any = None) -> Response:
    return Response(status_code=status, content_type="application/json",
                    body={"error": {"code": code, "message": message, "details": details or {}}})


def raw_error(status: int, code: str, message: str) -> dict:
    """The error as a Lambda proxy response, for refusals made before the resolver runs."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"error": {"code": code, "message": message, "details": {}}})}


def refuse_unreadable(event: dict, max_body_bytes: int) -> dict | None:
    """Oversized or non-JSON bodies are refused before anything parses them (Powertools' validation
    would otherwise read them first)."""
    body = event.get("body") or ""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if len(body) > max_body_bytes or len(body.encode()) > max_body_bytes:
        return raw_error(413, "PAYLOAD_TOO_LARGE", f"request body is over {max_body_bytes} bytes")
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if body and method in JSON_BODY_METHODS and content_type not in ("", "application/json"):
        return raw_error(415, "UNSUPPORTED_MEDIA_TYPE", f"send JSON (application/json), not {content_type}")
    if body and method in JSON_BODY_METHODS:
        problem = _unreadable(body, bool(event.get("isBase64Encoded")))
        if problem:
            return raw_error(400, "MALFORMED_JSON", f"the request body is not readable JSON: {problem}")
    return None


def _unreadable(body: str, base64_encoded: bool) -> str | None:
    """Why Python cannot read ``body`` as JSON at all (not UTF-8, nested past the recursion limit, an
    integer of thousands of digits), where Powertools' parsing would raise outside its validation.
    Plain syntax errors are left to Powertools, whose answer says where."""
    try:
        json.loads(base64.b64decode(body).decode("utf-8") if base64_encoded else body)
    except json.JSONDecodeError:
        return None
    except UnicodeDecodeError:
        return "it is not UTF-8"
    except RecursionError:
        return "it is nested too deep"
    except ValueError as exc:  # int digits limit, bad base64
        return str(exc)[:200]
    return None


def caller_of(event: dict, customer_claim: str) -> Caller:
    """The caller as API Gateway's JWT authorizer passed it on (``requestContext.authorizer.jwt``: the
    verified token's claims and scopes); no authorizer context is a caller with no roles."""
    jwt = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}
    return Caller.from_claims(jwt.get("claims") or {}, jwt.get("scopes") or (), customer_claim)


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Request validation failures, domain errors, unknown routes and unexpected exceptions all leave as the
    error body. Without the last, an exception would end the invocation and API Gateway would answer its own
    ``{"message": "Internal Server Error"}``: another body, and no id to find the logs by."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg"),
                     "type": e.get("type")} for e in exc.errors()]
        if any(p["type"] == "json_invalid" for p in problems):
            return error(400, "MALFORMED_JSON", "the request body is not valid JSON", {"problems": problems})
        return error(422, "VALIDATION_FAILED", "the request does not match the API schema", {"problems": problems})

    @app.exception_handler(OrderflowError)
    def domain_error(exc: OrderflowError) -> Response:
        return error(exc.http_status, exc.code, exc.message, exc.details)

    @app.not_found
    def route_not_found(exc: Exception) -> Response:
        return error(404, "ROUTE_NOT_FOUND", "no such route")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response:
        """Logged whole (the function's logger is the root's child: Powertools' JSON handler writes it); the
        caller gets the request id the log line carries as its correlation id, never the exception's text."""
        request_id = (app.current_event.raw_event.get("requestContext") or {}).get("requestId")
        logging.getLogger(__name__).exception("unexpected error, answered 500", extra={"request_id": request_id})
        return error(500, "INTERNAL_ERROR", "an unexpected error occurred; quote the correlation id",
                     {"correlation_id": request_id})


class HttpFunction(NamedTuple):
    """What every HTTP API function starts with: its resolver, its Logger, Tracer and Metrics, and the Lambda
    handler that refuses unreadable bodies and resolves the rest (``handler`` is what template.yaml names)."""

    app: HttpApiResolver
    logger: Logger
    tracer: Tracer
    metrics: Metrics
    handler: Callable[[dict, Any], dict]


def http_function(service: str, max_body_bytes: int) -> HttpFunction:
    """An HTTP API function's plumbing: a resolver validating requests against the routes' models, the one error
    body, and a handler logging with the request's correlation id, traced, and flushing the invocation's metrics."""
    logger, tracer, metrics = observability(service)
    app = HttpApiResolver(enable_validation=True)
    install_error_handlers(app)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context: Any) -> dict:
        return refuse_unreadable(event, max_body_bytes) or app.resolve(event, context)

    return HttpFunction(app, logger, tracer, metrics, handler)
