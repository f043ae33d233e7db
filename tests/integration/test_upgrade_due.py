"""``orderflow upgrade due`` on the in-process services' moto tables: orders stored before the by-deadline index
was sharded (a ``deadline``, no ``due``) get the ``due`` the current code would set, and the expiry sees them again;
a second run changes nothing; an order that moved meanwhile is left alone."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.adapters.table import due
from orderflow.orders.requests import OrderLineIn, SubmitOrderIn
from orderflow_cli import main
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.upgrade import set_due

S = OrderStatus
FAR = "9999-12-31T00:00:00.000Z"


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def _table(service) -> Any:
    return boto3.resource("dynamodb").Table(service.orders.table)


def _stored(service, order_id: str) -> dict:
    return _table(service).get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]


def old_shape(service, stock: int = 0):
    """A new order of one unit, then stored as before the shards: its deadline kept, its ``due`` removed."""
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(10)))
    if stock:
        service.adjust_stock(sku, StockAdjustmentIn(quantity=stock, reason="receipt"))
    order = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                         lines=[OrderLineIn(sku=sku, quantity=1)]), uuid.uuid4().hex)
    _table(service).update_item(Key={"order_id": order.order_id}, UpdateExpression="REMOVE due")
    assert "due" not in _stored(service, order.order_id) and order.deadline
    return order


def test_an_old_order_gets_due_from_the_command_and_is_then_expired_by_the_sweep(service):
    order = old_shape(service)
    assert order.order_id not in [o.order_id for o in service.expire_overdue(now=FAR)]  # unseen before
    dry = CliRunner().invoke(main.app, ["upgrade", "due", "--table", service.orders.table, "--aws-endpoint", "",
                                        "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would set due on" in dry.stdout and "due" not in _stored(service, order.order_id)

    result = CliRunner().invoke(main.app, ["upgrade", "due", "--table", service.orders.table, "--aws-endpoint", ""])
    assert result.exit_code == 0, result.output
    assert _stored(service, order.order_id)["due"] == due(S.PENDING, order.order_id)
    assert order.order_id in [o.order_id for o in service.expire_overdue(now=FAR)]
    assert service.get_order(order.order_id).status == S.FAILED


def test_a_second_run_changes_nothing(service):
    orders = [old_shape(service) for _ in range(3)]
    dynamodb = boto3.client("dynamodb")
    first = set_due(dynamodb, service.orders.table)
    assert first.set >= 3
    stored = [_stored(service, o.order_id) for o in orders]
    again = set_due(dynamodb, service.orders.table)
    assert (again.set, again.moved) == (0, 0)
    assert [_stored(service, o.order_id) for o in orders] == stored  # not even a version or a stamp moved


def test_a_dry_run_counts_and_writes_nothing(service):
    orders = [old_shape(service) for _ in range(2)]
    counts = set_due(boto3.client("dynamodb"), service.orders.table, dry_run=True)
    assert counts.set >= 2 and counts.moved == 0
    assert all("due" not in _stored(service, o.order_id) for o in orders)
    set_due(boto3.client("dynamodb"), service.orders.table)  # leave nothing for the next test


class MovesFirst:
    """A DynamoDB client whose first UpdateItem on ``order_id`` runs ``move`` before it: the order changes
    between the Scan that read it and the write, as when the workflow goes on during the upgrade."""

    def __init__(self, order_id: str, move):
        self._client, self._order_id, self._move = boto3.client("dynamodb"), order_id, move

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        if kwargs["Key"]["order_id"]["S"] == self._order_id and self._move:
            self._move, move = None, self._move
            move()
        return self._client.update_item(**kwargs)


def test_an_order_that_moved_meanwhile_is_left_alone(service):
    order = old_shape(service)
    client = MovesFirst(order.order_id, lambda: service.validate(order.order_id, order))
    counts = set_due(client, service.orders.table)
    assert counts.moved == 1
    stored = _stored(service, order.order_id)
    assert stored["status"] == S.VALIDATED.value and "due" not in stored  # nothing written over the move
    assert stored["version"] == order.version + 1

    again = set_due(boto3.client("dynamodb"), service.orders.table)  # a later run takes it as it is now
    assert again.set >= 1 and again.moved == 0
    assert _stored(service, order.order_id)["due"] == due(S.VALIDATED, order.order_id)


def test_an_order_whose_deadline_is_its_shipments_keeps_it_without_due(service):
    """A reserved order's deadline is its shipment's: the current code stores it without ``due`` (the sweep finds
    the late shipment), so the upgrade does not index it."""
    order = old_shape(service, stock=1)
    for step in (service.validate, service.check_credit, service.reserve):
        order = step(order.order_id, order)
    assert order.status == S.RESERVED and "due" not in _stored(service, order.order_id)
    counts = set_due(boto3.client("dynamodb"), service.orders.table)
    assert counts.held_by_shipments >= 1 and counts.set == 0
    assert "due" not in _stored(service, order.order_id)


def test_without_table_it_finds_the_one_orders_table(service):
    from orderflow_cli.upgrade import orders_table

    assert orders_table(boto3.client("dynamodb")) == service.orders.table  # not the purchase orders' table


def test_an_order_the_current_code_cannot_read_is_named_and_the_others_still_get_due(service):
    broken = f"ord-{uuid.uuid4().hex[:8]}"
    _table(service).put_item(Item={"order_id": broken, "status": "NO_SUCH_STATUS", "deadline": FAR})
    order = old_shape(service)
    result = CliRunner().invoke(main.app, ["upgrade", "due", "--table", service.orders.table, "--aws-endpoint", ""])
    assert result.exit_code == 1 and broken in result.stderr and "Traceback" not in result.output
    assert "due" not in _stored(service, broken)
    assert _stored(service, order.order_id)["due"] == due(S.PENDING, order.order_id)
    _table(service).delete_item(Key={"order_id": broken})
