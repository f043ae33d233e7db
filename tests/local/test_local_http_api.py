"""Routing, API Gateway events and responses of the HTTP front (no moto server)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orderflow_local.http_api import (
    HttpApiServer,
    HttpError,
    Route,
    build_event,
    build_routes,
    match_route,
    to_response,
)
from orderflow_local.template import load_template

ROUTES = sorted(
    [
        Route.parse("Fn", "GET", "/orders"),
        Route.parse("Fn", "GET", "/orders/{order_id}"),
        Route.parse("Fn", "GET", "/orders/latest"),
        Route.parse("Fn", "POST", "/orders/{order_id}/cancel"),
        Route.parse("Other", "ANY", "/orders/{order_id}/cancel"),
        Route.parse("Files", "GET", "/files/{proxy+}"),
        Route.parse("Root", "GET", "/"),
    ],
    key=lambda r: r.priority,
)


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/", "GET /", {}),
        ("GET", "/orders", "GET /orders", {}),
        ("GET", "/orders/latest", "GET /orders/latest", {}),
        ("GET", "/orders/o%201", "GET /orders/{order_id}", {"order_id": "o 1"}),
        ("POST", "/orders/o1/cancel", "POST /orders/{order_id}/cancel", {"order_id": "o1"}),
        ("DELETE", "/orders/o1/cancel", "ANY /orders/{order_id}/cancel", {"order_id": "o1"}),
        ("GET", "/files/a/b/c.txt", "GET /files/{proxy+}", {"proxy": "a/b/c.txt"}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, route_key: str, params: dict) -> None:
    route, found = match_route(ROUTES, method, path)
    assert (route.route_key, found) == (route_key, params)


def test_unknown_path_is_404_and_other_method_is_405() -> None:
    with pytest.raises(HttpError) as missing:
        match_route(ROUTES, "GET", "/nope")
    assert (missing.value.status, missing.value.code) == (404, "ROUTE_NOT_FOUND")
    with pytest.raises(HttpError) as wrong_method:
        match_route(ROUTES, "PUT", "/orders")
    assert (wrong_method.value.status, wrong_method.value.code) == (405, "METHOD_NOT_ALLOWED")
    assert wrong_method.value.body().startswith(b'{"error": {"code": "METHOD_NOT_ALLOWED"')


def test_event_is_payload_format_2() -> None:
    route = Route.parse("Fn", "POST", "/orders/{order_id}/cancel")
    event = build_event(
        route,
        {"order_id": "o1"},
        "POST",
        "/orders/o1/cancel",
        "a=1&a=2&b=",
        [("Host", "127.0.0.1:3000"), ("X-Tag", "x"), ("x-tag", "y"), ("Cookie", "s=1; t=2"), ("User-Agent", "t/1")],
        b'{"reason": "r"}',
        "127.0.0.1",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /orders/{order_id}/cancel"
    assert event["rawPath"] == "/orders/o1/cancel"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"order_id": "o1"}
    assert event["headers"] == {"host": "127.0.0.1:3000", "x-tag": "x,y", "user-agent": "t/1"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"reason": "r"}', False)
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/orders/o1/cancel",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "t/1",
    }
    assert (ctx["apiId"], ctx["stage"], ctx["routeKey"], ctx["domainName"]) == (
        "local",
        "$default",
        "POST /orders/{order_id}/cancel",
        "127.0.0.1:3000",
    )
    assert isinstance(ctx["timeEpoch"], int) and ctx["requestId"] and ctx["time"].endswith("+0000")


def test_binary_body_is_base64_and_empty_parts_are_left_out() -> None:
    event = build_event(Route.parse("Fn", "ANY", "/x"), {}, "PUT", "/x", "", [], b"\xff\x00", "127.0.0.1")
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(b"\xff\x00").decode(), True)
    assert not {"queryStringParameters", "pathParameters", "cookies"} & event.keys()


def test_responses() -> None:
    status, headers, body = to_response(
        {"statusCode": 201, "headers": {"Location": "/o/1", "X-N": 2}, "cookies": ["a=1", "b=2"], "body": "ok"}
    )
    assert (status, body) == (201, b"ok")
    assert headers == [("Location", "/o/1"), ("X-N", "2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    assert to_response({"statusCode": 200, "isBase64Encoded": True, "body": "AP8="})[2] == b"\x00\xff"
    assert to_response({"statusCode": 204})[::2] == (204, b"")
    assert to_response({"ok": True}) == (200, [("Content-Type", "application/json")], b'{"ok": true}')


def test_duplicate_routes_are_refused(tmp_path: Path) -> None:
    route = "Events: {Get: {Type: HttpApi, Properties: {Path: /x, Method: GET}}}"
    (tmp_path / "template.yaml").write_text(
        "Resources:\n"
        + "".join(
            f"  {name}:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{CodeUri: src/, Handler: app.handler, {route}}}\n"
            for name in ("A", "B")
        )
    )
    with pytest.raises(ValueError, match="GET /x"):
        build_routes(load_template(tmp_path / "template.yaml"))


def test_the_front_runs_a_bounded_number_of_invocations_at_once() -> None:
    """A burst of requests is served in full, but never more than ``concurrency`` function
    invocations run at once (the rest wait), so none runs slower than its Timeout for the crowd."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    running, most, lock = 0, 0, threading.Lock()

    class SlowRuntime:
        def invoke(self, function: str, event: dict) -> dict:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return {"statusCode": 200, "body": event["pathParameters"]["id"]}

    template = load_template(Path(__file__).parent / "fixtures" / "stack" / "template.yaml")
    server = HttpApiServer(template, SlowRuntime(), concurrency=3)  # type: ignore[arg-type]
    server.start()
    try:
        def get(i: int) -> tuple[int, str]:
            response = httpx.get(f"{server.url}/items/{i}", timeout=30)
            return response.status_code, response.text

        with ThreadPoolExecutor(max_workers=24) as pool:
            answers = list(pool.map(get, range(48)))
    finally:
        server.stop()
    assert answers == [(200, str(i)) for i in range(48)]
    assert most == 3


