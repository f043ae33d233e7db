"""Hot-SKU buckets in the Stock table (docs/scale.md).

A level (SKU, location) with N >= 2 buckets: the base item ``(sku, LEVEL#loc)`` carries ``buckets`` (N) and
``bucket_span`` (the highest bucket that may exist); bucket k is ``(sku#k, LEVEL#loc)`` with ``bucket_of``,
under a partition key of its own, so DynamoDB serves each bucket its own ~1,000 writes a second. A SKU has no
``#`` (its pattern forbids it), so no bucket key is ever a SKU.

How a writer learns the count without a read: a reservation of a level it knows no buckets of goes to the
base, conditional on ``attribute_not_exists(buckets)`` and asking for the item back on failure. At a bucketed
level that condition fails, the item says N, and the next attempt takes from a bucket; the count is kept
for the life of the container. A level with one bucket (the default) is written and read exactly as before.
"""

from __future__ import annotations

import random
import time
from typing import Any

from orderflow.inventory import buckets as plan
from orderflow.inventory.buckets import BASE, Move
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.errors import ConditionFailed, TransientError
from orderflow.shared.types import utc_now

LEVEL = "LEVEL#"  # + location id
_COUNTERS = ("on_hand", "reserved", "available")
_TRANSACTION = 100
_ATTEMPTS = 10
# (sku, location) → buckets, as learned from a failed reservation or set here: per container, like a cache.
_known: dict[tuple[str, str], int] = {}
# (sku, location) → the bucket the next reservation should take from (after a shortfall was looked into).
_next: dict[tuple[str, str], int] = {}


def key(sku: str, location: str, bucket: int = BASE) -> dict[str, str]:
    return {"sku": sku if bucket == BASE else f"{sku}#{bucket}", "record": f"{LEVEL}{location}"}


def bucket_of(item: dict[str, Any]) -> int:
    """The bucket an item of the Stock table is (0: the base)."""
    return int(str(item["sku"]).rsplit("#", 1)[1]) if "bucket_of" in item else BASE


def _low_before_split(base: dict[str, Any]) -> bool:
    """Whether a level not yet split is at or below its threshold: the ``low`` flag its buckets start from."""
    threshold = base.get("threshold")
    return threshold is not None and "available" in base and int(base["available"]) <= int(threshold)


