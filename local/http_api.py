"""The HTTP front: the template's HttpApi routes served on localhost.

Each request becomes an API Gateway HTTP API payload v2.0 event, the route's
handler runs through the in-process runtime, and its response is written back.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from orderflow_local import console
from orderflow_local.auth import Authorizer, Forbidden, LocalIssuer, Unauthorized, authorize
from orderflow_local.runtime import LambdaRuntime
from orderflow_local.template import ACCOUNT_ID, LOCAL_API_ID, RouteThrottle, Template

logger = logging.getLogger("orderflow_local.http")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# Function invocations the front runs at once; further requests wait for one to finish. On AWS each
# concurrent request has its own Lambda environment and CPU; here they share one interpreter, so
# hundreds at once would each run hundreds of times slower, past their function's Timeout (whose
# clock Powertools' idempotency reads to expire an in-progress record), while queued they run at
# their own pace. AWS would throttle past the account's concurrency instead (429).
CONCURRENT_INVOCATIONS = 16
_PARAM = re.compile(r"^\{([^}+]+)(\+?)\}$")
# Offline only (never in the template): POST {"role", "customer_id"?} answers a token the local issuer
# signed, so the CLI, the demo and the tests can call the API as an admin, the warehouse or a customer.
LOCAL_TOKEN_PATH = "/_local/token"
Answer = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body
ROLES = ("customer", "warehouse", "admin")


@dataclass(frozen=True)
class Route:
    """One HttpApi route of a function."""

    function: str
    method: str
    path: str
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    priority: tuple[int, int, int, bool]
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, function: str, method: str, path: str, authorizer: str | None = None,
              scopes: tuple[str, ...] = ()) -> Route:
        regex, params, literals, greedy = "", [], 0, 0
        for segment in path.strip("/").split("/") if path != "/" else []:
            param = _PARAM.match(segment)
            if param and param.group(2):
                regex, greedy = regex + "/(.+)", greedy + 1
            elif param:
                regex += "/([^/]+)"
            else:
                regex, literals = regex + "/" + re.escape(segment), literals + 1
            if param:
                params.append(param.group(1))
        pattern = re.compile((regex or "/") + "$")
        # API Gateway prefers literal paths, then path variables, greedy ones last, then a named method.
        return cls(function, method, path, pattern, tuple(params), (greedy, len(params), -literals, method == "ANY"),
                   authorizer, scopes)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def build_routes(template: Template) -> list[Route]:
    """Every function's HttpApi routes, most specific first."""
    routes = [
        Route.parse(fn.logical_id, event.method, event.path, event.authorizer, event.scopes)
        for fn in template.functions for event in fn.http_events
    ]
    unknown = {r.authorizer for r in routes if r.authorizer and r.authorizer not in template.authorizers}
    if unknown:
        raise ValueError(f"routes name authorizers the API does not declare: {sorted(unknown)}")
    seen: dict[str, str] = {}
    for route in routes:
        if route.route_key in seen:
            raise ValueError(f"route {route.route_key} is declared by {seen[route.route_key]} and {route.function}")
        seen[route.route_key] = route.function
    return sorted(routes, key=lambda r: r.priority)


class HttpError(Exception):
    """An API Gateway-level error, answered without calling a handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message, "details": {}}}).encode()


class GatewayRefusal(HttpError):
    """An answer of API Gateway itself, with its own body ``{"message": ...}`` (an HTTP API cannot change it)."""

    def body(self) -> bytes:
        return json.dumps({"message": self.message}).encode()


class AuthorizerRefusal(GatewayRefusal):
    """401 or 403 from the JWT authorizer."""


class RouteThrottles:
    """API Gateway's per-route throttling (``DefaultRouteSettings``): a token bucket per route key holding
    up to ``burst`` requests and refilled at ``rate`` a second; a request finding it empty is 429 Too Many
    Requests, before the authorizer and the function (nothing runs, so any request may be retried)."""

    def __init__(self, throttle: RouteThrottle | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle, self.clock = throttle, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # route key -> (tokens, when counted)
        self._lock = threading.Lock()
        self.throttled = 0

    def take(self, route_key: str) -> None:
        if self.throttle is None:
            return
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(route_key, (float(self.throttle.burst), now))
            tokens = min(float(self.throttle.burst), tokens + (now - then) * self.throttle.rate)
            if tokens < 1:
                self._buckets[route_key] = (tokens, now)
                self.throttled += 1
                raise GatewayRefusal(429, "TOO_MANY_REQUESTS", "Too Many Requests")
            self._buckets[route_key] = (tokens - 1, now)


def match_route(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request and its path parameters, or ``HttpError`` 404/405."""
    path_matched = False
    for route in routes:
        found = route.pattern.match(raw_path)
        if not found:
            continue
        path_matched = True
        if route.method in (method, "ANY"):
            return route, {name: unquote(value) for name, value in zip(route.params, found.groups(), strict=True)}
    if path_matched:
        raise HttpError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {raw_path}")
    raise HttpError(404, "ROUTE_NOT_FOUND", f"no route for {method} {raw_path}")


