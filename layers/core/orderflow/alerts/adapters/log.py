"""Alerts table: per subject the moment it was last told (``SUBJECT#<subject>``, ``LAST``), the claim that
throttles repeats; and per UTC day the alerts told (``LOG#<day>``, ``<at>#<alert_id>``), which
``GET /alerts`` and ``orderflow alerts --follow`` read. Items expire (``expires_at``) after 30 days."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

from orderflow.alerts.domain import Alert
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.errors import ConditionFailed

KEEP_DAYS = 30
MAX_DAYS_READ = 7


def _epoch(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp())


class AlertsTable:
    def __init__(self, table: str):
        self.table = table

    def claim(self, subject: str, at: str, window_seconds: int) -> bool:
        """Whether ``subject`` may be told at ``at``: it was not within ``window_seconds`` before. One
        conditional write, so of two at once only one is told."""
        cutoff = datetime.fromisoformat(at.replace("Z", "+00:00")) - timedelta(seconds=window_seconds)
        try:
            dynamo.apply(Write("Put", self.table,
                               item={"pk": f"SUBJECT#{subject}", "sk": "LAST", "last_at": at,
                                     "expires_at": _epoch(at) + KEEP_DAYS * 86400},
                               condition="attribute_not_exists(pk) OR last_at <= :cutoff",
                               values={":cutoff": cutoff.astimezone(UTC).isoformat(timespec="milliseconds")
                                       .replace("+00:00", "Z")}))
        except ConditionFailed:
            return False
        return True

    def release(self, subject: str, at: str) -> None:
        """Give back a claim whose alert could not be published."""
        with contextlib.suppress(ConditionFailed):  # told again since: that claim stands
            dynamo.apply(Write("Delete", self.table, key={"pk": f"SUBJECT#{subject}", "sk": "LAST"},
                               condition="last_at = :at", values={":at": at}))

    def record(self, alert: Alert) -> None:
        item = {"pk": f"LOG#{alert.at[:10]}", "sk": f"{alert.at}#{alert.alert_id}",
                "expires_at": _epoch(alert.at) + KEEP_DAYS * 86400, **alert.model_dump(mode="json")}
        dynamo.apply(Write("Put", self.table, item=item))

    def since(self, moment: str, limit: int) -> list[Alert]:
        """The alerts told after ``moment``, oldest first: a Query per day, at most the last 7 days."""
        today = datetime.now(UTC).date()
        first = max(date.fromisoformat(moment[:10]), today - timedelta(days=MAX_DAYS_READ - 1))
        found: list[Alert] = []
        day = first
        while day <= today and len(found) < limit:
            start = None
            while len(found) < limit:
                kwargs = {"KeyConditionExpression": "pk = :pk AND sk > :after",
                          "ExpressionAttributeValues": {":pk": f"LOG#{day.isoformat()}", ":after": moment},
                          "Limit": limit - len(found)}
                if start:
                    kwargs["ExclusiveStartKey"] = start
                items, start = dynamo.query(self.table, **kwargs)
                found += [Alert.model_validate(item) for item in items]
                if not start:
                    break
            day += timedelta(days=1)
        return found