class Buckets:
    table: str

    # ------------------------------------------------------------ reservations
    def taking(self, sku: str, location: str, quantity: int) -> Write:
        """The conditional decrement of a reservation: from a bucket when the level is known to have some,
        else from the base, which refuses it at a bucketed level (and says how many buckets it has)."""
        count = _known.get((sku, location), 1)
        deltas = {":d_reserved": quantity, ":d_available": -quantity, ":need": quantity}
        if count < 2:
            return Write("Update", self.table, key=key(sku, location), return_old=True,
                         update="ADD reserved :d_reserved, available :d_available",
                         condition="available >= :need AND attribute_not_exists(buckets)", values=deltas)
        bucket = _next.pop((sku, location), None) or random.randint(1, count)
        return Write("Update", self.table, key=key(sku, location, bucket), return_old=True,
                     update="ADD reserved :d_reserved, available :d_available", condition="available >= :need",
                     values=deltas)

    def retry_buckets(self, failed: list[tuple[str, str, int, dict[str, Any] | None]]) -> bool:
        """After a reservation's holds ``failed`` — (sku, location, units, the item as it was) — whether
        trying again can serve them all: the base said the level has buckets, a bucket was retired, or a
        bucket was short while the buckets together hold enough (then they are gathered into one)."""
        if not failed:
            return False
        for sku, location, units, old in failed:
            if old is None:  # a bucket that was retired (or a level never stocked)
                if _known.pop((sku, location), 1) < 2:
                    return False
            elif old.get("buckets") and "bucket_of" not in old:  # the base of a bucketed level
                _known[sku, location] = int(old["buckets"])
            elif "bucket_of" in old:
                if not self._make_room(sku, location, units):
                    return False
            else:
                return False  # a level without buckets, really short
        return True

    def _make_room(self, sku: str, location: str, units: int) -> bool:
        """Point the next reservation at a bucket holding ``units``, gathering them there if no bucket
        does; False when the level as a whole has too few available."""
        base, found = self.bucket_levels(sku, location)
        count = int(base.get("buckets", 1))
        if count < 2:
            _known.pop((sku, location), None)
            return True
        _known[sku, location] = count
        available = {bucket: int(item.get("available", 0)) for bucket, item in found.items()}
        if (bucket := plan.choose(available, units)) is not None:
            _next[sku, location] = bucket
            return True
        live = {b: a for b, a in available.items() if 1 <= b <= count}
        target = max(live, key=lambda b: (live[b], -b)) if live else 1
        moves = plan.gather(available, units, target)
        if not moves:
            return False
        try:
            self.apply_moves(sku, location, moves)
        except (ConditionFailed, TransientError):
            return True  # the stock moved meanwhile: the next attempt looks again
        _next[sku, location] = target
        return True

    # ------------------------------------------------------------ low stock of a bucketed level
    def follow_low(self, sku: str, location: str) -> bool | None:
        """Compare a bucketed level's available units, summed over its buckets, with its low-stock threshold,
        and when that changes its ``low`` flag, write the flag on the base with the level as read
        (``low_level``), from which the StockLow or StockRecovered event is derived. A flag is written only
        by a read made after the one that wrote it (``low_read_at``), so a slower check cannot undo a newer
        one. The level is read in one TransactGetItems, so a move between buckets is seen whole or not at all;
        a level of more than 99 buckets is read in parts. Returns the flag written, or None when nothing changed
        (docs/scale.md, "Events")."""
        read_at = time.time_ns()
        span = int((dynamo.get(self.table, key(sku, location)) or {}).get("bucket_span", 0))
        keys = [key(sku, location, b) for b in range(span + 1)]
        items = [item for start in range(0, len(keys), _TRANSACTION)
                 for item in dynamo.transact_get(self.table, keys[start:start + _TRANSACTION])]
        base = next((item for item in items if "bucket_of" not in item), {})
        if int(base.get("buckets", 1)) < 2 or base.get("threshold") is None:
            return None
        level = {c: sum(int(item.get(c, 0)) for item in items) for c in _COUNTERS}
        low = level["available"] <= int(base["threshold"])
        if base.get("low") == low:
            return None
        try:
            dynamo.apply(Write("Update", self.table, key=key(sku, location),
                               update="SET low = :low, low_level = :level, low_read_at = :at",
                               condition="attribute_exists(buckets) AND "
                                         "(attribute_not_exists(low_read_at) OR low_read_at < :at)",
                               values={":low": low, ":level": level, ":at": read_at}))
        except ConditionFailed:
            return None  # joined meanwhile, or a newer check wrote the flag
        return low

    # ------------------------------------------------------------ reads
    def bucket_levels(self, sku: str, location: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
        """The base item and every item of the level by bucket (base included), strongly consistent."""
        base = dynamo.get(self.table, key(sku, location)) or {}
        return base, {BASE: base, **self.buckets_of(sku, location, int(base.get("bucket_span", 0)))}

    def buckets_of(self, sku: str, location: str, span: int) -> dict[int, dict[str, Any]]:
        """Bucket → item of buckets 1..``span`` that exist (BatchGetItem, strongly consistent)."""
        if span < 1:
            return {}
        keys = [key(sku, location, b) for b in range(1, span + 1)]
        items = dynamo.batch_get({self.table: keys}, consistent={self.table})[self.table]
        return {bucket_of(item): item for item in items}

    def with_buckets(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``items`` of one SKU's partition, each bucketed level's counters summed over its buckets."""
        summed = []
        for item in items:
            span = int(item.get("bucket_span", 0))
            if span and str(item.get("record", "")).startswith(LEVEL):
                found = self.buckets_of(item["sku"], item["record"][len(LEVEL):], span).values()
                item = {**item, **{c: int(item.get(c, 0)) + sum(int(b.get(c, 0)) for b in found) for c in _COUNTERS}}
            summed.append(item)
        return summed

    # ------------------------------------------------------------ moves
    def apply_moves(self, sku: str, location: str, moves: list[Move]) -> None:
        """Move available units between the level's buckets, in transactions of at most 100 items: each
        is balanced, every item that gives is conditional on having it, and a bucket that receives must
        exist, so a unit is never in two places or in none."""
        chunks: list[list[Move]] = [[]]
        for move in moves:
            touched = {b for m in chunks[-1] for b in (m.source, m.target)} | {move.source, move.target}
            if len(touched) > _TRANSACTION:
                chunks.append([])
            chunks[-1].append(move)
        stamp = utc_now()
        for chunk in filter(None, chunks):
            writes = []
            for bucket, units in sorted(plan.net(chunk).items()):
                condition, values = None, {":u": units}
                if units < 0:
                    condition, values[":take"] = "available >= :take", -units
                elif bucket != BASE:
                    condition = "attribute_exists(bucket_of)"
                update = "ADD available :u, on_hand :u SET rebalanced = :t"  # a move: no receipt, no crossing
                values[":t"] = stamp
                writes.append(Write("Update", self.table, key=key(sku, location, bucket), update=update,
                                    condition=condition, values=values))
            dynamo.transact(writes)

    def rebucket(self, sku: str, location: str, count: int) -> None:
        """Give the level ``count`` buckets (1: none, the plain layout) and share its available units over
        them. Safe while orders reserve: buckets are created before the base names them, a retired bucket
        is folded into the base only as it was read (else read again), and moves are balanced."""
        base = dynamo.get(self.table, key(sku, location)) or {}
        span = int(base.get("bucket_span", 0))
        if count >= 2:
            zero = "ADD on_hand :z, reserved :z, available :z"
            for start in range(1, count + 1, _TRANSACTION):
                dynamo.transact([Write("Update", self.table, key=key(sku, location, b),
                                       update=f"SET buckets = :n, bucket_of = :s, split_at = :at {zero}",
                                       values={":n": count, ":s": sku, ":z": 0, ":at": int(time.time())})
                                 for b in range(start, min(count, start + _TRANSACTION - 1) + 1)])
            dynamo.apply(Write("Update", self.table, key=key(sku, location),
                               update=f"SET buckets = :n, bucket_span = :span, low = if_not_exists(low, :low) {zero}",
                               values={":n": count, ":span": max(span, count), ":z": 0,
                                       ":low": _low_before_split(base)}))
        self._fold(sku, location, range(count + 1 if count >= 2 else 1, span + 1))
        self.even_out(sku, location, count)
        if count < 2 and span:
            dynamo.apply(Write("Update", self.table, key=key(sku, location),
                               update="REMOVE buckets, bucket_span, rebalanced, low, low_level, low_read_at"))
        _known[sku, location] = count
        _next.pop((sku, location), None)

    def even_out(self, sku: str, location: str, count: int) -> None:
        """Share the level's available units evenly over its ``count`` buckets (a receipt lands on the base)."""
        for _ in range(_ATTEMPTS):
            _, found = self.bucket_levels(sku, location)
            moves = plan.spread({b: int(item.get("available", 0)) for b, item in found.items()}, count)
            try:
                self.apply_moves(sku, location, moves)
                return
            except (ConditionFailed, TransientError):
                continue  # reservations took from a bucket meanwhile: plan again on fresh levels

    def _fold(self, sku: str, location: str, retired: range) -> None:
        """Put everything retired buckets hold (available, held and on-hand shares) back into the base and
        delete them; each delete is conditional on the counters read, so a reservation that took from one
        meanwhile makes it read again."""
        for bucket in retired:
            for _ in range(_ATTEMPTS):
                item = dynamo.get(self.table, key(sku, location, bucket))
                if item is None:
                    break
                counts = {c: int(item.get(c, 0)) for c in _COUNTERS}
                try:
                    dynamo.transact([
                        Write("Delete", self.table, key=key(sku, location, bucket),
                              condition=" AND ".join(f"{c} = :{c}" for c in _COUNTERS),
                              values={f":{c}": v for c, v in counts.items()}),
                        Write("Update", self.table, key=key(sku, location),
                              update="ADD on_hand :on_hand, reserved :reserved, available :available "
                                     "SET rebalanced = :t",
                              values={**{f":{c}": v for c, v in counts.items()}, ":t": utc_now()})])
                    break
                except (ConditionFailed, TransientError):
                    continue
            else:
                raise TransientError(f"bucket {bucket} of {sku} at {location} kept changing; try again")
