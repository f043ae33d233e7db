"""A reservation given back when its order fails (compensated, or past its deadline) announces its SKUs
on the stock-arrivals queue, as a receipt does; a replayed compensation announces them again, so a retry
finishes an announcement that failed. On the in-process service: arrivals are recorded, not consumed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders.domain import OrderStatus
from orderflow.orders.requests import OrderLineIn, SubmitOrderIn
from orderflow.orders.service import OrderService
from orderflow_cli.addresses import SAMPLE_ADDRESS


@pytest.fixture(scope="module")
def service(in_process_service: OrderService) -> OrderService:
    return in_process_service


def announced(service: OrderService) -> list[str]:
    """The SKUs announced since the last call, in order."""
    sqs, skus = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=service.arrivals.url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            skus.append(json.loads(message["Body"])["sku"])
            sqs.delete_message(QueueUrl=service.arrivals.url, ReceiptHandle=message["ReceiptHandle"])
    return skus


def reserved(service: OrderService, units: int = 2):
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(10_000)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(3)))
    service.adjust_stock(sku, StockAdjustmentIn(quantity=units, reason="receipt"))
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=sku, quantity=units)]),
                           uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    assert order.status == OrderStatus.RESERVED
    announced(service)  # the receipt above is not announced by the service itself: its caller does that
    return order, sku


def test_a_compensated_reservation_announces_its_stock_and_again_when_replayed(service):
    order, sku = reserved(service)
    error = {"Error": "States.Timeout", "Cause": "the warehouse system did not answer"}

    assert service.compensate(order.order_id, error).status == OrderStatus.FAILED
    assert announced(service) == [sku]
    assert service.get_stock(sku).available == 2

    assert service.compensate(order.order_id, error).status == OrderStatus.FAILED  # Step Functions' retry
    assert announced(service) == [sku]
    assert service.get_stock(sku).available == 2  # given back once


def test_a_reservation_past_its_deadline_announces_its_stock(service):
    order, sku = reserved(service)
    in_31_days = (datetime.now(UTC) + timedelta(days=31)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    assert order.order_id in {o.order_id for o in service.expire_overdue(now=in_31_days)}
    assert sku in announced(service)


def test_an_order_that_held_no_stock_announces_nothing(service):
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(10_000)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(3)))
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=sku, quantity=1)]),
                           uuid.uuid4().hex)
    order = service.validate(order.order_id, order)

    assert service.cancel(order.order_id, "changed my mind").status == OrderStatus.CANCELLED
    assert announced(service) == []
