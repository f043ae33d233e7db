"""SNS: the alerts topic (``orderflow-<stage>-alerts``); its subscriptions (an email address, or any
protocol SNS takes) are the template's parameters."""

from __future__ import annotations

from orderflow.alerts.domain import Alert
from orderflow.platform.aws import client


class TopicNotifier:
    def __init__(self, topic_arn: str):
        self.topic_arn = topic_arn

    def publish(self, alert: Alert) -> None:
        client("sns").publish(TopicArn=self.topic_arn, Subject=alert.title, Message=alert.message(),
                              MessageAttributes={"kind": {"DataType": "String", "StringValue": alert.kind}})
