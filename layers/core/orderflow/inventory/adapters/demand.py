"""Demand table: quantity shipped per SKU and day, the history replenishment forecasts from, and its split
over the locations it shipped from.

Compact: one item per (SKU, month), key ``day = "month#YYYY-MM"``. Each day with demand is one number
attribute ``DD`` (the day's total over every location) and, per location other than the main one,
``DD@<location>`` (that location's part); the main location's part is the total less the others'. A month of
daily demand at one location is about 250 bytes, so one Query reads a SKU's two years (24 items, about 6 KB)
in one or two read units (the nightly run reads a history per SKU: docs/replenishment.md), and recording a
day is one atomic ADD on an item under 1 KB (one write unit), without reading it.

Days recorded before (one item per SKU and day, ``day = "YYYY-MM-DD"``, with ``at#<location>`` parts) still
read: the same Query returns them (ISO days sort before ``month#``), and a day found in both counts both (the
day the compact layout was deployed). ``compact`` folds a SKU's day items into its month items.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.errors import ConditionFailed, TransientError
from orderflow.shared.types import MAIN_LOCATION

MONTH = "month#"  # + YYYY-MM: a month item's sort key
AT = "at#"  # + location id: that location's part of a day item (the layout before month items)
PART = "@"  # DD@<location>: that location's part of the day, in a month item
VERSION = "v"  # bumped by every write to a month item: an import replaces parts only of the month it read
_BATCH_GET = 100
_FOLD = 99  # day items folded into a month item per transaction (100 items at most)
_REWRITE_ATTEMPTS = 5
_TRANSACTION = 100  # items in one TransactWriteItems
COUNTED = "counted#"  # + a change's key: the marker that it was counted (sku = COUNTED + key, day = "-")
COUNTED_DAYS = 7  # markers expire then (TTL ``expiration``): a stream keeps records 24 hours

Days = dict[str, dict[str, int]]  # YYYY-MM-DD → location → units
Change = tuple[str, str, str, Mapping[str, int]]  # (key, day, location, SKU → units) of one shipment


class DemandRepository:
    def __init__(self, table: str):
        self.table = table

    def record(self, sku: str, day: str, quantity: int, location_id: str = MAIN_LOCATION) -> Write:
        """An atomic counter: shipping from ``location_id`` (returns: receiving there, negative) adds to the
        day's demand and to that location's part, without reading them."""
        return self.record_split(sku, day, {location_id: quantity})

    def record_split(self, sku: str, day: str, quantities: Mapping[str, int]) -> Write:
        """One write for units of one SKU that left several locations on one day (location → units): a
        transaction may hold only one write per item."""
        return self._add(sku, day[:7], {day: dict(quantities)})

    def add_days(self, sku: str, month: str, days: Days) -> Write:
        """One atomic ADD of many days of one SKU and month (YYYY-MM-DD → location → units): what the demand
        counter writes for a batch of shipments."""
        return self._add(sku, month, days)

    def _add(self, sku: str, month: str, days: Days) -> Write:
        adds = {VERSION: 1}
        for day, parts in days.items():
            adds[day[8:]] = adds.get(day[8:], 0) + sum(parts.values())
            for location, units in parts.items():
                if location != MAIN_LOCATION:
                    adds[f"{day[8:]}{PART}{location}"] = units
        names = {f"#a{i}": name for i, name in enumerate(adds)}
        return Write("Update", self.table, key={"sku": sku, "day": f"{MONTH}{month}"},
                     update="ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(adds))), names=names,
                     values={f":a{i}": units for i, units in enumerate(adds.values())})

    def count(self, changes: list[Change]) -> int:
        """Add each change (units that left a location on a day) to the demand history exactly once, however
        often it is delivered: one transaction per chunk puts a marker per change (condition: not there yet)
        and adds the chunk's units with one ADD per (SKU, month). A change already marked makes its chunk
        cancel; it is dropped and the rest written again. Returns how many changes were added now."""
        pending = list({key: (key, day, location, units) for key, day, location, units in changes}.values())
        added = 0
        while pending:
            chunk: list[Change] = []
            items: set[tuple[str, str]] = set()
            while pending:
                _, day, _, units = pending[0]
                more = items | {(sku, day[:7]) for sku in units}
                if chunk and len(chunk) + 1 + len(more) > _TRANSACTION:
                    break
                chunk.append(pending.pop(0))
                items = more
            added += self._count_once(chunk)
        return added

    def _count_once(self, chunk: list[Change]) -> int:
        while chunk:
            months: dict[tuple[str, str], Days] = {}
            for _, day, location, units in chunk:
                for sku, quantity in units.items():
                    parts = months.setdefault((sku, day[:7]), {}).setdefault(day, {})
                    parts[location] = parts.get(location, 0) + quantity
            expires = int(time.time()) + COUNTED_DAYS * 86_400
            markers = [Write("Put", self.table, item={"sku": f"{COUNTED}{key}", "day": "-", "expiration": expires},
                             condition="attribute_not_exists(sku)") for key, *_ in chunk]
            try:
                dynamo.transact([*markers, *(self._add(sku, month, days) for (sku, month), days in months.items())])
                return len(chunk)
            except ConditionFailed as failed:
                seen = [change for i, change in enumerate(chunk) if failed.failed(i)]
                if not seen:
                    raise
                chunk = [change for change in chunk if change not in seen]
        return 0

    def history(self, sku: str, start: str | None = None, end: str | None = None) -> dict[str, int]:
        """Recorded days of ``sku`` (``YYYY-MM-DD`` → quantity over every location), both ends included."""
        return {day: sum(parts.values()) for day, parts in self._days(sku, start, end).items()}

    def history_by_location(self, sku: str, start: str | None = None, end: str | None = None
                            ) -> dict[str, dict[str, int]]:
        """The same days split by location (location → day → quantity), from the same one Query. The main
        location's part is the total less the others' (days recorded before locations count there)."""
        split: dict[str, dict[str, int]] = {}
        for day, parts in self._days(sku, start, end).items():
            for location, quantity in parts.items():
                split.setdefault(location, {})[day] = quantity
        return split

    def _days(self, sku: str, start: str | None, end: str | None) -> Days:
        """One Query of the SKU's partition from ``start`` on: the day items in range, and every month item
        (``month#`` sorts after any day); days outside [start, end] are dropped here."""
        condition, values = "sku = :s", {":s": sku}
        extra: dict[str, Any] = {}
        if start:
            condition, values = "sku = :s AND #day >= :a", {":s": sku, ":a": start}
            extra = {"ExpressionAttributeNames": {"#day": "day"}}
        days: Days = {}
        for item in self._query(condition, values, extra):
            for day, parts in _item_days(item).items():
                if (start is None or day >= start) and (end is None or day <= end):
                    merged = days.setdefault(day, {})
                    for location, units in parts.items():
                        merged[location] = merged.get(location, 0) + units
        return dict(sorted(days.items()))

    def _query(self, condition: str, values: dict[str, Any], extra: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = dict(extra)
        while True:
            found, last = dynamo.query(self.table, KeyConditionExpression=condition,
                                       ExpressionAttributeValues=values, **page)
            items += found
            if not last:
                return items
            page["ExclusiveStartKey"] = last

    def set_days(self, rows: list[tuple[str, str, int, str]]) -> None:
        """Set each (sku, day, quantity, location): the row replaces that location's part of the day (the
        file from the shop's previous system already counts those orders), the other locations' parts stay,
        and the day's total is their sum. Importing the same rows again changes nothing. Day items of the
        layout before are folded into their month items first; then each (SKU, month) is rewritten whole,
        conditional on the version it read (a shipment counted meanwhile makes it read and write again)."""
        imported: dict[tuple[str, str], Days] = {}
        for sku, day, quantity, location in rows:
            imported.setdefault((sku, day[:7]), {}).setdefault(day, {})[location] = quantity
        self._fold_days_of({sku for sku, _ in imported}, [(sku, day) for (sku, _), days in imported.items()
                                                          for day in days])
        for (sku, month), days in imported.items():
            self._rewrite(sku, month, lambda stored, days=days: {
                **stored, **{day: {**stored.get(day, {}), **parts} for day, parts in days.items()}})

    def _rewrite(self, sku: str, month: str, change: Callable[[Days], Days], also: Sequence[Write] = ()) -> None:
        """Put the month item whole, as ``change`` makes its days, with ``also`` in the same transaction; the
        Put is conditional on the version read, and read and made again if a write came in between (one Put,
        however many days and locations change: an ADD per attribute could pass the 4 KB expression limit)."""
        key = {"sku": sku, "day": f"{MONTH}{month}"}
        for _ in range(_REWRITE_ATTEMPTS):
            stored = dynamo.get(self.table, key) or {}
            version = int(stored.get(VERSION, 0))
            item = {**month_item(sku, month, change(_item_days(stored))), VERSION: version + 1}
            put = (Write("Put", self.table, item=item, condition=f"{VERSION} = :read", values={":read": version})
                   if stored else Write("Put", self.table, item=item, condition="attribute_not_exists(sku)"))
            try:
                dynamo.transact([put, *also])
                return
            except ConditionFailed as failed:
                if not failed.failed(0):
                    raise
        raise TransientError(f"the demand of {sku} in {month} kept changing; try again")

    def compact(self, sku: str) -> int:
        """Fold every day item of ``sku`` (the layout before month items) into its month items; returns how many
        were folded. Safe to run while shipments are counted, and to run again."""
        items = self._query("sku = :s AND #day < :y", {":s": sku, ":y": MONTH},
                            {"ExpressionAttributeNames": {"#day": "day"}})
        return self._fold(sku, items)

    def _fold_days_of(self, skus: Iterable[str], keys: list[tuple[str, str]]) -> None:
        found: dict[str, list[dict[str, Any]]] = {sku: [] for sku in skus}
        requests = [{"sku": sku, "day": day} for sku, day in keys]
        for start in range(0, len(requests), _BATCH_GET):
            for item in dynamo.batch_get({self.table: requests[start:start + _BATCH_GET]})[self.table]:
                found[item["sku"]].append(item)
        for sku, items in found.items():
            self._fold(sku, items)

    def _fold(self, sku: str, items: list[dict[str, Any]]) -> int:
        """Move day items into their month items: each transaction adds up to 99 days to one month item and
        deletes them, each delete conditional on the quantity read, so a day is never counted twice."""
        by_month: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_month.setdefault(item["day"][:7], []).append(item)
        for month, days in by_month.items():
            for start in range(0, len(days), _FOLD):
                chunk = {item["day"]: _item_days(item)[item["day"]] for item in days[start:start + _FOLD]}
                deletes = [Write("Delete", self.table, key={"sku": sku, "day": day}, condition="quantity = :q",
                                 values={":q": sum(parts.values())}) for day, parts in chunk.items()]
                self._rewrite(sku, month, lambda stored, chunk=chunk: _plus(stored, chunk), deletes)
        return len(items)


def month_item(sku: str, month: str, days: Days) -> dict[str, Any]:
    """The stored month item of ``sku`` holding ``days`` (YYYY-MM-DD of ``month`` → location → units)."""
    item: dict[str, Any] = {"sku": sku, "day": f"{MONTH}{month}"}
    for day, parts in sorted(days.items()):
        item[day[8:]] = sum(parts.values())
        item.update({f"{day[8:]}{PART}{location}": units for location, units in parts.items()
                     if location != MAIN_LOCATION})
    return item


def _plus(days: Days, more: Days) -> Days:
    """The days of both, each location's units added up."""
    out = {day: dict(parts) for day, parts in days.items()}
    for day, parts in more.items():
        for location, units in parts.items():
            out.setdefault(day, {})[location] = out.get(day, {}).get(location, 0) + units
    return out


def _item_days(item: Mapping[str, Any]) -> Days:
    """The days one stored item holds (location → units each): a month item's, or a day item's one day."""
    if not item:
        return {}
    if not str(item["day"]).startswith(MONTH):
        parts = {name[len(AT):]: int(value) for name, value in item.items()
                 if name.startswith(AT) and name != f"{AT}{MAIN_LOCATION}"}
        return {item["day"]: {MAIN_LOCATION: int(item["quantity"]) - sum(parts.values()), **parts}}
    month = item["day"][len(MONTH):]
    days: Days = {}
    for name, value in item.items():
        if len(name) < 2 or not name[:2].isdigit() or (len(name) > 2 and name[2] != PART):
            continue
        parts = days.setdefault(f"{month}-{name[:2]}", {MAIN_LOCATION: 0})
        if len(name) > 2:
            parts[name[3:]] = int(value)
            parts[MAIN_LOCATION] -= int(value)
        else:
            parts[MAIN_LOCATION] += int(value)
    return days
