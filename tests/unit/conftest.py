"""Shared fixtures of the unit tests."""

from __future__ import annotations

import httpx
import pytest

from orderflow_cli import main
from orderflow_cli.client import OrderflowClient


@pytest.fixture
def api(monkeypatch):
    """Routes of a fake API; every request is recorded in ``api.requests``."""

    class Fake:
        def __init__(self) -> None:
            self.requests: list[httpx.Request] = []
            self.routes: dict[tuple[str, str], httpx.Response] = {}
            self.base_urls: list[str] = []

    fake = Fake()

    def handler(request: httpx.Request) -> httpx.Response:
        fake.requests.append(request)
        return fake.routes.get((request.method, request.url.path),
                               httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no such thing",
                                                                   "details": {}}}))

    def fake_client(ctx):
        fake.base_urls.append(ctx.obj["api"])
        return OrderflowClient(ctx.obj["api"], transport=httpx.MockTransport(handler))

    monkeypatch.setattr(main, "_client", fake_client)
    return fake
