"""The flash-sale model behind BENCHMARKS.md §12 (benchmarks/flashsale.py): the containers' copies of the product
are read once per container and TTL, not per order, and the containers come from the arrivals.

A small synthetic call pattern of the shape ``measure`` returns; no stack, no timing.
"""

import pytest

from benchmarks.flashsale import simulate


def pattern(cache_seconds: float = 5.0) -> dict:
    read = {"operation": "BatchGetItem", "key": "product", "calls": 0.0, "per_miss": 1.0, "units": 0.5,
            "write": False}
    return {"cache_seconds": cache_seconds, "handler_seconds": {"OrderIntakeFunction": 0.05},
            "calls": [{**read, "function": "OrderIntakeFunction"}, {**read, "function": "ValidateOrderFunction"},
                      {"function": "ReserveStockFunction", "operation": "TransactWriteItems", "key": "stock",
                       "calls": 1.0, "per_miss": 0.0, "units": 2.0, "write": True}]}


def test_each_container_reads_the_product_once_while_its_copy_lasts():
    row = simulate(pattern(), buckets=16, offered=500, seconds=3)
    containers = row["containers"]
    # Little's law: 500 orders a second × 55 ms held (the handler and the read) = 28 intake tasks at a time on
    # average; containers are started for the peak
    assert 28 <= containers["OrderIntake"] <= 80
    # the sale is shorter than the copy: each intake and Validate container read the product exactly once
    reads = row["product_reads_per_second"] * 3
    assert reads == containers["OrderIntake"] + containers["ValidateOrder"]
    assert row["failed"] == 0 and row["oversold"] == 0 and row["reserved"] == row["orders"]


def test_without_a_copy_every_order_reads_the_product_in_both_steps():
    row = simulate(pattern(), buckets=16, offered=500, seconds=3, cache_seconds=0)
    assert row["product_reads_per_second"] * 3 == 2 * row["orders"]


def test_a_copy_shorter_than_the_sale_is_read_again_after_it_expired():
    short, long = (simulate(pattern(), buckets=16, offered=500, seconds=6, cache_seconds=ttl) for ttl in (1, 60))
    per_container = short["product_reads_per_second"] * 6 / (short["containers"]["OrderIntake"]
                                                          + short["containers"]["ValidateOrder"])
    assert per_container == pytest.approx(6, rel=0.35)  # about once a second each, over 6 s
    assert long["product_reads_per_second"] < short["product_reads_per_second"] / 3


def test_one_key_read_by_every_order_caps_the_sale():
    """5,000 orders a second, each reading the product twice at ½ unit: 5,000 units a second against the key's
    3,000. With the copy, the stock buckets are the limit again."""
    capped = simulate(pattern(), buckets=64, offered=5_000, seconds=3, cache_seconds=0)
    copied = simulate(pattern(), buckets=64, offered=5_000, seconds=3)
    assert capped["throttled_calls"] > 0 and capped["accepted_per_second"] < 3_500
    assert copied["throttled_calls"] == 0 and copied["accepted_per_second"] > 4_500
