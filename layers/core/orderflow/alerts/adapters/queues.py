"""The stack's dead-letter queues, and how many messages each holds."""

from __future__ import annotations

from orderflow.platform.aws import client


class DeadLetterQueueDepths:
    def __init__(self, urls: list[str]):
        self.urls = urls

    def depths(self) -> dict[str, int]:
        """Queue name → messages visible in it."""
        found = {}
        for url in self.urls:
            attributes = client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            found[url.rsplit("/", 1)[-1]] = int(attributes.get("ApproximateNumberOfMessages", 0))
        return found
