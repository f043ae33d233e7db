"""Demand table: quantity shipped per SKU and day, the history replenishment forecasts from, and its split
over the locations it shipped from.

One item per (SKU, day): ``quantity`` is the day's total, and one ``at#<location>`` attribute per location
holds that location's part. Recording is one atomic ADD of both on the same item (a shipment's transaction
holds one demand item per SKU, as before locations), and one Query of the SKU's partition reads every
location's history at once. Days recorded before locations existed carry only the total: they count at
the main location, which reads as the total less the other locations' parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.types import MAIN_LOCATION

AT = "at#"  # + location id: that location's part of the day's quantity
_BATCH_GET = 100


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
        names = {f"#l{i}": f"{AT}{location}" for i, location in enumerate(sorted(quantities))}
        values = {":q": sum(quantities.values()),
                  **{f":l{i}": quantities[location] for i, location in enumerate(sorted(quantities))}}
        adds = ", ".join(f"#l{i} :l{i}" for i in range(len(names)))
        return Write("Update", self.table, key={"sku": sku, "day": day}, update=f"ADD quantity :q, {adds}",
                     names=names, values=values)

    def history(self, sku: str, start: str | None = None, end: str | None = None) -> dict[str, int]:
        """Recorded days of ``sku`` (``YYYY-MM-DD`` → quantity over every location), both ends included."""
        return {item["day"]: int(item["quantity"]) for item in self._days(sku, start, end)}

    def history_by_location(self, sku: str, start: str | None = None, end: str | None = None
                            ) -> dict[str, dict[str, int]]:
        """The same days split by location (location → day → quantity), from the same one Query. The main
        location's part is the total less the others' (days recorded before locations count there)."""
        split: dict[str, dict[str, int]] = {}
        for item in self._days(sku, start, end):
            for location, quantity in _parts(item).items():
                split.setdefault(location, {})[item["day"]] = quantity
        return split

    def _days(self, sku: str, start: str | None, end: str | None) -> list[dict[str, Any]]:
        if start and end:
            condition, values = "sku = :s AND #day BETWEEN :a AND :b", {":s": sku, ":a": start, ":b": end}
        elif start:
            condition, values = "sku = :s AND #day >= :a", {":s": sku, ":a": start}
        elif end:
            condition, values = "sku = :s AND #day <= :b", {":s": sku, ":b": end}
        else:
            condition, values = "sku = :s", {":s": sku}
        days: list[dict[str, Any]] = []
        page: dict[str, Any] = {"ExpressionAttributeNames": {"#day": "day"}} if start or end else {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression=condition,
                                       ExpressionAttributeValues=values, **page)
            days += items
            if not last:
                return days
            page["ExclusiveStartKey"] = last

    def set_days(self, rows: list[tuple[str, str, int, str]]) -> None:
        """Set each (sku, day, quantity, location): the row replaces that location's part of the day (the
        file from the shop's previous system already counts those orders), the other locations' parts stay,
        and the day's total is their sum. Importing the same rows again changes nothing. One BatchGetItem per
        100 days reads the parts there are, then the days are put whole."""
        imported: dict[tuple[str, str], dict[str, int]] = {}
        for sku, day, quantity, location in rows:
            imported.setdefault((sku, day), {})[location] = quantity
        keys = [{"sku": sku, "day": day} for sku, day in imported]
        stored: dict[tuple[str, str], dict[str, int]] = {}
        for start in range(0, len(keys), _BATCH_GET):
            for item in dynamo.batch_get({self.table: keys[start:start + _BATCH_GET]})[self.table]:
                stored[item["sku"], item["day"]] = _parts(item)
        days = []
        for (sku, day), parts in imported.items():
            merged = {**stored.get((sku, day), {}), **parts}
            days.append({"sku": sku, "day": day, "quantity": sum(merged.values()),
                         **{f"{AT}{location}": quantity for location, quantity in merged.items()}})
        dynamo.batch_put(self.table, days)


def _parts(item: dict[str, Any]) -> dict[str, int]:
    """A day's quantity per location; the main location's is the total less the others'."""
    parts = {name[len(AT):]: int(value) for name, value in item.items()
             if name.startswith(AT) and name != f"{AT}{MAIN_LOCATION}"}
    return {MAIN_LOCATION: int(item["quantity"]) - sum(parts.values()), **parts}
