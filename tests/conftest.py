"""Fixtures shared by the test layers that need the real template running offline."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderflow import wiring
from orderflow.catalogue import CatalogueService
from orderflow.fulfilment import FulfilmentService
from orderflow.inventory import InventoryService
from orderflow.orders import OrderService
from orderflow.shared.settings import get_settings
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_local.stack import LocalStack

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"

ORDER_MACHINE = "OrderProcessingStateMachine"
SETTLED = {"RESERVED", "BACKORDERED", "REJECTED", "FAILED", "CANCELLED", "DELIVERED"}


@pytest.fixture(autouse=True)
def settings_of_this_test() -> Iterator[None]:
    """Each test reads the settings of its own environment. ``get_settings()`` is cached for the process, as
    a Lambda process reads its environment once; across tests that cache would hand a test (or a handler
    module it loads) the tables of an earlier test's environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class SteppedClock:
    """A clock the test moves on by hand (``clock.now += seconds``): the runtime's functions' deadlines pass
    when the test says, not after real seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def stack_clock(stack: LocalStack, clock: SteppedClock) -> Iterator[SteppedClock]:
    """``clock``, measuring the deadlines of the functions of this test's stack for the test."""
    real, stack.runtime.clock = stack.runtime.clock, clock
    try:
        yield clock
    finally:
        stack.runtime.clock = real


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """template.yaml running offline for one test module; always stopped, even on failure."""
    local = LocalStack()
    try:
        local.start()
        yield local
    finally:
        local.stop()


class Api:
    """A thin test client of the running stack's HTTP API."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.http = httpx.Client(base_url=stack.api_url, timeout=30,
                                 headers={"Authorization": f"Bearer {stack.token('admin')}"})

    def product(self, price: float = 10.0, stock: int = 0) -> str:
        sku = f"SKU-{uuid.uuid4().hex[:8]}"
        assert self.http.put(f"/products/{sku}", json={"name": f"Product {sku}", "unit_price": price}).is_success
        if stock:
            self.receive(sku, stock)
        return sku

    def customer(self, credit_limit: float = 10_000) -> str:
        customer_id = f"cust-{uuid.uuid4().hex[:8]}"
        response = self.http.put(f"/customers/{customer_id}", json={"name": "Test", "credit_limit": credit_limit})
        assert response.is_success
        return customer_id

    def receive(self, sku: str, quantity: int) -> dict:
        response = self.http.post(f"/stock/{sku}/adjustments", json={"quantity": quantity, "reason": "receipt"})
        assert response.is_success, response.text
        return response.json()

    def submit(self, customer_id: str, lines: dict[str, int], key: str | None = None) -> httpx.Response:
        body = {"customer_id": customer_id, "shipping_address": SAMPLE_ADDRESS,
                "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
        return self.http.post("/orders", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def order(self, order_id: str) -> dict:
        response = self.http.get(f"/orders/{order_id}")
        assert response.is_success, response.text
        return response.json()

    def stock(self, sku: str) -> dict:
        """The SKU's totals over every location (``stock_at`` reads one location's level)."""
        position = self.http.get(f"/stock/{sku}").json()
        return {k: v for k, v in position.items() if k not in ("locations", "location_id")}

    def stock_at(self, sku: str, location_id: str) -> dict:
        position = self.http.get(f"/stock/{sku}").json()
        return next((level for level in position["locations"] if level["location_id"] == location_id), {})

    def credit(self, customer_id: str) -> dict:
        return self.http.get(f"/customers/{customer_id}").json()

    def wait_for(self, order_id: str, statuses: set[str] = SETTLED, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id)
            if order["status"] in statuses:
                return order
            if time.monotonic() > deadline:
                raise TimeoutError(f"order {order_id} is still {order['status']}, wanted {statuses}")
            time.sleep(0.05)

    def steps(self, order_id: str) -> list[str]:
        """The workflow's task states that ran for the order, oldest first (retries included)."""
        return [state for state, _ in self.stack.task_runs(ORDER_MACHINE, order_id=order_id)]


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Api:
    return Api(stack)



class InProcess:
    """The services the order path wires (orders, catalogue, inventory, fulfilment) on one set of tables. A test calls
    each operation on this one object, as a client of the whole order side would; each name is looked up
    on the order service, then the catalogue's, then the inventory's."""

    def __init__(self, orders: OrderService, catalogue: CatalogueService, inventory: InventoryService,
                 fulfilment: FulfilmentService):
        self.orders_service, self.catalogue, self.inventory, self.fulfilment = orders, catalogue, inventory, fulfilment

    def __getattr__(self, name: str) -> Any:
        for service in (self.orders_service, self.catalogue, self.inventory, self.fulfilment):
            if hasattr(service, name):
                return getattr(service, name)
        raise AttributeError(name)


@pytest.fixture(scope="module")
def in_process_service() -> Iterator[InProcess]:
    """The real order, catalogue and inventory services and adapters on moto tables built from template.yaml,
    in process (no local stack). Executions and stock arrivals are recorded, not run: the tests play the
    workflow's steps themselves."""
    import boto3
    from moto import mock_aws

    from orderflow.platform import aws
    from orderflow.shared.settings import Settings, get_settings
    from orderflow_local import fidelity
    from orderflow_local.template import load_template

    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        aws.reset()
        get_settings.cache_clear()
        fidelity.install()  # transactions all-or-nothing, as on AWS
        template = load_template(TEMPLATE)
        dynamodb = boto3.client("dynamodb")
        for table in template.tables:
            keys = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
            dynamodb.create_table(TableName=table.name, **{k: table.properties[k] for k in keys
                                                           if k in table.properties})
        role = boto3.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = boto3.client("stepfunctions").create_state_machine(
            name="orders", roleArn=role,
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
        )["stateMachineArn"]
        arrivals = boto3.client("sqs").create_queue(QueueName="stock-arrivals")["QueueUrl"]
        environment = template.function("ReserveStockFunction").environment
        fields = {k.lower(): v for k, v in environment.items() if k.lower() in Settings.__annotations__}
        settings = Settings(**{**fields, "order_state_machine_arn": machine, "stock_arrivals_queue_url": arrivals})
        yield InProcess(wiring.order_service(settings), wiring.catalogue_service(settings),
                        wiring.inventory_service(settings), wiring.fulfilment_service(settings))
        aws.reset()
        get_settings.cache_clear()
