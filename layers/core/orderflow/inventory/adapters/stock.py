"""Stock table: per SKU one ``LEVEL`` item with the counters, and ``WAIT#`` items for backorders.

``available`` is stored (always moved in the same update as ``on_hand`` and ``reserved``) because a
DynamoDB condition cannot compute ``on_hand - reserved``; every reservation is conditional on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orderflow.inventory.domain import Line as OrderLine
from orderflow.inventory.domain import StockLevel
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write

LEVEL = "LEVEL"
WAIT = "WAIT#"
_COUNTERS = ("on_hand", "reserved", "available", "on_order", "backordered")


class StockRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, sku: str) -> StockLevel:
        return _level(sku, dynamo.get(self.table, {"sku": sku, "record": LEVEL}) or {})

    def get_many(self, skus: list[str]) -> dict[str, StockLevel]:
        found = dynamo.batch_get({self.table: [{"sku": s, "record": LEVEL} for s in skus]})[self.table]
        levels = {s: StockLevel(sku=s) for s in skus}
        levels.update({item["sku"]: _level(item["sku"], item) for item in found})
        return levels

    def _counters(self, sku: str, deltas: dict[str, int], condition: str | None = None,
                  values: dict[str, Any] | None = None) -> Write:
        """ADD the deltas to the SKU's counters (ADD creates a missing item or attribute at zero)."""
        adds = ", ".join(f"{name} :d_{name}" for name in deltas)
        return Write("Update", self.table, key={"sku": sku, "record": LEVEL}, update=f"ADD {adds}",
                     condition=condition, values={**{f":d_{n}": d for n, d in deltas.items()}, **(values or {})})

    def reserve(self, line: OrderLine, from_backorder: bool) -> Write:
        deltas = {"reserved": line.quantity, "available": -line.quantity}
        if from_backorder:
            deltas["backordered"] = -line.quantity
        return self._counters(line.sku, deltas, condition="available >= :need", values={":need": line.quantity})

    def release(self, line: OrderLine) -> Write:
        return self._counters(line.sku, {"reserved": -line.quantity, "available": line.quantity})

    def ship(self, line: OrderLine) -> Write:
        return self._counters(line.sku, {"on_hand": -line.quantity, "reserved": -line.quantity},
                              condition="reserved >= :q", values={":q": line.quantity})

    def restock(self, sku: str, quantity: int) -> Write:
        """Returned goods that can be sold again go back on the shelf: ``on_hand`` and ``available`` grow."""
        return self._counters(sku, {"on_hand": quantity, "available": quantity})

    def order(self, sku: str, quantity: int) -> Write:
        """Units bought and not yet received: a purchase order adds them to ``on_order``; a rejection or a
        smaller confirmation takes them off (negative ``quantity``)."""
        return self._counters(sku, {"on_order": quantity})

    def receive(self, sku: str, quantity: int) -> Write:
        """Goods of a purchase order arrived: on the shelf (``on_hand``, ``available``), no longer on order."""
        return self._counters(sku, {"on_hand": quantity, "available": quantity, "on_order": -quantity})

    def backorder(self, line: OrderLine, quantity_sign: int = 1) -> Write:
        return self._counters(line.sku, {"backordered": quantity_sign * line.quantity})

    def adjust(self, sku: str, quantity: int) -> StockLevel:
        """Receive (positive) or write off (negative) stock and return the new level; a write-off
        cannot take stock that is held (raises ``ConditionFailed``)."""
        deltas = {"on_hand": quantity, "available": quantity}
        write = (self._counters(sku, deltas) if quantity >= 0 else
                 self._counters(sku, deltas, condition="available >= :take", values={":take": -quantity}))
        return _level(sku, dynamo.apply(write, return_new=True) or {})

    def set_threshold(self, sku: str, threshold: int | None) -> Write:
        """The low-stock threshold, kept beside ``available`` so a crossing is visible in each change."""
        if threshold is None:
            return Write("Update", self.table, key={"sku": sku, "record": LEVEL}, update="REMOVE threshold")
        return Write("Update", self.table, key={"sku": sku, "record": LEVEL}, update="SET threshold = :t",
                     values={":t": threshold})

    # ------------------------------------------------------------ backorder waits
    def wait(self, line: OrderLine, order_id: str, created_at: str) -> Write:
        return Write("Put", self.table, item={"sku": line.sku, "record": f"{WAIT}{created_at}#{order_id}",
                                              "order_id": order_id, "quantity": line.quantity})

    def unwait(self, sku: str, order_id: str, created_at: str) -> Write:
        return Write("Delete", self.table, key={"sku": sku, "record": f"{WAIT}{created_at}#{order_id}"})

    def waiting(self, sku: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every backordered order waiting for this SKU, oldest first, read a page at a time as the caller
        goes on (a receipt stops at the first order it cannot serve, so it reads only what it needs)."""
        start: dict[str, Any] | None = None
        while True:
            page = {"ExclusiveStartKey": start} if start else {}
            items, start = dynamo.query(self.table, KeyConditionExpression="sku = :s AND begins_with(#r, :w)",
                                        ExpressionAttributeNames={"#r": "record"},
                                        ExpressionAttributeValues={":s": sku, ":w": WAIT}, Limit=page_size, **page)
            yield from items
            if not start:
                return


def _level(sku: str, item: dict[str, Any]) -> StockLevel:
    return StockLevel(sku=sku, **{c: int(item.get(c, 0)) for c in _COUNTERS})
