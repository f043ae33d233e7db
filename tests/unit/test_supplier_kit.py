"""The supplier integration kit: the two message schemas, ``SupplierClient`` and ``orderflow supplier listen``,
against in-process moto SQS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator
from moto import mock_aws
from pydantic import ValidationError
from typer.testing import CliRunner

from orderflow.purchasing.domain import (
    PurchaseOrderCancellation,
    PurchaseOrderMessage,
    PurchaseOrderMessageLine,
    SupplierReply,
)
from orderflow_cli.supplier import NoReplyQueue, SupplierClient, supplier_app

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"
PO_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "purchase-order.v1.json").read_text()))
REPLY_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "supplier-reply.v1.json").read_text()))


def purchase_order(reply_to: str | None = None, **changes: Any) -> PurchaseOrderMessage:
    fields: dict[str, Any] = {
        "po_id": "po-2026-03-14-WIDGET", "supplier_id": "acme", "cycle": "2026-03-14",
        "lines": [PurchaseOrderMessageLine(sku="WIDGET", quantity=120, unit_cost="4.50")],
        "total": "540.00", "expected_by": "2026-03-21", "reply_to": reply_to, "sent_at": "2026-03-14T02:00:03.120Z",
    }
    return PurchaseOrderMessage(**{**fields, **changes})


@pytest.fixture
def queues() -> Iterator[tuple[Any, str, str]]:
    """moto SQS with a supplier queue (visibility timeout 0: what is not deleted is visible again at once)."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        po_queue = sqs.create_queue(QueueName="orderflow-dev-po-acme", Attributes={"VisibilityTimeout": "0"})
        replies = sqs.create_queue(QueueName="orderflow-dev-supplier-replies")
        yield sqs, po_queue["QueueUrl"], replies["QueueUrl"]


def replies_on(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# ------------------------------------------------------------------ the schemas match the models
def test_what_orderflow_sends_matches_the_purchase_order_schema() -> None:
    for message in (purchase_order(), purchase_order(reply_to="https://sqs.us-east-1.amazonaws.com/1/replies")):
        PO_SCHEMA.validate(json.loads(message.model_dump_json()))
    assert not PO_SCHEMA.is_valid({**json.loads(purchase_order().model_dump_json()), "schema_version": "2"})
    assert not PO_SCHEMA.is_valid({**json.loads(purchase_order().model_dump_json()), "lines": []})


@pytest.mark.parametrize(
    "reply",
    [
        {"type": "ACKNOWLEDGED"},
        {"type": "REJECTED", "reason": "out of stock", "sent_at": None},
        {"type": "PARTIALLY_CONFIRMED", "lines": [{"sku": "WIDGET", "quantity": 60}]},
        {"type": "RECEIVED", "lines": [{"sku": "WIDGET", "quantity": 0}, {"sku": "BOLT-7", "quantity": 3}]},
    ],
)
def test_replies_the_model_accepts_the_schema_accepts(reply: dict[str, Any]) -> None:
    body = {"schema_version": "1", "reply_id": "r-1", "po_id": "po-2026-03-14-WIDGET", "supplier_id": "acme", **reply}
    SupplierReply.model_validate(body)
    REPLY_SCHEMA.validate(body)


@pytest.mark.parametrize(
    "change",
    [
        {"schema_version": "2"},
        {"type": "CANCELLED"},
        {"type": "RECEIVED"},  # a receipt without quantities
        {"type": "PARTIALLY_CONFIRMED", "lines": []},
        {"lines": [{"sku": "WIDGET", "quantity": -1}]},
        {"lines": [{"sku": "WIDGET", "quantity": 1, "colour": "red"}]},
        {"reply_id": ""},
        {"supplier_id": "a supplier with spaces"},
        {"priority": "high"},  # unknown property
    ],
)
def test_replies_the_model_refuses_the_schema_refuses(change: dict[str, Any]) -> None:
    body = {"schema_version": "1", "reply_id": "r-1", "po_id": "po-1", "supplier_id": "acme", "type": "SHIPPED",
            **change}
    with pytest.raises(ValidationError):
        SupplierReply.model_validate(body)
    assert not REPLY_SCHEMA.is_valid(body)


# ------------------------------------------------------------------ receiving purchase orders
def test_poll_hands_each_purchase_order_over_and_deletes_it(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, _ = queues
    sqs.send_message(QueueUrl=po_queue, MessageBody=purchase_order().model_dump_json())
    seen: list[PurchaseOrderMessage] = []
    assert SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0).poll(seen.append) == 1
    assert [(po.po_id, po.lines[0].quantity) for po in seen] == [("po-2026-03-14-WIDGET", 120)]
    assert waiting(sqs, po_queue) == 0


def test_a_handler_that_fails_leaves_the_purchase_order_for_later(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, _ = queues
    sqs.send_message(QueueUrl=po_queue, MessageBody=purchase_order().model_dump_json())
    client = SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0)

    def broken(po: PurchaseOrderMessage) -> None:
        raise ConnectionError("ERP is down")

    assert client.poll(broken) == 0
    seen: list[PurchaseOrderMessage] = []
    assert client.poll(seen.append) == 1  # delivered again, now handled
    assert waiting(sqs, po_queue) == 0


def test_a_message_that_is_not_a_v1_purchase_order_is_left_alone(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, _ = queues
    future = {**json.loads(purchase_order().model_dump_json()), "schema_version": "2"}
    sqs.send_message(QueueUrl=po_queue, MessageBody=json.dumps(future))
    sqs.send_message(QueueUrl=po_queue, MessageBody="not json")
    seen: list[PurchaseOrderMessage] = []
    assert SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0).poll(seen.append) == 0
    assert seen == []
    assert waiting(sqs, po_queue) == 2


def test_a_cancellation_goes_to_on_cancel_and_is_deleted_a_failing_one_comes_back(
        queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, _ = queues
    cancellation = PurchaseOrderCancellation(po_id="po-m-1234", supplier_id="acme", reason="promo called off",
                                             cancelled_at="2026-03-15T09:00:00.000Z")
    sqs.send_message(QueueUrl=po_queue, MessageBody=cancellation.model_dump_json())
    called_off: list[PurchaseOrderCancellation] = []

    def erp_down(_: PurchaseOrderCancellation) -> None:
        raise ConnectionError("ERP is down")

    orders: list[PurchaseOrderMessage] = []
    failing = SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0, on_cancel=erp_down)
    assert failing.poll(orders.append) == 0
    assert waiting(sqs, po_queue) == 1
    client = SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0, on_cancel=called_off.append)
    assert client.poll(orders.append) == 0
    assert orders == [] and [(c.po_id, c.reason) for c in called_off] == [("po-m-1234", "promo called off")]
    assert waiting(sqs, po_queue) == 0


