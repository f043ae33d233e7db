"""The pure part of hot-SKU buckets (orderflow.inventory.buckets): which bucket a reservation takes from, and
the moves that gather or spread available units. Moves never create or destroy a unit."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.inventory.buckets import BASE, Move, choose, gather, net, spread

LEVELS = st.dictionaries(st.integers(0, 20), st.integers(0, 50), min_size=1, max_size=12)


def test_a_reservation_takes_from_a_live_bucket_that_holds_enough_never_the_base():
    rng = random.Random(3)
    picks = {choose({BASE: 100, 1: 2, 2: 9, 3: 30}, 5, rng) for _ in range(200)}
    assert picks == {2, 3}
    assert choose({BASE: 100, 1: 2}, 5) is None


def test_gather_takes_from_the_base_first_then_the_fullest():
    assert gather({BASE: 2, 1: 1, 2: 4, 3: 3}, 6, target=1) == [Move(BASE, 1, 2), Move(2, 1, 3)]
    assert gather({BASE: 0, 1: 1, 2: 1}, 5, target=1) == []  # all together too few: nothing moves


@pytest.mark.parametrize(("available", "count", "after"), [
    ({BASE: 10}, 4, {BASE: 0, 1: 3, 2: 3, 3: 2, 4: 2}),
    ({BASE: 1, 1: 5, 2: 0, 3: 4, 4: 7}, 2, {BASE: 0, 1: 9, 2: 8, 3: 0, 4: 0}),
    ({BASE: 0, 1: 5, 2: 6}, 1, {BASE: 11, 1: 0, 2: 0}),
])
def test_spread_shares_evenly_over_the_live_buckets(available, count, after):
    change = net(spread(available, count))
    assert {b: available.get(b, 0) + change.get(b, 0) for b in after} == after


@given(LEVELS, st.integers(1, 16))
def test_spreading_keeps_every_unit_and_empties_the_base_and_retired_buckets(available, count):
    moves = spread(available, count)
    change = net(moves)
    after = {b: available.get(b, 0) + change.get(b, 0) for b in set(available) | set(change)}
    assert sum(change.values()) == 0 and all(units >= 0 for units in after.values())
    assert all(m.units > 0 and m.units <= available.get(m.source, 0) for m in moves)
    live = range(1, count + 1) if count > 1 else [BASE]
    assert all(units == 0 for b, units in after.items() if b not in live)
    shares = [after.get(b, 0) for b in live]
    assert max(shares) - min(shares) <= 1


@given(LEVELS, st.integers(1, 60), st.integers(1, 20))
def test_gathering_fills_the_target_or_moves_nothing(available, need, target):
    moves = gather(available, need, target)
    change = net(moves)
    assert sum(change.values()) == 0
    if moves:
        assert available.get(target, 0) + change[target] == need
    else:
        assert available.get(target, 0) >= need or sum(available.values()) < need


def _take(sku: str, at: float, reserved: int = 0, bucket: int = 0, buckets: int = 1, split_at: float | None = None):
    """The stream images of one reservation of a unit (of bucket ``bucket``, 0 the level's own item)."""
    from decimal import Decimal

    extra = {"bucket_of": sku, "buckets": Decimal(buckets)} if bucket else {}
    if split_at is not None:
        extra["split_at"] = Decimal(split_at)
    key = {"sku": f"{sku}#{bucket}" if bucket else sku, "record": "LEVEL#main", **extra}
    return ({**key, "reserved": Decimal(reserved), "available": Decimal(100 - reserved)},
            {**key, "reserved": Decimal(reserved + 1), "available": Decimal(99 - reserved)}, at)


def test_a_level_taking_more_than_the_hot_rate_is_split_in_proportion():
    from orderflow.inventory.heat import measure, wanted

    changes = [_take("A", 1000 + i / 120, i) for i in range(120)]  # 120 a second
    changes += [_take("B", 1000 + i, i) for i in range(10)]  # 1 a second
    changes += [(None, {"sku": "C", "record": "LEVEL#main", "reserved": 1, "available": 1}, 1000)]  # created
    heats = {h.sku: h for h in measure(changes)}
    assert wanted(heats["A"]) == 8 and wanted(heats["B"]) is None and "C" not in heats


def test_a_split_is_joined_only_when_its_buckets_are_quiet_and_it_is_old_enough():
    from orderflow.inventory.heat import HOLD_SECONDS, measure, wanted

    quiet = [_take("A", 5000.0, 0, bucket=3, buckets=8, split_at=5000 - HOLD_SECONDS)]
    busy = [_take("A", 5000 + i / 50, i, bucket=1 + i % 2, buckets=8, split_at=0) for i in range(50)]
    young = [_take("A", 5000.0, 0, bucket=3, buckets=8, split_at=4999)]
    moves = [({"sku": "A#2", "record": "LEVEL#main", "bucket_of": "A", "available": 5, "reserved": 0},
              {"sku": "A#2", "record": "LEVEL#main", "bucket_of": "A", "available": 9, "reserved": 0}, 1.0)]
    assert [wanted(h) for h in measure(quiet)] == [1]
    assert [wanted(h) for h in measure(busy)] == [None]  # 50 a second over the 2 of 8 buckets seen
    assert [wanted(h) for h in measure(young)] == [None]
    assert measure(moves) == []  # a move is not a reservation