def build_event(
    route: Route,
    path_params: dict[str, str],
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event (``authorizer``: what the JWT authorizer passes on)."""
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    cookie_header = merged.pop("cookie", "")
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": merged.get("host", "localhost").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def to_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A handler's result as (status, headers, body), as API Gateway interprets payload format 2.0."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(result["statusCode"]), headers, raw


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ApiServer

    def do_ANY(self) -> None:
        started = time.monotonic()
        raw_path, _, raw_query = self.path.partition("?")
        route_key = "-"
        try:
            body = self._read_body()
            if raw_path == LOCAL_TOKEN_PATH:
                status, headers, payload = self._local_token(body)
            elif console.is_console(raw_path):
                status, headers, payload = console.serve(self.command, raw_path)
            else:
                route_key, (status, headers, payload) = self._route(raw_path, raw_query, body)
        except HttpError as err:
            status, headers, payload = err.status, [("Content-Type", "application/json")], err.body()
            if isinstance(err, AuthorizerRefusal) and err.status == 401:
                headers.append(("www-authenticate", 'Bearer realm="orderflow"'))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("apigw-requestid", str(uuid.uuid4()))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        elapsed = (time.monotonic() - started) * 1000
        logger.info("%s %s -> %d [%s] %.0f ms", self.command, self.path, status, route_key, elapsed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_ANY

    def _route(self, raw_path: str, raw_query: str, body: bytes) -> tuple[str, Answer]:
        """The matched route's key and the response of its function (behind the route's authorizer)."""
        route, path_params = match_route(self.server.routes, self.command, raw_path)
        self.server.throttles.take(route.route_key)
        event = build_event(
            route, path_params, self.command, raw_path, raw_query, list(self.headers.items()), body,
            self.client_address[0], self._authorize(route),
        )
        try:
            with self.server.invocation_slots:
                answer = self.server.runtime.invoke(route.function, event)
            return route.route_key, to_response(answer)
        except Exception:
            logger.exception("%s failed on %s %s", route.function, self.command, raw_path)
            # as API Gateway answers a function that failed (it raised out of the handler, timed out or ran
            # out of memory): its own body; the handlers' own 500 carries the error body instead
            raise GatewayRefusal(500, "INTERNAL", "Internal Server Error") from None

    def _authorize(self, route: Route) -> dict[str, Any] | None:
        """API Gateway's JWT authorizer for the route (None for an open route)."""
        if route.authorizer is None:
            return None
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            return authorize(self.server.issuer, self.server.authorizers[route.authorizer], route.scopes, headers)
        except Unauthorized as refused:
            logger.info("401 on %s %s [%s], the authorizer's reason: %s", self.command, self.path, route.route_key,
                        refused)
            raise AuthorizerRefusal(401, "UNAUTHORIZED", "Unauthorized") from None
        except Forbidden as refused:
            logger.info("403 on %s %s [%s], the authorizer's reason: %s", self.command, self.path, route.route_key,
                        refused)
            raise AuthorizerRefusal(403, "FORBIDDEN", "Forbidden") from None

    def _local_token(self, body: bytes) -> Answer:
        if self.command != "POST":
            raise HttpError(405, "METHOD_NOT_ALLOWED", f"POST {LOCAL_TOKEN_PATH}")
        try:
            asked = json.loads(body or b"{}")
            role, customer_id = asked.get("role", "admin"), asked.get("customer_id")
            if role not in ROLES or not (customer_id is None or isinstance(customer_id, str)):
                raise ValueError(role)
        except (ValueError, AttributeError):
            raise HttpError(400, "BAD_REQUEST", f'send {{"role": one of {", ".join(ROLES)}, "customer_id"?}}') from None
        token = self.server.issuer.token([f"orderflow/{role}"], subject=f"local-{role}", customer_id=customer_id)
        payload = json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 12 * 3600}).encode()
        return 200, [("Content-Type", "application/json")], payload

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) is matched against the routes like these: no route takes
        it, so it gets the 404/405 error body API Gateway would send, not ``http.server``'s 501 page."""
        if name.startswith("do_"):
            return self.do_ANY
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What ``http.server`` refuses itself (a method it has no ``do_`` for, a malformed request line, a
        header too long) is answered with the API's JSON error body too, not an HTML page."""
        reason = message or self.responses.get(code, ("Error",))[0]
        payload = HttpError(code, reason.upper().replace(" ", "_"), explain or reason).body()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            self.close_connection = True
            raise HttpError(400, "BAD_REQUEST", f"malformed request body framing: {exc}") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise HttpError(413, "PAYLOAD_TOO_LARGE", f"request body over {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
            if len(body) > MAX_BODY_BYTES:
                self.close_connection = True
                raise HttpError(413, "PAYLOAD_TOO_LARGE", f"request body over {MAX_BODY_BYTES} bytes")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return bytes(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's stderr log; requests are logged once in ``do_ANY``."""


class _ApiServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 resets connections under a burst of clients
    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes: list[Route], runtime: LambdaRuntime,
                 authorizers: dict[str, Authorizer], issuer: LocalIssuer,
                 concurrency: int = CONCURRENT_INVOCATIONS, throttles: RouteThrottles | None = None) -> None:
        super().__init__(address, _RequestHandler)
        self.routes, self.runtime = routes, runtime
        self.throttles = throttles or RouteThrottles(None)
        self.invocation_slots = threading.BoundedSemaphore(concurrency)
        self.authorizers, self.issuer = authorizers, issuer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is routine; anything else is logged (not printed to stderr)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            logger.exception("error serving %s", client_address)


class HttpApiServer:
    """Serves the template's HttpApi routes on ``http://127.0.0.1:<port>`` (port 0 = any free one)."""

    def __init__(self, template: Template, runtime: LambdaRuntime, port: int = 0, host: str = "127.0.0.1",
                 issuer: LocalIssuer | None = None, concurrency: int = CONCURRENT_INVOCATIONS) -> None:
        self.routes = build_routes(template)
        self.issuer = issuer or LocalIssuer()
        self.throttles = RouteThrottles(template.route_throttle)
        self._server = _ApiServer((host, port), self.routes, runtime, template.authorizers, self.issuer,
                                  concurrency, self.throttles)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="orderflow-http-api", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