# ------------------------------------------------------------------ sending replies
def test_replies_go_to_the_purchase_orders_reply_queue_with_fresh_ids(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, replies = queues
    po = purchase_order(reply_to=replies, lines=[
        PurchaseOrderMessageLine(sku="WIDGET", quantity=120, unit_cost="4.50"),
        PurchaseOrderMessageLine(sku="BOLT-7", quantity=10, unit_cost="0.20")])
    client = SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0)
    client.acknowledge(po)
    client.confirm_partially(po, {"WIDGET": 100}, reason="short of widgets")
    client.ship(po)
    client.receive(po, {"WIDGET": 40})
    client.receive(po)
    client.reject(po, "too late")
    sent = replies_on(sqs, replies)
    for body in sent:
        REPLY_SCHEMA.validate(body)
        SupplierReply.model_validate(body)
    assert [b["type"] for b in sent] == ["ACKNOWLEDGED", "PARTIALLY_CONFIRMED", "SHIPPED", "RECEIVED", "RECEIVED",
                                         "REJECTED"]
    assert {(b["po_id"], b["supplier_id"]) for b in sent} == {("po-2026-03-14-WIDGET", "acme")}
    assert len({b["reply_id"] for b in sent}) == 6
    assert sent[1]["lines"] == [{"sku": "WIDGET", "quantity": 100}]
    assert sent[1]["reason"] == "short of widgets"
    assert sent[3]["lines"] == [{"sku": "WIDGET", "quantity": 40}]
    assert sent[4]["lines"] == [{"sku": "WIDGET", "quantity": 120}, {"sku": "BOLT-7", "quantity": 10}]  # in full
    assert sent[5]["reason"] == "too late"


def test_the_clients_reply_queue_wins_and_one_is_needed(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, replies = queues
    other = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    SupplierClient(po_queue, reply_queue_url=replies, sqs_client=sqs).ship(purchase_order(reply_to=other))
    assert [b["type"] for b in replies_on(sqs, replies)] == ["SHIPPED"]
    assert replies_on(sqs, other) == []
    with pytest.raises(NoReplyQueue):
        SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0).ship(purchase_order(reply_to=None))