def test_each_route_is_throttled_as_api_gateway_does_with_its_own_429() -> None:
    import dataclasses

    import httpx

    from orderflow_local.template import RouteThrottle

    invoked: list[str] = []

    class Runtime:
        def invoke(self, function: str, event: dict) -> dict:
            invoked.append(event["routeKey"])
            return {"statusCode": 200, "body": "ok"}

    clock = [1000.0]
    fixture = load_template(Path(__file__).parent / "fixtures" / "stack" / "template.yaml")
    template = dataclasses.replace(fixture, route_throttle=RouteThrottle(rate=2, burst=3))
    server = HttpApiServer(template, Runtime())  # type: ignore[arg-type]
    server.throttles.clock = lambda: clock[0]
    server.start()
    try:
        burst = [httpx.get(f"{server.url}/items/{i}", timeout=30) for i in range(5)]
        other_route = httpx.get(f"{server.url}/items", timeout=30)
        clock[0] += 0.5  # one request's worth of tokens at 2 a second
        refilled = [httpx.get(f"{server.url}/items/{i}", timeout=30).status_code for i in range(2)]
    finally:
        server.stop()
    assert [r.status_code for r in burst] == [200, 200, 200, 429, 429]
    assert burst[3].json() == {"message": "Too Many Requests"}  # API Gateway's body: an HTTP API cannot change it
    assert other_route.status_code == 200  # every route has a bucket of its own
    assert refilled == [200, 429]
    assert invoked == ["GET /items/{id}"] * 3 + ["GET /items"] + ["GET /items/{id}"]  # a 429 runs nothing
    assert server.throttles.throttled == 3


def test_the_template_throttles_every_route_with_its_parameters() -> None:
    from orderflow_local.template import RouteThrottle

    template = Path(__file__).resolve().parents[2] / "template.yaml"
    assert load_template(template).route_throttle == RouteThrottle(rate=500, burst=1000)
    tuned = load_template(template, {"ApiThrottlingRateLimit": 5, "ApiThrottlingBurstLimit": 7})
    assert tuned.route_throttle == RouteThrottle(rate=5, burst=7)
    fixture = load_template(Path(__file__).parent / "fixtures" / "stack" / "template.yaml")
    assert fixture.route_throttle is None  # no DefaultRouteSettings: not throttled offline
