"""The real replenishment ASL executed by moto's Step Functions with the real replenish handlers.

One stack for the module, with batches of two SKUs (so every run fans out over several
parallel-scan segments) and no simulated supplier (purchase orders stay on the suppliers' queues for
the tests to read). Runs decide the whole catalogue, so each test makes its own SKUs and suppliers
and looks at those.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from orderflow import wiring
from orderflow.catalogue.requests import ProductIn, ReplenishmentIn
from orderflow.fulfilment import LocationIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.platform import dynamo
from orderflow.purchasing.domain import SupplierIn, SupplierReply, purchase_order_id
from orderflow.replenishment.runs import ReplenishmentRun
from orderflow.shared.errors import TransientError
from orderflow.shared.settings import get_settings
from orderflow.shared.types import MAIN_LOCATION
from orderflow_local.stack import LocalStack

pytestmark = pytest.mark.workflow
MACHINE = "ReplenishmentStateMachine"
BATCH_SIZE = 2
SAMPLES = Path(__file__).parents[2] / "events" / "samples"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(parameter_overrides={"ReplenishmentBatchSize": BATCH_SIZE}, simulate_suppliers=False)
    try:
        local.start()
        yield local
    finally:
        local.stop()


class Shop:
    """Builds catalogue, suppliers and history through the domain services, and runs the workflow."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.orders = wiring.order_service()
        self.catalogue = wiring.catalogue_service()
        self.inventory = wiring.inventory_service()
        self.purchasing = wiring.purchasing_service()
        self.replenishment = wiring.replenishment_service()
        self.prefix = uuid.uuid4().hex[:6]

    def supplier(self, capacity: int | None = None, active: bool = True) -> str:
        supplier_id = f"sup-{self.prefix}-{uuid.uuid4().hex[:4]}"
        self.purchasing.put_supplier(supplier_id, SupplierIn(name="Acme", capacity_per_cycle=capacity, active=active))
        return supplier_id

    def product(self, supplier_id: str | None, on_hand: int = 0, daily: float | None = 10.0, days: int = 120,
                **params) -> str:
        sku = f"SKU-{self.prefix}-{uuid.uuid4().hex[:6]}"
        replenishment = ReplenishmentIn(**{"unit_cost": Decimal("4.00"), "ordering_cost": Decimal("20"),
                                           "holding_cost_rate": 0.25, "lead_time_days": 5, "review_period_days": 7,
                                           **params})
        self.catalogue.put_product(sku, ProductIn(name=sku, unit_price=Decimal("9.90"), supplier_id=supplier_id,
                                               replenishment=replenishment))
        if on_hand:
            self.inventory.adjust_stock(sku, StockAdjustmentIn(quantity=on_hand, reason="count"))
        if daily is not None:
            self.history(sku, daily, days)
        return sku

    def history(self, sku: str, daily: float, days: int) -> None:
        today = datetime.now(UTC).date()
        week = [0.8, 1.0, 1.0, 1.1, 1.2, 1.4, 0.5]
        rows = [{"sku": sku, "day": (today - timedelta(days=n)).isoformat(), "quantity": round(daily * week[n % 7])}
                for n in range(1, days + 1)]
        assert self.replenishment.import_history(rows) == {"imported": days, "skipped": []}

    def run(self, expect: str = "SUCCEEDED") -> tuple[dict, dict[str, dict]]:
        """Run the workflow to its end; the run record and its decisions by SKU (``<sku>@<location>`` for a
        location other than main)."""
        name = f"run-test-{uuid.uuid4().hex[:8]}"
        described = self.stack.wait_for_execution(self.stack.start_execution(MACHINE, name, {}), timeout=120)
        assert described["status"] == expect, described
        run, decisions = self.replenishment.get_run(name)
        return run.model_dump(mode="json"), {d.key: d.model_dump(mode="json") for d in decisions}

    def messages(self, supplier_id: str) -> list[dict]:
        sqs = self.stack.boto3_client("sqs")
        url = self.purchasing.get_supplier(supplier_id).queue_url
        bodies = []
        while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            bodies += [json.loads(m["Body"]) for m in received]
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]}
                                                            for m in received])
        return bodies

    def on_order(self, sku: str) -> int:
        return self.inventory.get_stock(sku).on_order


@pytest.fixture(scope="module")
def shop(stack: LocalStack) -> Shop:
    return Shop(stack)


def test_every_replenish_handler_has_a_sample_it_accepts(stack):
    """First in the module, on an empty catalogue: the samples' run decides nothing."""
    handlers = {fn.handler_module: fn.logical_id for fn in stack.resources.functions if fn.code_dir.name == "replenish"}
    assert set(handlers) == {"start", "decide", "send", "finish", "sweep"}
    for module in ("start", "decide", "send", "finish"):
        event = json.loads((SAMPLES / f"replenish_{module}.json").read_text())
        assert stack.runtime.invoke(handlers[module], event), module
    swept = stack.runtime.invoke(handlers["sweep"], json.loads((SAMPLES / "replenish_sweep.json").read_text()))
    assert swept["runs_failed"] == []  # the samples' run COMPLETED: nothing to sweep
    run, _ = wiring.replenishment_service().get_run(event["run_id"])
    assert run.status == "COMPLETED" and run.counts.skus == 3


