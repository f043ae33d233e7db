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


def test_the_count_is_read_without_a_scan_and_each_new_product_adds_one(catalogue, monkeypatch):
    products = catalogue.products
    monkeypatch.setattr(dynamo, "scan", lambda *_a, **_k: pytest.fail("StartRun's count must not scan"))
    monkeypatch.setattr(dynamo, "item_count", lambda _table: 0)  # DynamoDB's own count lags by hours
    before = products.count()
    catalogue.put_product("NEW-1", product())
    catalogue.put_product("NEW-1", product("Widget, renamed"))  # a replaced product is not counted again
    catalogue.put_product("NEW-2", product())
    assert products.count() == before + 2
    assert catalogue.get_product("NEW-1").name == "Widget, renamed"


def test_products_stored_before_the_count_existed_are_counted_by_dynamodbs_item_count(catalogue):
    products = catalogue.products
    dynamo.batch_put(products.table, [{"sku": f"OLD-{i}", "name": "Old", "unit_price": 1} for i in range(40)])
    assert products.count() >= 40  # moto's ItemCount is current; AWS's is up to six hours old
    assert all(not p["sku"].startswith("#") for p in products.scan_segment(0, 1))  # the count is no product


def test_a_create_that_loses_the_race_is_stored_as_a_replacement_and_counted_once(catalogue, monkeypatch):
    products = catalogue.products
    monkeypatch.setattr(dynamo, "item_count", lambda _table: 0)
    before = products.count()
    real_get = products.get
    stale = iter([None])  # the first read misses a product another request has just created

    monkeypatch.setattr(products, "get", lambda sku: next(stale, None) or real_get(sku))
    dynamo.batch_put(products.table, [{"sku": "RACE-1", "name": "Theirs", "unit_price": 1}])
    catalogue.put_product("RACE-1", product("Ours"))
    assert catalogue.get_product("RACE-1").name == "Ours"
    assert products.count() == before  # ours replaced it: not counted (theirs went behind the count's back)
