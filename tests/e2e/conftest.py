"""End-to-end fixtures: one offline stack for the e2e tests, talked to over HTTP like a user would.

The stack (``LocalStack(api_port=0)``) starts with the first e2e test that needs it and stops in a
``finally`` when the session ends, or earlier, as soon as the next test to run is not an e2e test
(moto's state is process-global, so it must not outlive this directory into other suites).

``ORDERFLOW_E2E_API=URL`` runs the same tests against a stack that is already running instead.
Every test builds its own products and customers with a unique prefix (the ``shop`` fixture), so
tests do not depend on each other or on their order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

E2E_DIR = Path(__file__).resolve().parent
# Long enough for a slow machine; polling returns as soon as the status is reached.
WAIT = 30.0


class StackHandle:
    """Starts the local stack on first use; ``stop()`` is safe to call twice."""

    def __init__(self) -> None:
        self.external = os.environ.get("ORDERFLOW_E2E_API", "").rstrip("/") or None
        self._stack: Any = None

    @property
    def api_url(self) -> str:
        if self.external:
            return self.external
        if self._stack is None:
            from orderflow_local.stack import LocalStack

            stack = LocalStack(api_port=0)
            stack.start()  # LocalStack.start() stops whatever it started if it fails
            self._stack = stack
        return self._stack.api_url

    @property
    def local(self) -> Any:
        """The running ``LocalStack`` (None against an external API or before the first use)."""
        return self._stack

    def wait_for_workflow(self, order_id: str, timeout: float = WAIT) -> str | None:
        """Wait until the order's workflow execution has ended; its status (None against an external API)."""
        if self._stack is None:
            return None
        arn = self._stack.execution_arn("OrderProcessingStateMachine", order_id)
        return self._stack.wait_for_execution(arn, timeout=timeout)["status"]

    def stop(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.stop()


_HANDLE: StackHandle | None = None


@pytest.fixture(scope="session")
def e2e_stack() -> Iterator[StackHandle]:
    global _HANDLE
    handle = _HANDLE = StackHandle()
    try:
        yield handle
    finally:
        _HANDLE = None
        handle.stop()


def _is_e2e(item: pytest.Item | None) -> bool:
    return item is not None and E2E_DIR in Path(str(item.path)).resolve().parents


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the stack as soon as the e2e tests are done (it restarts if another e2e test follows)."""
    if _HANDLE is not None and _is_e2e(item) and not _is_e2e(nextitem):
        _HANDLE.stop()


@pytest.fixture
def api_url(e2e_stack: StackHandle) -> str:
    return e2e_stack.api_url


@pytest.fixture
def client(api_url: str) -> Iterator[OrderflowClient]:
    with OrderflowClient(api_url, timeout=15) as c:
        yield c


@dataclass
class Shop:
    """Products and customers of one test, named with a prefix no other test uses."""

    client: OrderflowClient
    prefix: str = field(default_factory=lambda: f"T{uuid.uuid4().hex[:10]}")

    def product(self, name: str = "item", price: float = 10.0, stock: int = 0, **extra: Any) -> str:
        sku = f"{self.prefix}-{name}"
        self.client.put_product(sku, f"{name} of {self.prefix}", price, **extra)
        if stock:
            self.client.adjust_stock(sku, stock, reason="test setup")
        return sku

    def customer(self, name: str = "cust", credit_limit: float = 10_000) -> str:
        customer_id = f"{self.prefix}-{name}"
        self.client.put_customer(customer_id, f"{name} of {self.prefix}", credit_limit)
        return customer_id

    def submit(self, customer_id: str, lines: dict[str, int]) -> dict:
        """Submit ``{sku: quantity}`` and assert the 201 PENDING; returns the created order."""
        status, body = self.client.submit_order(customer_id, [{"sku": s, "quantity": q} for s, q in lines.items()],
                                                shipping_address=SAMPLE_ADDRESS)
        assert status == 201, body
        assert body["status"] == "PENDING"
        return body

    def wait(self, order_id: str, *statuses: str) -> dict:
        return self.client.wait_for_status(order_id, statuses, timeout=WAIT)


@pytest.fixture
def shop(client: OrderflowClient) -> Shop:
    return Shop(client)
