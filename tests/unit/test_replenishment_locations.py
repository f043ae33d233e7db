"""Replenishment per (SKU, location), the pure parts: which locations a SKU is decided for, a location's
overrides of the product's parameters, purchase order ids per location, and how a buyer's change of a
purchase order moves ``on_order`` between locations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderflow.catalogue import Product
from orderflow.catalogue.requests import ProductIn
from orderflow.inventory import StockLevel, StockPosition
from orderflow.purchasing.domain import purchase_order_id, run_order_id
from orderflow.purchasing.rules import on_order_moves
from orderflow.replenishment.locations import overrides_of, replenished_locations
from orderflow.replenishment.runs import Decision, decision_key

NETWORK = {"main": True, "wh-north": True, "store-1": True, "closed": False}  # first choice first


def product(locations: dict | None = None, **replenishment) -> Product:
    body = ProductIn.model_validate({
        "name": "Mug", "unit_price": 9, "supplier_id": "acme",
        "replenishment": {"unit_cost": 4, "ordering_cost": 20, "holding_cost_rate": 0.25, "lead_time_days": 5,
                          "moq": 10, **replenishment, **({"locations": locations} if locations else {})}})
    return Product(sku="MUG", **body.model_dump(exclude_none=True))


def held_at(*locations: str) -> StockPosition:
    return StockPosition.of("MUG", [StockLevel(sku="MUG", location_id=loc, on_hand=1) for loc in locations])


@pytest.mark.parametrize(("held", "locations", "decided", "unknown"), [
    ((), None, ["main"], []),  # held nowhere: bought for main, as before locations
    (("main",), None, ["main"], []),
    (("main", "store-1"), None, ["main", "store-1"], []),  # a store that stocks it is replenished too
    (("store-1",), None, ["store-1"], []),  # main holds nothing and is not set up: not decided
    ((), {"wh-north": {"lead_time_days": 2}}, ["wh-north"], []),  # set up before any stock arrived
    (("main", "store-1"), {"store-1": {"replenish": False}}, ["main"], []),
    (("store-1",), {"store-1": {"replenish": False}}, ["main"], []),
    ((), {"main": {"replenish": False}}, [], []),  # opted out everywhere: bought for nowhere
    (("main", "closed"), None, ["main"], []),  # an inactive location is not bought for
    (("main",), {"ghost": {}}, ["main"], ["ghost"]),  # an override naming no location is reported
    (("wh-north", "main", "store-1"), None, ["main", "wh-north", "store-1"], []),  # the network's order
])
def test_which_locations_a_sku_is_decided_for(held, locations, decided, unknown) -> None:
    stored = product(locations).model_dump(mode="python", exclude_none=True)  # as the batch scans it
    chosen, skipped = replenished_locations(overrides_of(stored), held_at(*held), NETWORK)
    assert chosen == decided and sorted(skipped) == unknown


@pytest.mark.parametrize("replenishment", [None, "garbage", {"locations": "garbage"}, {"locations": None}])
def test_a_malformed_product_is_decided_at_main_where_its_problem_is_reported(replenishment) -> None:
    raw = {"sku": "MUG", "replenishment": replenishment}
    assert replenished_locations(overrides_of(raw), held_at(), NETWORK) == (["main"], {})


def test_a_location_overrides_only_what_it_names() -> None:
    mug = product({"store-1": {"lead_time_days": 1.5, "service_level": 0.99, "moq": 0}}, service_level=0.9)
    at_store, at_main = mug.at_location("store-1").replenishment, mug.at_location("main").replenishment
    assert (at_store.lead_time_days, at_store.service_level, at_store.moq) == (1.5, 0.99, 0)
    assert (at_store.unit_cost, at_store.ordering_cost, at_store.review_period_days) == (Decimal(4), Decimal(20), 1)
    assert (at_main.lead_time_days, at_main.service_level, at_main.moq) == (5, 0.9, 10)
    # bought from another supplier, the location's lead time still applies (it is the trip to that location)
    other = mug.model_copy(update={"suppliers": []}).sources()[0].model_copy(update={"supplier_id": "beta",
                                                                                    "lead_time_days": 9})
    assert mug.bought_from(other, "store-1").replenishment.lead_time_days == 1.5
    assert mug.bought_from(other).replenishment.lead_time_days == 9


@pytest.mark.parametrize("bad", [{"lead_time_days": 0}, {"service_level": 1.2}, {"moq": -1}, {"pack_size": 0},
                                 {"unit_cost": 3}, {"nonsense": 1}])
def test_a_bad_location_override_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="locations"):
        product({"store-1": bad})


def test_purchase_order_ids_and_decision_keys_name_a_location_other_than_main() -> None:
    assert purchase_order_id("2030-01-01", "MUG") == purchase_order_id("2030-01-01", "MUG", None, "main") \
        == "po-2030-01-01-MUG"
    assert purchase_order_id("2030-01-01", "MUG", None, "wh-north") == "po-2030-01-01-MUG@wh-north"
    assert purchase_order_id("2030-01-01", "MUG", "beta", "wh-north") == "po-2030-01-01-MUG@wh-north--beta"
    # the run's order of a batch's lines from a supplier: named by cycle, supplier, batch and its first SKU
    assert run_order_id("2030-01-01", "beta", "main", 7, "CUP") == "po-2030-01-01--beta-b7-CUP"
    assert run_order_id("2030-01-01", "beta", "wh-north", 7, "CUP") == "po-2030-01-01--beta-b7-CUP@wh-north"
    assert decision_key("MUG") == "MUG" and decision_key("MUG", "wh-north") == "MUG@wh-north"
    assert Decision(sku="MUG", location_id="wh-north", outcome="skipped", reason="x").key == "MUG@wh-north"


@pytest.mark.parametrize(("before", "before_at", "after", "after_at", "moves"), [
    ({"A": 5}, "main", {"A": 5}, "main", []),
    ({"A": 5}, "main", {"A": 8, "B": 2}, "main", [(("A", "main"), 3), (("B", "main"), 2)]),
    ({"A": 5}, "main", {"A": 5}, "wh", [(("A", "main"), -5), (("A", "wh"), 5)]),
    ({"A": 5, "B": 1}, "wh", {"A": 2}, "store", [(("A", "store"), 2), (("A", "wh"), -5), (("B", "wh"), -1)]),
])
def test_a_change_moves_on_order_once_per_sku_and_location(before, before_at, after, after_at, moves) -> None:
    assert on_order_moves(before, before_at, after, after_at) == moves
