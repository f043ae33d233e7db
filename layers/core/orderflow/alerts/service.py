"""Alerts to people: domain events and periodic checks become one readable message each, published to the
alerts topic, at most one per subject per ``alert_repeat_minutes`` (docs/alerts.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from orderflow.alerts.domain import Alert, dead_letters, from_event, po_overdue, run_failed
from orderflow.alerts.ports import AlertLog, DeadLetterQueues, Notifier, OpenPurchaseOrders, RecentRuns
from orderflow.shared.settings import Settings
from orderflow.shared.types import utc_now

# Sent or further, not yet fully received: a purchase order the supplier still owes goods on.
OWED = ("SENT", "ACKNOWLEDGED", "PARTIALLY_CONFIRMED", "SHIPPED", "PARTIALLY_RECEIVED")
RECENT_RUNS = 50


class AlertService:
    def __init__(self, settings: Settings, log: AlertLog, notifier: Notifier,
                 purchase_orders: OpenPurchaseOrders | None = None, runs: RecentRuns | None = None,
                 dead_letter_queues: DeadLetterQueues | None = None, clock: Callable[[], str] = utc_now):
        self.settings, self.log, self.notifier = settings, log, notifier
        self.purchase_orders, self.runs, self.dead_letter_queues = purchase_orders, runs, dead_letter_queues
        self.clock = clock

    def tell(self, alert: Alert) -> bool:
        """Publish ``alert`` unless its subject was alerted within the repeat window; False when throttled.
        A publish that fails gives the subject back, so a retry alerts."""
        if not self.log.claim(alert.subject, alert.at, self.settings.alert_repeat_minutes * 60):
            return False
        try:
            self.notifier.publish(alert)
        except Exception:
            self.log.release(alert.subject, alert.at)
            raise
        self.log.record(alert)
        return True

    def on_event(self, detail_type: str, detail: Mapping[str, Any]) -> Alert | None:
        """The alert a domain event raises, told (or throttled); None for an event that needs nobody."""
        alert = from_event(detail_type, detail, self.clock(), self.settings.console_url)
        if alert is None:
            return None
        return alert if self.tell(alert) else None

    def check(self) -> list[Alert]:
        """What a periodic look finds: purchase orders past their ``expected_by``, replenishment runs that
        failed since the last look, dead-letter queues with messages. Returns the alerts told."""
        now = self.clock()
        found: list[Alert] = []
        if self.purchase_orders is not None:
            found += self._overdue(now)
        if self.runs is not None:
            since = _before(now, self.settings.alert_check_seconds * 2)  # a look that ran late misses none
            found += [run_failed(run.run_id, run.error, now, self.settings.console_url)
                      for run in self.runs.list(RECENT_RUNS)
                      if str(run.status) == "FAILED" and (run.finished_at or run.started_at) >= since]
        if self.dead_letter_queues is not None:
            found += [dead_letters(name, count, now) for name, count in sorted(self.dead_letter_queues.depths().items())
                      if count > 0]
        return [alert for alert in found if self.tell(alert)]

    def recent(self, since: str | None, limit: int) -> list[Alert]:
        """The alerts told since ``since`` (default: the last day), oldest first."""
        return self.log.since(since or _before(self.clock(), 86400), limit)

    def _overdue(self, now: str) -> list[Alert]:
        today, found, cursor = now[:10], [], None
        while True:
            orders, cursor = self.purchase_orders.list_by_status(list(OWED), 100, cursor)
            for po in orders:
                if po.expected_by and po.expected_by < today:
                    found.append(po_overdue(po.model_dump(mode="json"), today, now, self.settings.console_url))
            if not cursor:
                return found


def _before(moment: str, seconds: int) -> str:
    then = datetime.fromisoformat(moment.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    return then.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
