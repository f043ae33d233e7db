"""Live KPIs from domain events (docs/kpis.md). Pure: what one event adds to the daily aggregates, and
the KPIs a range of daily aggregates gives. Orders are never read: what an event needs from an earlier
one (when an order was created or backordered, what a purchase order ordered) is remembered from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

ALL = "all"
STOCK_EVENTS = ("StockReceived", "StockLow", "StockRecovered")
ORDER_ENDS = ("OrderCancelled", "OrderFailed", "OrderRejected")


@dataclass
class Effect:
    """What an event adds to one day's aggregate of one dimension (``all``, ``location:<id>``,
    ``supplier:<id>``): counters, and SKUs seen and seen out of stock that day."""

    day: str
    dimension: str
    add: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    out: set[str] = field(default_factory=set)


@dataclass
class Measured:
    effects: list[Effect] = field(default_factory=list)
    remember: dict[str, Any] | None = None  # the order's or purchase order's memory, as it is after this event
    open_backorder: str | None = None  # a backorder opens at this moment
    close_backorder: bool = False


def _seconds(later: str, earlier: str) -> int:
    return int((_moment(later) - _moment(earlier)).total_seconds())


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _units(lines: Iterable[Mapping[str, Any]], key: str = "quantity") -> int:
    return sum(int(line.get(key) or 0) for line in lines)


def measure(detail_type: str, detail: Mapping[str, Any], memory: Mapping[str, Any] | None,
            promise_hours: int) -> Measured:
    """What ``detail_type`` with ``detail`` adds, given what was remembered of its order or purchase order."""
    at = str(detail["occurred_at"])
    day = at[:10]
    memory = dict(memory or {})
    lines = detail.get("lines") or []
    skus = {str(line["sku"]) for line in lines if "sku" in line}
    match detail_type:
        case "OrderCreated":
            # Remembered for the on-time rate; no counter (no KPI reads one), so the memory, which marks the
            # event, is its one write (docs/decisions.md, "Cost per order").
            memory["created_at"] = detail.get("created_at") or at
            return Measured([Effect(day, ALL, seen=skus)], remember=memory)
        case "OrderBackordered":
            memory["backordered_at"] = at
            return Measured([Effect(day, ALL, {"backorders_opened": 1}, seen=skus, out=skus)], remember=memory,
                            open_backorder=at)
        case "OrderReserved" | "OrderCancelled" | "OrderFailed" | "OrderRejected":
            since = memory.pop("backordered_at", None)
            if since is None:
                # Its SKUs are active the day it is reserved: already counted when it was created that day
                # (then nothing to write: one transaction less per order, docs/decisions.md "Cost per order").
                fresh = detail_type == "OrderReserved" and str(memory.get("created_at", ""))[:10] != day
                return Measured([Effect(day, ALL, seen=skus)] if fresh else [])
            outcome = "backorders_filled" if detail_type == "OrderReserved" else "backorders_dropped"
            add = {outcome: 1, "backorder_seconds": max(0, _seconds(at, since))}
            return Measured([Effect(day, ALL, add, seen=skus)], remember=memory, close_backorder=True)
        case "OrderPartiallyShipped":  # its first shipment left, and not all of the order: remembered for the fill
            if "first_shipped" in memory:
                return Measured()
            memory["first_shipped"] = {str(sku): int(units) for sku, units in (detail.get("shipped") or {}).items()}
            return Measured([Effect(day, ALL, {"orders_partially_shipped": 1}, seen=skus)], remember=memory)
        case "OrderLinesCancelled":  # some units cancelled, the rest goes on (by the customer, or a deadline)
            gone = sum(int(units) for units in (detail.get("cancelled") or {}).values())
            memory["cancelled"] = {str(sku): int(u) for sku, u in (detail.get("total_cancelled") or {}).items()}
            return Measured([Effect(day, ALL, {"part_cancels": 1, "units_cancelled": gone}, seen=skus)],
                            remember=memory)
        case "OrderShipped":
            shipped_at = (detail.get("shipment") or {}).get("shipped_at") or at
            day = shipped_at[:10]
            cancelled = memory.get("cancelled") or {}
            owed = {str(li["sku"]): int(li["quantity"]) - int(cancelled.get(str(li["sku"]), 0)) for li in lines}
            ordered = {sku: units for sku, units in owed.items() if units > 0}  # less what was cancelled
            first = memory.get("first_shipped")  # it left in parts: only the first counts as filled
            shipped = {str(li["sku"]): int(li["quantity"]) for li in (detail.get("shipment") or {}).get("lines") or []}
            if first is not None:
                shipped = dict(first)
            elif not shipped:  # the whole order leaves in one shipment
                shipped = dict(ordered)
            complete = [sku for sku, quantity in ordered.items() if shipped.get(sku, 0) >= quantity]
            add = {"orders_shipped": 1, "orders_shipped_complete": int(len(complete) == len(ordered)),
                   "orders_shipped_in_parts": int(first is not None),
                   "lines_shipped": len(ordered), "lines_shipped_complete": len(complete),
                   "units_ordered_shipped": sum(ordered.values()),
                   "units_shipped_first": sum(min(shipped.get(s, 0), q) for s, q in ordered.items())}
            created = memory.get("created_at")
            if created:
                add["shipments_promised"] = 1
                promised = _moment(created) + timedelta(hours=promise_hours)
                add["shipments_on_time"] = int(_moment(shipped_at) <= promised)
            return Measured([Effect(day, ALL, add, seen=set(ordered))])
        case "StockReceived" | "StockLow" | "StockRecovered":
            sku, location = str(detail["sku"]), str(detail.get("location_id") or "main")
            out = {sku} if int(detail.get("available", 1)) <= 0 else set()
            return Measured([Effect(day, dimension, seen={sku}, out=out)
                             for dimension in (ALL, f"location:{location}")])
        case "PurchaseOrderSent":
            memory.update(ordered=_units(lines), expected_by=detail.get("expected_by"))
            return Measured(remember=memory)
        case "PurchaseOrderReceived" | "PurchaseOrderRejected":
            final = detail_type == "PurchaseOrderRejected" or detail.get("status") == "RECEIVED"
            if not final:
                return Measured()
            expected_by = memory.get("expected_by") or detail.get("expected_by")
            received = _units(lines, "received") if detail_type == "PurchaseOrderReceived" else 0
            ordered = memory.get("ordered") or _units(lines, "expected" if received else "quantity")
            add = {"pos_closed": 1, "units_ordered": int(ordered), "units_received": received,
                   "pos_on_time": int(received > 0 and (expected_by is None or day <= expected_by))}
            return Measured([Effect(day, f"supplier:{detail['supplier_id']}", add)], remember=memory)
    return Measured()


# ------------------------------------------------------------------ the KPIs of a range of days
def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def report(days: Mapping[str, Mapping[str, Mapping[str, Any]]], dimension: str,
           open_backorders: list[str], now: str) -> dict[str, Any]:
    """The KPIs of ``days`` (day → dimension → aggregate) with the backorders open ``now`` (when each opened).
    ``dimension`` (``all`` or ``location:<id>``) narrows the stock-out SKU-days only: order events carry no
    location, so the order and supplier KPIs are always the whole shop's."""
    total: dict[str, int] = {}
    sku_days = out_days = 0
    suppliers: dict[str, dict[str, int]] = {}
    for dims in days.values():
        for name, value in (dims.get(ALL) or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[name] = total.get(name, 0) + int(value)
        mine = dims.get(dimension) or {}
        sku_days += len(mine.get("seen") or ())
        out_days += len(mine.get("out") or ())
        for dim, aggregate in dims.items():
            if dim.startswith("supplier:"):
                acc = suppliers.setdefault(dim.removeprefix("supplier:"), {})
                for name in ("pos_closed", "pos_on_time", "units_ordered", "units_received"):
                    acc[name] = acc.get(name, 0) + int(aggregate.get(name, 0))
    closed = total.get("backorders_filled", 0) + total.get("backorders_dropped", 0)
    ages = [_seconds(now, opened) for opened in open_backorders]
    return {
        "fill_rate": {"orders": _share(total.get("orders_shipped_complete", 0), total.get("orders_shipped", 0)),
                      "lines": _share(total.get("lines_shipped_complete", 0), total.get("lines_shipped", 0)),
                      "units": _share(total.get("units_shipped_first", 0), total.get("units_ordered_shipped", 0))},
        "on_time_shipment_rate": _share(total.get("shipments_on_time", 0), total.get("shipments_promised", 0)),
        "orders_shipped": total.get("orders_shipped", 0),
        "partial_shipments": {"orders_partially_shipped": total.get("orders_partially_shipped", 0),
                              "orders_shipped_in_parts": total.get("orders_shipped_in_parts", 0)},
        "part_cancels": {"cancels": total.get("part_cancels", 0), "units": total.get("units_cancelled", 0)},
        "stock_out_rate": _share(out_days, sku_days),
        "sku_days": sku_days,
        "stock_out_sku_days": out_days,
        "backorders": {"opened": total.get("backorders_opened", 0), "filled": total.get("backorders_filled", 0),
                       "dropped": total.get("backorders_dropped", 0),
                       "average_hours_to_close": round(total.get("backorder_seconds", 0) / closed / 3600, 2)
                       if closed else None,
                       "open_now": len(open_backorders),
                       "average_open_age_hours": round(sum(ages) / len(ages) / 3600, 2) if ages else None},
        "suppliers": {supplier: {"purchase_orders_closed": acc["pos_closed"],
                                 "on_time_rate": _share(acc["pos_on_time"], acc["pos_closed"]),
                                 "fill_rate": _share(acc["units_received"], acc["units_ordered"])}
                      for supplier, acc in sorted(suppliers.items())},
    }