def test_a_run_orders_what_is_low_sends_it_and_reports_the_rest(shop):
    supplier = shop.supplier()
    low = shop.product(supplier, on_hand=5, moq=50, pack_size=10)
    stocked = shop.product(supplier, on_hand=5000)
    no_supplier = shop.product(None, on_hand=0)
    unknown_supplier = shop.product(f"ghost-{shop.prefix}", on_hand=0)
    short = shop.product(supplier, on_hand=0, days=5)
    zero_lead = shop.product(supplier, on_hand=0)
    stored = shop.stack.boto3_client("dynamodb")
    stored.update_item(TableName=get_settings().products_table, Key={"sku": {"S": zero_lead}},
                       UpdateExpression="SET replenishment.lead_time_days = :zero",
                       ExpressionAttributeValues={":zero": {"N": "0"}})  # stored before validation refused it
    incomplete = shop.product(supplier, on_hand=0)
    stored.update_item(TableName=get_settings().products_table, Key={"sku": {"S": incomplete}},
                       UpdateExpression="REMOVE replenishment.holding_cost_rate")
    inactive = shop.product(shop.supplier(active=False), on_hand=0)
    never_bought = f"SKU-{shop.prefix}-plain"
    shop.catalogue.put_product(never_bought, ProductIn(name="No parameters", unit_price=Decimal("1.00")))

    run, decisions = shop.run()

    assert run["status"] == "COMPLETED" and run["finished_at"] and run["error"] is None
    assert run["cycle"] == run["started_at"][:10]
    ordered = decisions[low]
    assert ordered["outcome"] == "ordered" and ordered["quantity"] >= 50 and ordered["quantity"] % 10 == 0
    assert ordered["po_id"].startswith(f"po-{run['cycle']}--{supplier}-b")  # the batch's order to the supplier
    assert ordered["reorder_point"] > ordered["inventory_position"] == 5
    assert ordered["demand_class"] and ordered["method"] and ordered["forecast_daily"] > 0
    po = shop.purchasing.get_purchase_order(ordered["po_id"])
    assert po.status == "SENT" and po.run_id == run["run_id"]
    assert shop.on_order(low) == ordered["quantity"]
    [message] = shop.messages(supplier)
    assert message["po_id"] == ordered["po_id"] and message["supplier_id"] == supplier
    assert [(line["sku"], line["quantity"]) for line in message["lines"]] == [(low, ordered["quantity"])]

    assert decisions[stocked]["outcome"] == "not_needed" and decisions[stocked]["quantity"] == 0
    assert "above the reorder point" in decisions[stocked]["reason"]
    assert shop.on_order(stocked) == 0
    assert decisions[no_supplier]["outcome"] == "skipped" and "no supplier" in decisions[no_supplier]["reason"]
    assert "unknown supplier" in decisions[unknown_supplier]["reason"]
    assert "history too short" in decisions[short]["reason"]
    assert "lead time is 0 days" in decisions[zero_lead]["reason"] and shop.on_order(zero_lead) == 0
    assert decisions[incomplete]["reason"] == \
        "replenishment parameters: replenishment.holding_cost_rate: Field required"
    assert "is inactive" in decisions[inactive]["reason"]
    assert never_bought not in decisions  # not replenished by Orderflow: neither decided nor counted

    counts = run["counts"]
    outcomes = [d["outcome"] for d in decisions.values()]
    assert counts["skus"] == len(decisions)
    for outcome in ("ordered", "not_needed", "already_ordered", "skipped"):
        assert counts[outcome] == outcomes.count(outcome)
    assert counts["sent"] == counts["ordered"] >= 1


def test_the_same_cycle_run_twice_orders_once(shop):
    supplier = shop.supplier()
    sku = shop.product(supplier, on_hand=0)
    first, decisions = shop.run()
    if first["cycle"] != datetime.now(UTC).date().isoformat():  # the day turned just now: start on the new one
        first, decisions = shop.run()
    po_id = decisions[sku]["po_id"]
    quantity = decisions[sku]["quantity"]
    assert decisions[sku]["outcome"] == "ordered" and quantity > 0
    assert len(shop.messages(supplier)) == 1

    second, again = shop.run()

    assert second["cycle"] == first["cycle"]
    assert again[sku]["outcome"] == "already_ordered" and again[sku]["po_id"] == po_id
    assert second["counts"]["ordered"] == 0 and second["counts"]["sent"] == 0
    assert shop.on_order(sku) == quantity
    assert shop.messages(supplier) == []
    assert shop.purchasing.get_purchase_order(po_id).status == "SENT"


def test_supplier_capacity_caps_what_is_ordered_from_it(shop):
    supplier = shop.supplier(capacity=30)
    skus = [shop.product(supplier, on_hand=0) for _ in range(3)]

    run, decisions = shop.run()

    mine = [decisions[sku] for sku in skus]
    ordered = [d for d in mine if d["outcome"] == "ordered"]
    assert sum(d["quantity"] for d in ordered) == 30
    assert all(d["capped"] for d in ordered)
    for d in mine:
        if d["outcome"] != "ordered":
            assert d["outcome"] == "skipped" and "capacity" in d["reason"]
    assert sum(shop.on_order(sku) for sku in skus) == 30
    assert shop.purchasing.remaining_capacity(shop.purchasing.get_supplier(supplier), run["cycle"]) == 0
    assert sorted(line["quantity"] for m in shop.messages(supplier) for line in m["lines"]) == \
        sorted(d["quantity"] for d in ordered)


def test_batches_cover_every_replenished_sku_exactly_once(shop, stack):
    supplier = shop.supplier()
    mine = {shop.product(supplier, on_hand=5000) for _ in range(5)}
    catalogue = shop.replenishment.products.count()
    name = f"run-test-{uuid.uuid4().hex[:8]}"
    arn = stack.start_execution(MACHINE, name, {"trigger": "schedule"})
    assert stack.wait_for_execution(arn, timeout=120)["status"] == "SUCCEEDED"
    history = stack.boto3_client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    started = next(json.loads(e["stateExitedEventDetails"]["output"]) for e in history
                   if e.get("stateExitedEventDetails", {}).get("name") == "StartRun")

    assert started["run"]["segments"] == list(range(started["run"]["total_segments"]))
    assert started["run"]["total_segments"] == math.ceil(catalogue / BATCH_SIZE) > 1
    run, decisions = shop.replenishment.get_run(name)
    assert run.trigger == "schedule"
    decided = [d.sku for d in decisions]
    assert mine <= set(decided) and len(decided) == len(set(decided))
    # a SKU decided by two batches would count twice but store one decision
    assert run.counts.skus == len(decided)


