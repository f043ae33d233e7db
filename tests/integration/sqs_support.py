"""SQS events as Lambda's poller hands them to a function, for invoking SQS consumers directly."""

from __future__ import annotations

import uuid


def sqs_batch(queue: str, *bodies: str) -> tuple[dict, list[str]]:
    """An SQS event from ``queue`` (its name) with one record per body, and the records' message ids."""
    ids = [str(uuid.uuid4()) for _ in bodies]
    records = [{"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": text,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1893745800000",
                               "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                               "ApproximateFirstReceiveTimestamp": "1893745800010"},
                "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1"} for message_id, text in zip(ids, bodies, strict=True)]
    return {"Records": records}, ids


def drain(sqs, queue_url: str) -> list[dict]:
    """Every message on the queue, as JSON (read and deleted)."""
    import json

    found = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found
