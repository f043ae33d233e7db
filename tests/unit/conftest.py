"""Shared fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

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


@pytest.fixture
def moto_aws(monkeypatch) -> Iterator[None]:
    """In-process moto for every AWS client, with test credentials and no endpoint override."""
    from moto import mock_aws

    from orderflow.platform import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        yield
        aws.reset()
