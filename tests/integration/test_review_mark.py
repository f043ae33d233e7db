"""A SKU's last review as the nightly run keeps it in the SKU's stock partition (docs/replenishment.md,
"Review period"), against template.yaml's table in moto; and a single write that meets a transaction."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orderflow.platform import dynamo


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


class HeldOnce:
    """The DynamoDB client, on which the first UpdateItem meets a transaction holding its item (an order's, on
    a stock level): it is refused with ``TransactionConflictException`` and writes nothing (AWS's semantics for
    a single write)."""

    def __init__(self, real: Any) -> None:
        self.real, self.updates = real, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def update_item(self, **request: Any) -> Any:
        self.updates += 1
        if self.updates == 1:
            raise ClientError({"Error": {"Code": "TransactionConflictException",
                                         "Message": "Transaction is ongoing for the item"}}, "UpdateItem")
        return self.real.update_item(**request)


@pytest.fixture
def held_once(monkeypatch) -> HeldOnce:
    client = HeldOnce(dynamo.client())
    monkeypatch.setattr(dynamo, "client", lambda: client)
    monkeypatch.setattr(dynamo.time, "sleep", lambda _: None)
    return client


def test_a_single_write_that_meets_a_transaction_lands_once_and_a_failed_condition_is_not_retried(stock,
                                                                                                  held_once):
    sku = f"SKU-review-{uuid.uuid4().hex[:6]}"
    dynamo.apply(stock.restock(sku, 5))  # ADD on_hand: a second landing would show as 10
    assert held_once.updates == 2 and stock.get_many([sku])[sku].at("main").on_hand == 5

    stock.mark_reviewed(sku, "main", "2026-12-08")
    stock.mark_reviewed(sku, "main", "2026-12-01")  # its condition fails: reviewed later already
    assert held_once.updates == 4 and stock.get_many([sku])[sku].last_review("main") == "2026-12-08"


def test_the_last_review_is_the_later_of_the_orders_mark_and_the_review_mark(stock):
    sku = f"SKU-review-{uuid.uuid4().hex[:6]}"
    dynamo.apply(stock.order(sku, 40, "main", mark=("2026-12-08", "po-2026-12-08--acme-b0-" + sku)))
    stock.mark_reviewed(sku, "main", "2026-12-01")
    assert stock.get_many([sku])[sku].last_review("main") == "2026-12-08"  # ordered on the 8th: reviewed then
    stock.mark_reviewed(sku, "main", "2026-12-15")
    position = stock.get_many([sku])[sku]
    assert position.last_review("main") == "2026-12-15" and position.at("main").on_order == 40