def test_retried_steps_draft_and_send_nothing_twice(shop, stack):
    """Decide fails after its drafts landed and Send fails once: both are retried, and the run still has
    one purchase order, one message and one on_order increase for the SKU, counted once."""
    supplier = shop.supplier()
    sku = shop.product(supplier, on_hand=0)

    def decide_then_fail(event, context):
        stack.runtime.invoke("ReplenishDecideFunction", event)  # the real step: drafts and stores decisions
        raise TransientError("lost the connection after deciding")

    stack.runtime.inject_fault("ReplenishDecideFunction", decide_then_fail)
    stack.runtime.inject_fault("ReplenishSendFunction", TransientError("SQS is busy"))

    run, decisions = shop.run()

    assert run["status"] == "COMPLETED"
    decision = decisions[sku]
    assert decision["outcome"] == "ordered" and decision["method"]  # the first attempt's decision, kept
    assert len(shop.messages(supplier)) == 1
    assert shop.on_order(sku) == decision["quantity"] > 0
    assert run["counts"]["sent"] == run["counts"]["ordered"]


def test_drafts_an_unfinished_run_left_on_an_earlier_day_are_cancelled_and_decided_again(shop):
    """A run that failed before sending leaves DRAFTs whose units sit in on_order; the next day's run
    looks for other ids, so without this they would never be sent and every later run would buy too
    little. A draft of a run still RUNNING is that run's to send."""
    supplier_id = shop.supplier()
    supplier = shop.purchasing.get_supplier(supplier_id)
    orphaned, waiting = shop.product(supplier_id, on_hand=0), shop.product(supplier_id, on_hand=0)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    slow = f"run-slow-{shop.prefix}"
    shop.replenishment.runs.start(ReplenishmentRun(run_id=slow, cycle=yesterday, status="RUNNING",
                                                   started_at=f"{yesterday}T02:00:00.000Z"))
    stale, _ = shop.purchasing.draft(cycle=yesterday, run_id=f"run-gone-{shop.prefix}", supplier=supplier,
                                     sku=orphaned, quantity=40, unit_cost=Decimal("4.00"), lead_time_days=5)
    kept, _ = shop.purchasing.draft(cycle=yesterday, run_id=slow, supplier=supplier, sku=waiting, quantity=30,
                                    unit_cost=Decimal("4.00"), lead_time_days=5)
    assert shop.on_order(orphaned) == 40

    run, decisions = shop.run()

    cancelled = shop.purchasing.get_purchase_order(stale.po_id)
    assert cancelled.status == "CANCELLED" and run["run_id"] in cancelled.timeline[-1].reason
    today = decisions[orphaned]
    assert today["outcome"] == "ordered" and today["po_id"].startswith(f"po-{run['cycle']}--{supplier_id}-b")
    assert shop.on_order(orphaned) == today["quantity"]  # the 40 never sent are no longer counted
    assert shop.purchasing.get_purchase_order(kept.po_id).status == "DRAFT"  # still its own run's to send
    assert [m["po_id"] for m in shop.messages(supplier_id)
            if orphaned in {line["sku"] for line in m["lines"]}] == [today["po_id"]]


def test_a_batch_that_fails_fails_the_run_with_the_error(shop, stack):
    """A batch fails for good (no retry for an unexpected error): the run ends FAILED and says so. (AWS
    fails the Map itself; moto's DISTRIBUTED Map returns null for the batch, which FinishRun refuses.)"""
    stack.runtime.inject_fault("ReplenishDecideFunction", RuntimeError("forecast service exploded"))

    run, _ = shop.run(expect="FAILED")

    assert run["status"] == "FAILED" and run["finished_at"]
    assert "batches" in run["error"] or "forecast service exploded" in run["error"], run["error"]


def test_a_run_whose_start_fails_is_still_recorded_as_failed(shop, stack):
    stack.runtime.inject_fault("ReplenishStartFunction", RuntimeError("catalogue unreadable"))

    run, decisions = shop.run(expect="FAILED")

    assert run["status"] == "FAILED" and decisions == {}
    assert run["error"] == "RuntimeError: catalogue unreadable"
    assert run["cycle"] == run["started_at"][:10] and run["trigger"] == "manual"
    assert run["run_id"] in [r.run_id for r in shop.replenishment.list_runs(50)]


def test_a_run_requested_now_is_listed_and_completes(shop, stack):
    requested = shop.replenishment.request_run("restock before the sale")
    assert requested.status == "RUNNING" and requested.run_id.startswith("run-")

    described = stack.wait_for_execution(stack.execution_arn(MACHINE, requested.run_id), timeout=120)

    assert described["status"] == "SUCCEEDED"
    run, _ = shop.replenishment.get_run(requested.run_id)
    assert run.status == "COMPLETED" and run.trigger == "api"
    assert shop.replenishment.list_runs(50)[0].run_id == requested.run_id
    listed = [r.started_at for r in shop.replenishment.list_runs(50)]
    assert listed == sorted(listed, reverse=True)


