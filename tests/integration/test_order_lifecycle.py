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
from orderflow.orders.domain import order_id_for
from orderflow.orders.requests import OrderLineIn, SubmitOrderIn
from orderflow.shared.errors import ConditionFailed, OrderSettled, Unprocessable
from orderflow.shared.lifecycle import ForbiddenTransition
from orderflow.shared.ports import Store
from orderflow_cli.addresses import SAMPLE_ADDRESS

S = OrderStatus


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def shop(service, price: int = 10) -> tuple[str, str]:
    """A customer with 100 of credit and a product at ``price``, both new."""
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(price)))
    return customer, sku


def placed(service, quantity: int = 1):
    """An order of ``quantity`` units of a new product, as submit stored it (PENDING); with its customer."""
    customer, sku = shop(service)
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=sku, quantity=quantity)]), uuid.uuid4().hex)
    return order, customer


def executions(service) -> int:
    sfn = boto3.client("stepfunctions")
    return len(sfn.list_executions(stateMachineArn=service.workflow.state_machine_arn)["executions"])


def test_a_failed_order_is_not_resurrected_by_a_replayed_submit(service):
    (customer, sku), key = shop(service), uuid.uuid4().hex
    service.adjust_stock(sku, StockAdjustmentIn(quantity=5, reason="receipt"))
    request = SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                            lines=[OrderLineIn(sku=sku, quantity=3)])
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
    order, _ = placed(service)
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


def test_a_failure_s_internal_text_stays_off_the_customer_s_timeline(service):
    order, _ = placed(service)
    cause = 'Traceback (most recent call last):\n  File "/var/task/reserve.py", line 9\nKeyError: \'secret\''
    failed = service.compensate(order.order_id, {"Error": "KeyError", "Cause": cause})
    reason = failed.timeline[-1].reason
    assert failed.status == S.FAILED and "KeyError" in reason
    assert "Traceback" not in reason and "/var/task" not in reason and "secret" not in reason


def test_a_total_beyond_what_money_holds_is_refused_before_anything_is_written(service):
    customer, sku = shop(service, price=1_000_000)
    request = SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                            lines=[OrderLineIn(sku=sku, quantity=1_000_000)])
    key = uuid.uuid4().hex
    with pytest.raises(Unprocessable) as refused:
        service.submit(request, key)
    assert refused.value.http_status == 422 and refused.value.details["max_total"] == "999999999999.99"
    assert service.orders.get(order_id_for(customer, key)) is None


@pytest.mark.parametrize("steps", [0, 1, 2], ids=["PENDING", "VALIDATED", "CREDIT_APPROVED"])
def test_an_order_whose_workflow_was_lost_fails_at_its_deadline_and_gets_its_credit_back(service, steps):
    order, customer = placed(service, quantity=2)
    for step in (service.validate, service.check_credit)[:steps]:
        order = step(order.order_id, order)  # then the execution is lost: nothing moves the order on
    assert order.deadline is not None
    not_yet = service.expire_overdue(now=order.created_at)
    assert order.order_id not in [o.order_id for o in not_yet]  # not yet due: left alone
    assert service.get_order(order.order_id).status == order.status

    expired = service.expire_overdue(now="9999-12-31T00:00:00.000Z")
    assert order.order_id in [o.order_id for o in expired]
    failed = service.get_order(order.order_id)
    assert failed.status == S.FAILED
    assert failed.timeline[-1].reason.startswith("its workflow did not finish within")  # which deadline passed
    assert service.get_customer(customer).exposure == 0  # the credit CREDIT_APPROVED held came back


