"""SQS ports: one queue per supplier, on which its purchase orders are sent; and the stock-arrivals
queue, on which backorders are woken.

Queues are standard (not FIFO): a message may arrive twice, and a send retried after a crash sends
the same purchase order again, so suppliers deduplicate on ``po_id``; a stock arrival seen twice wakes
orders that find themselves reserved already.
"""

from __future__ import annotations

import hashlib
import json
import re

from ..errors import TransientError
from .aws import client, error_code

MAX_QUEUE_NAME = 80
SEND_BATCH = 10  # SendMessageBatch's limit
RETENTION_SECONDS = 14 * 24 * 3600
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_BUSY = {"ThrottlingException", "RequestThrottled", "ServiceUnavailable", "InternalError"}


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
            _raise_if_busy(exc)
            raise

    def send(self, url: str, message: str) -> str:
        """Put ``message`` (a JSON document) on the queue at ``url``; returns its message id."""
        try:
            return client("sqs").send_message(QueueUrl=url, MessageBody=message)["MessageId"]
        except Exception as exc:
            _raise_if_busy(exc)
            raise


class StockArrivals:
    def __init__(self, url: str | None):
        self.url = url

    def announce(self, skus: list[str]) -> None:
        """Say that stock of each SKU arrived (one message per SKU, ten per request)."""
        if not self.url:
            raise RuntimeError("the stock-arrivals queue URL is not set in this function's environment")
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), SEND_BATCH):
            entries = [{"Id": str(i), "MessageBody": json.dumps({"sku": sku})}
                       for i, sku in enumerate(unique[start:start + SEND_BATCH])]
            try:
                failed = client("sqs").send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")
            except Exception as exc:
                _raise_if_busy(exc)
                raise
            if failed:
                raise TransientError(f"SQS refused {len(failed)} stock arrivals; try again")


def _raise_if_busy(exc: Exception) -> None:
    if (code := error_code(exc)) in _BUSY:
        raise TransientError(f"SQS is busy ({code}); try again") from exc
