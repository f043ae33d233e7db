"""Live KPIs: each domain event adds to daily aggregates once (its ``event_id`` is marked in the same
transaction), and ``GET /kpis`` reads a range of days back (docs/kpis.md). Never a scan of orders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from orderflow.kpis.domain import ALL, Measured, measure, report
from orderflow.kpis.ports import Aggregates
from orderflow.shared.errors import Unprocessable
from orderflow.shared.settings import Settings
from orderflow.shared.types import utc_now

MAX_DAYS = 92
DEFAULT_DAYS = 7


class KpiService:
    def __init__(self, settings: Settings, aggregates: Aggregates, clock: Callable[[], str] = utc_now):
        self.settings, self.aggregates, self.clock = settings, aggregates, clock

    def record(self, detail_type: str, detail: Mapping[str, Any]) -> Measured | None:
        """Add one domain event to the aggregates: what it added, or None when it adds nothing (an event no
        KPI counts, or one added before: a redelivery)."""
        key = f"order:{detail['order_id']}" if "order_id" in detail and "po_id" not in detail else \
            f"po:{detail['po_id']}" if "po_id" in detail else None
        memory = self.aggregates.remembered(key) if key else None
        measured = measure(detail_type, detail, memory, self.settings.kpi_promise_hours)
        if not measured.effects and measured.remember is None:
            return None
        added = self.aggregates.apply(str(detail["event_id"]), measured, key, str(detail["occurred_at"]))
        return measured if added else None

    def kpis(self, first: date | None, last: date | None, location_id: str | None = None) -> dict[str, Any]:
        """The KPIs of the days ``first`` to ``last`` (UTC, both included; default the last 7 days)."""
        now = self.clock()
        today = date.fromisoformat(now[:10])
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise Unprocessable(f"from {first} is after to {last}", {"from": str(first), "to": str(last)})
        if (last - first).days + 1 > MAX_DAYS:
            raise Unprocessable(f"at most {MAX_DAYS} days at once", {"from": str(first), "to": str(last)})
        days = self.aggregates.days(first.isoformat(), last.isoformat())
        dimension = f"location:{location_id}" if location_id else ALL
        open_now = self.aggregates.open_backorders() if last >= today else []
        return {"from": first.isoformat(), "to": last.isoformat(), "location_id": location_id,
                **report(days, dimension, open_now, now)}