def test_waiting_orders_spread_over_the_deadline_shards_and_expire_oldest_first_across_them(service):
    """The by-deadline index is keyed by status and shard, so RESERVED orders do not all write one index
    partition; the expiry still sees every overdue order of a status, oldest deadline first, up to its limit."""
    from orderflow.orders.adapters.table import DEADLINE_SHARDS, due

    orders = [placed(service)[0] for _ in range(12)]
    assert len({due(S.PENDING, o.order_id) for o in orders}) > 1  # more than one partition takes them
    assert {due(S.PENDING, o.order_id) for o in orders} <= {f"WORKFLOW#{n}" for n in range(DEADLINE_SHARDS)}
    mine = {o.order_id for o in orders}
    far = "9999-12-31T00:00:00.000Z"

    every = [i for i in service.orders.overdue(S.PENDING, far, limit=1000) if i in mine]
    by_deadline = sorted(orders, key=lambda o: (o.deadline, o.order_id))
    assert every == [o.order_id for o in by_deadline]
    first_five = service.orders.overdue(S.PENDING, far, limit=5)
    assert len(first_five) == 5
    assert first_five == service.orders.overdue(S.PENDING, far, limit=1000)[:5]

    # The workflow's statuses share submit's deadline and its index entry: a step writes no index entry.
    validated = service.validate(orders[0].order_id, orders[0])
    approved = service.check_credit(validated.order_id, validated)
    assert validated.deadline == approved.deadline == orders[0].deadline
    assert service.get_order(orders[0].order_id).deadline == orders[0].deadline
    assert orders[0].order_id in service.orders.overdue(S.CREDIT_APPROVED, far, limit=1000)
    assert orders[0].order_id not in service.orders.overdue(S.RESERVED, far, limit=1000)


def _stored(service, order_id: str) -> dict:
    return boto3.resource("dynamodb").Table(service.orders.table).get_item(
        Key={"order_id": order_id}, ConsistentRead=True)["Item"]


def _reserved(service):
    customer, sku = shop(service)
    service.adjust_stock(sku, StockAdjustmentIn(quantity=1, reason="receipt"))
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=sku, quantity=1)]), uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    assert order.status == S.RESERVED
    return order


def test_a_reserved_order_keeps_its_deadline_out_of_the_index_and_its_late_shipment_still_fails_it(service):
    """A reserved order's deadline is its shipment's ship_by: it leaves the by-deadline index at its reservation
    (one index write, not a move of two and a removal at shipment) and the sweep finds it from the late shipment
    in the pick list's index, once."""
    order = _reserved(service)
    stored = _stored(service, order.order_id)
    assert stored["deadline"] == order.deadline == order.shipments[0].deadline and "due" not in stored
    far = "9999-12-31T00:00:00.000Z"
    assert order.order_id not in service.orders.overdue(S.RESERVED, far, limit=1000)

    assert order.order_id not in [o.order_id for o in service.expire_overdue(now=order.created_at)]
    assert order.order_id in [o.order_id for o in service.expire_overdue(now=far)]
    assert order.order_id not in [o.order_id for o in service.expire_overdue(now=far)]  # nothing twice
    failed = service.get_order(order.order_id)
    assert failed.status == S.FAILED and failed.timeline[-1].reason.startswith("not shipped within")
    assert service.get_shipment(order.shipments[0].shipment_id).status == "CANCELLED"


def test_a_reserved_order_indexed_before_still_fails_at_its_deadline_once(service):
    """Orders reserved before the sweep read the shipments carry a RESERVED by-deadline entry: still acted on, once
    (found both ways)."""
    from orderflow.orders.adapters.table import due

    order = _reserved(service)
    boto3.resource("dynamodb").Table(service.orders.table).update_item(
        Key={"order_id": order.order_id}, UpdateExpression="SET due = :due",
        ExpressionAttributeValues={":due": due(S.RESERVED, order.order_id)})
    far = "9999-12-31T00:00:00.000Z"
    assert order.order_id in service.orders.overdue(S.RESERVED, far, limit=1000)

    assert [o.order_id for o in service.expire_overdue(now=far)].count(order.order_id) == 1
    assert service.get_order(order.order_id).status == S.FAILED
