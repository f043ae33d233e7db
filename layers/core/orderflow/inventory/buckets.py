"""Hot-SKU buckets, the pure part: which bucket a reservation takes from, and which moves of stock spread
or gather a SKU's available units over its buckets (docs/scale.md).

A level (SKU, location) with N buckets (N >= 2) keeps its base item (bucket 0) and N bucket items 1..N under
partition keys of their own. Reservations take from the buckets 1..N only; everything else (releases,
receipts, returns, shipments) writes the base item, and moves put the base's available units into buckets.
Moves only shift ``available`` and ``on_hand`` together, so a SKU's totals never change by a move.
"""

from __future__ import annotations

import random
from typing import NamedTuple

MAX_BUCKETS = 256
BASE = 0


class Move(NamedTuple):
    """``units`` available units go from bucket ``source`` to bucket ``target``."""

    source: int
    target: int
    units: int


def choose(available: dict[int, int], need: int, rng: random.Random | None = None) -> int | None:
    """A live bucket (>= 1) holding ``need`` units, picked at random in proportion to what each holds, so
    takers spread over the fullest buckets; None when no single bucket holds that many."""
    rng = rng or random
    fits = {bucket: units for bucket, units in available.items() if bucket != BASE and units >= need}
    if not fits:
        return None
    pick = rng.uniform(0, sum(fits.values()))
    for bucket, units in sorted(fits.items()):
        pick -= units
        if pick <= 0:
            return bucket
    return max(fits)


def gather(available: dict[int, int], need: int, target: int) -> list[Move]:
    """Moves that bring ``target`` up to ``need`` units from the others (the base first, then the fullest);
    empty when all of them together hold too few."""
    missing = need - available.get(target, 0)
    if missing <= 0:
        return []
    donors = sorted((b for b in available if b != target and available[b] > 0),
                    key=lambda b: (b != BASE, -available[b], b))
    if sum(available[b] for b in donors) < missing:
        return []
    moves = []
    for bucket in donors:
        take = min(missing, available[bucket])
        moves.append(Move(bucket, target, take))
        missing -= take
        if not missing:
            break
    return moves


def spread(available: dict[int, int], count: int) -> list[Move]:
    """Moves that share the available units evenly over buckets 1..count (the base and any bucket past
    ``count`` end with none); with ``count`` 1 everything goes back to the base."""
    total = sum(max(0, units) for units in available.values())
    if count <= 1:
        targets = {BASE: total}
    else:
        share, extra = divmod(total, count)
        targets = {bucket: share + (1 if bucket <= extra else 0) for bucket in range(1, count + 1)}
    surplus = [(b, units - targets.get(b, 0)) for b, units in sorted(available.items()) if units > targets.get(b, 0)]
    deficit = [(b, want - max(0, available.get(b, 0))) for b, want in sorted(targets.items())
               if want > max(0, available.get(b, 0))]
    moves: list[Move] = []
    while surplus and deficit:
        (source, has), (target, wants) = surplus[0], deficit[0]
        units = min(has, wants)
        moves.append(Move(source, target, units))
        surplus[0], deficit[0] = (source, has - units), (target, wants - units)
        if surplus[0][1] == 0:
            surplus.pop(0)
        if deficit[0][1] == 0:
            deficit.pop(0)
    return moves


def net(moves: list[Move]) -> dict[int, int]:
    """Bucket → change of its available units over ``moves`` (they add up to zero)."""
    change: dict[int, int] = {}
    for move in moves:
        change[move.source] = change.get(move.source, 0) - move.units
        change[move.target] = change.get(move.target, 0) + move.units
    return {bucket: units for bucket, units in change.items() if units}
