"""The SQS poller's rules, one batch at a time, against in-process moto (no stack)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orderflow_local.fidelity import SqsEventSources, sqs_record

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


@pytest.fixture
def queue() -> Iterator[tuple[Any, str, list[Any]]]:
    """An in-process moto queue with three messages, and a poller whose ``invoke`` answers from a list."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}),
                             MessageAttributes={"tenant": {"DataType": "String", "StringValue": "acme"}})
        yield sqs, url, []


def _deliver(queue: tuple[Any, str, list[Any]], answer: Any, types: list[str]) -> list[int]:
    """Receive the three messages, deliver them with ``answer``; the ``n`` of the messages left."""
    sqs, url, events = queue

    def invoke(function_arn: str, event: dict[str, Any]) -> Any:
        events.append(event)
        if isinstance(answer, Exception):
            raise answer
        return answer(event) if callable(answer) else answer

    sources = SqsEventSources(lambda service: sqs, invoke, visibility_timeout=0, wait_seconds=0)
    messages = sources.receive(url, 10)
    assert len(messages) == 3
    mapping = {"EventSourceArn": QUEUE_ARN, "FunctionArn": "arn:aws:lambda:fn", "FunctionResponseTypes": types}
    sources.deliver(mapping, url, messages)
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return sorted(json.loads(m["Body"])["n"] for m in left)


def _fail_second(event: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


@pytest.mark.parametrize(
    ("answer", "types", "left"),
    [
        (None, [], []),
        ({"batchItemFailures": []}, ["ReportBatchItemFailures"], []),
        (_fail_second, ["ReportBatchItemFailures"], [1]),
        (_fail_second, [], []),  # without ReportBatchItemFailures the answer is not read
        ({"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}, ["ReportBatchItemFailures"], [0, 1, 2]),
        (RuntimeError("boom"), ["ReportBatchItemFailures"], [0, 1, 2]),
    ],
    ids=["success", "no-failures", "one-failure", "failures-not-reported", "unknown-identifier", "error"],
)
def test_what_stays_on_the_queue(queue: tuple[Any, str, list[Any]], answer: Any, types: list[str],
                                 left: list[int]) -> None:
    assert _deliver(queue, answer, types) == left
    (event,) = queue[2]
    assert [json.loads(r["body"])["n"] for r in event["Records"]] == [0, 1, 2]  # one invocation per batch


def test_records_have_lambdas_shape(queue: tuple[Any, str, list[Any]]) -> None:
    sqs, url, _ = queue
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"],
                                     MessageAttributeNames=["All"])["Messages"]
    record = sqs_record(message, QUEUE_ARN)
    assert record["eventSource"] == "aws:sqs"
    assert (record["eventSourceARN"], record["awsRegion"]) == (QUEUE_ARN, "us-east-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["tenant"] == {
        "stringValue": "acme", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert json.loads(record["body"]) == {"n": 0}
    assert record["md5OfBody"] == message["MD5OfBody"]


def test_a_batch_gathers_up_to_the_batch_size_across_receives(queue: tuple[Any, str, list[Any]]) -> None:
    sqs, url, _ = queue
    for n in range(3, 14):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    sources = SqsEventSources(lambda service: sqs, lambda arn, event: None, visibility_timeout=30, wait_seconds=0)
    first = sources.receive(url, 11)  # more than one ReceiveMessage (10 at most) brings
    rest = sources.receive(url, 11)
    assert (len(first), len(rest)) == (11, 3)
    assert sorted(json.loads(m["Body"])["n"] for m in first + rest) == list(range(14))


class SteppingClock:
    """``time.monotonic`` for the poller, moved on only by its waits; ``on_wait`` runs at each wait (a message
    arriving meanwhile)."""

    def __init__(self, on_wait: Any) -> None:
        self.now, self.waits, self.on_wait = 0.0, 0, on_wait

    def monotonic(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        self.waits += 1
        self.on_wait(self.waits)
        return False


@pytest.mark.parametrize(("window", "batch_size", "got"), [
    (0, 10, [0, 1, 2]),  # no window: what is there at once
    (2, 10, [0, 1, 2, 3, 4]),  # what arrives within 2 s of the first (one a second, from the first wait on)
    (2, 4, [0, 1, 2, 3]),  # a full batch goes at once
    (60, 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),  # until the batch is full, however long the window
])
def test_a_batching_window_gathers_what_arrives_until_it_ends_or_the_batch_is_full(queue, monkeypatch, window,
                                                                                     batch_size, got):
    sqs, url, _ = queue
    sent = iter(range(3, 100))

    def arrive(waits: int) -> None:  # waits are 0.25 s apart: a message every 4th
        if waits % 4 == 1:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": next(sent)}))

    clock = SteppingClock(arrive)
    monkeypatch.setattr("orderflow_local.fidelity.time.monotonic", clock.monotonic)
    sources = SqsEventSources(lambda service: sqs, lambda *_: None, visibility_timeout=0, wait_seconds=0)
    monkeypatch.setattr(sources._stop, "wait", clock.wait)

    messages = sources.receive(url, batch_size, window)

    assert sorted(json.loads(m["Body"])["n"] for m in messages) == got
