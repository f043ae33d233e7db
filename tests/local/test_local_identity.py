"""SQS's SenderId offline (``orderflow_local.identity``): each message carries the principal whose credentials
sent it, as on AWS, so a consumer can tell a supplier's reply from a forged one; and the simulated supplier
sends as an IAM user of its own, which it registers first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orderflow_local import identity
from orderflow_local.supplier_sim import SimulatedSuppliers

REGION = "us-east-1"
PREFIX = "orderflow-dev-po-"


@pytest.fixture
def aws() -> Iterator[None]:
    identity.install()  # what LocalStack.start does (through fidelity.install); idempotent
    with mock_aws():
        yield


def _senders(sqs: Any, url: str) -> dict[str, str]:
    """Body -> SenderId of every message on the queue."""
    found = {}
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                          MessageSystemAttributeNames=["SenderId"]).get("Messages", []):
        found.update({m["Body"]: m["Attributes"]["SenderId"] for m in messages})
    return found


def test_each_message_carries_the_principal_that_sent_it(aws: None) -> None:
    iam, own = boto3.client("iam", region_name=REGION), boto3.client("sqs", region_name=REGION)
    url = own.create_queue(QueueName="replies")["QueueUrl"]
    acme_id, acme_keys = identity.supplier_credentials(iam, "acme")
    bolts_id, bolts_keys = identity.supplier_credentials(iam, "bolts")
    acme, bolts = (boto3.client("sqs", region_name=REGION, **keys) for keys in (acme_keys, bolts_keys))

    own.send_message(QueueUrl=url, MessageBody="own")
    acme.send_message(QueueUrl=url, MessageBody="acme")
    acme.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "acme-batch"}])
    bolts.send_message(QueueUrl=url, MessageBody="bolts")

    caller = boto3.client("sts", region_name=REGION).get_caller_identity()["UserId"]
    assert _senders(own, url) == {"own": caller, "acme": acme_id, "acme-batch": acme_id, "bolts": bolts_id}
    assert len({caller, acme_id, bolts_id}) == 3
    assert boto3.client("sts", region_name=REGION, **acme_keys).get_caller_identity()["UserId"] == acme_id
    again, keys = identity.supplier_credentials(iam, "acme")  # the same user, a new key
    assert again == acme_id and keys != acme_keys


def test_the_simulated_supplier_replies_as_the_identity_it_onboarded(aws: None) -> None:
    iam, own = boto3.client("iam", region_name=REGION), boto3.client("sqs", region_name=REGION)
    replies = own.create_queue(QueueName="orderflow-dev-supplier-replies")["QueueUrl"]
    po_queue = own.create_queue(QueueName=PREFIX + "acme")["QueueUrl"]
    own.send_message(QueueUrl=po_queue, MessageBody=json.dumps({
        "schema_version": "1", "po_id": "po-2026-03-14-W", "supplier_id": "acme", "cycle": "2026-03-14",
        "lines": [{"sku": "W", "quantity": 2, "unit_cost": "1.00"}], "total": "2.00",
        "sent_at": "2026-03-14T02:00:00Z"}))
    onboarded: dict[str, str] = {}

    def onboard(supplier_id: str) -> Any:  # LocalStack.onboard_supplier also registers the principal over HTTP
        onboarded[supplier_id], keys = identity.supplier_credentials(iam, supplier_id)
        return boto3.client("sqs", region_name=REGION, **keys)

    assert SimulatedSuppliers(own, PREFIX, replies, onboard=onboard).poll_once() == 1
    assert list(onboarded) == ["acme"]
    assert set(_senders(own, replies).values()) == {onboarded["acme"]}
