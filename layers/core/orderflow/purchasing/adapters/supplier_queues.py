"""SQS: one queue per supplier, on which its purchase orders are sent.

Standard queues: a message may arrive twice, and a send retried after a crash sends the same
purchase order again, so suppliers deduplicate on ``po_id``.
"""

from __future__ import annotations

import hashlib
import re

from orderflow.platform.aws import client, error_code, raise_if_sqs_busy

MAX_QUEUE_NAME = 80
BATCH_ENTRIES = 10  # SendMessageBatch: at most 10 messages a request,
BATCH_BYTES = 256 * 1024  # and at most 256 KB of them together
RETENTION_SECONDS = 14 * 24 * 3600
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


class SupplierQueues:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def name(self, supplier_id: str) -> str:
        """``<prefix><supplier_id>``. Ids that SQS cannot name a queue after (``.`` or ``:`` in them, or too
        long) get their other characters as ``-`` and a hash of the id, so two ids never share a queue."""
        name = self.prefix + supplier_id
        if len(name) <= MAX_QUEUE_NAME and not _NOT_ALLOWED.search(supplier_id):
            return name
        digest = hashlib.sha256(supplier_id.encode()).hexdigest()[:10]
        readable = _NOT_ALLOWED.sub("-", supplier_id)[: MAX_QUEUE_NAME - len(self.prefix) - len(digest) - 1]
        return f"{self.prefix}{readable}-{digest}"

    def ensure(self, supplier_id: str) -> str:
        """The URL of the supplier's queue, created (encrypted at rest) if it does not exist yet."""
        attributes = {"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": str(RETENTION_SECONDS)}
        try:
            return client("sqs").create_queue(QueueName=self.name(supplier_id), Attributes=attributes)["QueueUrl"]
        except Exception as exc:
            if error_code(exc) in ("QueueAlreadyExists", "QueueNameExists"):  # same name, other attributes
                return client("sqs").get_queue_url(QueueName=self.name(supplier_id))["QueueUrl"]
            raise_if_sqs_busy(exc)
            raise

    def send(self, url: str, message: str) -> str:
        """Put ``message`` (a JSON document) on the queue at ``url``; returns its message id."""
        try:
            return client("sqs").send_message(QueueUrl=url, MessageBody=message)["MessageId"]
        except Exception as exc:
            raise_if_sqs_busy(exc)
            raise

    def send_batch(self, url: str, messages: list[str]) -> list[bool]:
        """Put ``messages`` on the queue at ``url``, ten a request (SendMessageBatch: one billed request per 64 KB
        of it, not one per message); for each message, whether SQS took it. One it refused (a failed entry of a
        batch that went through) is for the caller to send again."""
        taken = [False] * len(messages)
        for chunk in _chunks(messages):
            try:
                answer = client("sqs").send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(index), "MessageBody": messages[index]} for index in chunk])
            except Exception as exc:
                raise_if_sqs_busy(exc)
                raise
            for entry in answer.get("Successful", []):
                taken[int(entry["Id"])] = True
        return taken


def _chunks(messages: list[str]) -> list[list[int]]:
    """The messages' indexes in requests of at most ``BATCH_ENTRIES`` messages and ``BATCH_BYTES``."""
    chunks: list[list[int]] = []
    size = 0
    for index, message in enumerate(messages):
        length = len(message.encode())
        if not chunks or len(chunks[-1]) == BATCH_ENTRIES or size + length > BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(index)
        size += length
    return chunks
