"""SQS event sources behave like Lambda's poller, not like moto's inline delivery.

moto alone would delete records the function reported in ``batchItemFailures`` and would retry a
failed batch only when the next message is sent; here failed records come back after the
visibility timeout, successful ones are gone, and ``maxReceiveCount`` receives move a record to the
dead-letter queue (the fixture's JobsQueue: batch size 5, ``maxReceiveCount`` 3).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from local_support import eventually as eventually_within

from orderflow_local.stack import LocalStack

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "stack" / "template.yaml"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(FIXTURE_TEMPLATE, sqs_visibility_timeout=1)
    try:
        local.start()
        yield local
    finally:
        local.stop()


def eventually(check: Callable[[], Any]) -> Any:
    return eventually_within(check, timeout=30.0)  # the pollers' redeliveries take seconds


def _queue_url(stack: LocalStack, logical_id: str) -> str:
    (queue,) = [q for q in stack.resources.queues if q.logical_id == logical_id]
    return queue.url


def _job(stack: LocalStack, job_id: str) -> dict[str, Any] | None:
    item = stack.boto3_client("dynamodb").get_item(TableName="fixture-items-test", Key={"pk": {"S": f"job#{job_id}"}})
    if "Item" not in item:
        return None
    return {k: int(v["N"]) if "N" in v else v["S"] for k, v in item["Item"].items()}


def _dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    messages = stack.boto3_client("sqs").receive_message(
        QueueUrl=_queue_url(stack, "JobsDeadLetterQueue"), MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _send(stack: LocalStack, *jobs: dict[str, Any]) -> None:
    entries = [{"Id": str(i), "MessageBody": json.dumps(job)} for i, job in enumerate(jobs)]
    stack.boto3_client("sqs").send_message_batch(QueueUrl=_queue_url(stack, "JobsQueue"), Entries=entries)


# ------------------------------------------------------------------ the offline stack
def test_reported_failures_come_back_until_the_dead_letter_queue(stack: LocalStack) -> None:
    ok, failing = f"ok-{uuid.uuid4().hex[:6]}", f"fail-{uuid.uuid4().hex[:6]}"
    _send(stack, {"id": ok}, {"id": failing, "fail": True})

    dead = eventually(lambda: [job for job in _dead_letters(stack) if job["id"] == failing])
    assert dead == [{"id": failing, "fail": True}]
    assert _job(stack, failing)["attempts"] == 3  # maxReceiveCount deliveries, then the DLQ
    assert _job(stack, failing)["receive_count"] == 3  # SQS's ApproximateReceiveCount reaches the handler
    assert _job(stack, ok)["attempts"] == 1  # handled once, deleted: never delivered again
    assert ok not in {job["id"] for job in _dead_letters(stack)}


def test_a_batch_that_raises_is_delivered_again_whole(stack: LocalStack) -> None:
    crash = f"crash-{uuid.uuid4().hex[:6]}"
    _send(stack, {"id": crash, "crash": True})
    assert eventually(lambda: [job for job in _dead_letters(stack) if job["id"] == crash])
    assert _job(stack, crash)["attempts"] == 3


def test_successful_records_are_deleted(stack: LocalStack) -> None:
    ids = [f"ok-{uuid.uuid4().hex[:6]}" for _ in range(7)]
    _send(stack, *({"id": job_id} for job_id in ids))
    jobs = eventually(lambda: all(_job(stack, i) for i in ids) and [_job(stack, i) for i in ids])
    assert all(job["attempts"] == 1 and job["receive_count"] == 1 for job in jobs)
    assert all(job["batch_size"] <= 5 for job in jobs)  # the mapping's BatchSize
    attributes = stack.boto3_client("sqs").get_queue_attributes(
        QueueUrl=_queue_url(stack, "JobsQueue"), AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "0", "0")


def test_the_mapping_is_still_an_ordinary_event_source_mapping(stack: LocalStack) -> None:
    lambda_ = stack.boto3_client("lambda")
    (mapping,) = lambda_.list_event_source_mappings(FunctionName="orderflow-ConsumerFunction")["EventSourceMappings"]
    assert (mapping["State"], mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (
        "Enabled", 5, ["ReportBatchItemFailures"])
