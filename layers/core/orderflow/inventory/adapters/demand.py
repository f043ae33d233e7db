"""Demand table: quantity shipped per SKU and day, the history replenishment forecasts from."""

from __future__ import annotations

from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write


class DemandRepository:
    def __init__(self, table: str):
        self.table = table

    def record(self, sku: str, day: str, quantity: int) -> Write:
        """An atomic counter: shipping adds to the day's demand without reading it."""
        return Write("Update", self.table, key={"sku": sku, "day": day}, update="ADD quantity :q",
                     values={":q": quantity})

    def history(self, sku: str, start: str | None = None, end: str | None = None) -> dict[str, int]:
        """Recorded days of ``sku`` (``YYYY-MM-DD`` → quantity), both ends included, all pages."""
        if start and end:
            condition, values = "sku = :s AND #day BETWEEN :a AND :b", {":s": sku, ":a": start, ":b": end}
        elif start:
            condition, values = "sku = :s AND #day >= :a", {":s": sku, ":a": start}
        elif end:
            condition, values = "sku = :s AND #day <= :b", {":s": sku, ":b": end}
        else:
            condition, values = "sku = :s", {":s": sku}
        days: dict[str, int] = {}
        page: dict[str, Any] = {"ExpressionAttributeNames": {"#day": "day"}} if start or end else {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression=condition,
                                       ExpressionAttributeValues=values, **page)
            days.update((i["day"], int(i["quantity"])) for i in items)
            if not last:
                return days
            page["ExclusiveStartKey"] = last

    def set_days(self, rows: list[tuple[str, str, int]]) -> None:
        """Set the quantity of each (sku, day, quantity): importing the same rows again changes nothing.
        A (sku, day) must appear once (DynamoDB refuses duplicates in one batch)."""
        dynamo.batch_put(self.table, [{"sku": sku, "day": day, "quantity": quantity} for sku, day, quantity in rows])

