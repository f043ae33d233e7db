"""The order steps' few-second copy of the products they read (docs/scale.md, "Hot reads"): how long a copy
is trusted, that a change shows once it expired, and that a product not found is never kept.

``RecentProducts.read_many`` only prepares a read (the keys to ask DynamoDB for and how to answer from what
comes back), so these tests play DynamoDB's answer themselves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orderflow.catalogue.adapters.products import ProductsRepository
from orderflow.catalogue.adapters.recent import PRODUCT_CACHE_SECONDS, RecentProducts
from orderflow.platform.recent import Recent


# ------------------------------------------------------------------ Recent
def test_a_value_is_kept_for_its_seconds_and_read_again_after(clock):
    recent: Recent[str, int] = Recent(5, clock=clock)
    assert recent.get("a") is None
    recent.put("a", 1)
    clock.now += 4.999
    assert recent.get("a") == 1
    clock.now += 0.001  # exactly `seconds` after it was read: no longer trusted
    assert recent.get("a") is None
    assert recent.get("a") is None  # and gone, not back after a miss


def test_a_value_read_again_is_trusted_from_its_new_read(clock):
    recent: Recent[str, int] = Recent(5, clock=clock)
    recent.put("a", 1)
    clock.now += 4
    recent.put("a", 2)
    clock.now += 4  # 8 s after the first read, 4 after the second
    assert recent.get("a") == 2


def test_when_full_the_oldest_read_makes_room(clock):
    recent: Recent[str, int] = Recent(60, size=2, clock=clock)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 3)  # read again: now the newest
    recent.put("c", 4)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (3, None, 4)


def test_no_seconds_keeps_nothing(clock):
    recent: Recent[str, int] = Recent(0, clock=clock)
    recent.put("a", 1)
    assert recent.get("a") is None


# ------------------------------------------------------------------ RecentProducts
def item(sku: str, price: str = "9.50", active: bool = True) -> dict[str, Any]:
    return {"sku": sku, "name": sku, "unit_price": Decimal(price), "active": active}


def asked(read: Any) -> list[str]:
    return [key["sku"] for key in read.keys]


@pytest.fixture
def products(clock) -> RecentProducts:
    return RecentProducts(ProductsRepository("products"), clock=clock)


def test_products_read_a_moment_ago_are_not_read_again(products, clock):
    read = products.read_many(["A", "B"])
    assert asked(read) == ["A", "B"] and read.table == "products" and not read.consistent
    first = read.parse([item("A"), item("B", "3.00")])
    assert {sku: p.unit_price for sku, p in first.items()} == {"A": Decimal("9.50"), "B": Decimal("3.00")}

    clock.now += PRODUCT_CACHE_SECONDS - 0.1
    again = products.read_many(["A", "B"])
    assert asked(again) == []  # nothing asked of DynamoDB: the BatchGetItem reads only the customer
    assert again.parse([]) == first


def test_a_changed_product_is_seen_once_the_copy_expired(products, clock):
    products.read_many(["A"]).parse([item("A", "9.50")])
    clock.now += 1
    stale = products.read_many(["A"])
    assert asked(stale) == [] and stale.parse([])["A"].unit_price == Decimal("9.50")  # the staleness allowed

    clock.now += PRODUCT_CACHE_SECONDS - 1  # the copy's seconds are up: the product is read again
    fresh = products.read_many(["A"])
    assert asked(fresh) == ["A"]
    changed = fresh.parse([item("A", "12.00", active=False)])["A"]
    assert (changed.unit_price, changed.active) == (Decimal("12.00"), False)
    assert products.read_many(["A"]).parse([])["A"].active is False  # and that is kept from now on


def test_only_the_products_not_read_recently_are_asked_for(products, clock):
    products.read_many(["A"]).parse([item("A")])
    read = products.read_many(["A", "B"])
    assert asked(read) == ["B"]
    assert set(read.parse([item("B")])) == {"A", "B"}


def test_a_product_not_found_is_asked_for_every_time_so_a_new_one_can_be_ordered_at_once(products):
    read = products.read_many(["NEW"])
    assert read.parse([]) == {}  # unknown: the order is refused (unknown_skus)
    read = products.read_many(["NEW"])
    assert asked(read) == ["NEW"]  # created meanwhile: found on the very next order
    assert read.parse([item("NEW")])["NEW"].active


def test_each_container_keeps_its_own_copy(clock):
    """Two containers (two services) do not share: each reads the product once itself."""
    one, other = (RecentProducts(ProductsRepository("products"), clock=clock) for _ in range(2))
    one.read_many(["A"]).parse([item("A")])
    assert asked(other.read_many(["A"])) == ["A"]
