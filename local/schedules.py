"""Fires the template's ``Schedule`` events on a timer (moto never fires EventBridge schedules):
a function's is invoked with the scheduled event, a state machine's starts an execution.

Supports ``rate(N minute|minutes|hour|hours|day|days)`` and the six-field AWS
``cron(minutes hours day-of-month month day-of-week year)`` with ``*``, ``?``,
lists, ranges, steps and names (not ``L``, ``W`` or ``#``); times are UTC.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from orderflow_local.template import ACCOUNT_ID, PARTITION, REGION, ScheduleEvent, Template

logger = logging.getLogger("orderflow_local.schedules")

Clock = Callable[[], datetime]


class Invoker(Protocol):
    """What the timer needs of the runtime."""

    def invoke(self, logical_id: str, event: Any) -> Any: ...


class ExecutionStarter(Protocol):
    """What the timer needs to start a state machine (``LocalStack`` is one)."""

    def start_execution(self, state_machine: str, name: str, payload: Any) -> str: ...


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _cron_field(text: str, low: int, high: int, names: list[str] | None = None) -> set[int] | None:
    """The values a cron field allows; ``None`` for ``?`` (no constraint from this field)."""
    if text == "?":
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        base, _, step = part.partition("/")
        if names:
            for i, name in enumerate(names):
                base = base.replace(name, str(i + low))
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (int(x) for x in base.split("-"))
        elif base.isdigit():
            start = int(base)
            end = high if step else start
        else:
            raise ValueError(f"unsupported cron field {text!r}")
        if not (low <= start <= end <= high):
            raise ValueError(f"cron field {text!r} out of range {low}-{high}")
        values.update(range(start, end + 1, int(step or 1)))
    return values


class Cron:
    """An AWS six-field cron expression."""

    def __init__(self, fields: str) -> None:
        parts = fields.split()
        if len(parts) != 6:
            raise ValueError(f"cron needs 6 fields, got {fields!r}")
        minutes, hours, dom, month, dow, year = parts
        self.minutes = _cron_field(minutes, 0, 59) or set()
        self.hours = _cron_field(hours, 0, 23) or set()
        self.days_of_month = _cron_field(dom, 1, 31)
        self.months = _cron_field(month, 1, 12, _MONTHS) or set()
        self.days_of_week = _cron_field(dow, 1, 7, _DAYS)
        self.years = _cron_field(year, 1970, 2199) or set()
        if (self.days_of_month is None) == (self.days_of_week is None):
            raise ValueError(f"cron {fields!r}: exactly one of day-of-month and day-of-week must be '?'")

    def _day_matches(self, t: datetime) -> bool:
        if self.days_of_month is not None:
            return t.day in self.days_of_month
        return (t.weekday() + 1) % 7 + 1 in (self.days_of_week or set())

    def next_after(self, t: datetime) -> datetime:
        t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t.year <= max(self.years):
            if t.year not in self.years:
                t = t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0)
            elif t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise ValueError("cron expression never fires again")


def next_fire_function(expression: str) -> Callable[[datetime], datetime]:
    """``f(now) -> next firing time`` for a ``rate()`` or ``cron()`` schedule expression."""
    if rate := _RATE.match(expression):
        delta = timedelta(**{rate.group(2).rstrip("s") + "s": int(rate.group(1))})
        return lambda now: now + delta
    if cron := _CRON.match(expression):
        return Cron(cron.group(1)).next_after
    raise ValueError(f"unsupported schedule expression {expression!r}")


@dataclass(frozen=True)
class Schedule:
    """One ``Schedule`` event of a function or of a state machine (``target`` is its logical id)."""

    target: str
    kind: Literal["function", "state_machine"]
    event: ScheduleEvent
    rule_arn: str
    next_after: Callable[[datetime], datetime]

    def build_event(self, now: datetime) -> Any:
        if self.event.input is not None:
            return json.loads(self.event.input)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.rule_arn],
            "detail": {},
        }


def execution_name(when: datetime) -> str:
    """The name of the execution a schedule starts for the firing due at ``when``: one per firing,
    so a duplicate firing of the same time is refused by Step Functions instead of running twice."""
    return f"sched-{when:%Y%m%dT%H%M%S}"


class ScheduleTimer:
    """Whenever an enabled Schedule comes due, invokes its function or starts an execution of its
    state machine (named by :func:`execution_name`, with the event's ``Input`` or the scheduled event)."""

    def __init__(
        self,
        template: Template,
        runtime: Invoker,
        clock: Clock = lambda: datetime.now(UTC),
        poll_seconds: float = 1.0,
        executions: ExecutionStarter | None = None,
    ) -> None:
        targets: list[tuple[str, Literal["function", "state_machine"], list[ScheduleEvent]]] = [
            *((fn.logical_id, "function", fn.schedules) for fn in template.functions),
            *((sm.logical_id, "state_machine", sm.schedules) for sm in template.state_machines),
        ]
        self.schedules = [
            Schedule(
                target,
                kind,
                event,
                f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{template.stack_name}-{target}{event.event_name}",
                next_fire_function(event.expression),
            )
            for target, kind, events in targets
            for event in events
        ]
        if executions is None and any(s.kind == "state_machine" for s in self.schedules):
            raise ValueError("the template schedules state machines: pass `executions` to start them")
        self._runtime = runtime
        self._executions = executions
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orderflow-schedules", daemon=True)

    def start(self) -> None:
        if any(s.event.enabled for s in self.schedules):
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def fire(self, logical_id: str, event_name: str | None = None) -> Any:
        """Run a function's or state machine's schedule now (its first one unless ``event_name`` is
        given), enabled or not: the function's result, or the ARN of the execution started."""
        for schedule in self.schedules:
            if schedule.target == logical_id and event_name in (None, schedule.event.event_name):
                return self._run(schedule, self._clock())
        raise KeyError(f"{logical_id} has no Schedule event {event_name or ''}".rstrip())

    def _run(self, schedule: Schedule, when: datetime) -> Any:
        event = schedule.build_event(when)
        if schedule.kind == "function":
            return self._runtime.invoke(schedule.target, event)
        assert self._executions is not None
        return self._executions.start_execution(schedule.target, execution_name(when), event)

    def _loop(self) -> None:
        now = self._clock()
        due = {s: s.next_after(now) for s in self.schedules if s.event.enabled}
        while not self._stop.wait(self._poll_seconds):
            now = self._clock()
            for schedule, when in due.items():
                if when > now:
                    continue
                due[schedule] = schedule.next_after(now)
                try:
                    self._run(schedule, when)
                except Exception:
                    logger.exception("scheduled run of %s (%s) failed", schedule.target, schedule.event.event_name)
