"""Alerts, pure: what each event says to a person, the throttle, and the CLI's reading of them."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import typer

from orderflow.alerts.domain import Alert, dead_letters, from_event, po_overdue, run_failed
from orderflow.alerts.service import AlertService
from orderflow.shared.settings import Settings
from orderflow_cli.alerts import follow_alerts, since_moment, text

AT = "2030-01-02T03:04:05.000Z"
LINES = [{"sku": "WIDGET", "quantity": 40}]


@pytest.mark.parametrize(("detail_type", "detail", "subject", "says"), [
    ("StockLow", {"sku": "WIDGET", "location_id": "north", "available": 3, "threshold": 10, "on_hand": 5,
                  "reserved": 2, "on_order": 0, "backordered": 0},
     "stock-low:WIDGET@north", "WIDGET at north has 3 available (threshold 10"),
    ("PurchaseOrderRejected", {"po_id": "po-1", "supplier_id": "acme", "reason": "supplier: closed", "lines": LINES},
     "po-rejected:po-1", "Supplier acme rejected purchase order po-1 (40 × WIDGET): supplier: closed"),
    ("PurchaseOrderAwaitingApproval", {"po_id": "po-2", "supplier_id": "acme", "total": 12000, "lines": LINES},
     "po-approval:po-2", "(40 × WIDGET) is worth 12000, above the approval threshold."),
    ("PurchaseOrderAwaitingApproval", {"po_id": "po-2", "supplier_id": "acme", "total": 12000, "lines": LINES,
                                       "reason": "worth 12000.00, above the approval threshold 10000: waits"},
     "po-approval:po-2", "(40 × WIDGET) is worth 12000.00, above the approval threshold 10000: waits."),
    ("OrderFailed", {"order_id": "ord-1", "customer_id": "c-1", "reason": "no stock within 14 days"},
     "order-failed:ord-1", "Order ord-1 of customer c-1 failed: no stock within 14 days"),
])
def test_each_alerted_event_is_one_readable_message_about_its_subject(detail_type, detail, subject, says):
    alert = from_event(detail_type, detail, AT, console="https://ops.example")
    assert alert is not None and alert.subject == subject and says in alert.what
    message = alert.message()
    assert message.startswith(alert.title + "\n\n") and f"What to do: {alert.action}" in message
    assert alert.link and alert.link.startswith("https://ops.example/") and f"Look: {alert.link}" in message
    assert from_event(detail_type, detail, AT).link is None  # no console, no link


def test_events_nobody_needs_to_hear_about_raise_no_alert():
    assert from_event("OrderShipped", {"order_id": "ord-1"}, AT) is None
    assert from_event("StockRecovered", {"sku": "WIDGET"}, AT) is None


def test_check_alerts_name_the_thing_and_titles_fit_an_email_subject():
    overdue = po_overdue({"po_id": "po-9", "supplier_id": "acme", "expected_by": "2030-01-01", "status": "SHIPPED",
                          "lines": LINES}, "2030-01-02", AT)
    assert overdue.what == ("Purchase order po-9 from acme (40 × WIDGET) was expected by 2030-01-01 and is SHIPPED "
                            "on 2030-01-02.")
    assert "GET /replenishment/runs/run-7" in run_failed("run-7", "BatchesFailed: 1 of 3", AT).action
    assert dead_letters("q-dlq", 3, AT).subject == "dead-letters:q-dlq"
    assert len(run_failed("r" * 300, None, AT).title) == 100


class FakeLog:
    def __init__(self):
        self.last: dict[str, str] = {}
        self.recorded: list[Alert] = []

    def claim(self, subject, at, window_seconds):
        last = self.last.get(subject)
        if last is not None and (datetime.fromisoformat(at) - datetime.fromisoformat(last)).total_seconds() \
                < window_seconds:
            return False
        self.last[subject] = at
        return True

    def release(self, subject, at):
        if self.last.get(subject) == at:
            del self.last[subject]

    def record(self, alert):
        self.recorded.append(alert)

    def since(self, moment, limit):
        return [a for a in self.recorded if a.at > moment][:limit]


class FakeTopic:
    def __init__(self, failures: int = 0):
        self.sent: list[Alert] = []
        self.failures = failures

    def publish(self, alert):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS is down")
        self.sent.append(alert)


def service(topic: FakeTopic, clock, **watched) -> tuple[AlertService, FakeLog]:
    log = FakeLog()
    return AlertService(Settings(alert_repeat_minutes=60), log, topic, clock=clock, **watched), log


def test_one_alert_per_subject_per_hour_and_a_failed_publish_is_told_on_retry():
    now = iter(["2030-01-02T03:00:00+00:00", "2030-01-02T03:10:00+00:00", "2030-01-02T03:20:00+00:00",
                "2030-01-02T04:00:00+00:00", "2030-01-02T04:20:00+00:00"])
    topic = FakeTopic(failures=1)
    alerts, log = service(topic, lambda: next(now))
    low = {"sku": "WIDGET", "available": 3, "threshold": 10}
    with pytest.raises(ConnectionError):
        alerts.on_event("StockLow", low)  # 03:00, SNS down: the subject is given back
    assert alerts.on_event("StockLow", low) is not None  # 03:10, the retry is told
    assert alerts.on_event("StockLow", low) is None  # 03:20: within the hour
    assert alerts.on_event("StockLow", {**low, "sku": "OTHER"}) is not None  # 04:00: another subject
    assert alerts.on_event("StockLow", low) is not None  # 04:20: an hour after 03:10
    assert [a.subject for a in topic.sent] == ["stock-low:WIDGET@main", "stock-low:OTHER@main",
                                               "stock-low:WIDGET@main"]
    assert log.recorded == topic.sent


def test_the_check_finds_overdue_orders_recent_failed_runs_and_non_empty_dead_letter_queues():
    po = SimpleNamespace(expected_by="2030-01-01", model_dump=lambda mode: {
        "po_id": "po-late", "supplier_id": "acme", "expected_by": "2030-01-01", "status": "SENT", "lines": LINES})
    on_time = SimpleNamespace(expected_by="2030-01-05", model_dump=lambda mode: {})
    orders = SimpleNamespace(list_by_status=lambda statuses, limit, cursor: ([po, on_time], None))
    runs = SimpleNamespace(list=lambda limit: [
        SimpleNamespace(run_id="run-new", status="FAILED", error="boom", finished_at="2030-01-02T02:30:00.000Z",
                        started_at="2030-01-02T02:00:00.000Z"),
        SimpleNamespace(run_id="run-old", status="FAILED", error="boom", finished_at="2030-01-01T02:30:00.000Z",
                        started_at="2030-01-01T02:00:00.000Z"),
        SimpleNamespace(run_id="run-ok", status="COMPLETED", error=None, finished_at="2030-01-02T02:40:00.000Z",
                        started_at="2030-01-02T02:35:00.000Z")])
    queues = SimpleNamespace(depths=lambda: {"a-dlq": 0, "b-dlq": 2})
    alerts, _ = service(FakeTopic(), lambda: "2030-01-02T03:00:00.000Z", purchase_orders=orders, runs=runs,
                        dead_letter_queues=queues)
    assert [a.subject for a in alerts.check()] == ["po-overdue:po-late", "run-failed:run-new", "dead-letters:b-dlq"]
    assert alerts.check() == []  # the same look again within the hour tells nothing


def test_the_cli_reads_since_as_a_duration_or_a_time_and_follows_new_alerts():
    now = datetime(2030, 1, 2, 3, 0, tzinfo=UTC)
    assert since_moment("90m", now) == "2030-01-02T01:30:00.000Z"
    assert since_moment("1d", now) == "2030-01-01T03:00:00.000Z"
    assert since_moment("2030-01-01T10:00:00+02:00") == "2030-01-01T08:00:00.000Z"
    with pytest.raises(typer.BadParameter):
        since_moment("yesterday")
    alert = {"at": AT, "title": "Stock low: W at main", "what": "W is low.", "action": "Order it.", "link": None}
    assert text(alert) == f"{AT}  Stock low: W at main\n  W is low.\n  What to do: Order it."
    pages = iter([{"alerts": [alert], "next_since": AT}, {"alerts": [], "next_since": AT}])
    asked, shown = [], []

    def fetch(since):
        asked.append(since)
        return next(pages)

    def stop(_seconds):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        follow_alerts(fetch, "2030-01-01T00:00:00.000Z", shown.append, follow=True, sleep=stop)
    assert asked == ["2030-01-01T00:00:00.000Z", AT] and shown == [alert]