def test_a_sku_is_decided_once_per_review_period_and_a_skip_is_decided_again_next_cycle(shop):
    """Decide on cycles of our choosing (the workflow's cycle is the day it runs). Last in the module:
    these cycles lie in the future, and a batch decides the whole catalogue."""
    supplier = shop.supplier()
    weekly = shop.product(supplier, on_hand=5000, review_period_days=7)
    daily = shop.product(supplier, on_hand=5000, review_period_days=1)
    unsupplied = shop.product(None, on_hand=0, review_period_days=7)
    short = shop.product(supplier, on_hand=0, review_period_days=7)  # ordered on its first review
    first = datetime.now(UTC).date() + timedelta(days=30)

    def decide(days_later: int, run_id: str | None = None) -> dict[str, dict]:
        cycle = (first + timedelta(days=days_later)).isoformat()
        run_id = run_id or f"run-review-{days_later}-{uuid.uuid4().hex[:8]}"
        runs.append(run_id)
        counts = shop.replenishment.decide_batch({"run_id": run_id, "cycle": cycle,
                                                  "batch": {"segment": 0, "total_segments": 1}})["counts"]
        decisions = {sku: shop.replenishment.runs.get_decision(run_id, sku)
                     for sku in (weekly, daily, unsupplied, short)}
        assert counts["not_due"] >= sum(d.outcome == "not_due" for d in decisions.values())
        return {sku: d.model_dump(mode="json") for sku, d in decisions.items()}

    def last_reviews() -> dict[str, str | None]:
        stock = shop.replenishment.stock.get_many([weekly, daily, unsupplied, short])
        return {sku: position.last_review(MAIN_LOCATION) for sku, position in stock.items()}

    runs: list[str] = []
    reviewed = decide(0)
    assert reviewed[weekly]["outcome"] == reviewed[daily]["outcome"] == "not_needed"
    assert reviewed[unsupplied]["outcome"] == "skipped"
    # only the weekly SKU's review is marked, on its stock: a SKU reviewed every night is due whatever its last
    # review, and a skipped one is not reviewed
    assert reviewed[short]["outcome"] == "ordered"
    assert last_reviews() == {weekly: first.isoformat(), daily: None, unsupplied: None, short: first.isoformat()}
    # the ordered SKU's review is its order's mark, written in the order's transaction: no review write of its own
    level = dynamo.get(get_settings().stock_table, {"sku": short, "record": f"LEVEL#{MAIN_LOCATION}"})
    assert level["ordered_in"] == first.isoformat() and "reviewed_in" not in level
    assert dynamo.get(get_settings().stock_table, {"sku": short, "record": f"REVIEW#{MAIN_LOCATION}"}) is None

    batch_reads = []  # a last review is read with the stock Decide reads anyway: no BatchGetItem of reviews
    dynamo_client = dynamo.client()
    hook = dynamo_client.meta.events.register("before-call.dynamodb.BatchGetItem",
                                              lambda params, **_: batch_reads.append(params))
    try:
        three_days_on = decide(3)
    finally:
        dynamo_client.meta.events.unregister("before-call.dynamodb.BatchGetItem", hook)
    assert not [read for read in batch_reads if get_settings().replenishment_table in read["RequestItems"]]
    assert three_days_on[weekly]["outcome"] == "not_due" and three_days_on[weekly]["method"] is None
    assert three_days_on[weekly]["reason"] == (f"Not due: reviewed every 7 days, last on {first.isoformat()}, "
                                               f"next on {(first + timedelta(days=7)).isoformat()}")
    assert three_days_on[daily]["outcome"] == "not_needed"
    assert three_days_on[short]["outcome"] == "not_due"
    assert three_days_on[unsupplied]["outcome"] == "skipped"  # not reviewed: tried again every cycle

    assert decide(3)[weekly]["outcome"] == "not_due"  # a second run of that cycle still waits
    assert decide(7)[weekly]["outcome"] == "not_needed"
    assert decide(7)[weekly]["outcome"] == "not_needed"  # reviewed in this cycle already: decided again
    assert last_reviews()[weekly] == (first + timedelta(days=7)).isoformat()

    # a batch of the first cycle retried after the later review decides again but leaves the later mark
    assert decide(0, run_id=runs[0])[weekly]["outcome"] == "not_needed"
    assert last_reviews()[weekly] == (first + timedelta(days=7)).isoformat()
    assert decide(10)[weekly]["outcome"] == "not_due"


def test_a_products_method_set_and_the_outliers_capped_show_in_its_decision(shop):
    supplier = shop.supplier()
    arima = shop.product(supplier, on_hand=0, forecast_methods=["sarimax"])
    spiky = shop.product(supplier, on_hand=0, daily=None)
    today = datetime.now(UTC).date()
    week = [0.8, 1.0, 1.0, 1.1, 1.2, 1.4, 0.5]
    rows = [{"sku": spiky, "day": (today - timedelta(days=n)).isoformat(),
             "quantity": 600 if n == 10 else round(10 * week[n % 7])} for n in range(1, 121)]
    assert shop.replenishment.import_history(rows) == {"imported": 120, "skipped": []}

    _, decisions = shop.run()

    assert decisions[arima]["method"] == "sarimax" and decisions[arima]["forecast_daily"] > 5
    assert decisions[arima]["outliers_capped"] == []
    [capped] = decisions[spiky]["outliers_capped"]
    assert capped["days_ago"] == 10 and capped["value"] == 600 and capped["capped_to"] < 40
    assert "1 outlier day(s) in the history capped" in decisions[spiky]["reason"]
    assert decisions[spiky]["forecast_daily"] < 15  # the forecast follows the 10 a day, not the spike


def test_a_generated_po_above_the_threshold_waits_for_approval_and_an_expired_one_is_decided_again(shop):
    """The nightly run holds a purchase order worth more than its supplier's approval threshold; a buyer's
    approval sends it. One whose approval expired is cancelled by the next run, which decides its SKU again."""
    supplier_id = f"sup-{shop.prefix}-{uuid.uuid4().hex[:4]}"
    shop.purchasing.put_supplier(supplier_id, SupplierIn(name="Pricey", approval_threshold=Decimal("50")))
    held, expiring = shop.product(supplier_id, on_hand=0), shop.product(supplier_id, on_hand=0)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    old, _ = shop.purchasing.draft(cycle=yesterday, run_id=f"run-gone-{shop.prefix}",
                                   supplier=shop.purchasing.get_supplier(supplier_id), sku=expiring, quantity=40,
                                   unit_cost=Decimal("4.00"), lead_time_days=5)
    assert shop.purchasing.send(old.po_id).status == "PENDING_APPROVAL"
    shop.stack.boto3_client("dynamodb").update_item(
        TableName=get_settings().purchase_orders_table, Key={"po_id": {"S": old.po_id}},
        UpdateExpression="SET approval_expires_at = :past",
        ExpressionAttributeValues={":past": {"S": f"{yesterday}T03:00:00.000Z"}})

    run, decisions = shop.run()

    expired = shop.purchasing.get_purchase_order(old.po_id)
    assert expired.status == "CANCELLED" and "approval expired" in expired.timeline[-1].reason
    for sku in (held, expiring):
        assert decisions[sku]["outcome"] == "ordered"
        po = shop.purchasing.get_purchase_order(decisions[sku]["po_id"])
        assert po.status == "PENDING_APPROVAL" and po.total > 50
        assert shop.on_order(sku) == decisions[sku]["quantity"]  # the expired 40 no longer counted
    # one order per supplier and batch: the two SKUs wait in one order, or in two when the run batched them apart
    waiting = {decisions[sku]["po_id"] for sku in (held, expiring)}
    assert run["counts"]["awaiting_approval"] >= len(waiting) and shop.messages(supplier_id) == []

    sent = shop.purchasing.approve(decisions[held]["po_id"], by="buyer-1")
    assert sent.status == "SENT" and [e.by for e in sent.timeline][-2:] == ["buyer-1", "buyer-1"]
    assert [m["po_id"] for m in shop.messages(supplier_id)] == [decisions[held]["po_id"]]


