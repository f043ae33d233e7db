"""A SKU's last review as the nightly run keeps it on the (SKU, location) stock item (docs/replenishment.md,
"Review period"), against template.yaml's table in moto."""

from __future__ import annotations

import uuid

import pytest

from orderflow.platform import dynamo
from orderflow.shared.errors import TransientError


@pytest.fixture(scope="module")
def stock(stack):
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.shared.settings import get_settings

    return StockRepository(get_settings().stock_table)


def test_a_review_mark_only_moves_forward(stock):
    sku = f"SKU-review-{uuid.uuid4().hex[:6]}"
    stock.mark_reviewed(sku, "main", "2026-12-08")
    stock.mark_reviewed(sku, "main", "2026-12-01")  # a batch of an earlier cycle, retried late
    stock.mark_reviewed(sku, "east", "2026-12-01")
    position = stock.get_many([sku])[sku]
    assert (position.last_review("main"), position.last_review("east")) == ("2026-12-08", "2026-12-01")
    assert position.last_review("west") is None
    assert position.locations == []  # a mark alone is no stock level: the SKU holds nothing anywhere

    stock.mark_reviewed(sku, "main", "2026-12-15")
    assert stock.get_many([sku])[sku].last_review("main") == "2026-12-15"


def test_a_review_mark_that_meets_an_orders_transaction_is_written_on_a_later_try(stock, monkeypatch):
    sku, real, calls = f"SKU-review-{uuid.uuid4().hex[:6]}", dynamo.apply, []

    def conflicted_once(write, *args, **kwargs):
        calls.append(write.key)
        if len(calls) == 1:  # what dynamo.apply raises for TransactionConflictException
            raise TransientError("DynamoDB is busy (TransactionConflictException); try again")
        return real(write, *args, **kwargs)

    monkeypatch.setattr(dynamo, "apply", conflicted_once)
    stock.mark_reviewed(sku, "main", "2026-12-08")
    assert len(calls) == 2 and stock.get_many([sku])[sku].last_review("main") == "2026-12-08"


def test_the_last_review_is_the_later_of_the_orders_mark_and_the_review_mark(stock):
    sku = f"SKU-review-{uuid.uuid4().hex[:6]}"
    dynamo.apply(stock.order(sku, 40, "main", mark=("2026-12-08", "po-2026-12-08--acme-b0-" + sku)))
    stock.mark_reviewed(sku, "main", "2026-12-01")
    assert stock.get_many([sku])[sku].last_review("main") == "2026-12-08"  # ordered on the 8th: reviewed then
    stock.mark_reviewed(sku, "main", "2026-12-15")
    position = stock.get_many([sku])[sku]
    assert position.last_review("main") == "2026-12-15" and position.at("main").on_order == 40
