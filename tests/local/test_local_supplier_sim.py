"""The simulated supplier (in-process moto, no stack): which queues it answers, and how."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orderflow.purchasing.domain import PurchaseOrderMessage, PurchaseOrderMessageLine
from orderflow_local.supplier_sim import SimulatedSuppliers, for_template
from orderflow_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "orderflow-dev-po-"


def _purchase_order(supplier_id: str, quantity: int) -> str:
    return PurchaseOrderMessage(
        po_id=f"po-2026-03-14-{supplier_id}", supplier_id=supplier_id, cycle="2026-03-14",
        lines=[PurchaseOrderMessageLine(sku="WIDGET", quantity=quantity, unit_cost="2.00")],
        total=str(2 * quantity), sent_at="2026-03-14T02:00:00Z",
    ).model_dump_json()


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _replies(sqs: Any, url: str) -> dict[str, list[tuple[str, list[dict[str, Any]]]]]:
    """Replies per supplier: ``[(type, lines), ...]`` in the order sent."""
    found: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            found.setdefault(body["supplier_id"], []).append((body["type"], body.get("lines", [])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_each_kind_of_supplier_gets_its_answers(sqs: Any) -> None:
    replies = sqs.create_queue(QueueName="orderflow-dev-supplier-replies")["QueueUrl"]
    queues = {s: sqs.create_queue(QueueName=PREFIX + s)["QueueUrl"] for s in ("acme", "partial-bolts", "manual-x")}
    sqs.create_queue(QueueName="someone-elses-queue")
    for supplier_id, url in queues.items():
        sqs.send_message(QueueUrl=url, MessageBody=_purchase_order(supplier_id, 7))

    sim = SimulatedSuppliers(sqs, PREFIX, replies)
    assert sim.poll_once() == 2
    assert _replies(sqs, replies) == {
        "acme": [("ACKNOWLEDGED", []), ("SHIPPED", []), ("RECEIVED", [{"sku": "WIDGET", "quantity": 7}])],
        "partial-bolts": [("PARTIALLY_CONFIRMED", [{"sku": "WIDGET", "quantity": 4}]), ("SHIPPED", []),
                          ("RECEIVED", [{"sku": "WIDGET", "quantity": 4}])],
    }
    manual = sqs.get_queue_attributes(QueueUrl=queues["manual-x"], AttributeNames=["ApproximateNumberOfMessages"])
    assert manual["Attributes"]["ApproximateNumberOfMessages"] == "1"  # left for a person (or a test)
    assert sim.poll_once() == 0  # answered once: the purchase orders were deleted

    sqs.send_message(QueueUrl=queues["acme"], MessageBody=_purchase_order("acme", 7))  # delivered again
    assert sim.poll_once() == 1
    assert _replies(sqs, replies) == {}  # a supplier deduplicates on po_id


def test_it_finds_queues_created_after_it_started(sqs: Any) -> None:
    replies = sqs.create_queue(QueueName="orderflow-dev-supplier-replies")["QueueUrl"]
    sim = SimulatedSuppliers(sqs, PREFIX, replies, idle_seconds=0.01)
    sim.start()
    try:
        late = sqs.create_queue(QueueName=PREFIX + "late")["QueueUrl"]
        sqs.send_message(QueueUrl=late, MessageBody=_purchase_order("late", 3))
        found: dict[str, Any] = {}
        deadline = time.monotonic() + 30
        while len(found.get("late", [])) < 3:
            assert time.monotonic() < deadline, f"the simulated supplier answered only {found}"
            for supplier, answers in _replies(sqs, replies).items():
                found.setdefault(supplier, []).extend(answers)
    finally:
        sim.stop()
    assert [kind for kind, _ in found["late"]] == ["ACKNOWLEDGED", "SHIPPED", "RECEIVED"]
    assert [reply.type.value for reply in sim.replies] == ["ACKNOWLEDGED", "SHIPPED", "RECEIVED"]


def test_the_real_template_has_a_simulated_supplier_and_the_fixture_none() -> None:
    sim = for_template(load_template(ROOT / "template.yaml", {"Stage": "ci"}), sqs=None)
    assert sim is not None
    assert sim.queue_prefix == "orderflow-ci-po-"
    assert sim.reply_queue_url.endswith("/orderflow-ci-supplier-replies")
    assert for_template(load_template(Path(__file__).parent / "fixtures" / "stack" / "template.yaml"), None) is None