# ------------------------------------------------------------------ several suppliers per SKU
def several(shop: Shop, *terms: dict, on_hand: int = 0) -> str:
    """A SKU bought from several suppliers (``terms``: supplier_id, unit_cost, lead_time_days, ...)."""
    sku = f"SKU-{shop.prefix}-{uuid.uuid4().hex[:6]}"
    shop.catalogue.put_product(sku, ProductIn.model_validate({
        "name": sku, "unit_price": 9.9, "suppliers": list(terms),
        "replenishment": {"ordering_cost": 20, "holding_cost_rate": 0.25, "review_period_days": 7}}))
    if on_hand:
        shop.inventory.adjust_stock(sku, StockAdjustmentIn(quantity=on_hand, reason="count"))
    shop.history(sku, 10.0, 120)
    return sku


def test_a_sku_with_several_suppliers_is_bought_from_the_cheapest_landed_cost(shop):
    dear, cheap, slow = shop.supplier(), shop.supplier(), shop.supplier()
    sku = several(shop, {"supplier_id": dear, "unit_cost": 4.0, "lead_time_days": 5, "priority": 0},
                  {"supplier_id": cheap, "unit_cost": 3.0, "lead_time_days": 5},
                  # cheaper per unit, but a long and unreliable lead time needs far more safety stock held
                  {"supplier_id": slow, "unit_cost": 2.98, "lead_time_days": 60, "lead_time_sigma_days": 20})

    _, decisions = shop.run()

    decided = decisions[sku]
    assert decided["outcome"] == "ordered" and decided["supplier_id"] == cheap and decided["orders"] == []
    assert decided["supplier_choice"].startswith(f"cheapest landed cost first: {cheap} ")
    choice = decided["supplier_choice"]
    assert choice.index(cheap) < choice.index(slow) < choice.index(dear)  # 2.98 but slow beats 4.00
    po = shop.purchasing.get_purchase_order(decided["po_id"])
    assert po.supplier_id == cheap and po.lines[0].unit_cost == Decimal("3.00")
    assert shop.on_order(sku) == decided["quantity"]
    assert [m["po_id"] for m in shop.messages(cheap)] == [po.po_id] and shop.messages(dear) == []


def test_what_the_cheapest_cannot_take_goes_to_the_next_supplier(shop):
    cheap, dear = shop.supplier(capacity=30), shop.supplier()
    sku = several(shop, {"supplier_id": cheap, "unit_cost": 3.0, "lead_time_days": 5},
                  {"supplier_id": dear, "unit_cost": 4.0, "lead_time_days": 5})

    run, decisions = shop.run()

    decided = decisions[sku]
    assert decided["outcome"] == "ordered" and decided["quantity"] > 30
    parts = [(o["supplier_id"], o["quantity"]) for o in decided["orders"]]
    assert parts == [(cheap, 30), (dear, decided["quantity"] - 30)]
    assert "capped by its capacity" in decided["orders"][0]["reason"]
    second = shop.purchasing.get_purchase_order(decided["orders"][1]["po_id"])
    assert second.po_id == purchase_order_id(run["cycle"], sku, dear) and second.status == "SENT"
    assert shop.on_order(sku) == decided["quantity"]
    assert len(shop.messages(cheap)) == 1 and len(shop.messages(dear)) == 1


def test_when_the_chosen_supplier_rejects_the_next_run_orders_from_the_fallback(shop):
    cheap, fallback = shop.supplier(), shop.supplier()
    sku = several(shop, {"supplier_id": cheap, "unit_cost": 3.0, "lead_time_days": 5},
                  {"supplier_id": fallback, "unit_cost": 3.5, "lead_time_days": 5})
    first, decisions = shop.run()
    po_id = decisions[sku]["po_id"]
    assert shop.purchasing.get_purchase_order(po_id).supplier_id == cheap
    shop.purchasing.apply_reply(SupplierReply(schema_version="1", reply_id=uuid.uuid4().hex, po_id=po_id,
                                              supplier_id=cheap, type="REJECTED", reason="out of stock"))
    assert shop.on_order(sku) == 0

    second, again = shop.run()

    if second["cycle"] != first["cycle"]:
        pytest.skip("the day turned between the two runs")
    decided = again[sku]
    assert decided["outcome"] == "ordered" and decided["supplier_id"] == fallback
    assert decided["po_id"] == purchase_order_id(first["cycle"], sku, fallback)
    assert f"{cheap} (rejected {po_id} this cycle)" in decided["supplier_choice"]
    assert shop.on_order(sku) == decided["quantity"]
    assert [m["supplier_id"] for m in shop.messages(fallback)] == [fallback]

    _, once_more = shop.run()
    assert once_more[sku]["outcome"] == "already_ordered" and shop.on_order(sku) == decided["quantity"]


