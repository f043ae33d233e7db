"""Figure 10: the nightly replenishment run at 10k, 100k and 1M SKUs, modelled (issue 22, item 3).

:func:`model` is pure arithmetic (unit-tested in tests/unit/test_bench_nightly.py): the requests the Decide
and Send steps make per batch (as built: counted from ``orderflow.replenishment``'s code, docs/replenishment.md
§5), times request latencies, plus the CPU of forecast + policy per SKU measured by the ``replenish``
section (figure 7), give one batch's duration; batches run ``concurrency`` at a time. The same request
counts times on-demand list prices (``benchmarks.cost.PRICES``, us-east-1) give the cost of a run.

:func:`run` measures what the model needs besides the stored figure 7: the stored size of a decision, a
product and a purchase order, and of a SKU's two years of demand items, from the real models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from .cost import GB, PRICES

# Latency of one request from a Lambda function to the service in the same Region, in ms. DynamoDB: AWS
# publishes "single-digit millisecond performance at any scale" (https://aws.amazon.com/dynamodb/) and that a
# transaction does two underlying reads or writes of each item (DynamoDB Developer Guide, "Amazon DynamoDB
# Transactions: How it works", capacity management); the figures within that bound are assumptions, as are
# SQS's (AWS publishes no SQS latency) and the Distributed Map's own time per child execution.
LATENCY_MS: dict[str, float] = {
    "read": 5.0,  # GetItem, a one-partition Query of up to a few tens of KB
    "batch_read": 10.0,  # BatchGetItem of up to 100 keys
    "scan_page": 40.0,  # one 1 MB page of a parallel-scan segment
    "write": 8.0,  # a conditional Put or Update
    "transaction": 16.0,  # TransactWriteItems: two phases, twice a write
    "batch_write": 12.0,  # BatchWriteItem of up to 25 items
    "sqs_send": 15.0,  # SendMessage (assumed)
    "child_overhead": 200.0,  # the Distributed Map starting a child execution and its two Lambda tasks (assumed)
}
EXTRA_PRICES: dict[str, float] = {
    "sqs_per_request": 0.40 / 1_000_000,  # SQS standard queue, per 64 KB request
}
DECISIONS_PART = 200  # decisions per stored DECISIONS item (replenishment.adapters.runs.PART)
# The stream publisher (PublishEventsFunction) is invoked for the run's writes to the Stock table that reach it:
# each ordered SKU's on_order (a stock level; no event comes of it). A review mark does not: the Stock stream's
# FilterCriteria passes levels only (template.yaml), and Lambda bills nothing for the records it drops. Lambda
# reads each shard 4 times a second and invokes once with what arrived, up to BatchSize (AWS Lambda Developer
# Guide, "Polling and batching streams").
# The purchase orders' own records reach it too: the PurchaseOrders stream has no filter, so each order's draft
# (INSERT) and its SENT mark (MODIFY) are records, and the mark makes its PurchaseOrderSent event. The bus sends
# that event to the events log (CloudWatch Logs, every event) and to the KPI queue (PurchaseOrderSent is among the
# KPI rule's types), whose function reads it in batches. Every draft is assumed under the approval threshold
# (PURCHASE_APPROVAL_THRESHOLD): one over it waits for approval, an event of its own, and is sent another night.
STREAM_BATCH = 100  # the mapping's BatchSize
STREAM_READS_PER_SECOND = 4
STREAM_SHARDS = 4  # shards a stream has during the run (assumed; each more shard divides the batches)
PUBLISH_MEMORY_MB = 512  # template.yaml's Globals
EVENT_ENVELOPE_BYTES = 300  # what EventBridge adds around an event's detail, as the events log stores it (§4's)
KPI_BATCH, KPI_WINDOW_SECONDS = 100, 5  # KpisFunction's SQS mapping: BatchSize, MaximumBatchingWindowInSeconds
KPI_MEMORY_MB = 512  # template.yaml's Globals
SQS_RECEIVES_PER_MESSAGE = 0.2  # Lambda's poller receives up to ten messages a request and deletes them ten a request
MAX_MINUTES, MAX_USD = 30, 2.00  # the goal for 1,000,000 SKUs
SIZES = (10_000, 100_000, 1_000_000)
KB, MB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Catalogue:
    """What a night's catalogue asks of the run."""

    skus: int
    forecast_share: float = 1.0  # decided tonight (review period due): 1.0 = every SKU reviewed daily, the worst case
    ordered_share: float = 0.48  # of those forecast, share that gets a purchase order (figure 7: 217 of 450)
    locations_per_sku: float = 1.0
    periodic_share: float = 0.0  # of the SKUs decided, those reviewed less often than nightly: their review counts
    periodic_forecast_share: float = 0.0  # of those forecast, the same: their review is written
    suppliers: float = 1.0  # suppliers a batch orders from (figure 7's catalogue: one)


@dataclass(frozen=True)
class Drafting:
    """How a batch writes the purchase orders of the SKUs it orders (``as_built``: one per supplier and location,
    with lines). The other shapes are the levers docs/decisions.md weighs ("The nightly run's purchase orders"):
    the one built before (an order per SKU) and ones modelled, not built."""

    lines_per_order: float = 1.0  # SKUs per purchase order
    transactional: bool = True  # order, on_order and capacity in one transaction: each item at twice the price
    capacity_per_order: bool = True  # the supplier's capacity written with each order (else once per supplier)
    # "Ordered this cycle" is a mark on the stock item Decide reads anyway, in place of the batch's BatchGetItem
    # of this cycle's purchase-order ids.
    marked: bool = False
    # Gathered across the run: a batch stores its lines per supplier and location (one item each, read back by the
    # step that drafts that supplier's orders); marked too.
    gathered: bool = False
    # A SKU's last review is in its stock partition, which Decide's Query reads anyway (``REVIEW#<location>``; an
    # ordered line's is its order's mark on the level): no BatchGetItem of review items, and a write (a conditional
    # UpdateItem) only for a SKU not ordered.
    # Else (before) a review item per SKU, read (100 keys a call) and written (25 a call).
    reviews_on_stock: bool = False


