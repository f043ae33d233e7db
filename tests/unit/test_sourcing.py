"""Sourcing across locations (pure): one location when one can, else the fewest, else the policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.fulfilment.domain import Address, FulfilmentPolicy, Location
from orderflow.fulfilment.sourcing import Candidate, candidates, plan

COMPLETE, AVAILABLE = FulfilmentPolicy.SHIP_COMPLETE, FulfilmentPolicy.SHIP_AVAILABLE


def loc(location_id: str, priority: int = 100, country: str | None = "GB") -> Candidate:
    return Candidate(location_id, priority, country)


CASES = [
    # (name, lines, candidates, available {(sku, loc): n}, ship_to, policy, allocations, backordered)
    ("one location fills it", {"A": 2, "B": 1}, [loc("w1"), loc("w2")],
     {("A", "w1"): 5, ("B", "w1"): 5, ("A", "w2"): 5, ("B", "w2"): 5}, "GB", COMPLETE,
     {"w1": {"A": 2, "B": 1}}, {}),
    ("priority breaks the tie", {"A": 2}, [loc("w1", 50), loc("w2", 10)],
     {("A", "w1"): 5, ("A", "w2"): 5}, "GB", COMPLETE, {"w2": {"A": 2}}, {}),
    ("same country breaks a priority tie", {"A": 2}, [loc("de", 10, "DE"), loc("uk", 10, "GB")],
     {("A", "de"): 5, ("A", "uk"): 5}, "GB", COMPLETE, {"uk": {"A": 2}}, {}),
    ("the id breaks a full tie", {"A": 2}, [loc("w2"), loc("w1")],
     {("A", "w1"): 5, ("A", "w2"): 5}, "GB", COMPLETE, {"w1": {"A": 2}}, {}),
    ("a better-ranked location that cannot fill it alone is skipped", {"A": 2, "B": 2},
     [loc("store", 1), loc("wh", 50)], {("A", "store"): 2, ("B", "wh"): 2, ("A", "wh"): 2}, "GB", COMPLETE,
     {"wh": {"A": 2, "B": 2}}, {}),
    ("fewest locations: two, not three", {"A": 3, "B": 3},
     [loc("a", 1), loc("b", 2), loc("c", 3)],
     {("A", "a"): 3, ("B", "b"): 1, ("B", "c"): 3}, "GB", COMPLETE,
     {"a": {"A": 3}, "c": {"B": 3}}, {}),
    ("a line split across two locations", {"A": 6}, [loc("a", 1), loc("b", 2)],
     {("A", "a"): 4, ("A", "b"): 4}, "GB", COMPLETE, {"a": {"A": 4}, "b": {"A": 2}}, {}),
    ("ship_complete short: backorder whole", {"A": 6, "B": 1}, [loc("a")],
     {("A", "a"): 4, ("B", "a"): 1}, "GB", COMPLETE, {}, {"A": 6, "B": 1}),
    ("ship_available short: allocate what there is", {"A": 6, "B": 1}, [loc("a", 1), loc("b", 2)],
     {("A", "a"): 2, ("A", "b"): 1, ("B", "b"): 1}, "GB", AVAILABLE,
     {"a": {"A": 2}, "b": {"A": 1, "B": 1}}, {"A": 3}),
    ("nothing anywhere", {"A": 1}, [loc("a")], {}, "GB", AVAILABLE, {}, {"A": 1}),
    ("no location at all", {"A": 1}, [], {}, "GB", COMPLETE, {}, {"A": 1}),
]


@pytest.mark.parametrize(("name", "lines", "cands", "available", "ship_to", "policy", "allocations", "backordered"),
                         CASES, ids=[case[0] for case in CASES])
def test_sourcing(name, lines, cands, available, ship_to, policy, allocations, backordered):
    result = plan(lines, cands, available, ship_to, policy)
    assert (result.allocations, result.backordered) == (allocations, backordered), result.why


def test_inactive_locations_are_never_candidates():
    address = Address(name="W", line1="1 Road", city="Leeds", postal_code="LS1", country="gb")
    locations = [Location(location_id="closed", name="Closed", address=address, priority=1, active=False),
                 Location(location_id="open", name="Open", address=address, priority=9)]
    assert [c.location_id for c in candidates(locations)] == ["open"]
    assert candidates(locations)[0].country == "GB"  # normalised to upper case


@given(lines=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 9), min_size=1),
       stock=st.dictionaries(st.tuples(st.sampled_from("ABCD"), st.sampled_from(["a", "b", "c", "d"])),
                             st.integers(0, 9)),
       policy=st.sampled_from(list(FulfilmentPolicy)))
def test_a_plan_never_takes_more_than_is_available_and_accounts_for_every_unit(lines, stock, policy):
    cands = [loc(name, priority) for priority, name in enumerate("abcd")]
    result = plan(lines, cands, stock, "GB", policy)
    for location, taken in result.allocations.items():
        for sku, units in taken.items():
            assert 0 < units <= stock.get((sku, location), 0)
    for sku, units in lines.items():
        allocated = sum(taken.get(sku, 0) for taken in result.allocations.values())
        assert allocated + result.backordered.get(sku, 0) == units
    if policy == COMPLETE:
        assert not result.backordered or not result.allocations  # all or nothing
    single = [c for c in cands if all(stock.get((s, c.location_id), 0) >= u for s, u in lines.items())]
    if single:
        assert list(result.allocations) == [single[0].location_id]
