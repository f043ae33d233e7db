"""Demand table: quantity shipped per SKU and day, the history replenishment forecasts from."""

from __future__ import annotations

from . import dynamo
from .dynamo import Write


class DemandRepository:
    def __init__(self, table: str):
        self.table = table

    def record(self, sku: str, day: str, quantity: int) -> Write:
        """An atomic counter: shipping adds to the day's demand without reading it."""
        return Write("Update", self.table, key={"sku": sku, "day": day}, update="ADD quantity :q",
                     values={":q": quantity})

    def history(self, sku: str) -> dict[str, int]:
        items, _ = dynamo.query(self.table, KeyConditionExpression="sku = :s", ExpressionAttributeValues={":s": sku})
        return {i["day"]: int(i["quantity"]) for i in items}
