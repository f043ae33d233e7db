"""Sourcing (pure): which locations fill an order, and how much of each line each one takes.

The rule, in order (docs/fulfilment.md):

1. One active location that can fill the whole order. Ties: lower ``priority`` first, then a location
   in the ship-to country, then the location id (so the choice is deterministic).
2. Else the fewest locations that together cover every line; among sets of that size, the one whose
   locations rank first in the order above. Within the set each line is taken from the locations in
   that order.
3. Else the order's policy decides: ``ship_complete`` allocates nothing (the order is backordered whole);
   ``ship_available`` allocates what is available, taking each line from the locations in that order,
   and backorders the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from orderflow.fulfilment.domain import FulfilmentPolicy, Location

EXHAUSTIVE_LIMIT = 12  # up to this many candidate locations, every subset size is tried; beyond, greedy


class Candidate(NamedTuple):
    location_id: str
    priority: int
    country: str | None


class Plan(NamedTuple):
    """Location → SKU → units allocated there; SKU → units backordered; and why, in one line."""

    allocations: dict[str, dict[str, int]]
    backordered: dict[str, int]
    why: str = ""

    @property
    def complete(self) -> bool:
        return not self.backordered

    def units(self) -> int:
        return sum(q for lines in self.allocations.values() for q in lines.values())


def candidates(locations: Sequence[Location]) -> list[Candidate]:
    """The active locations, as sourcing sees them (an inactive one is never allocated from)."""
    return [Candidate(loc.location_id, loc.priority, loc.address.country if loc.address else None)
            for loc in locations if loc.active]


def rank(candidates: Sequence[Candidate], ship_to: str | None) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (c.priority, c.country != ship_to, c.location_id))


def plan(lines: Mapping[str, int], candidates: Sequence[Candidate], available: Mapping[tuple[str, str], int],
         ship_to: str | None, policy: FulfilmentPolicy) -> Plan:
    """The sourcing plan for ``lines`` (SKU → units) over the active ``candidates``, given what is
    ``available`` per (SKU, location). Nothing is read or written here."""
    ordered = rank(candidates, ship_to)

    def have(location: str, sku: str) -> int:
        return max(0, int(available.get((sku, location), 0)))

    for candidate in ordered:
        if all(have(candidate.location_id, sku) >= units for sku, units in lines.items()):
            return Plan({candidate.location_id: dict(lines)}, {},
                        why=f"one location fills the order: {candidate.location_id}")
    covering = _fewest_covering(lines, ordered, have)
    if covering is not None:
        allocations = _take(lines, covering, have)[0]
        return Plan(allocations, {}, why=f"split across {len(allocations)} locations: {', '.join(allocations)}")
    if policy == FulfilmentPolicy.SHIP_COMPLETE:
        return Plan({}, dict(lines), why="no set of locations covers the order; ship_complete: backorder "
                                                 "it whole")
    allocations, short = _take(lines, ordered, have)
    return Plan(allocations, short, why="ship_available: allocate what is in stock, backorder the rest")


def _fewest_covering(lines: Mapping[str, int], ordered: list[Candidate], have) -> list[Candidate] | None:
    def covers(group: Sequence[Candidate]) -> bool:
        return all(sum(have(c.location_id, sku) for c in group) >= units for sku, units in lines.items())

    if not covers(ordered):
        return None
    if len(ordered) <= EXHAUSTIVE_LIMIT:
        for size in range(2, len(ordered) + 1):
            for group in itertools.combinations(ordered, size):  # in rank order: the first found ranks first
                if covers(group):
                    return list(group)
    group: list[Candidate] = []  # greedy: add the location that covers the most units still missing
    remaining = dict(lines)
    while any(remaining.values()):
        best = max((c for c in ordered if c not in group),
                   key=lambda c: (sum(min(have(c.location_id, s), u) for s, u in remaining.items()),
                                  -ordered.index(c)))
        group.append(best)
        for sku in remaining:
            remaining[sku] = max(0, remaining[sku] - have(best.location_id, sku))
    return sorted(group, key=ordered.index)


def _take(lines: Mapping[str, int], group: Sequence[Candidate], have
          ) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Each line from the locations of ``group`` in order: what each takes, and what none had."""
    allocations: dict[str, dict[str, int]] = {}
    short: dict[str, int] = {}
    for sku, units in lines.items():
        left = units
        for candidate in group:
            take = min(left, have(candidate.location_id, sku))
            if take:
                allocations.setdefault(candidate.location_id, {})[sku] = take
                left -= take
            if not left:
                break
        if left:
            short[sku] = left
    return allocations, short
