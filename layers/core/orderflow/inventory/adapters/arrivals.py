"""SQS: the stock-arrivals queue, on which backordered orders are woken.

Standard queue: an arrival seen twice wakes orders that find themselves reserved already.
"""

from __future__ import annotations

import json

from orderflow.platform.aws import client, raise_if_sqs_busy
from orderflow.shared.errors import TransientError

SEND_BATCH = 10  # SendMessageBatch's limit


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
                raise_if_sqs_busy(exc)
                raise
            if failed:
                raise TransientError(f"SQS refused {len(failed)} stock arrivals; try again")
