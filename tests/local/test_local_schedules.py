"""Schedule expressions and the schedule timer (no moto: a recording runtime stands in)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderflow_local.schedules import Cron, ScheduleTimer, next_fire_function
from orderflow_local.template import load_template

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "stack" / "template.yaml"
T0 = datetime(2026, 3, 14, 10, 30, 15, tzinfo=UTC)  # a Saturday


class RecordingRuntime:
    """Stands in for both the Lambda runtime and the stack's ``start_execution``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.executions: list[tuple[str, str, Any]] = []
        self.called = threading.Event()
        self.started = threading.Event()

    def invoke(self, logical_id: str, event: Any) -> Any:
        self.calls.append((logical_id, event))
        self.called.set()
        return {"ok": True}

    def start_execution(self, state_machine: str, name: str, payload: Any) -> str:
        self.executions.append((state_machine, name, payload))
        self.started.set()
        return f"arn:{state_machine}:{name}"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", T0 + timedelta(minutes=5)),
        ("rate(1 hour)", T0 + timedelta(hours=1)),
        ("rate(2 days)", T0 + timedelta(days=2)),
        ("cron(0 2 * * ? *)", datetime(2026, 3, 15, 2, 0, tzinfo=UTC)),
        ("cron(*/15 * * * ? *)", datetime(2026, 3, 14, 10, 45, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 3, 16, 9, 0, tzinfo=UTC)),
        ("cron(0 8 1 JAN,JUL ? *)", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
        ("cron(30 10 ? * 7 *)", datetime(2026, 3, 21, 10, 30, tzinfo=UTC)),  # 7 = Saturday, next week
        ("cron(0 0 29 2 ? 2028)", datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    ],
)
def test_next_fire_time(expression: str, expected: datetime) -> None:
    assert next_fire_function(expression)(T0) == expected


@pytest.mark.parametrize(
    "expression", ["rate(5 weeks)", "cron(0 2 * * *)", "cron(0 2 * * MON *)", "cron(0 2 L * ? *)", "at(2026-01-01)"]
)
def test_bad_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        next_fire_function(expression)


def test_cron_that_never_fires_again() -> None:
    with pytest.raises(ValueError, match="never"):
        Cron("0 0 1 1 ? 2020").next_after(T0)


def test_fire_builds_scheduled_events_or_uses_input() -> None:
    runtime = RecordingRuntime()
    timer = ScheduleTimer(load_template(FIXTURE_TEMPLATE), runtime, clock=lambda: T0, executions=runtime)
    timer.fire("TickFunction")
    timer.fire("TickFunction", "Nightly")
    (first_fn, scheduled), (_, nightly) = runtime.calls
    assert first_fn == "TickFunction"
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["source"] == "aws.events"
    assert scheduled["time"] == "2026-03-14T10:30:15Z"
    assert scheduled["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/orderflow-TickFunctionEveryMinute"]
    assert nightly["detail-type"] == "Nightly"
    with pytest.raises(KeyError):
        timer.fire("ApiFunction")


def test_timer_fires_enabled_schedules_when_due() -> None:
    runtime = RecordingRuntime()
    readings: list[datetime] = []
    lock = threading.Lock()

    def stepping_clock() -> datetime:  # each look is seven minutes on (an hour is no whole number of looks)
        with lock:
            readings.append(T0 + timedelta(minutes=7 * len(readings)))
            return readings[-1]

    timer = ScheduleTimer(
        load_template(FIXTURE_TEMPLATE), runtime, clock=stepping_clock, poll_seconds=0.01, executions=runtime
    )
    timer.start()
    try:
        assert runtime.called.wait(10) and runtime.started.wait(10)
    finally:
        timer.stop()
    assert {fn for fn, _ in runtime.calls} == {"TickFunction"}
    assert all(event["detail-type"] == "Scheduled Event" for _, event in runtime.calls)  # Nightly is disabled
    machine, name, payload = runtime.executions[0]
    assert machine == "WorkStateMachine"
    assert payload == {"id": "scheduled", "invalid": True}  # the event's Input
    # named after the time it was due: rate(1 hour) after the timer's first look at the clock
    assert name == f"sched-{readings[0] + timedelta(hours=1):%Y%m%dT%H%M%S}"


def test_state_machine_schedules_start_named_executions() -> None:
    runtime = RecordingRuntime()
    timer = ScheduleTimer(load_template(FIXTURE_TEMPLATE), runtime, clock=lambda: T0, executions=runtime)
    assert timer.fire("WorkStateMachine") == "arn:WorkStateMachine:sched-20260314T103015"
    assert runtime.executions == [("WorkStateMachine", "sched-20260314T103015", {"id": "scheduled", "invalid": True})]
    assert runtime.calls == []


def test_scheduled_state_machines_need_a_starter() -> None:
    with pytest.raises(ValueError, match="executions"):
        ScheduleTimer(load_template(FIXTURE_TEMPLATE), RecordingRuntime())
