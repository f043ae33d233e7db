"""EventBridge port: domain events for CRM, ERP and WMS subscribers.

Events are published after the write that causes them has landed. A step whose publish fails
raises, Step Functions retries it, and the retried step (finding its write already done)
publishes again: at least once, never for a write that did not land.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import utc_now
from .aws import client

SOURCE = "orderflow"
SCHEMA_VERSION = "1"

class EventPublisher:
    def __init__(self, bus_name: str):
        self.bus_name = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        body = {"version": SCHEMA_VERSION, "occurred_at": utc_now(), **detail}
        response = client("events").put_events(Entries=[{
            "Source": SOURCE, "DetailType": detail_type, "EventBusName": self.bus_name,
            "Detail": json.dumps(body, default=str),
        }])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries']}")
