"""The catalogue's count, which sizes the nightly run's batches without scanning the Products table: kept
in the transaction that creates a product, on the in-process services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderflow.catalogue.requests import ProductIn
from orderflow.platform import dynamo


@pytest.fixture(scope="module")
def catalogue(in_process_service):
    return in_process_service.catalogue


def product(name: str = "Widget") -> ProductIn:
    return ProductIn(name=name, unit_price=Decimal("2.50"))


def test_products_that_predate_the_count_are_counted_once_then_each_new_one_adds_one(catalogue, monkeypatch):
    products = catalogue.products
    dynamo.batch_put(products.table, [{"sku": f"OLD-{i}", "name": "Old", "unit_price": 1} for i in range(7)])
    assert products.count() == 7  # no count yet: one counting scan
    catalogue.put_product("NEW-1", product())
    catalogue.put_product("NEW-1", product("Widget, renamed"))  # a replaced product is not counted again
    catalogue.put_product("NEW-2", product())

    def no_scan(*_args, **_kwargs):
        raise AssertionError("the count is read, not scanned")

    monkeypatch.setattr(dynamo, "scan", no_scan)
    assert products.count() == 9
    monkeypatch.undo()
    assert {p["sku"] for p in products.scan_segment(0, 1)} == {*(f"OLD-{i}" for i in range(7)), "NEW-1", "NEW-2"}
    assert catalogue.get_product("NEW-1").name == "Widget, renamed"


def test_a_create_that_loses_the_race_is_stored_as_a_replacement_and_counted_once(catalogue, monkeypatch):
    products = catalogue.products
    before = products.count()
    real_get = products.get
    stale = iter([None])  # the first read misses a product another request has just created

    monkeypatch.setattr(products, "get", lambda sku: next(stale, None) or real_get(sku))
    dynamo.batch_put(products.table, [{"sku": "RACE-1", "name": "Theirs", "unit_price": 1}])
    catalogue.put_product("RACE-1", product("Ours"))
    assert catalogue.get_product("RACE-1").name == "Ours"
    assert products.count() == before  # created behind the count's back (batch_put), not counted by ours
