"""How hot a SKU is, measured from the Stock table's stream (docs/scale.md, "Automatic buckets"): pure.

Every reservation changes a stock item (the level's one item, or one of its buckets), so a batch of the stream
carries the SKU's reservations with their times, at no cost to the order. A batch holds one shard's records
(up to 100) over at most a few seconds; the rate is the reservations it saw over its time span, at least one
second (the stream's times are whole seconds). A bucketed level's buckets lie on different shards, so a batch
sees some of them; the rate is scaled up to all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orderflow.inventory.buckets import MAX_BUCKETS

HOT_PER_SECOND = 50.0  # a level taking this many reservations a second is split (a tenth of one key's writes)
PER_BUCKET_PER_SECOND = 25.0  # each bucket is sized for this many
COOL_PER_BUCKET_PER_SECOND = 2.0  # a split is joined again when its buckets take fewer than this each...
HOLD_SECONDS = 600  # ...and it is at least this old (one quiet batch in a sale must not join it)
MIN_BUCKETS = 4

Image = dict[str, Any]


@dataclass
class Heat:
    """The reservations of one SKU's level (at one location) a stream batch saw."""

    sku: str
    location: str
    buckets: int  # as the items say
    reservations: int = 0
    seen: set[int] = field(default_factory=set)  # the buckets whose records the batch carried
    first: float = float("inf")
    last: float = float("-inf")
    split_at: float | None = None  # when its buckets were made (epoch seconds), as they say

    def per_second(self) -> float:
        rate = self.reservations / max(1.0, self.last - self.first)
        return rate * self.buckets / max(1, len(self.seen)) if self.buckets > 1 else rate


def measure(changes: Iterable[tuple[Image | None, Image | None, float]]) -> list[Heat]:
    """The heat of each level the changes (old image, new image, time in seconds) reserved from."""
    found: dict[tuple[str, str], Heat] = {}
    for old, new, at in changes:
        if not old or not new or not str(new.get("record", "")).startswith("LEVEL#"):
            continue
        if int(new.get("reserved", 0)) <= int(old.get("reserved", 0)) or \
                int(new.get("available", 0)) >= int(old.get("available", 0)):
            continue  # not a take: a release, a shipment, a receipt or a move
        sku = str(new.get("bucket_of") or new["sku"])
        bucket = int(str(new["sku"]).rsplit("#", 1)[1]) if "bucket_of" in new else 0
        heat = found.setdefault((sku, new["record"][len("LEVEL#"):]),
                                Heat(sku, new["record"][len("LEVEL#"):], int(new.get("buckets", 1))))
        heat.reservations += 1
        heat.seen.add(bucket)
        if new.get("split_at") is not None:
            heat.split_at = float(new["split_at"])
        heat.first, heat.last = min(heat.first, at), max(heat.last, at)
    return list(found.values())


def wanted(heat: Heat) -> int | None:
    """The bucket count the level should have now, or None to leave it: split when hot (a power of two that
    keeps each bucket near ``PER_BUCKET_PER_SECOND``), joined when cool."""
    rate = heat.per_second()
    if heat.buckets <= 1 and rate >= HOT_PER_SECOND:
        count = MIN_BUCKETS
        while count * PER_BUCKET_PER_SECOND < rate and count < MAX_BUCKETS:
            count *= 2
        return count
    if heat.buckets > 1 and rate < COOL_PER_BUCKET_PER_SECOND * heat.buckets and \
            heat.split_at is not None and heat.last - heat.split_at >= HOLD_SECONDS:
        return 1
    return None
