"""SQS events as Lambda's poller hands them to a function, for invoking SQS consumers directly."""

from __future__ import annotations

import uuid

SENDER_ID = "AIDAIENQZJOLO23YVJ4VO"  # the SenderId sqs_batch's records carry (an IAM user's unique id)


def sqs_batch(queue: str, *bodies: str, sender_id: str = SENDER_ID) -> tuple[dict, list[str]]:
    """An SQS event from ``queue`` (its name) with one record per body, each sent by ``sender_id``, and the
    records' message ids."""
    ids = [str(uuid.uuid4()) for _ in bodies]
    records = [{"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": text,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1893745800000",
                               "SenderId": sender_id,
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
