"""The nightly-run model behind BENCHMARKS.md §11 (benchmarks/nightly.py), against numbers worked out by hand.

Pure arithmetic: no stack, no timing.
"""

from dataclasses import replace

import pytest

from benchmarks.nightly import (
    AS_BUILT_LEVER,
    LATENCY_MS,
    PER_SKU,
    Catalogue,
    Drafting,
    Measured,
    Setup,
    as_built,
    as_set,
    batch_requests,
    concurrency_for,
    levers,
    model,
    publisher,
)

FLAT = {**LATENCY_MS, "read": 10, "batch_read": 10, "scan_page": 10, "write": 10, "transaction": 10,
        "batch_write": 10, "sqs_send": 10, "child_overhead": 0}
SIZES = Measured(cpu_ms_per_sku=10, product_bytes=500, decision_bytes=900, decision_packed_bytes=200,
                 not_due_packed_bytes=40, po_bytes=400, history_bytes=40 * 1024)


def test_one_batchs_requests_as_built():
    catalogue = Catalogue(skus=100, forecast_share=0.5, ordered_share=0.2, periodic_share=0.5,
                          periodic_forecast_share=0.4)
    r = batch_requests(catalogue, Setup(batch_size=100), SIZES)
    assert r["scan_pages"] == 1 and r["reads"] == 100 + 1 + 50 + 2
    # no last reviews (on the stock items read anyway) and no purchase-order ids (the stock item has the mark)
    assert r["batch_reads"] == 0
    assert r["transactions"] == 1  # the 10 SKUs ordered: one order of 10 lines, its on_order and the capacity
    # Send: the one draft read, its supplier once, one SendMessageBatch, its SENT mark + the result
    assert (r["send_batch_reads"], r["send_reads"], r["sqs_sends"], r["writes"]) == (1, 1, 1, 2)
    # reads: scan 13 × 0.5, stock 100 × 0.5, histories 50 × 10 × 0.5, supplier and capacity 2; Send: the draft
    # (400 + 9 × 60 B) 1, the supplier 1
    assert r["rru"] == pytest.approx(6.5 + 50 + 250 + 2 + 1 + 1)
    # of the 20 periodic SKUs reviewed, the 16 not ordered get a review mark on their stock item (an UpdateItem
    # each); the 4 ordered ones' mark is their order's, in its transaction
    assert r["review_writes"] == pytest.approx(16) and r["batch_writes"] == 1
    # writes: the DECISIONS item 12, 16 review marks, 2 × (1 + 10 + 1) in the transaction, 1 SENT mark, 1 result
    assert r["wru"] == pytest.approx(12 + 16 + 24 + 1 + 1)


def test_one_batchs_requests_with_an_order_per_sku_as_before():
    catalogue = Catalogue(skus=100, forecast_share=0.5, ordered_share=0.2, periodic_share=0.5,
                          periodic_forecast_share=0.4)
    r = batch_requests(catalogue, Setup(batch_size=100), SIZES, drafting=PER_SKU)
    assert r["scan_pages"] == 1  # 50 KB of products
    assert r["reads"] == 100 + 1 + 50 + 2  # a stock Query each, locations, 50 demand Queries, supplier and capacity
    assert r["batch_reads"] == 2  # 50 last reviews and this cycle's 100 purchase orders: one call each
    assert r["transactions"] == 10  # 20 % of the 50 forecast
    assert r["batch_writes"] == 1  # one DECISIONS item (100 decisions) + 20 review keys, 25 a call
    # Send: the 10 drafts in one BatchGetItem, their supplier once, one SendMessageBatch, 10 SENT marks + the result
    assert (r["send_batch_reads"], r["send_reads"], r["sqs_sends"], r["writes"]) == (1, 1, 1, 11)
    # reads: scan 13 × 0.5, stock 100 × 0.5, histories 50 × 10 × 0.5, PO keys 100 × 1, review keys 50 × 0.5,
    # supplier and capacity 2; Send: 10 drafts × 1, the supplier 1
    assert r["rru"] == pytest.approx(6.5 + 50 + 250 + 100 + 25 + 2 + 10 + 1)
    # writes: the DECISIONS item (50 × 40 B + 50 × 200 B = 12,000 B: 12 units), 20 review keys, 10 × 2 × (1 + 2)
    # drafts, 10 SENT marks, 1 result
    assert r["wru"] == pytest.approx(12 + 20 + 60 + 10 + 1)


