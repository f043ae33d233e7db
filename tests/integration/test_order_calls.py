"""What the order's DynamoDB calls were cut to (issue #7, BENCHMARKS.md §2), and that each cut keeps the
behaviour: the real ``OrderService`` and adapters on moto tables built from template.yaml, in process.

- submit and Validate read the customer and the products in one BatchGetItem (across two tables);
- Validate writes from the order the intake handed on, and reads it only when that copy is stale or absent;
- deliver is one UpdateItem conditional on SHIPPED, and reads the order only when that condition fails.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest

from orderflow.catalogue.adapters.recent import PRODUCT_CACHE_SECONDS
from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders.domain import OrderStatus
from orderflow.orders.requests import OrderLineIn, ShipIn
from orderflow.orders.requests import SubmitOrderIn as Submit
from orderflow.orders.service import OrderService
from orderflow.platform import dynamo
from orderflow.shared.errors import Conflict, InvalidOrder, NotFound, OrderCancelled, TransientError, Unprocessable
from orderflow_cli.addresses import SAMPLE_ADDRESS

S = OrderStatus


@pytest.fixture(scope="module")
def service(in_process_service: OrderService) -> OrderService:
    return in_process_service


class Calls:
    """The DynamoDB operations this thread makes inside ``with calls:``, in order."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self._thread = threading.get_ident()

    def _record(self, model: Any, **_: Any) -> None:
        if threading.get_ident() == self._thread:
            self.operations.append(model.name)

    def __enter__(self) -> Calls:
        self.operations.clear()
        self._id = f"count-{uuid.uuid4()}"
        dynamo.client().meta.events.register("before-call.dynamodb.*", self._record, unique_id=self._id)
        return self

    def __exit__(self, *exc: object) -> None:
        dynamo.client().meta.events.unregister("before-call.dynamodb.*", unique_id=self._id)


@pytest.fixture
def calls() -> Calls:
    return Calls()


def shop(service: OrderService, stock: int = 10, products: int = 2) -> tuple[str, list[str]]:
    customer = f"C-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(10_000)))
    skus = []
    for i in range(products):
        sku = f"P-{uuid.uuid4().hex[:8]}"
        service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(2 + i)))
        if stock:
            service.adjust_stock(sku, StockAdjustmentIn(quantity=stock, reason="receipt"))
        skus.append(sku)
    return customer, skus


def submit(service: OrderService, customer: str, skus: list[str]):
    request = Submit(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                     lines=[OrderLineIn(sku=s, quantity=1) for s in skus])
    return service.submit(request, uuid.uuid4().hex)


def started_with(service: OrderService, order_id: str) -> dict:
    sfn = boto3.client("stepfunctions")
    arn = f"{service.workflow.state_machine_arn.replace(':stateMachine:', ':execution:')}:{order_id}"
    return json.loads(sfn.describe_execution(executionArn=arn)["input"])


# ------------------------------------------------------------------ one read of customer and products
def test_submit_reads_customer_and_products_in_one_batch_and_hands_the_order_on(service, calls):
    customer, skus = shop(service)
    with calls:
        order = submit(service, customer, skus)
    assert calls.operations == ["BatchGetItem", "PutItem"]
    assert [li.unit_price for li in order.lines] == [Decimal(2), Decimal(3)]  # priced from the catalogue
    start = started_with(service, order.order_id)
    assert start == {"order_id": order.order_id, "woken_by": None, "order": order.model_dump(mode="json")}


def test_submit_reads_the_locations_only_for_an_order_that_could_split_past_the_transaction_limit(service, calls):
    """60 units of one SKU could, over 60 locations, take 122 items; over the few there are, 5 or so: the
    locations are read (one Query) to know, and the order is accepted."""
    customer, skus = shop(service, products=1)
    with calls:
        order = service.submit(Submit(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                      lines=[OrderLineIn(sku=skus[0], quantity=60)]), uuid.uuid4().hex)
    assert calls.operations == ["BatchGetItem", "Query", "PutItem"]
    assert order.status == S.PENDING


@pytest.mark.parametrize("problem", ["unknown_customer", "unknown_skus", "inactive_skus", "all"])
def test_the_one_batch_still_names_every_problem_and_stores_nothing(service, calls, problem):
    customer, skus = shop(service)
    if problem in ("unknown_customer", "all"):
        customer = "C-nobody"
    if problem in ("unknown_skus", "all"):
        skus = [*skus, "P-nothing"]
    if problem in ("inactive_skus", "all"):
        service.put_product(skus[0], ProductIn(name="old", unit_price=Decimal(1), active=False))
    with calls, pytest.raises(Unprocessable) as refused:
        submit(service, customer, skus)
    assert calls.operations == ["BatchGetItem"]  # nothing written
    details = refused.value.details
    assert ("unknown_customer" in details) == (problem in ("unknown_customer", "all"))
    assert details.get("unknown_skus") == (["P-nothing"] if problem in ("unknown_skus", "all") else None)
    assert details.get("inactive_skus") == ([skus[0]] if problem in ("inactive_skus", "all") else None)