def test_a_reply_built_by_hand_goes_where_its_purchase_order_said(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, replies = queues
    sqs.send_message(QueueUrl=po_queue, MessageBody=purchase_order(reply_to=replies).model_dump_json())
    client = SupplierClient(po_queue, sqs_client=sqs, long_poll_seconds=0)
    client.poll(lambda po: None)
    reply = SupplierReply(schema_version="1", reply_id="r-42", po_id="po-2026-03-14-WIDGET", supplier_id="acme",
                          type="SHIPPED")
    client.send(reply)
    client.send(reply)  # a resend keeps its reply_id: Orderflow applies it once
    assert [(b["reply_id"], b["type"]) for b in replies_on(sqs, replies)] == [("r-42", "SHIPPED")] * 2


def test_the_client_finds_its_endpoint_from_the_queue_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    local = SupplierClient("http://127.0.0.1:3001/123456789012/orderflow-dev-po-acme")
    assert local.sqs.meta.endpoint_url == "http://127.0.0.1:3001"
    aws = SupplierClient("https://sqs.eu-west-1.amazonaws.com/123456789012/orderflow-prod-po-acme")
    assert aws.sqs.meta.region_name == "eu-west-1"


# ------------------------------------------------------------------ the command line
def test_listen_auto_prints_and_fulfils_each_purchase_order(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, replies = queues
    sqs.send_message(QueueUrl=po_queue, MessageBody=purchase_order(reply_to=replies).model_dump_json())
    result = CliRunner().invoke(supplier_app, ["listen", "--queue", po_queue, "--auto", "--count", "1",
                                               "--wait", "0", "--aws-endpoint", ""])
    assert result.exit_code == 0, result.output
    assert "po-2026-03-14-WIDGET" in result.output and "WIDGET×120" in result.output
    sent = replies_on(sqs, replies)
    assert [b["type"] for b in sent] == ["ACKNOWLEDGED", "SHIPPED", "RECEIVED"]
    assert sent[2]["lines"] == [{"sku": "WIDGET", "quantity": 120}]
    assert waiting(sqs, po_queue) == 0


def test_listen_without_auto_only_prints(queues: tuple[Any, str, str]) -> None:
    sqs, po_queue, replies = queues
    sqs.send_message(QueueUrl=po_queue, MessageBody=purchase_order(reply_to=replies).model_dump_json())
    result = CliRunner().invoke(supplier_app, ["listen", "--queue", po_queue, "--count", "1", "--wait", "0",
                                               "--aws-endpoint", ""])
    assert result.exit_code == 0, result.output
    assert "po-2026-03-14-WIDGET" in result.output
    assert replies_on(sqs, replies) == []


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "ORDERFLOW_AWS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_listen_offline_takes_the_local_endpoint_and_needs_no_credentials(no_aws_credentials: None) -> None:
    """The queue URL the local API prints looks like AWS's; without --aws-endpoint the local stack's
    endpoint is used with dummy credentials, as `orderflow events` does. A stack that is not there is
    one line and exit 1, never a traceback."""
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(supplier_app, ["listen", "--queue", AWS_QUEUE, "--wait", "0", "--count", "1"],
                                env={"ORDERFLOW_AWS_ENDPOINT": endpoint})
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot receive from {AWS_QUEUE} at {endpoint}" in errors[0]
    assert "Traceback" not in result.output and "credentials" not in result.stderr.lower()
    assert "amazonaws.com:443" not in result.stderr  # it did not go to real AWS


def test_listen_against_aws_without_credentials_says_so_in_one_line(no_aws_credentials: None) -> None:
    result = CliRunner().invoke(supplier_app, ["listen", "--queue", AWS_QUEUE, "--wait", "0", "--aws-endpoint", ""])
    assert result.exit_code == 1
    # One line naming what failed and what to check. Alone, boto3 finds no credentials ("Unable to locate
    # credentials"); after other suites in the same process it may find some and fail to connect instead:
    # either way the user gets the same one line, never a traceback.
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: cannot receive from {AWS_QUEUE}")
    assert "check AWS credentials" in result.stderr and "Traceback" not in result.output


AWS_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-dev-po-acme"