def test_a_nightly_reviewed_catalogue_reads_and_writes_no_last_reviews():
    r = batch_requests(Catalogue(skus=100, forecast_share=1, ordered_share=0), Setup(batch_size=100), SIZES)
    assert r["batch_reads"] == 0 and r["batch_writes"] == 1  # the DECISIONS item
    assert r["rru"] == pytest.approx(6.5 + 50 + 500 + 2)


def test_the_levers_drafting_the_purchase_orders_otherwise():
    catalogue, setup = Catalogue(skus=100, forecast_share=0.5, ordered_share=0.2, suppliers=2), Setup(batch_size=100)
    lines = batch_requests(catalogue, setup, SIZES, drafting=Drafting(lines_per_order=5, capacity_per_order=False))
    # 10 SKUs ordered in 2 orders of 5 lines (400 + 4 × 60 B: one unit each): a transaction each (2 orders, 10
    # on_order and 2 capacities, each at twice the price); 2 SENT marks; each supplier's one order in one request
    assert (lines["transactions"], lines["draft_writes"], lines["writes"], lines["sqs_sends"]) == (2, 0, 3, 2)
    assert lines["wru"] == pytest.approx(12 + 0 + 2 * (2 + 10 + 2) + 2 + 1)
    gathered = batch_requests(catalogue, setup, SIZES, drafting=Drafting(lines_per_order=5, capacity_per_order=False,
                                                                           gathered=True))
    # the lines wait in one item per supplier (5 × 60 B: one unit each, read back once); no purchase-order ids read
    assert gathered["wru"] == pytest.approx(lines["wru"] + 2)
    assert gathered["rru"] == pytest.approx(lines["rru"] - 100 + 2) and gathered["batch_reads"] == 0
    plain = batch_requests(catalogue, setup, SIZES, drafting=Drafting(transactional=False, capacity_per_order=False))
    # one order per SKU, each write alone: 10 orders, 10 on_order, 2 capacities; 10 SENT marks
    assert (plain["transactions"], plain["draft_writes"], plain["writes"]) == (0, 22, 11)
    assert plain["wru"] == pytest.approx(12 + 22 + 10 + 1)


def test_the_forecasts_hide_the_history_reads_and_batches_run_side_by_side():
    catalogue, setup = Catalogue(skus=1_000, forecast_share=1, ordered_share=0), Setup(batch_size=100, concurrency=5,
                                                                                       readers=10)
    run = model(catalogue, setup, SIZES, FLAT)
    # per batch: 1 scan page + 3 reads + 1 batch write = 5 serial × 10 ms, 100 stock reads / 10 threads × 10 ms,
    # 100 × 10 ms CPU; the histories (100 / 10 × 10 ms) arrive while the CPU runs
    assert run["batch"]["decide"] == pytest.approx(0.05 + 0.1 + 1.0)
    assert run["batch"]["send"] == pytest.approx(0.01)  # the batch's result only
    assert run["batches"] == 10 and run["waves"] == 2
    assert run["minutes"] * 60 == pytest.approx(4 + 2 * (1.15 + 0.01))


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


def test_the_levers_table_prices_the_worst_night_at_a_million_skus_for_each_way_of_drafting():
    rows = levers(SIZES, Setup())
    before, *_, per_run = rows.values()
    built = rows[AS_BUILT_LEVER]
    assert [row["suppliers"] for row in built] == [1, 20]
    assert built[0]["cost"] == model(Catalogue(skus=1_000_000), Setup(), SIZES)["cost"]  # as built: §11's worst row
    for grouped, alone in zip(built, before, strict=True):  # about 2.3 write units a SKU ordered instead of 7
        assert grouped["cost"]["DynamoDB writes (WRU)"] < alone["cost"]["DynamoDB writes (WRU)"] / 2
    # gathering a supplier's lines over the whole run: fewer orders when a batch buys from many suppliers
    assert per_run[1]["cost"]["Total"] < built[1]["cost"]["Total"]


def test_a_first_run_writes_a_review_only_for_the_skus_not_ordered_and_reads_none():
    first = Catalogue(skus=1_000_000, periodic_share=1, periodic_forecast_share=1)
    built = as_built(first, Setup())
    on_stock = model(first, Setup(), SIZES, drafting=built)["requests"]
    items = model(first, Setup(), SIZES, drafting=replace(built, reviews_on_stock=False))["requests"]
    assert on_stock["review_writes"] == pytest.approx(1_000_000 * (1 - 0.48))
    assert items["wru"] - on_stock["wru"] == pytest.approx(1_000_000 * 0.48)  # the ordered SKUs' reviews ride free
    assert items["rru"] - on_stock["rru"] == pytest.approx(1_000_000 * 0.5)  # no review item read


