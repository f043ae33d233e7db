"""Stock table. Per SKU: one ``LEVEL#<location>`` item per location that holds it (on hand, reserved,
available, on order, and the low-stock threshold), and one ``WAIT#`` item per backordered order with its
units. The SKU's backordered units are the sum of its waits: one source of truth, and no counter item
for a reservation to meet in its transaction. The nightly run's review of the SKU at a location that it
did not order is ``REVIEW#<location>``: an item of its own, so the mark never meets an order's
transaction on the level, and the stream publisher, which reads only levels, is not invoked for it.

``available`` is stored (always moved in the same update as ``on_hand`` and ``reserved``) because a
DynamoDB condition cannot compute ``on_hand - reserved``; every reservation is conditional on it, at the
location it takes from. A SKU's position over all locations is one Query of its partition, never a Scan.

A hot SKU's level may be split into buckets (``adapters.buckets``, docs/scale.md): reservations take from
them, everything else writes the base item, and reads add the buckets to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from orderflow.inventory.adapters.buckets import LEVEL, Buckets
from orderflow.inventory.buckets import BASE, gather
from orderflow.inventory.domain import COUNTERS, StockLevel, StockPosition
from orderflow.inventory.domain import Line as OrderLine
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.errors import ConditionFailed
from orderflow.shared.types import MAIN_LOCATION

WAIT = "WAIT#"  # + created_at # order id
REVIEW = "REVIEW#"  # + location: the nightly run's last review there, when it did not order (``reviewed_in``)
_BATCH_GET = 100


class StockRepository(Buckets):
    def __init__(self, table: str):
        self.table = table

    def get(self, sku: str) -> StockPosition:
        """The SKU's position: totals and the level at each location (one strongly consistent Query)."""
        return _position(sku, self._records(sku, consistent=True))

    def get_many(self, skus: list[str]) -> dict[str, StockPosition]:
        """Each SKU's position (a Query per SKU)."""
        return {sku: _position(sku, self._records(sku)) for sku in skus}

    def levels(self, skus: list[str], locations: list[str]) -> dict[tuple[str, str], StockLevel]:
        """The level of every (SKU, location) pair (BatchGetItem, 100 keys a call): what sourcing reads."""
        keys = [_key(sku, location) for sku in skus for location in locations]
        found: dict[tuple[str, str], StockLevel] = {}
        for start in range(0, len(keys), _BATCH_GET):
            for item in self.with_buckets(dynamo.batch_get({self.table: keys[start:start + _BATCH_GET]})[self.table]):
                level = _level(item["sku"], item)
                found[item["sku"], level.location_id or MAIN_LOCATION] = level
        return found

    def available(self, skus: list[str]) -> dict[str, int]:
        """Each SKU's units available over all its locations, strongly consistent: a Query per SKU of its
        levels only (not its waits, which a hot SKU has hundreds of)."""
        return {sku: sum(int(item.get("available", 0)) for item in self._records(sku, True, LEVEL)) for sku in skus}

    def _records(self, sku: str, consistent: bool = False, prefix: str = "") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        condition, names = ("sku = :s AND begins_with(#r, :p)", {"#r": "record"}) if prefix else ("sku = :s", {})
        values = {":s": sku, **({":p": prefix} if prefix else {})}
        while True:
            page = {"ExclusiveStartKey": start} if start else {}
            if names:
                page["ExpressionAttributeNames"] = names
            found, start = dynamo.query(self.table, KeyConditionExpression=condition, ConsistentRead=consistent,
                                        ExpressionAttributeValues=values, **page)
            items += found
            if not start:
                return self.with_buckets(items)

    def _counters(self, sku: str, location: str, deltas: dict[str, int], condition: str | None = None,
                  values: dict[str, Any] | None = None) -> Write:
        """ADD the deltas to the counters of the SKU at ``location`` (ADD creates a missing item or
        attribute at zero)."""
        adds = ", ".join(f"{name} :d_{name}" for name in deltas)
        return Write("Update", self.table, key=_key(sku, location), update=f"ADD {adds}",
                     condition=condition, values={**{f":d_{n}": d for n, d in deltas.items()}, **(values or {})})

    def reserve(self, line: OrderLine, location: str = MAIN_LOCATION) -> Write:
        """Hold ``line`` at ``location``: a decrement conditional on ``available`` (of one bucket, at a
        bucketed level); a failed one brings the item back, for ``retry_buckets``."""
        return self.taking(line.sku, location, line.quantity)

    def set_buckets(self, sku: str, count: int) -> None:
        """Split each level of ``sku`` into ``count`` buckets (1: back to one item), sharing what it has
        available over them (the main location's level is made if there is none)."""
        locations = {item["record"][len(LEVEL):] for item in self._records(sku) if item["record"].startswith(LEVEL)}
        for location in sorted(locations or {MAIN_LOCATION}):
            self.rebucket(sku, location, count)

    def release(self, line: OrderLine, location: str = MAIN_LOCATION) -> Write:
        return self._counters(line.sku, location, {"reserved": -line.quantity, "available": line.quantity})

    def ship(self, line: OrderLine, location: str = MAIN_LOCATION, unshipped: int = 0) -> Write:
        """The held units of ``line`` leave ``location``; ``unshipped`` more were held for it and did not
        leave (a partial shipment): their hold is released there, in the same write (one item may be
        written once per transaction)."""
        held = line.quantity + unshipped
        deltas = {"on_hand": -line.quantity, "reserved": -held}
        if unshipped:
            deltas["available"] = unshipped
        # at a bucketed level the base's ``reserved`` is a share (the holds are in buckets): the shipment's
        # own status condition, in the same transaction, is what stops a second shipping
        return self._counters(line.sku, location, deltas, condition="reserved >= :q OR attribute_exists(buckets)",
                              values={":q": held})

    def restock(self, sku: str, quantity: int, location: str = MAIN_LOCATION) -> Write:
        """Returned goods that can be sold again go back on the shelf: ``on_hand`` and ``available`` grow."""
        return self._counters(sku, location, {"on_hand": quantity, "available": quantity})

    def order(self, sku: str, quantity: int, location: str = MAIN_LOCATION, threshold: int | None = None,
              mark: tuple[str, str] | None = None) -> Write:
        """Units bought and not yet received: a purchase order adds them to ``on_order``; a rejection or a
        smaller confirmation takes them off (negative ``quantity``). ``threshold`` (the product's) is set on
        a location that has none yet, so the goods' arrival there starts its low-stock crossings. ``mark``
        (cycle, purchase order id): the nightly run's order, which also sets ``ordered_in`` and
        ``ordered_po``, on condition that the SKU was not ordered there in that cycle already."""
        if mark is None:
            return _with_threshold(self._counters(sku, location, {"on_order": quantity}), threshold)
        write = self._counters(sku, location, {"on_order": quantity},
                               condition="attribute_not_exists(ordered_in) OR ordered_in <> :cycle",
                               values={":cycle": mark[0], ":po": mark[1]})
        write.update += " SET ordered_in = :cycle, ordered_po = :po"
        write.return_old = True  # a failed condition says which order has the SKU
        if threshold is not None:
            write.update += ", threshold = if_not_exists(threshold, :t)"
            write.values[":t"] = threshold
        return write

    def mark_reviewed(self, sku: str, location: str, cycle: str) -> None:
        """The nightly run reviewed the SKU at ``location`` in ``cycle`` without ordering it: one conditional
        write of its ``REVIEW#<location>`` item (read with the levels, by the same Query), which moves
        ``reviewed_in`` forward only (a retried batch of an older cycle leaves a later mark as it is)."""
        write = Write("Update", self.table, key={"sku": sku, "record": f"{REVIEW}{location}"},
                      update="SET reviewed_in = :cycle",
                      condition="attribute_not_exists(reviewed_in) OR reviewed_in < :cycle", values={":cycle": cycle})
        with contextlib.suppress(ConditionFailed):  # failed: reviewed in this cycle or a later one already
            dynamo.apply(write)

    def receive(self, sku: str, quantity: int, location: str = MAIN_LOCATION) -> Write:
        """Goods of a purchase order arrived: on the shelf (``on_hand``, ``available``), no longer on order."""
        return self._counters(sku, location, {"on_hand": quantity, "available": quantity, "on_order": -quantity})

    def adjust(self, sku: str, quantity: int, location: str = MAIN_LOCATION, threshold: int | None = None
               ) -> StockLevel:
        """Receive (positive) or write off (negative) stock at ``location`` and return its new level; a
        write-off cannot take stock that is held (raises ``ConditionFailed``). ``threshold`` (the product's)
        is set on a location that has none yet, so its low-stock crossings are seen."""
        deltas = {"on_hand": quantity, "available": quantity}
        write = (self._counters(sku, location, deltas) if quantity >= 0 else
                 self._counters(sku, location, deltas, condition="available >= :take", values={":take": -quantity}))
        write.return_old = quantity < 0
        try:
            new = dynamo.apply(_with_threshold(write, threshold), return_new=True)
        except ConditionFailed as failure:  # at a bucketed level, the units to write off are gathered first
            if not failure.items.get(0, {}).get("bucket_span"):
                raise
            _, found = self.bucket_levels(sku, location)
            moves = gather({b: int(item.get("available", 0)) for b, item in found.items()}, -quantity, BASE)
            if not moves:
                raise
            self.apply_moves(sku, location, moves)
            new = dynamo.apply(write, return_new=True)
        if new and quantity > 0 and int(new.get("buckets", 1)) > 1:  # a receipt at a bucketed level: share it out
            self.even_out(sku, location, int(new["buckets"]))
            new = dynamo.get(self.table, _key(sku, location)) or new  # the base as the moves left it
        return _level(sku, self.with_buckets([new])[0] if new else {"record": f"{LEVEL}{location}"})

    def set_threshold(self, sku: str, threshold: int | None, location: str = MAIN_LOCATION) -> Write:
        """The low-stock threshold, kept beside ``available`` so a crossing is visible in each change."""
        if threshold is None:
            return Write("Update", self.table, key=_key(sku, location), update="REMOVE threshold")
        return Write("Update", self.table, key=_key(sku, location), update="SET threshold = :t",
                     values={":t": threshold})

    # ------------------------------------------------------------ backorder waits
    def wait(self, line: OrderLine, order_id: str, created_at: str, together: dict[str, int] | None = None) -> Write:
        """The order waits for ``line``; ``together``: the other SKUs (→ units) it must have in stock at the same
        time to be reserved (a ship_complete order), which the arrival of this SKU checks before waking it."""
        item = {"sku": line.sku, "record": f"{WAIT}{created_at}#{order_id}", "order_id": order_id,
                "quantity": line.quantity}
        if together:
            item["together"] = together
        return Write("Put", self.table, item=item)

    def unwait(self, sku: str, order_id: str, created_at: str) -> Write:
        return Write("Delete", self.table, key={"sku": sku, "record": f"{WAIT}{created_at}#{order_id}"})

    def waiting(self, sku: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every backordered order waiting for this SKU, oldest first, read a page at a time as the caller
        goes on (a receipt stops at the first order it cannot serve, so it reads only what it needs). Strongly
        consistent: an order that wrote its waits before the arrival's stock was stored is found."""
        start: dict[str, Any] | None = None
        while True:
            page = {"ExclusiveStartKey": start} if start else {}
            items, start = dynamo.query(self.table, KeyConditionExpression="sku = :s AND begins_with(#r, :w)",
                                        ExpressionAttributeNames={"#r": "record"},
                                        ExpressionAttributeValues={":s": sku, ":w": WAIT}, Limit=page_size,
                                        ConsistentRead=True, **page)
            yield from items
            if not start:
                return


def _with_threshold(write: Write, threshold: int | None) -> Write:
    """``write`` also sets the low-stock threshold where the level has none yet."""
    if threshold is not None:
        write.update = f"{write.update} SET threshold = if_not_exists(threshold, :t)"
        write.values[":t"] = threshold
    return write


def _level(sku: str, item: dict[str, Any]) -> StockLevel:
    location = item["record"][len(LEVEL):] if item.get("record", "").startswith(LEVEL) else None
    return StockLevel(sku=sku, location_id=location, **{c: int(item.get(c, 0)) for c in COUNTERS})


def _position(sku: str, items: list[dict[str, Any]]) -> StockPosition:
    """The SKU's position from its records: a level per location, and the units its waiting orders want
    (shown at the main location: a backorder is not yet sourced from anywhere)."""
    levels = {item["record"][len(LEVEL):]: _level(sku, item) for item in items
              if item["record"].startswith(LEVEL) and any(c in item for c in COUNTERS)}  # not a bare threshold
    waiting = sum(int(item.get("quantity", 0)) for item in items if item["record"].startswith(WAIT))
    if waiting or MAIN_LOCATION in levels:
        main = levels.get(MAIN_LOCATION, StockLevel(sku=sku, location_id=MAIN_LOCATION))
        levels[MAIN_LOCATION] = main.model_copy(update={"backordered": main.backordered + waiting})
    position = StockPosition.of(sku, list(levels.values()))
    position._ordered = {item["record"][len(LEVEL):]: (str(item["ordered_in"]), item.get("ordered_po"))
                         for item in items if item["record"].startswith(LEVEL) and "ordered_in" in item}
    position._reviewed = {item["record"][len(REVIEW):]: str(item["reviewed_in"])
                          for item in items if item["record"].startswith(REVIEW) and "reviewed_in" in item}
    return position


def _key(sku: str, location: str) -> dict[str, str]:
    return {"sku": sku, "record": f"{LEVEL}{location}"}