def batch_gets(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The BatchGetItem requests made from now on (while ``monkeypatch`` holds), as sent."""
    requests: list[dict] = []
    real = dynamo.client()

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def batch_get_item(self, RequestItems: dict) -> dict:
            requests.append(RequestItems)
            return real.batch_get_item(RequestItems=RequestItems)

    monkeypatch.setattr(dynamo, "client", lambda: Spy())
    return requests


def test_a_customer_created_a_moment_ago_is_read_consistently(service, monkeypatch):
    customer, skus = shop(service)
    requests = batch_gets(monkeypatch)
    service.orderable(customer, skus)
    (request,) = requests
    assert request[service.customers.table]["ConsistentRead"] is True  # as its GetItem was
    assert "ConsistentRead" not in request[service.products.table]  # as the products' BatchGetItem was


def test_keys_left_unprocessed_are_asked_for_again(service, monkeypatch):
    """DynamoDB may answer a BatchGetItem with part of the keys in UnprocessedKeys: they are read again,
    and only they; keys it never answers for end in a TransientError (the caller's retry)."""
    customer, skus = shop(service, products=3)
    real = dynamo.client()
    asked: list[int] = []
    hold_back = {"first": True, "always": False}

    class Stingy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def batch_get_item(self, RequestItems: dict) -> dict:
            asked.append(sum(len(r["Keys"]) for r in RequestItems.values()))
            if hold_back["always"] or hold_back.pop("first", False):
                table = service.products.table
                *answer, held = RequestItems[table]["Keys"]
                rest = {**RequestItems, table: {"Keys": answer}} if answer else \
                    {t: r for t, r in RequestItems.items() if t != table}
                response = real.batch_get_item(RequestItems=rest) if rest else {"Responses": {}}
                return {**response, "UnprocessedKeys": {table: {"Keys": [held]}}}
            return real.batch_get_item(RequestItems=RequestItems)

    monkeypatch.setattr(dynamo, "client", lambda: Stingy())
    monkeypatch.setattr(dynamo.time, "sleep", lambda _: None)
    customer_found, products = service._customer_and_products(customer, skus)
    assert customer_found is not None and set(products) == set(skus)
    assert asked == [4, 1]
    hold_back["always"] = True
    _, others = shop(service, stock=0, products=3)  # not read yet (skus are now in the container's copy)
    with pytest.raises(TransientError):
        service._customer_and_products(customer, others)


def test_reads_of_more_than_a_hundred_keys_are_split(service):
    customer, skus = shop(service, stock=0, products=1)
    many = [*skus, *(f"P-none-{i}" for i in range(150))]
    customer_found, products = service._customer_and_products(customer, many)
    assert customer_found is not None and set(products) == set(skus)
    with pytest.raises(ValueError):
        dynamo.read_together(service.products.read_many(skus), service.products.read_many(skus))


# ------------------------------------------------------------------ Validate from the handed-on order
def test_validate_writes_from_the_handed_on_order_without_reading_it(service, calls):
    customer, skus = shop(service)
    order = submit(service, customer, skus)
    with calls:
        validated = service.validate(order.order_id, order)
    assert calls.operations == ["BatchGetItem", "UpdateItem"]
    assert validated.status == S.VALIDATED and service.get_order(order.order_id) == validated


def test_validate_without_a_handed_on_order_reads_it(service, calls):
    customer, skus = shop(service)
    order = submit(service, customer, skus)
    with calls:
        assert service.validate(order.order_id, None).status == S.VALIDATED
    assert calls.operations == ["GetItem", "BatchGetItem", "UpdateItem"]


def test_validate_with_a_stale_copy_decides_on_the_stored_order(service, calls):
    customer, skus = shop(service)
    order = submit(service, customer, skus)
    validated = service.validate(order.order_id, order)
    with calls:  # a step delivered twice, with the intake's (now stale) copy
        assert service.validate(order.order_id, order) == validated
    assert calls.operations == ["BatchGetItem", "UpdateItem", "GetItem"]  # the stale write failed, nothing twice
    assert [e.status for e in service.get_order(order.order_id).timeline] == [S.PENDING, S.VALIDATED]

    cancelled = submit(service, customer, skus)
    service.cancel(cancelled.order_id, "changed my mind")
    with pytest.raises(OrderCancelled):  # the copy says PENDING; the stored order was cancelled meanwhile
        service.validate(cancelled.order_id, cancelled)
    assert service.get_order(cancelled.order_id).status == S.CANCELLED


def test_validate_does_not_trust_what_submit_checked(service, monkeypatch):
    """A product withdrawn between submit and Validate rejects the order, even from the handed-on copy, once
    the step's copy of the product is older than PRODUCT_CACHE_SECONDS (the bound on staleness, docs/scale.md,
    "Hot reads"); within it, the order goes on as if placed a moment before the withdrawal."""
    clock = [time.monotonic()]
    monkeypatch.setattr(service.products.recent, "clock", lambda: clock[0])
    customer, skus = shop(service)
    early = submit(service, customer, skus)
    late = submit(service, customer, skus)
    service.put_product(skus[1], ProductIn(name="withdrawn", unit_price=Decimal(3), active=False))
    clock[0] += PRODUCT_CACHE_SECONDS - 1
    assert service.validate(early.order_id, early).status == S.VALIDATED
    clock[0] += 1
    with pytest.raises(InvalidOrder, match=f"SKU {skus[1]} is no longer sold"):
        service.validate(late.order_id, late)
    stored = service.get_order(late.order_id)
    assert stored.status == S.REJECTED and "no longer sold" in stored.timeline[-1].reason
    with pytest.raises(Unprocessable) as refused:  # and submit refuses it from now on
        submit(service, customer, skus)
    assert refused.value.details["inactive_skus"] == [skus[1]]


def test_the_products_of_a_hot_sku_are_read_once_per_container_and_copy(service):
    """Orders of the same products within PRODUCT_CACHE_SECONDS read only the customer: submit and Validate
    of the second order ask DynamoDB for no product (docs/scale.md, "Hot reads")."""
    customer, skus = shop(service)
    first = submit(service, customer, skus)
    service.validate(first.order_id, first)
    with pytest.MonkeyPatch.context() as patch:
        requests = batch_gets(patch)
        second = submit(service, customer, skus)
        assert service.validate(second.order_id, second).status == S.VALIDATED
    assert [set(request) for request in requests] == [{service.customers.table}] * 2
    assert [li.unit_price for li in second.lines] == [Decimal(2), Decimal(3)]


# ------------------------------------------------------------------ deliver: a read and one transaction
def shipped(service: OrderService) -> Any:
    customer, skus = shop(service)
    order = submit(service, customer, skus)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    return service.ship(order.order_id, ShipIn(carrier="DHL", tracking="T1"))


def test_deliver_reads_the_order_and_moves_it_with_its_shipment_in_one_transaction(service, calls):
    order = shipped(service)
    with calls:
        delivered = service.deliver(order.order_id)
    assert calls.operations == ["GetItem", "TransactWriteItems"]
    stored = service.get_order(order.order_id)
    assert [s.status for s in service.shipments_of(stored)] == ["DELIVERED"]
    assert delivered == stored
    assert stored.status == S.DELIVERED and stored.version == order.version + 1
    assert [e.status for e in stored.timeline][-2:] == [S.SHIPPED, S.DELIVERED]
    assert stored.timeline[-1].by == "warehouse" and stored.timeline[-1].at == stored.updated_at
    assert stored.shipment.delivered_at == stored.updated_at
    assert (stored.shipment.carrier, stored.shipment.tracking, stored.shipment.shipped_at) == \
        ("DHL", "T1", order.shipment.shipped_at)
    assert stored.deadline is None


def test_delivering_again_returns_the_order_unchanged(service, calls):
    delivered = service.deliver(shipped(service).order_id)
    with calls:
        assert service.deliver(delivered.order_id) == delivered
    assert calls.operations == ["GetItem"]  # the read answers: nothing left to deliver
    assert service.get_order(delivered.order_id) == delivered


def test_delivering_an_order_that_has_not_shipped_is_a_conflict_and_changes_nothing(service):
    customer, skus = shop(service)
    order = submit(service, customer, skus)
    reserved = order
    for step in (service.validate, service.check_credit, service.reserve):
        reserved = step(reserved.order_id, reserved)
    with pytest.raises(Conflict) as refused:
        service.deliver(order.order_id)
    assert refused.value.details["status"] == "RESERVED"
    assert [s["state"] for s in refused.value.details["shipments"]] == ["open"]
    assert service.get_order(order.order_id) == reserved

    with pytest.raises(NotFound):
        service.deliver("ord-no-such-order")
    assert service.orders.get("ord-no-such-order") is None  # the conditional update created nothing


def test_an_order_shipped_before_shipments_existed_is_still_delivered(service, calls):
    """An order shipped before orders had shipments is delivered by one conditional update; one shipped
    before ship recorded its ``shipment`` map too, by the read-and-write path."""
    order = shipped(service)
    dynamo.client().update_item(TableName=service.orders.table, Key={"order_id": {"S": order.order_id}},
                                UpdateExpression="REMOVE shipments")
    with calls:
        assert service.deliver(order.order_id).shipment.delivered_at
    assert calls.operations == ["GetItem", "UpdateItem"]

    order = shipped(service)
    dynamo.client().update_item(TableName=service.orders.table, Key={"order_id": {"S": order.order_id}},
                                UpdateExpression="REMOVE shipment, shipments")
    delivered = service.deliver(order.order_id)
    assert delivered.status == S.DELIVERED and delivered.shipment.delivered_at
    assert service.get_order(order.order_id) == delivered