PER_SKU = Drafting()  # before: one purchase order per SKU, in one transaction with its on_order and the capacity
MAX_LINES = 98  # lines of a purchase order drafted in one TransactWriteItems (100 items) with their on_order


def per_batch(ordered: float, suppliers: float) -> Drafting:
    """As built: a batch's ``ordered`` SKUs (lines) on one purchase order per supplier (and location), up to
    ``MAX_LINES`` a transaction with their marked ``on_order`` and the supplier's capacity."""
    return Drafting(lines_per_order=min(MAX_LINES, max(1.0, ordered / suppliers)), marked=True, reviews_on_stock=True)


def as_built(c: Catalogue, s: Setup) -> Drafting:
    return per_batch(s.batch_size * c.locations_per_sku * c.forecast_share * c.ordered_share, c.suppliers)


@dataclass(frozen=True)
class Setup:
    """The run's settings (template.yaml parameters)."""

    batch_size: int = 1000  # ReplenishmentBatchSize (``as_set`` reads the template's)
    concurrency: int = 40  # ReplenishmentConcurrency
    memory_mb: int = 1769  # ReplenishDecideFunction (1 vCPU); the Send function is billed at 512 MB
    send_memory_mb: int = 512
    readers: int = 8  # threads reading stock and demand while the forecasts run (replenishment.service.READERS)


@dataclass(frozen=True)
class Measured:
    cpu_ms_per_sku: float  # forecast + policy on Decide's batch path, global model included, one core (figure 7)
    product_bytes: float = 1_000
    decision_bytes: float = 1_000
    decision_packed_bytes: float = 250  # a forecast SKU's decision in its batch's compressed DECISIONS item
    not_due_packed_bytes: float = 40  # a not_due decision there
    po_bytes: float = 1_000
    po_line_bytes: float = 60  # what one more line adds to a purchase order
    history_bytes: float = 30_000  # one SKU's two years of demand (its month items) as a Query reads them
    due_share: float = 1.0  # steady state: SKUs due for review on a night, the mean of 1 / review period
    ordered_share: float = 0.48  # steady state: of those due, the share ordered (1 / order cycle in reviews)
    periodic_share: float = 0.0  # steady state: SKUs reviewed less often than nightly
    periodic_due_share: float = 0.0  # steady state: of those due on a night, the share reviewed less often
    # the stream publisher's handling of one record: its mean invocation in the ``calls`` section, of one record or
    # a few (an upper bound: the records of a full batch share one invocation's overhead)
    publish_ms_per_record: float = 5.0
    # a PurchaseOrderSent event of a one-line order as the events log stores it (its detail and the envelope), and
    # what each more line adds, from the real models and ``orderflow.events.derive``
    sent_event_bytes: float = 700
    sent_event_line_bytes: float = 60
    # the KPI function's handling of one event: its mean invocation in the ``calls`` section (an upper bound, as above)
    kpis_ms_per_record: float = 10.0


def _units(size: float, unit: float) -> int:
    return max(1, math.ceil(size / unit))