def test_the_stock_stream_publisher_gets_the_runs_on_order_but_not_its_review_marks():
    catalogue = Catalogue(skus=100, forecast_share=0.5, ordered_share=0.2, periodic_share=0.5,
                          periodic_forecast_share=0.4)
    r = batch_requests(catalogue, Setup(batch_size=100), SIZES)
    # the 10 SKUs ordered: their on_order; the 16 review marks are filtered off the Stock stream
    assert r["review_writes"] == pytest.approx(16) and r["stock_records"] == 10

    requests = {"lambda_per_request": 1.0, "lambda_per_gb_second": 0.0}
    # 3,200 records in a second over 4 shards read 4 times a second: 200 a read, in full batches of 100
    assert publisher(3200, 1.0, SIZES, requests) == pytest.approx(32)
    # a trickle: each record its own invocation
    assert publisher(8, 10.0, SIZES, requests) == pytest.approx(8)


def test_the_purchase_orders_records_and_their_sent_events_are_counted():
    """Each order's draft and SENT mark reach the stream publisher (the PurchaseOrders stream has no filter); the
    mark makes a PurchaseOrderSent, billed by the bus, stored by the events log and read by the KPIs."""
    catalogue, setup = Catalogue(skus=1_000, forecast_share=0.5, ordered_share=0.2, suppliers=2), Setup(batch_size=100)
    r = batch_requests(catalogue, setup, SIZES)
    assert (r["po_records"], r["po_events"]) == (4, 2)  # 10 SKUs ordered a batch: one order of 5 lines a supplier

    def line(name: str, **priced: float) -> float:
        free = {"lambda_per_request": 0.0, "lambda_per_gb_second": 0.0, "eventbridge_per_event": 0.0,
                "logs_per_gb": 0.0, "sqs_per_request": 0.0}
        return model(catalogue, setup, SIZES, FLAT, prices={**free, **priced})["cost"][name]

    # 10 batches: 20 orders, 40 records; a trickle over the run, so each record its own invocation
    assert line("Lambda (purchase-order stream publisher)", lambda_per_request=1.0) == pytest.approx(40)
    assert line("EventBridge (PurchaseOrderSent)", eventbridge_per_event=1.0) == pytest.approx(20)  # one chunk each
    # each event 700 B and 4 more lines of 60 B, at a dollar a GiB
    assert line("CloudWatch Logs (events log)", logs_per_gb=1.0) == pytest.approx(20 * 940 / 2**30)
    # the rule's SendMessage and the poller's receive and delete, ten a request; the KPI function gets what arrives in
    # its 5 s window, and the whole run (one wave of 10 batches) is shorter than that: one invocation
    kpis = "KPIs (PurchaseOrderSent: queue, function)"
    assert line(kpis, sqs_per_request=1.0) == pytest.approx(20 * 1.2)
    assert line(kpis, lambda_per_request=1.0) == 1
    run = model(catalogue, setup, SIZES, FLAT)
    assert run["cost"]["Total"] == pytest.approx(sum(v for k, v in run["cost"].items() if k != "Total"))


def test_the_model_runs_with_the_settings_the_template_deploys():
    """The figures describe the run as deployed: a changed batch size or concurrency in template.yaml changes them."""
    import yaml

    from benchmarks.common import TEMPLATE

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # CloudFormation tags: not needed here
    parameters = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Parameters"]
    setup = as_set()
    assert (setup.batch_size, setup.concurrency) == (parameters["ReplenishmentBatchSize"]["Default"],
                                                     parameters["ReplenishmentConcurrency"]["Default"])


def test_bigger_batches_make_fewer_purchase_orders_from_many_suppliers():
    """A batch splits each supplier's lines into its own orders: five times the SKUs a batch, a fifth of the orders."""
    catalogue = Catalogue(skus=1_000_000, forecast_share=1, ordered_share=0.5, suppliers=20)
    small, large = (model(catalogue, Setup(batch_size=n), SIZES) for n in (200, 1000))
    assert small["requests"]["po_events"] == pytest.approx(5 * large["requests"]["po_events"])
    assert large["cost"]["Step Functions (transitions)"] < small["cost"]["Step Functions (transitions)"] / 4