# ------------------------------------------------------------------ per location
def location(shop: Shop, name: str, active: bool = True) -> str:
    location_id = f"{name}-{shop.prefix}-{uuid.uuid4().hex[:4]}"
    wiring.fulfilment_service().put_location(location_id, LocationIn.model_validate({
        "name": name, "active": active,
        "address": {"name": name, "line1": "1 Quay", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"}}))
    return location_id


def test_each_location_that_stocks_a_sku_is_replenished_on_its_own_parameters_and_history(shop):
    """main and a warehouse both stock the SKU: each is decided on its own demand history and stock, the
    warehouse with its own lead time and MOQ, and each purchase order delivers to its location (on_order
    counted there). An override naming a location that does not exist is reported; an inactive location
    is not bought for; a second run of the cycle orders nothing twice."""
    supplier = shop.supplier()
    warehouse, closed = location(shop, "wh"), location(shop, "closed", active=False)
    ghost = f"ghost-{shop.prefix}"
    sku = shop.product(supplier, on_hand=5, daily=None, locations={warehouse: {"lead_time_days": 2, "moq": 400},
                                                                   closed: {}, ghost: {}})
    shop.inventory.adjust_stock(sku, StockAdjustmentIn(quantity=3, reason="count", location_id=warehouse))
    today = datetime.now(UTC).date()
    rows = [{"sku": sku, "day": (today - timedelta(days=n)).isoformat(), "quantity": quantity, "location_id": where}
            for n in range(1, 121) for where, quantity in (("main", 10 + n % 3), (warehouse, 4 + n % 2))]
    assert shop.replenishment.import_history(rows) == {"imported": 240, "skipped": []}

    run, decisions = shop.run()

    at_main, at_warehouse = decisions[sku], decisions[f"{sku}@{warehouse}"]
    assert (at_main["location_id"], at_warehouse["location_id"]) == ("main", warehouse)
    assert at_main["outcome"] == at_warehouse["outcome"] == "ordered"
    assert at_main["po_id"].startswith(f"po-{run['cycle']}--{supplier}-b") and "@" not in at_main["po_id"]
    assert at_warehouse["po_id"].endswith(f"-{sku}@{warehouse}")  # an order of its own: another delivery location
    assert at_warehouse["quantity"] >= 400 and at_warehouse["inventory_position"] == 3
    assert at_main["inventory_position"] == 5
    assert at_warehouse["horizon_days"] == 2 + 7 and at_main["horizon_days"] == 5 + 7
    assert f"{sku}@{closed}" not in decisions
    assert decisions[f"{sku}@{ghost}"]["outcome"] == "skipped"
    assert f"unknown location {ghost}" in decisions[f"{sku}@{ghost}"]["reason"]
    position = shop.inventory.get_stock(sku)
    assert (position.at("main").on_order, position.at(warehouse).on_order) == (
        at_main["quantity"], at_warehouse["quantity"])
    sent = {m["po_id"]: m["deliver_to"] for m in shop.messages(supplier)}
    assert sent == {at_main["po_id"]: "main", at_warehouse["po_id"]: warehouse}

    _, again = shop.run()
    assert again[sku]["outcome"] == again[f"{sku}@{warehouse}"]["outcome"] == "already_ordered"
    assert shop.messages(supplier) == [] and shop.inventory.get_stock(sku).on_order == position.on_order


def test_a_location_can_be_opted_out_and_a_sku_held_nowhere_is_bought_for_main(shop):
    supplier = shop.supplier()
    warehouse = location(shop, "wh")
    opted_out = shop.product(supplier, on_hand=0, locations={warehouse: {"replenish": False}})
    shop.inventory.adjust_stock(opted_out, StockAdjustmentIn(quantity=2, reason="count", location_id=warehouse))
    new = shop.product(supplier, on_hand=0)

    _, decisions = shop.run()

    assert f"{opted_out}@{warehouse}" not in decisions
    assert decisions[opted_out]["location_id"] == "main" and decisions[opted_out]["outcome"] == "ordered"
    assert decisions[new]["location_id"] == "main" and decisions[new]["outcome"] == "ordered"


def test_a_second_location_reads_the_skus_stock_and_demand_once(shop):
    """The Decide step's cost per SKU (docs/replenishment.md §5): one Query of its Stock partition and one of
    its Demand partition serve every location it is decided for, and the stock item says whether it was
    ordered there this cycle: no purchase order is read (docs/replenishment.md, "Once a cycle")."""
    from orderflow.platform import dynamo

    supplier, warehouse = shop.supplier(), location(shop, "wh")
    sku = shop.product(supplier, on_hand=5, daily=None)
    shop.inventory.adjust_stock(sku, StockAdjustmentIn(quantity=5, reason="count", location_id=warehouse))
    today = datetime.now(UTC).date()
    assert shop.replenishment.import_history([
        {"sku": sku, "day": (today - timedelta(days=n)).isoformat(), "quantity": 6, "location_id": where}
        for n in range(1, 61) for where in ("main", warehouse)])["imported"] == 120
    settings, seen = get_settings(), []

    def record(params: dict, model, **_) -> None:
        text = json.dumps(params, default=str)
        if sku in text:
            seen.extend((model.name, table) for table in params.get("RequestItems") or [params.get("TableName")])

    run_id = f"run-calls-{uuid.uuid4().hex[:8]}"
    started = shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test")
    dynamo.client().meta.events.register("provide-client-params.dynamodb.*", record, unique_id=run_id)
    try:
        decided = [shop.replenishment.decide_batch({"run_id": run_id, "cycle": started["cycle"], "batch": {
            "segment": segment, "total_segments": started["total_segments"]}}) for segment in started["segments"]]
    finally:
        dynamo.client().meta.events.unregister("provide-client-params.dynamodb.*", unique_id=run_id)

    assert sum(len(batch["po_ids"]) for batch in decided) >= 2
    assert seen.count(("Query", settings.stock_table)) == 1
    assert seen.count(("Query", settings.demand_table)) == 1
    assert seen.count(("BatchGetItem", settings.purchase_orders_table)) == 0
    assert seen.count(("GetItem", settings.purchase_orders_table)) == 0
    assert not [call for call in seen if call[0] == "Scan"]


def one_batch_of(shop, monkeypatch, skus: list[str]) -> None:
    """Decide sees only ``skus``, in one batch (segment 0 of 1): the module's other products are left out."""
    products = shop.replenishment.products
    scan = products.scan_segment
    monkeypatch.setattr(products, "scan_segment", lambda segment, total: [p for p in scan(0, 1) if p["sku"] in skus])


def test_a_batch_orders_a_suppliers_skus_on_one_purchase_order_and_drops_a_line_another_run_ordered(
        shop, monkeypatch):
    """docs/replenishment.md, "Once a cycle": another run orders one of the batch's SKUs after the batch read
    its stock. The batch's order is cancelled on that line's mark; it drafts the other lines again on one
    order, and its retry orders nothing twice."""
    from orderflow.purchasing.drafting import DraftLine

    supplier = shop.supplier()
    skus = sorted(shop.product(supplier, on_hand=0) for _ in range(4))
    one_batch_of(shop, monkeypatch, skus)
    run_id = f"run-race-{uuid.uuid4().hex[:8]}"
    started = {**shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test"), "segments": [0],
               "total_segments": 1}
    raced = skus[1]
    cycle, stock = started["cycle"], shop.replenishment.stock
    read = stock.get_many

    def read_then_lose_the_race(batch: list[str]) -> dict:
        found = read(batch)
        if raced in batch:
            other = shop.purchasing.get_supplier(supplier)
            shop.purchasing.draft_lines(cycle=cycle, run_id="run-other", supplier=other,
                                        po_id=f"po-{cycle}-other-{raced}", deliver_to="main",
                                        lines=[DraftLine(raced, 7, Decimal("4.00"), 5)])
        return found

    def decide() -> dict[str, dict]:
        for segment in started["segments"]:
            shop.replenishment.decide_batch({"run_id": run_id, "cycle": cycle, "batch": {
                "segment": segment, "total_segments": started["total_segments"]}})
        return {d.key: d.model_dump(mode="json") for d in shop.replenishment.get_run(run_id)[1] if d.sku in skus}

    monkeypatch.setattr(stock, "get_many", read_then_lose_the_race)
    decided = decide()
    monkeypatch.setattr(stock, "get_many", read)

    assert decided[raced]["outcome"] == "already_ordered" and "another run" in decided[raced]["reason"]
    assert decided[raced]["po_id"] == f"po-{cycle}-other-{raced}"  # the order that has it
    assert shop.on_order(raced) == 7  # the other run's line only
    rest = [sku for sku in skus if sku != raced]
    first = decided[skus[0]]
    assert {(decided[sku]["outcome"], decided[sku]["po_id"]) for sku in rest} == {("ordered", first["po_id"])}
    po = shop.purchasing.get_purchase_order(first["po_id"])
    assert po.po_id.startswith(f"po-{cycle}--{supplier}-b") and po.po_id.endswith(f"-{skus[0]}")
    assert {line.sku: line.quantity for line in po.lines} == {sku: decided[sku]["quantity"] for sku in rest}
    assert po.total == sum(line.unit_cost * line.quantity for line in po.lines)
    assert {sku: shop.on_order(sku) for sku in rest} == {sku: decided[sku]["quantity"] for sku in rest}

    again = decide()  # the batch retried: its SKUs are marked with this run's order, nothing is drafted again
    assert {sku: (d["outcome"], d["po_id"]) for sku, d in again.items()} == {
        sku: (d["outcome"], d["po_id"]) for sku, d in decided.items()}
    assert (shop.on_order(skus[0]), shop.on_order(raced)) == (first["quantity"], 7)


def test_a_batch_whose_supplier_capacity_was_taken_meanwhile_orders_what_is_left(shop, monkeypatch):
    """Another run takes most of the supplier's capacity after this batch decided: the batch's order is
    cancelled on the capacity's condition, and its lines are decided again, in SKU order, with what is
    left (docs/replenishment.md §2, step 4)."""
    from orderflow.purchasing.drafting import DraftLine

    supplier, left = shop.supplier(capacity=100_000), 150
    skus = sorted(shop.product(supplier, on_hand=0) for _ in range(4))
    interloper = shop.product(supplier, on_hand=0, daily=None)
    one_batch_of(shop, monkeypatch, skus)
    run_id = f"run-capacity-{uuid.uuid4().hex[:8]}"
    cycle = shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test")["cycle"]
    purchasing = shop.replenishment.purchasing
    draft_lines, taken = purchasing.draft_lines, []

    def after_another_run_took_capacity(**kwargs):
        if not taken:
            taken.append(draft_lines(cycle=cycle, run_id="run-other", supplier=kwargs["supplier"],
                                     po_id=f"po-{cycle}-other-{interloper}", deliver_to="main",
                                     lines=[DraftLine(interloper, 100_000 - left, Decimal("4.00"), 5)]))
        return draft_lines(**kwargs)

    monkeypatch.setattr(purchasing, "draft_lines", after_another_run_took_capacity)
    shop.replenishment.decide_batch({"run_id": run_id, "cycle": cycle, "batch": {"segment": 0, "total_segments": 1}})

    decided = {d.sku: d for d in shop.replenishment.get_run(run_id)[1] if d.sku in skus}
    ordered = {sku: d.quantity for sku, d in decided.items() if d.outcome == "ordered"}
    assert ordered and len(ordered) < len(skus)  # what is left covers some of them, in SKU order
    [po_id] = {decided[sku].po_id for sku in ordered}
    po = shop.purchasing.get_purchase_order(po_id)
    assert {line.sku: line.quantity for line in po.lines} == ordered and sum(ordered.values()) <= left
    assert {sku: shop.on_order(sku) for sku in skus} == {sku: ordered.get(sku, 0) for sku in skus}
    assert shop.purchasing.remaining_capacity(shop.purchasing.get_supplier(supplier), cycle) == left - sum(
        ordered.values())
    assert all("capacity" in decided[sku].reason for sku in skus if sku not in ordered), {
        sku: decided[sku].reason for sku in skus}


def test_the_approval_threshold_applies_to_the_value_of_a_run_orders_lines_together(shop, monkeypatch):
    """docs/purchasing.md, "The nightly run's orders": each line is worth less than the supplier's approval
    threshold, the order with both more: it waits for approval as a whole, and nothing goes to the supplier."""
    supplier_id = f"sup-{shop.prefix}-{uuid.uuid4().hex[:4]}"
    threshold = Decimal("2000")
    shop.purchasing.put_supplier(supplier_id, SupplierIn(name="Careful", approval_threshold=threshold))
    skus = sorted(shop.product(supplier_id, on_hand=0) for _ in range(2))
    one_batch_of(shop, monkeypatch, skus)
    run_id = f"run-approval-{uuid.uuid4().hex[:8]}"
    cycle = shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test")["cycle"]
    batch = {"segment": 0, "total_segments": 1}

    decided = shop.replenishment.decide_batch({"run_id": run_id, "cycle": cycle, "batch": batch})
    result = shop.replenishment.send_batch(run_id, batch, decided)

    [po_id] = decided["po_ids"]
    po = shop.purchasing.get_purchase_order(po_id)
    assert sorted(line.sku for line in po.lines) == skus
    assert all(line.unit_cost * line.quantity <= threshold for line in po.lines) and po.total > threshold
    assert po.status == "PENDING_APPROVAL" and shop.messages(supplier_id) == []
    assert (result["counts"]["awaiting_approval"], result["counts"]["sent"]) == (1, 0)
    assert shop.purchasing.approve(po_id, by="buyer").status == "SENT"
    [message] = shop.messages(supplier_id)
    assert sorted(line["sku"] for line in message["lines"]) == skus


def test_decide_forecasts_each_batch_at_once_with_the_global_model_trained_once_per_run(shop, monkeypatch):
    """Decide calls forecast_many for its batch (docs/forecasting.md, "In the nightly run"): every SKU it
    decides is forecast there, with the global model as a candidate, and the run's later batches in the same
    process reuse the model an earlier one trained, unless they forecast further ahead than it learnt."""
    from orderflow.forecasting import panel
    from orderflow.replenishment import ahead

    supplier = shop.supplier()
    skus = [shop.product(supplier, on_hand=2, daily=4.0 + i, days=90) for i in range(4)]
    calls: list[dict] = []
    original = panel.forecast_many

    def recorded(histories, horizon, *args, **kwargs):
        results = original(histories, horizon, *args, **kwargs)
        calls.append({"skus": {key[0] for key in histories}, "results": results, "horizon": max(horizon.values()),
                      "reused": [r.details["global_model"]["reused"] for r in results.values()
                                 if "global_model" in r.details]})
        return results

    monkeypatch.setattr("orderflow.forecasting.forecast_many", recorded)
    ahead._RUN_MODEL.clear()
    run_id = f"run-panel-{uuid.uuid4().hex[:8]}"
    started = shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test")
    for segment in started["segments"]:  # one after the other, as one warm Lambda container decides them
        shop.replenishment.decide_batch({"run_id": run_id, "cycle": started["cycle"], "batch": {
            "segment": segment, "total_segments": started["total_segments"]}})
    decisions = {d.key: d for d in shop.replenishment.get_run(run_id)[1]}

    assert set(skus) <= set().union(*(call["skus"] for call in calls))  # every SKU forecast in its batch's call
    assert len(calls) <= len(started["segments"])  # one call per batch, not per SKU
    learnt = 0  # the horizon of the model kept for the run
    for call in (call for call in calls if call["reused"]):
        assert all(call["reused"]) == (call["horizon"] <= learnt)
        learnt = max(learnt, call["horizon"])
    assert any(all(call["reused"]) for call in calls if call["reused"])
    for sku in skus:
        made = next(call["results"] for call in calls if sku in call["skus"])
        forecast = next(result for key, result in made.items() if key[0] == sku)
        assert decisions[sku].method == forecast.method and decisions[sku].outcome == "ordered"
        assert decisions[sku].forecast == pytest.approx([round(float(v), 4) for v in forecast.mean])


def test_a_batch_whose_panel_forecast_fails_forecasts_each_sku_on_its_own(shop, monkeypatch):
    """forecast_many failing (a numerical failure the panel cannot contain) costs the batch the global model,
    not its decisions: each SKU is forecast by forecast() alone, as before the panel call."""
    from orderflow.forecasting import forecast

    supplier = shop.supplier()
    sku = shop.product(supplier, on_hand=2, daily=6.0, days=90)

    def broken(*args, **kwargs):
        raise FloatingPointError("overflow in the panel")

    monkeypatch.setattr("orderflow.forecasting.forecast_many", broken)
    run_id = f"run-fallback-{uuid.uuid4().hex[:8]}"
    started = shop.replenishment.start_run(run_id, datetime.now(UTC).isoformat(), "test")
    for segment in started["segments"]:
        shop.replenishment.decide_batch({"run_id": run_id, "cycle": started["cycle"], "batch": {
            "segment": segment, "total_segments": started["total_segments"]}})
    decision = {d.key: d for d in shop.replenishment.get_run(run_id)[1]}[sku]

    history = [float(point["quantity"]) for point in shop.replenishment.history(sku, end=(
        datetime.fromisoformat(started["cycle"]) - timedelta(days=1)).date().isoformat())]
    alone = forecast(history, math.ceil(5 + 7), 7, intervals=False)
    assert decision.outcome == "ordered" and "gbm" not in decision.method and decision.method == alone.method
    assert decision.forecast == pytest.approx([round(float(v), 4) for v in alone.mean])


def test_lead_times_come_from_purchase_order_receipts_and_the_decision_says_so(shop):
    """Received purchase orders of a SKU (sent on one day, received 12 days later) move its lead time
    from the product's 5 days; with few receipts, part of the way, with many, all of it."""
    from orderflow.platform import dynamo
    from orderflow.purchasing.adapters.purchase_orders import PurchaseOrdersRepository
    from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine

    supplier = shop.supplier()
    few, many, none = (shop.product(supplier, on_hand=0) for _ in range(3))
    repository = PurchaseOrdersRepository(get_settings().purchase_orders_table)
    sent = datetime.now(UTC) - timedelta(days=200)
    for sku, receipts in ((few, 3), (many, 25)):
        for i in range(receipts):
            at = sent + timedelta(days=7 * i)
            stamps = [(at + timedelta(days=d)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                      for d in (0, 12)]
            dynamo.apply(repository.create(PurchaseOrder(
                po_id=f"po-{sku}-{i}", supplier_id=supplier, cycle=stamps[0][:10], status="RECEIVED",
                lines=[PurchaseOrderLine(sku=sku, quantity=10, unit_cost=Decimal("4"), received=10)],
                total=Decimal("40"), created_at=stamps[0], updated_at=stamps[1],
                timeline=[PurchaseOrderEvent(status="SENT", at=stamps[0]),
                          PurchaseOrderEvent(status="RECEIVED", at=stamps[1])])))

    _, decisions = shop.run()

    assert decisions[none]["lead_time_source"] == "setting" and decisions[none]["lead_time_days"] == 5
    assert decisions[few]["lead_time_source"] == "blended" and decisions[few]["lead_time_receipts"] == 3
    assert 5 < decisions[few]["lead_time_days"] < 12
    assert decisions[many]["lead_time_source"] == "receipts" and decisions[many]["lead_time_days"] == 12
    # the longer lead time is planned for: more demand to cover before the next delivery
    assert decisions[many]["horizon_days"] == 12 + 7 > decisions[none]["horizon_days"]
    assert decisions[many]["reorder_point"] > decisions[none]["reorder_point"]