def batch_requests(c: Catalogue, s: Setup, m: Measured, n: int | None = None,
                   drafting: Drafting | None = None) -> dict[str, float]:
    """Requests of one batch of ``n`` SKUs (default the batch size), as built (or drafted as ``drafting``
    says), and its read/write units."""
    drafting = drafting or as_built(c, s)
    n = s.batch_size if n is None else n
    decided = n * c.locations_per_sku
    forecast = decided * c.forecast_share
    ordered = forecast * c.ordered_share
    periodic, reviewed = decided * c.periodic_share, forecast * c.periodic_forecast_share
    review_writes = reviewed * (1 - c.ordered_share) if drafting.reviews_on_stock else 0.0  # one UpdateItem each
    if drafting.reviews_on_stock:  # read with the stock, and an ordered line's written with its order
        periodic, reviewed = 0.0, 0.0
    parts = max(1, math.ceil(decided / DECISIONS_PART))
    packed = (decided - forecast) * m.not_due_packed_bytes + forecast * m.decision_packed_bytes
    # the purchase orders: drafted, then marked SENT (a write of the whole item) after their messages
    orders = ordered / drafting.lines_per_order
    po_units = _units(m.po_bytes + (drafting.lines_per_order - 1) * m.po_line_bytes, KB)
    capacity = orders if drafting.capacity_per_order else c.suppliers
    price = 2 if drafting.transactional else 1
    draft_items = orders + ordered + capacity  # the orders, each SKU's on_order, the capacity
    per_supplier = ordered / c.suppliers / drafting.lines_per_order  # one supplier's orders in the batch
    held = c.suppliers if drafting.gathered else 0  # the batch's lines items
    held_bytes = ordered / c.suppliers * m.po_line_bytes
    po_ids = 0 if drafting.gathered or drafting.marked else decided  # this cycle's purchase orders looked up by id
    return {
        "scan_pages": _units(n * m.product_bytes, MB),
        # Decide: a stock Query per SKU, the locations, a demand Query per SKU forecast, each supplier and its
        # capacity; the last reviews (before: review items) and the cycle's purchase orders (100 keys a call); the
        # drafts; the batch's DECISIONS items and review keys (25 a call), or the review marks on the stock items
        "reads": n + 1 + n * c.forecast_share + 2 * c.suppliers,
        "batch_reads": math.ceil(periodic / 100) + math.ceil(po_ids / 100),
        "transactions": (max(orders, math.ceil(draft_items / 100)) if drafting.transactional else 0),
        "draft_writes": 0 if drafting.transactional else draft_items,
        "batch_writes": math.ceil((parts + reviewed + held) / 25),
        "review_writes": review_writes,
        # Send (send_many): the drafts read together, each supplier once, its messages ten a request
        # (SendMessageBatch), each order marked SENT; the batch's result
        "send_batch_reads": math.ceil(orders / 100),
        "send_reads": min(c.suppliers, orders),
        "sqs_sends": c.suppliers * math.ceil(per_supplier / 10),
        "writes": orders + 1,
        # what reaches the stream publisher from the Stock table: each ordered SKU's on_order; not the review marks
        # (the Stock stream's filter drops them)
        "stock_records": ordered,
        # what reaches it from the PurchaseOrders table (unfiltered): each order's draft and its SENT mark; the mark
        # makes the order's PurchaseOrderSent event
        "po_records": 2 * orders,
        "po_events": orders,
        "po_lines": ordered,
        # request units (eventually consistent reads cost half a unit per 4 KB): the scan, stock Queries, histories,
        # PO ids (strongly consistent), review keys, suppliers; Send: the drafts and suppliers (strongly consistent)
        "rru": (0.5 * _units(n * m.product_bytes, 4 * KB) + n * 0.5 + forecast * 0.5 * _units(m.history_bytes, 4 * KB)
                + po_ids * 1 + periodic * 0.5 + 2 * c.suppliers + orders * _units(m.po_bytes, 4 * KB)
                + held * _units(held_bytes, 4 * KB)
                + min(c.suppliers, orders)),
        "wru": (parts * _units(packed / parts, KB) + reviewed + review_writes + held * _units(held_bytes, KB)
                + price * (orders * po_units + ordered + capacity) + orders * po_units + 1),
    }


def batch_seconds(c: Catalogue, s: Setup, m: Measured, latency: dict[str, float] = LATENCY_MS,
                  n: int | None = None, drafting: Drafting | None = None) -> dict[str, float]:
    """One batch's Decide and Send durations, as built: the stock reads on ``readers`` threads, the demand
    histories read ahead on them while the forecasts run on the main thread, the drafts and the batched
    reads and writes one after another."""
    r = batch_requests(c, s, m, n, drafting)
    n = s.batch_size if n is None else n
    forecast = n * c.locations_per_sku * c.forecast_share
    stock = n * latency["read"] / s.readers  # before the first forecast: which locations need deciding
    histories = forecast * latency["read"] / s.readers  # read ahead while the forecasts run
    serial = (r["scan_pages"] * latency["scan_page"] + (1 + 2 * c.suppliers) * latency["read"]
              + r["batch_reads"] * latency["batch_read"] + r["batch_writes"] * latency["batch_write"]) / 1000
    cpu = forecast * m.cpu_ms_per_sku / 1000 * max(1.0, 1769 / s.memory_mb)
    drafts = (r["transactions"] * latency["transaction"]  # after the batch's decisions, one order after another
              + r["draft_writes"] * latency["write"]
              + r["review_writes"] * latency["write"] / s.readers) / 1000  # the review marks: on the reader threads
    io = serial + stock / 1000 + drafts
    waited = max(0.0, histories / 1000 - cpu - drafts)  # histories not yet there when their forecast is due
    send = (r["send_batch_reads"] * latency["batch_read"] + r["send_reads"] * latency["read"]
            + r["sqs_sends"] * latency["sqs_send"] + r["writes"] * latency["write"]) / 1000
    return {"decide_io": io + waited, "decide_cpu": cpu, "decide": io + waited + cpu, "send": send,
            "child": io + waited + cpu + send + latency["child_overhead"] / 1000}


def model(c: Catalogue, s: Setup, m: Measured, latency: dict[str, float] = LATENCY_MS,
          prices: dict[str, float] | None = None, drafting: Drafting | None = None) -> dict[str, Any]:
    """The run's duration (minutes) and cost (USD, per line) for the catalogue ``c``."""
    prices = {**PRICES, **EXTRA_PRICES, **(prices or {})}
    drafting = drafting or as_built(c, s)
    batches = max(1, math.ceil(c.skus / s.batch_size))
    one = batch_seconds(c, s, m, latency, drafting=drafting)
    waves = math.ceil(batches / s.concurrency)
    seconds = 2.0 + waves * one["child"] + 2.0  # StartRun, the batches, FinishRun (about 2 s each, assumed)
    r = {k: v * c.skus / s.batch_size for k, v in batch_requests(c, s, m, drafting=drafting).items()}
    gb_seconds = batches * (one["decide"] * s.memory_mb + one["send"] * s.send_memory_mb) / 1024
    cost = {
        "Lambda (duration)": gb_seconds * prices["lambda_per_gb_second"],
        "Lambda (requests)": (2 * batches + 3) * prices["lambda_per_request"],
        "Step Functions (transitions)": (2 * batches + 5) * prices["sfn_standard_per_transition"],
        "DynamoDB reads (RRU)": r["rru"] * prices["dynamodb_per_rru"],
        "DynamoDB writes (WRU)": r["wru"] * prices["dynamodb_per_wru"],
        "SQS (requests)": r["sqs_sends"] * prices["sqs_per_request"],
        "Lambda (stock stream publisher)": publisher(r["stock_records"], seconds, m, prices),
        **purchase_orders_sent(r, seconds, m, prices, drafting.lines_per_order),
    }
    cost["Total"] = sum(cost.values())
    return {"skus": c.skus, "batches": batches, "waves": waves, "batch": one, "minutes": seconds / 60,
            "cost": cost, "requests": r, "meets": seconds / 60 <= MAX_MINUTES and cost["Total"] < MAX_USD}


