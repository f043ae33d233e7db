"""Live KPIs: each domain event adds to daily aggregates once (its ``event_id`` is marked in the same
transaction), and ``GET /kpis`` reads a range of days back (docs/kpis.md). Never a scan of orders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from orderflow.kpis.domain import ALL, Measured, measure, report
from orderflow.kpis.ports import Aggregates, Demand, Runs, StockPositions
from orderflow.shared.errors import Unprocessable
from orderflow.shared.settings import Settings
from orderflow.shared.types import utc_now

MAX_DAYS = 92
DEFAULT_DAYS = 7
MAX_SKUS = 1000  # days of cover, turns and forecast error read at most this many SKUs
RECENT_RUNS = 20


class KpiService:
    def __init__(self, settings: Settings, aggregates: Aggregates, stock: StockPositions | None = None,
                 runs: Runs | None = None, demand: Demand | None = None, clock: Callable[[], str] = utc_now):
        self.settings, self.aggregates, self.clock = settings, aggregates, clock
        self.stock, self.runs, self.demand = stock, runs, demand

    def record(self, detail_type: str, detail: Mapping[str, Any]) -> Measured | None:
        """Add one domain event to the aggregates: what it added, or None when it adds nothing (an event no
        KPI counts, or one added before: a redelivery)."""
        found = self._measure(detail_type, detail)
        return self._apply(detail, *found) if found else None

    def _measure(self, detail_type: str, detail: Mapping[str, Any],
                 recall: Callable[[str], dict[str, Any] | None] | None = None
                 ) -> tuple[str | None, bool, Measured] | None:
        """(its order's or purchase order's key, whether nothing is remembered of it yet, what the event adds),
        or None when it adds nothing. ``recall`` answers what is remembered of a key (default: read it)."""
        key = memory_key(detail)
        memory = (recall or self.aggregates.remembered)(key) if key else None
        if memory is not None and memory.get("first_event") == str(detail["event_id"]):
            return None  # the event that began the memory, added then: a redelivery
        measured = measure(detail_type, detail, memory, self.settings.kpi_promise_hours)
        if not measured.effects and measured.remember is None:
            return None
        return key, memory is None, measured

    def _apply(self, detail: Mapping[str, Any], key: str | None, first: bool, measured: Measured) -> Measured | None:
        added = self.aggregates.apply(str(detail["event_id"]), measured, key, str(detail["occurred_at"]), first=first)
        return measured if added else None

    def batch(self) -> KpiBatch:
        return KpiBatch(self)

    def kpis(self, first: date | None, last: date | None, location_id: str | None = None) -> dict[str, Any]:
        """The KPIs of the days ``first`` to ``last`` (UTC, both included; default the last 7 days)."""
        now = self.clock()
        today = date.fromisoformat(now[:10])
        last = last or today
        # the week up to ``last``, or from the first day there is (``to=0001-01-01`` answered 500)
        first = first or max(date.min, last - timedelta(days=min(DEFAULT_DAYS - 1, (last - date.min).days)))
        if first > last:
            raise Unprocessable(f"from {first} is after to {last}", {"from": str(first), "to": str(last)})
        if (last - first).days + 1 > MAX_DAYS:
            raise Unprocessable(f"at most {MAX_DAYS} days at once", {"from": str(first), "to": str(last)})
        days = self.aggregates.days(first.isoformat(), last.isoformat())
        dimension = f"location:{location_id}" if location_id else ALL
        open_now = self.aggregates.open_backorders() if last >= today else []
        return {"from": first.isoformat(), "to": last.isoformat(), "location_id": location_id,
                **report(days, dimension, open_now, now), **self._inventory(days, (last - first).days + 1),
                "forecast_error": self._forecast_error(today)}

    def _inventory(self, days: Mapping[str, Mapping[str, Mapping[str, Any]]], length: int) -> dict[str, Any]:
        """Average days of cover (on hand now ÷ units shipped per day in the range) and inventory turns
        (units shipped in the range, a year's worth ÷ on hand now), over the SKUs active in the range."""
        skus = sorted({sku for dims in days.values() for sku in (dims.get(ALL) or {}).get("seen") or ()})[:MAX_SKUS]
        shipped = sum(int((dims.get(ALL) or {}).get("units_shipped_first", 0)) for dims in days.values())
        if self.stock is None or not skus:
            return {"days_of_cover": None, "inventory_turns": None, "on_hand": None, "units_shipped": shipped}
        on_hand = sum(max(0, int(position.on_hand)) for position in self.stock.get_many(skus).values())
        per_day = shipped / length
        return {"days_of_cover": round(on_hand / per_day, 1) if per_day else None,
                "inventory_turns": round(shipped * 365 / length / on_hand, 2) if on_hand else None,
                "on_hand": on_hand, "units_shipped": shipped}

    def _forecast_error(self, today: date) -> dict[str, Any] | None:
        """The last completed run's forecasts against the demand realised since its cycle (full days,
        within each SKU's horizon): WAPE = Σ|actual − forecast| ÷ Σ actual, and bias = Σ(forecast − actual)
        ÷ Σ actual."""
        if self.runs is None or self.demand is None:
            return None
        run = next((r for r in self.runs.list(RECENT_RUNS) if str(r.status) == "COMPLETED"), None)
        if run is None:
            return None
        start = date.fromisoformat(run.cycle)
        decisions, cursor = [], None
        while len(decisions) < MAX_SKUS:
            page, cursor = self.runs.decisions_page(run.run_id, 500, cursor)
            decisions += [d for d in page if d.forecast]
            if not cursor:
                break
        actual = forecast = error = 0.0
        days = 0
        for decision in decisions[:MAX_SKUS]:
            end = min(today - timedelta(days=1), start + timedelta(days=len(decision.forecast) - 1))
            if end < start:
                continue
            span = (end - start).days + 1
            realised = self.demand.history_by_location(decision.sku, start.isoformat(), end.isoformat()).get(
                decision.location_id, {})  # the forecast was of that location's demand
            days = max(days, span)
            for offset in range(span):
                real = float(realised.get((start + timedelta(days=offset)).isoformat(), 0))
                expected = float(decision.forecast[offset])
                actual, forecast, error = actual + real, forecast + expected, error + abs(real - expected)
        return {"run_id": run.run_id, "cycle": run.cycle, "skus": len(decisions), "days": days,
                "wape": round(error / actual, 4) if actual else None,
                "bias": round((forecast - actual) / actual, 4) if actual else None}


def memory_key(detail: Mapping[str, Any]) -> str | None:
    """The order or purchase order whose memory an event reads and writes, if any."""
    return f"order:{detail['order_id']}" if "order_id" in detail and "po_id" not in detail else \
        f"po:{detail['po_id']}" if "po_id" in detail else None


@dataclass
class KpiBatch:
    """The events of one delivery (a batch of queue records). Each is measured as it comes, and one that
    changes a memory or a backorder is written at once, as ``KpiService.record`` does (a later event of the
    same order reads what it remembered); one that only adds to counters (``OrderShipped``) waits, and
    ``flush`` writes them all together: one ADD per day and dimension for the batch, with each event's mark."""

    service: KpiService
    held: list[tuple[str, str, Measured, str]] = field(default_factory=list)  # (ref, event id, measured, at)
    memories: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # key → as stored now, once read

    def prefetch(self, details: Iterable[Mapping[str, Any]]) -> None:
        """Read what is remembered of the orders and purchase orders the batch's events name, together (one
        BatchGetItem per 100), instead of once per event."""
        keys = {key for detail in details if (key := memory_key(detail)) and key not in self.memories}
        if keys:
            self.memories.update(self.service.aggregates.remembered_many(sorted(keys)))

    def recall(self, key: str) -> dict[str, Any] | None:
        if key not in self.memories:
            self.memories[key] = self.service.aggregates.remembered(key)
        return self.memories[key]

    def record(self, ref: str, detail_type: str, detail: Mapping[str, Any]) -> Measured | None:
        """Measure the event of the record ``ref``: what it added now, or None (nothing, added before, or held
        for ``flush``). What an event writes to its memory is what the batch's later events of it recall."""
        found = self.service._measure(detail_type, detail, self.recall)
        if found is None:
            return None
        key, first, measured = found
        if measured.remember is None and not measured.open_backorder and not measured.close_backorder \
                and any(effect.add for effect in measured.effects):
            self.held.append((ref, str(detail["event_id"]), measured, str(detail["occurred_at"])))
            return None
        if key is None or measured.remember is None:
            return self.service._apply(detail, key, first, measured)
        self.memories.pop(key, None)  # read again unless written now: a redelivery or a failure leaves it unknown
        added = self.service._apply(detail, key, first, measured)
        if added is not None:
            self.memories[key] = {**measured.remember, **({"first_event": str(detail["event_id"])} if first else {})}
        return added

    def flush(self) -> tuple[list[Measured], dict[str, Exception]]:
        """Write the held events: what they added now, and the refs of those not written (each with its error;
        their records are to be retried)."""
        held, self.held = self.held, []
        written = self.service.aggregates.apply_counters([(event_id, m, at) for _, event_id, m, at in held])
        added = [m for (_, _, m, _), status in zip(held, written, strict=True) if status is True]
        return added, {ref: status for (ref, *_), status in zip(held, written, strict=True)
                       if isinstance(status, Exception)}
