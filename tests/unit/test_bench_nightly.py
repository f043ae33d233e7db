"""The nightly-run model behind BENCHMARKS.md §11 (benchmarks/nightly.py), against numbers worked out by hand.

Pure arithmetic: no stack, no timing.
"""

import pytest

from benchmarks.nightly import LATENCY_MS, Catalogue, Measured, Setup, batch_requests, concurrency_for, model

FLAT = {**LATENCY_MS, "read": 10, "batch_read": 10, "scan_page": 10, "write": 10, "transaction": 10,
        "batch_write": 10, "sqs_send": 10, "child_overhead": 0}
SIZES = Measured(cpu_ms_per_sku=10, product_bytes=500, decision_bytes=900, decision_packed_bytes=200,
                 not_due_packed_bytes=40, po_bytes=400, history_bytes=40 * 1024)


def test_one_batchs_requests_as_built():
    r = batch_requests(Catalogue(skus=100, forecast_share=0.5, ordered_share=0.2), Setup(batch_size=100), SIZES)
    assert r["scan_pages"] == 1  # 50 KB of products
    assert r["reads"] == 100 + 1 + 50 + 2  # a stock Query each, locations, 50 demand Queries, suppliers
    assert r["batch_reads"] == 2  # last reviews and this cycle's purchase orders: one call each for 100 keys
    assert r["transactions"] == 10  # 20 % of the 50 forecast
    assert r["batch_writes"] == 3  # one DECISIONS item (100 decisions) + 50 review keys, 25 a call
    assert r["sqs_sends"] == 10
    # reads: scan 13 × 0.5, stock 100 × 0.5, histories 50 × 10 × 0.5, PO keys 100 × 1, review keys 100 × 0.5, 2
    assert r["rru"] == pytest.approx(6.5 + 50 + 250 + 100 + 50 + 2)
    # writes: the DECISIONS item (50 × 40 B + 50 × 200 B = 12,000 B: 12 units), 50 review keys, 10 × 2 × (1 + 2)
    # drafts, 10 sends, 1 result
    assert r["wru"] == pytest.approx(12 + 50 + 60 + 10 + 1)


def test_the_forecasts_hide_the_history_reads_and_batches_run_side_by_side():
    catalogue, setup = Catalogue(skus=1_000, forecast_share=1, ordered_share=0), Setup(batch_size=100, concurrency=5,
                                                                                       readers=10)
    run = model(catalogue, setup, SIZES, FLAT)
    # per batch: 1 scan page + 3 reads + 2 batch reads + 5 batch writes = 11 serial × 10 ms, 100 stock reads / 10
    # threads × 10 ms, 100 × 10 ms CPU; the histories (100 / 10 × 10 ms) arrive while the CPU runs
    assert run["batch"]["decide"] == pytest.approx(0.11 + 0.1 + 1.0)
    assert run["batch"]["send"] == pytest.approx(0.01)  # the batch's result only
    assert run["batches"] == 10 and run["waves"] == 2
    assert run["minutes"] * 60 == pytest.approx(4 + 2 * (1.21 + 0.01))


def test_the_cost_is_the_requests_at_list_prices():
    run = model(Catalogue(skus=1_000, forecast_share=1, ordered_share=0), Setup(batch_size=100), SIZES, FLAT)
    r = run["requests"]
    assert run["cost"]["DynamoDB reads (RRU)"] == pytest.approx(r["rru"] * 0.125e-6)
    assert run["cost"]["DynamoDB writes (WRU)"] == pytest.approx(r["wru"] * 0.625e-6)
    assert run["cost"]["Step Functions (transitions)"] == pytest.approx((2 * 10 + 5) * 0.000025)
    assert run["cost"]["Total"] == pytest.approx(sum(v for k, v in run["cost"].items() if k != "Total"))


def test_the_concurrency_from_the_arithmetic_meets_its_time():
    catalogue, setup = Catalogue(skus=1_000_000), Setup()
    lanes = concurrency_for(catalogue, setup, SIZES, minutes=15)
    assert model(catalogue, Setup(concurrency=lanes), SIZES)["minutes"] <= 15
    assert model(catalogue, Setup(concurrency=lanes - 1), SIZES)["minutes"] > 15