def publisher(records: float, seconds: float, m: Measured, prices: dict[str, float]) -> float:
    """What ``records`` stream records written over the run's ``seconds`` cost the publisher: its invocations
    (batches of what arrives between two reads of a shard, up to ``STREAM_BATCH``) and their duration."""
    batch = min(STREAM_BATCH, max(1.0, records / max(1.0, seconds) / STREAM_SHARDS / STREAM_READS_PER_SECOND))
    gb_seconds = records * m.publish_ms_per_record / 1000 * PUBLISH_MEMORY_MB / 1024
    return records / batch * prices["lambda_per_request"] + gb_seconds * prices["lambda_per_gb_second"]


PURCHASE_ORDER_LINES = ("Lambda (purchase-order stream publisher)", "EventBridge (PurchaseOrderSent)",
                        "CloudWatch Logs (events log)", "KPIs (PurchaseOrderSent: queue, function)")


def purchase_orders_sent(r: dict[str, float], seconds: float, m: Measured, prices: dict[str, float],
                         lines_per_order: float) -> dict[str, float]:
    """What the run's purchase orders cost after their writes: their records in the publisher, their
    PurchaseOrderSent events on the bus (per 64 KB chunk), in the events log and through the KPIs (the rule's
    delivery to the queue, the poller's receives and deletes, the function's invocations and duration)."""
    events = r["po_events"]
    event_bytes = m.sent_event_bytes + (lines_per_order - 1) * m.sent_event_line_bytes
    batch = min(KPI_BATCH, max(1.0, events / max(1.0, seconds) * KPI_WINDOW_SECONDS))
    kpis = (events * (1 + SQS_RECEIVES_PER_MESSAGE) * prices["sqs_per_request"]
            + math.ceil(events / batch) * prices["lambda_per_request"]
            + events * m.kpis_ms_per_record / 1000 * KPI_MEMORY_MB / 1024 * prices["lambda_per_gb_second"])
    return dict(zip(PURCHASE_ORDER_LINES, (
        publisher(r["po_records"], seconds, m, prices),
        events * _units(event_bytes, 64 * KB) * prices["eventbridge_per_event"],
        events * event_bytes / GB * prices["logs_per_gb"],
        kpis), strict=True))


def concurrency_for(c: Catalogue, s: Setup, m: Measured, minutes: float = MAX_MINUTES / 2,
                    latency: dict[str, float] = LATENCY_MS) -> int:
    """The least Map concurrency that finishes ``c`` within ``minutes`` (half the goal by default: the
    margin covers slower forecasts, retries and throttling)."""
    batches = math.ceil(c.skus / s.batch_size)
    per_batch = batch_seconds(c, s, m, latency)["child"]
    return max(1, math.ceil(batches * per_batch / (minutes * 60 - 4)))


