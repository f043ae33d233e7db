"""The order lifecycle is enforced where orders are written: a FAILED order cannot be brought back, by a
replayed submit (its idempotency record expired), by a late or duplicate execution, or by a write built
from a stale copy. On the in-process services, the workflow's steps played by the test."""

from __future__ import annotations

import uuid
from decimal import Decimal

import boto3
import pytest

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.requests import OrderLineIn, SubmitOrderIn
from orderflow.shared.errors import ConditionFailed, OrderSettled
from orderflow.shared.lifecycle import ForbiddenTransition
from orderflow.shared.ports import Store

S = OrderStatus


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def executions(service) -> int:
    sfn = boto3.client("stepfunctions")
    return len(sfn.list_executions(stateMachineArn=service.workflow.state_machine_arn)["executions"])


def test_a_failed_order_is_not_resurrected_by_a_replayed_submit(service):
    customer, sku, key = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(10)))
    service.adjust_stock(sku, StockAdjustmentIn(quantity=5, reason="receipt"))
    request = SubmitOrderIn(customer_id=customer, lines=[OrderLineIn(sku=sku, quantity=3)])
    order = service.submit(request, key)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    failed = service.compensate(order.order_id, {"Error": "States.Timeout", "Cause": "lost"})
    assert failed.status == S.FAILED
    started = executions(service)

    replayed = service.submit(request, key)  # the same key, after the idempotency record expired
    assert replayed.status == S.FAILED
    assert executions(service) == started  # no workflow is started again for an order past PENDING

    # Every step a duplicate or late execution would run changes nothing and says why.
    for step in (service.validate, service.check_credit, service.reserve, service.await_stock):
        with pytest.raises(OrderSettled, match="FAILED"):
            step(order.order_id, replayed)
        step(order.order_id, order)  # a stale copy from before the failure: its step was done, so no write
    stored = service.get_order(order.order_id)
    assert [e.status for e in stored.timeline] == [S.PENDING, S.VALIDATED, S.CREDIT_APPROVED, S.RESERVED, S.FAILED]
    assert service.get_stock(sku).available == 5 and service.get_stock(sku).reserved == 0
    assert service.get_customer(customer).exposure == 0


def test_the_store_refuses_a_forbidden_transition_even_from_a_forged_copy(service):
    """The condition expression names the allowed source statuses: a write whose in-memory order claims
    an allowed status, against an order stored FAILED, lands nowhere."""
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(10)))
    order = service.submit(SubmitOrderIn(customer_id=customer, lines=[OrderLineIn(sku=sku, quantity=1)]),
                           uuid.uuid4().hex)
    failed = service.compensate(order.order_id, None)
    assert failed.status == S.FAILED

    with pytest.raises(ForbiddenTransition):
        service.orders.transition(failed, S.VALIDATED)
    forged = failed.model_copy(update={"status": S.PENDING})
    write, _ = service.orders.transition(forged, S.VALIDATED)
    store: Store = service.store
    with pytest.raises(ConditionFailed):
        store.commit([write])
    assert service.get_order(order.order_id).status == S.FAILED