# ---------------------------------------------------------------------- measured inputs
def _stored_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size, approximately: attribute names and values as UTF-8 (numbers as their text)."""
    return len(json.dumps(item, default=str, separators=(",", ":")).encode())


def measure(replenish: dict[str, Any]) -> Measured:
    """Sizes from the real models, over figure 7's seeded catalogue; CPU per SKU from figure 7's record of
    Decide's batch path (slower than ``forecast()`` one SKU at a time: the global model's features and σ)."""
    from orderflow.events.derive import Table, events_for
    from orderflow.inventory.adapters.demand import month_item
    from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderLine
    from orderflow.replenishment.adapters.runs import packed
    from orderflow.replenishment.decisions import decide_sku, not_due
    from orderflow.shared.types import MAIN_LOCATION

    from .replenish import HISTORY_DAYS, catalogue

    t = replenish["batch"]  # what Decide runs: forecast_many with the global model, its training amortised
    items = catalogue()[:60]
    decisions = [decide_sku(p, s, series[:HISTORY_DAYS].tolist(), None) for p, s, series in items]
    # Steady state: a SKU is looked at every review period and ordered once per order cycle (EOQ / daily
    # demand, at least one review period), so on a night the share due is 1 / review period and, of those,
    # the share ordered is review period / order cycle.
    reviews = [p.replenishment.review_period_days for p, _, _ in items]
    cycles = [max(r, (d.eoq or 0) / d.forecast_daily) if d.forecast_daily else math.inf
              for d, r in zip(decisions, reviews, strict=True)]
    stored = [_stored_bytes({"run_id": "run-20261206T010000Z-abcdef", "record": f"SKU#{d.sku}",
                             **d.model_dump(mode="python")}) for d in decisions]
    product, _, _ = items[0]
    idle = [d for p, _, _ in items for d in [not_due(p.model_copy(update={"replenishment": p.replenishment.model_copy(
        update={"review_period_days": 14})}), "2026-12-06", "2026-12-01")] if d]
    line = PurchaseOrderLine(sku=product.sku, quantity=120, unit_cost=product.replenishment.unit_cost)
    po = PurchaseOrder(po_id="po-2026-12-06-" + product.sku, supplier_id="acme", cycle="2026-12-06",
                       run_id="run-20261206T010000Z-abcdef", status="DRAFT", created_at="2026-12-06T01:00:00Z",
                       updated_at="2026-12-06T01:00:00Z", total=120 * product.replenishment.unit_cost, lines=[line])
    two_lines = po.model_copy(update={"lines": [line, line.model_copy(update={"sku": items[1][0].sku})]})

    def sent_event_bytes(draft: PurchaseOrder) -> int:  # its PurchaseOrderSent as the events log stores it
        old = draft.model_dump(mode="python", exclude_none=True)
        (event,) = events_for(Table.PURCHASE_ORDERS, old, {**old, "status": "SENT"}, sequence="1")
        return len(json.dumps(event.detail, separators=(",", ":")).encode()) + EVENT_ENVELOPE_BYTES
    history = catalogue()[0][2][:HISTORY_DAYS]
    last = date(2026, 12, 5)
    months: dict[str, dict[str, dict[str, int]]] = {}
    for back, units in enumerate(reversed(history.tolist())):  # every day recorded: the most a SKU stores
        day = (last - timedelta(days=back)).isoformat()
        months.setdefault(day[:7], {})[day] = {MAIN_LOCATION: round(units)}
    return Measured(cpu_ms_per_sku=t["cpu_seconds"] / t["skus"] * 1000,
                    product_bytes=_stored_bytes(product.model_dump(mode="python", exclude_none=True)),
                    decision_bytes=sum(stored) / len(stored),
                    decision_packed_bytes=len(packed(decisions)) / len(decisions),
                    not_due_packed_bytes=len(packed(idle)) / len(idle),
                    po_bytes=_stored_bytes(po.model_dump(mode="python", exclude_none=True)),
                    po_line_bytes=(_stored_bytes(two_lines.model_dump(mode="python", exclude_none=True))
                                   - _stored_bytes(po.model_dump(mode="python", exclude_none=True))),
                    sent_event_bytes=sent_event_bytes(po),
                    sent_event_line_bytes=sent_event_bytes(two_lines) - sent_event_bytes(po),
                    history_bytes=sum(_stored_bytes(month_item(product.sku, m, days)) for m, days in months.items()),
                    due_share=sum(1 / r for r in reviews) / len(reviews),
                    ordered_share=sum(r / c for r, c in zip(reviews, cycles, strict=True)) / len(reviews),
                    periodic_share=sum(r > 1 for r in reviews) / len(reviews),
                    periodic_due_share=sum(1 / r for r in reviews if r > 1) / sum(1 / r for r in reviews))


@cache
def _template() -> Any:
    """template.yaml as the local stack resolves it (its parameters' defaults), read once."""
    from orderflow_local.template import load_template

    from .common import TEMPLATE

    return load_template(TEMPLATE)


def as_set() -> Setup:
    """The run's settings as template.yaml deploys them (its parameters' defaults and the Decide function)."""
    template = _template()
    decide = next(fn for fn in template.functions if fn.logical_id == "ReplenishDecideFunction")
    return Setup(batch_size=int(template.parameters["ReplenishmentBatchSize"]),
                 concurrency=int(template.parameters["ReplenishmentConcurrency"]), memory_mb=decide.memory_size)


def timeouts() -> dict[str, int]:
    """The Decide and Send functions' timeouts as template.yaml sets them."""
    functions = {fn.logical_id: fn.timeout for fn in _template().functions}
    return {"decide": functions["ReplenishDecideFunction"], "send": functions["ReplenishSendFunction"]}


REVIEW_MIX = (1, 7, 14)  # figure 7's review periods, drawn uniformly: a SKU is due every 1, 7 or 14 nights


WORST = "every SKU due (daily review), 48 % of them ordered (figure 7's seeded stock)"
# The levers of docs/decisions.md ("The nightly run's purchase orders") on the worst night: how each drafts a
# batch's orders, given the SKUs it orders and the suppliers it orders them from. Only "as built" is built.
AS_BUILT_LEVER = ("as built: one purchase order per supplier and location per batch, its lines' on_order (marked "
                  "ordered this cycle) and the supplier's capacity in the same transaction")
LEVERS: dict[str, Callable[[float, float], Drafting]] = {
    "before: one purchase order per SKU, in one transaction with its on_order and the supplier's capacity":
        lambda ordered, suppliers: PER_SKU,
    "one purchase order per SKU without a transaction (the order; on_order with a marker that makes it "
    "idempotent; the capacity once per supplier and batch)":
        lambda ordered, suppliers: Drafting(transactional=False, capacity_per_order=False, marked=True),
    AS_BUILT_LEVER: per_batch,
    "one purchase order per supplier and location per run, up to 98 lines (with their on_order and the capacity, "
    "the 100 items of one transaction)": lambda ordered, suppliers: Drafting(lines_per_order=MAX_LINES,
                                                                             capacity_per_order=False, gathered=True),
}
LEVER_SUPPLIERS = (1, 20)  # suppliers a batch orders from: figure 7's catalogue, and a wider one


def levers(measured: Measured, setup: Setup) -> dict[str, list[dict[str, Any]]]:
    """The worst night at 1M SKUs under each way of drafting the purchase orders, for each supplier count."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, drafting in LEVERS.items():
        rows[name] = []
        for suppliers in LEVER_SUPPLIERS:
            catalogue = Catalogue(skus=SIZES[-1], suppliers=suppliers)
            ordered = setup.batch_size * catalogue.forecast_share * catalogue.ordered_share
            rows[name].append({"suppliers": suppliers, **model(catalogue, setup, measured,
                                                               drafting=drafting(ordered, suppliers))})
    return rows


def run(replenish: dict[str, Any]) -> dict[str, Any]:
    from .common import load

    measured = measure(replenish)
    calls = load("calls")
    if calls:  # the publisher's and the KPI function's mean invocations (of one record or a few)
        durations = calls["data"]["durations_ms"]
        measured = replace(measured, publish_ms_per_record=durations["PublishEventsFunction"]["mean"],
                           kpis_ms_per_record=durations["KpisFunction"]["mean"])
    setup = as_set()
    nights = {WORST: (1.0, 0.48, 0.0, 0.0),
              "every SKU due on a longer review period (a first run, or the night after missed runs), 48 % of them "
              "ordered": (1.0, 0.48, 1.0, 1.0),
              "steady state of figure 7's catalogue (review every 1, 7 or 14 days; each SKU ordered once per "
              "EOQ cycle)": (measured.due_share, measured.ordered_share, measured.periodic_share,
                             measured.periodic_due_share)}
    worst = Catalogue(skus=SIZES[-1])
    tuned = replace(setup, concurrency=concurrency_for(worst, setup, measured))
    rows = {night: {name: [model(Catalogue(n, due, ordered, periodic_share=periodic,
                                           periodic_forecast_share=periodic_due), chosen, measured)
                           for n in SIZES]
                    for name, chosen in (("as set", setup), ("least for 15 minutes", tuned))}
            for night, (due, ordered, periodic, periodic_due) in nights.items()}
    wide = {night: model(Catalogue(SIZES[-1], due, ordered, periodic_share=periodic,
                                   periodic_forecast_share=periodic_due, suppliers=LEVER_SUPPLIERS[-1]),
                         setup, measured)
            for night, (due, ordered, periodic, periodic_due) in nights.items()}
    return {"measured": asdict(measured), "latency_ms": LATENCY_MS, "nights": nights, "timeouts": timeouts(),
            "wide": wide,
            "setups": {"as set": asdict(setup), "least for 15 minutes": asdict(tuned)},
            "rows": rows, "levers": levers(measured, setup), "goal": {"minutes": MAX_MINUTES, "usd": MAX_USD}}


# ---------------------------------------------------------------------- BENCHMARKS.md
def render(record: dict[str, Any] | None) -> str:
    """Figure 11 of BENCHMARKS.md from the stored ``nightly`` record (the offline run's paragraph is
    ``nightly_offline``'s)."""
    out = ["## 11. Nightly replenishment run at 10k, 100k and 1M SKUs (modelled)\n"]
    if not record:
        return "\n".join([*out, "Not computed yet: run `python -m benchmarks nightly` (after `replenish`).\n"])
    d = record["data"]
    m, goal = d["measured"], d["goal"]
    tuned = d["setups"]["least for 15 minutes"]
    out.append(f"Command: `{record['command']}` · computed {record['date']} from figure 7's stored record. "
               "Pure arithmetic (`benchmarks/nightly.py`, unit-tested in tests/unit/test_bench_nightly.py): the "
               "requests the Decide and Send steps make per batch as built, times request latencies, plus the "
               "measured CPU of forecast + policy per SKU; batches run *concurrency* at a time. Prices: §4's "
               "us-east-1 on-demand list prices, and SQS at $0.40 per million requests.\n")
    out.append(f"Measured: forecast + policy **{m['cpu_ms_per_sku']:.2f} ms CPU per SKU** (figure 7, Decide's "
               "batch path with the global model, one core; the "
               f"Decide function's 1,769 MB is one vCPU, assumed as fast); stored sizes from the real models: a "
               f"decision {m['decision_bytes']:.0f} B as JSON, {m['decision_packed_bytes']:.0f} B compressed in its "
               f"batch's item ({m['not_due_packed_bytes']:.0f} B when not due), a product "
               f"{m['product_bytes']:.0f} B, a purchase order {m['po_bytes']:.0f} B (each more line "
               f"{m.get('po_line_bytes', 0):.0f} B), a SKU's two years of demand "
               f"{m['history_bytes'] / 1024:.1f} KB (its 24 month items, every day recorded: one Query of "
               f"{0.5 * _units(m['history_bytes'], 4 * KB):g} read units; one item per day took 36.4 KB, 4.5 "
               "units).\n")
    out.append("Latencies (ms, one request from Lambda in the same Region): "
               + ", ".join(f"{k} {v:g}" for k, v in d["latency_ms"].items())
               + ". Source: AWS publishes only \"single-digit millisecond performance at any scale\" for DynamoDB "
               "(https://aws.amazon.com/dynamodb/) and that a transaction does two underlying writes of each item "
               "(DynamoDB Developer Guide, \"Amazon DynamoDB Transactions: How it works\"); the figures within that "
               "bound, SQS's and the Distributed Map's time per child execution are assumptions.\n")
    for night, setups in d["rows"].items():
        due, ordered, periodic, periodic_due = (*d["nights"][night], 0.0, 0.0)[:4]
        out.append(f"**{night}**: {due:.0%} of the SKUs forecast, {ordered:.0%} of those ordered; "
                   f"{periodic:.0%} reviewed less often than nightly ({periodic_due:.0%} of those forecast), whose "
                   "last review is read with the stock and, for those not ordered, written beside it.\n")
        out += ["| SKUs | setup | batches | one batch (Decide + Send) | run | cost per run | "
                f"within {goal['minutes']} min and ${goal['usd']:.2f}? |", "|---:|---|---:|---:|---:|---:|---|"]
        for name, rows in setups.items():
            conc = d["setups"][name]["concurrency"]
            for row in rows:
                b = row["batch"]
                out.append(f"| {row['skus']:,} | {name} (batch {d['setups'][name]['batch_size']}, concurrency "
                           f"{conc}) | {row['batches']:,} | {b['decide']:.1f} s + {b['send']:.1f} s "
                           f"| {row['minutes']:.1f} min | ${row['cost']['Total']:.2f} | {_yes(row['meets'])} |")
        million = setups["least for 15 minutes"][-1]
        out.append("\n1M SKUs, per line: " + ", ".join(f"{k} ${v:.2f}" for k, v in million["cost"].items()
                                                     if k != "Total") + ".")
        wide = d.get("wide", {}).get(night)
        if wide:
            out.append(f"The same night at 1M SKUs as set, when a batch orders from {LEVER_SUPPLIERS[-1]} suppliers "
                       f"(about {LEVER_SUPPLIERS[-1]} times the purchase orders): {wide['minutes']:.0f} min, "
                       f"${wide['cost']['Total']:.2f}, {'within' if wide['meets'] else '**over**'} the goal.")
        out.append("")
    out.append("The stock stream publisher's line: the run's Stock table writes that reach PublishEventsFunction, "
               "each ordered SKU's `on_order` (a stock level), in batches of what arrives between two reads of a "
               f"shard (up to {STREAM_BATCH}; {STREAM_SHARDS} shards assumed), "
               f"each record {m.get('publish_ms_per_record', 5.0):.1f} ms of a {PUBLISH_MEMORY_MB} MB function "
               "(the publisher's mean invocation, of one record or a few, as `python -m benchmarks calls` "
               "measured it: an upper bound). The review marks "
               "are not among them: the Stock stream's `FilterCriteria` passes levels only, and Lambda bills no "
               "invocation for the records it drops (docs/decisions.md, \"The stock stream carries levels\").\n")
    out.append("The purchase orders' lines: the PurchaseOrders stream has no filter, so each order's draft and its "
               "SENT mark reach the publisher (batched as above), and the mark makes the order's "
               "`PurchaseOrderSent`: one custom event on the bus per 64 KB, stored by the events log (CloudWatch "
               f"Logs ingestion: {m.get('sent_event_bytes', 700):.0f} B for a one-line order, detail and envelope, "
               f"each more line {m.get('sent_event_line_bytes', 60):.0f} B, from the real models and "
               "`orderflow.events.derive`) and delivered to the KPI queue (the rule's SendMessage, the poller's "
               f"receives and deletes ten a request, KpisFunction's invocations of up to {KPI_BATCH} events each "
               f"{m.get('kpis_ms_per_record', 10.0):.1f} ms, its mean invocation in `calls`: an upper bound). Every "
               "draft is taken to be under the approval threshold and sent the same night. They grow with the "
               "orders, not the SKUs: over a million SKUs, every one due, "
               + ", ".join(f"from {row['suppliers']} supplier{'s' if row['suppliers'] > 1 else ''} a batch about "
                           f"{row['requests']['po_events']:,.0f} orders"
                           for row in d.get("levers", {}).get(AS_BUILT_LEVER, []))
               + " (the levers' table below).\n")
    as_set = d["setups"]["as set"]
    worst_night, steady_night = d["rows"][WORST]["as set"][-1], list(d["rows"].values())[-1]["as set"][-1]
    first_run = list(d["rows"].values())[1]["as set"][-1] if len(d["rows"]) > 2 else None
    out.append(f"**What this means.** `ReplenishmentConcurrency` is {as_set['concurrency']} (it was 10): "
               f"{tuned['concurrency']} is the least that finishes 1M SKUs, every one due, in half the "
               f"{goal['minutes']}-minute goal (`concurrency_for`), and the rest is margin for slower forecasts, "
               f"retries and throttling. In the steady state of figure 7's catalogue a million SKUs take "
               f"{steady_night['minutes']:.0f} minutes and cost ${steady_night['cost']['Total']:.2f} a run, "
               + ("within the goal" if steady_night["meets"] else "over the goal")
               + "; a night when every SKU is due and half are ordered (the worst "
               f"case) takes {worst_night['minutes']:.0f} minutes and costs ${worst_night['cost']['Total']:.2f}. "
               "Since issue 22 a SKU's two years of demand are its month items (one Query of about 1 read unit, "
               "not 4.5), a batch's decisions one compressed item, a SKU reviewed every night reads and writes no "
               "last review (a million writes a night saved), the Send step reads its drafts together and "
               "puts a supplier's messages on its queue ten a request, and a batch orders its SKUs on one purchase "
               "order per supplier and location, with lines, instead of one per SKU (seven write units for each "
               "SKU ordered before: a three-item transaction at twice the write price, and the order's SENT mark; "
               "about 2.2 now, and no look-up of this cycle's purchase-order ids: a SKU ordered this cycle is "
               "marked on its stock item)."
               + (f" A first run, every SKU on a longer review period, costs ${first_run['cost']['Total']:.2f}: "
                  "the same night plus a last review written in the stock partition of each SKU not ordered (an "
                  "item of its own, which the stream publisher is not invoked for; an ordered SKU's rides on its "
                  "order's mark, and every review is read with the stock Decide reads anyway)"
                  + ("." if first_run["meets"] else ", over the goal; it happens once, or after missed runs.")
                  if first_run else "") + "\n")
    if "levers" in d:
        out.append(_levers(d["levers"], goal))
    if "timeouts" in d:
        worst_batch = worst_night["batch"]
        out.append(f"**Timeouts and batch size from the same arithmetic.** A batch of {as_set['batch_size']} SKUs, "
                   f"every one due, is modelled at {worst_batch['decide']:.1f} s of Decide and "
                   f"{worst_batch['send']:.2f} s of Send; the functions' timeouts are {d['timeouts']['decide']} s "
                   f"({d['timeouts']['decide'] / worst_batch['decide']:.0f} times: a cold start with the forecasting "
                   f"layer and forecasts ten times slower still fit, and a hung batch frees its place in the Map "
                   f"within minutes) and {d['timeouts']['send']} s "
                   f"({d['timeouts']['send'] / worst_batch['send']:.0f} times). The Step Functions transitions, "
                   "two per batch, are "
                   f"{steady_night['cost']['Step Functions (transitions)'] / steady_night['cost']['Total']:.0%} of "
                   "the steady night's cost. The batch size weighs them (and the per-child overhead, and how many "
                   "purchase orders a batch splits a supplier's lines into) against what a retried batch does again "
                   "and the Decide timeout's margin: batches of 1,000 (200 before) cost five times fewer "
                   "transitions and orders from many suppliers, and a retried batch still redoes seconds.\n")
    return "\n".join(out)


def _levers(levers: dict[str, list[dict[str, Any]]], goal: dict[str, Any]) -> str:
    """The levers' table: the worst night at 1M SKUs for each way of drafting the purchase orders."""
    counts = [row["suppliers"] for row in next(iter(levers.values()))]
    lines = ["**The levers on the purchase orders** (modelled; only \"as built\" is built; docs/decisions.md, \"The "
             "nightly run's purchase orders\"): the worst night at 1M SKUs, as set, when a batch orders from "
             + " or ".join(f"{n} supplier{'s' if n > 1 else ''}" for n in counts) + ".\n",
             "| purchase orders | " + " | ".join(f"{n} supplier{'s' if n > 1 else ''} a batch: run, cost (writes)"
                                                 for n in counts) + " |",
             "|---|" + "---:|" * len(counts)]
    for name, rows in levers.items():
        lines.append(f"| {name} | " + " | ".join(
            f"{row['minutes']:.0f} min, ${row['cost']['Total']:.2f} (${row['cost']['DynamoDB writes (WRU)']:.2f})"
            + ("" if row["meets"] else " **over**") for row in rows) + " |")
    built = levers.get(AS_BUILT_LEVER, [])
    per_order = ", ".join(f"about {row['requests']['po_lines'] / max(1.0, row['requests']['po_events']):.0f} from "
                          f"{row['suppliers']} supplier{'s' if row['suppliers'] > 1 else ''}" for row in built)
    return "\n".join(lines) + ("\n\nAs built, a batch's purchase order to a supplier has as many lines as the "
                               f"batch orders SKUs from it for a location (up to {MAX_LINES}): {per_order}; "
                               "each SKU ordered costs its `on_order` in the order's transaction and its share of the "
                               "order's item there and in the SENT mark, and no read of this cycle's purchase-order "
                               "ids (the stock item Decide reads says whether the SKU was ordered this cycle). "
                               + _over(levers, goal)
                               + "The further lever is one order per "
                               f"supplier and location for the whole run, up to {MAX_LINES} lines, gathered across "
                               "batches (each batch stores one item of lines per supplier, read back by a second "
                               "Map that drafts that supplier's orders): it matters when a batch buys from many "
                               "suppliers. Writing each SKU's order without a transaction still costs three units "
                               "(the order, `on_order`, the SENT mark) and gives up the one transaction that keeps "
                               "them together.\n")


def _over(levers: dict[str, list[dict[str, Any]]], goal: dict[str, Any]) -> str:
    """Which supplier counts the run as built exceeds the goal at, and by how much the orders' own lines weigh."""
    over = [row for row in levers.get(AS_BUILT_LEVER, []) if not row["meets"]]
    if not over:
        return f"Every supplier count is under ${goal['usd']:.2f}. "
    gathered = list(levers.values())[-1]
    return "".join(
        f"From {row['suppliers']} suppliers a batch the worst night costs ${row['cost']['Total']:.2f}, over "
        f"${goal['usd']:.2f}: its {row['requests']['po_events']:,.0f} purchase orders' own records, events, "
        f"events log and KPIs are ${sum(v for k, v in row['cost'].items() if k in PURCHASE_ORDER_LINES):.2f} of "
        f"it; gathered over the run (the last lever) it costs ${g['cost']['Total']:.2f}. "
        for row in over for g in gathered if g["suppliers"] == row["suppliers"])


def summary_rows(record: dict[str, Any] | None) -> list[str]:
    """BENCHMARKS.md's summary lines of figure 11: each night's 1M-SKU run as set."""
    if not record:
        return ["| 11. Nightly run, 1M SKUs (modelled) | not computed | – | – |"]
    goal = record["data"]["goal"]
    rows = []
    for night, setups in record["data"]["rows"].items():
        million = setups["as set"][-1]
        result, met = f"{million['minutes']:.0f} min, ${million['cost']['Total']:.2f}", _yes(million["meets"])
        wide = record["data"].get("wide", {}).get(night)  # the same night when a batch orders from more suppliers
        if wide:
            result += (f" (one supplier a batch); {wide['minutes']:.0f} min, ${wide['cost']['Total']:.2f} "
                       f"({LEVER_SUPPLIERS[-1]} suppliers)")
            met += f"; {_yes(wide['meets'])} at {LEVER_SUPPLIERS[-1]} suppliers"
        rows.append(f"| 11. Nightly run, 1M SKUs, {night.split(':')[0].split(' (')[0]} (modelled) "
                    f"| {result} | ≤ {goal['minutes']} min, < ${goal['usd']:.2f} | {met} |")
    return rows


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"
