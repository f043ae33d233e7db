"""The live KPIs computed from a known sequence of domain events, through the KPI service and its DynamoDB
table (moto, in process): every number below is worked out by hand from the events."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import boto3
import pytest

from orderflow.kpis.adapters.table import KpisTable
from orderflow.kpis.domain import measure
from orderflow.kpis.service import KpiService
from orderflow.shared.errors import ConditionFailed, Unprocessable
from orderflow.shared.settings import Settings

NOW = "2030-01-03T09:00:00.000Z"


@pytest.fixture
def kpis(moto_aws) -> KpiService:
    return kpi_service("kpis")


def kpi_service(table: str) -> KpiService:
    """A KPI service over a new table ``table`` (inside moto)."""
    boto3.client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    return KpiService(Settings(kpis_table=table, kpi_promise_hours=48), KpisTable(table), clock=lambda: NOW)


def order(kind: str, order_id: str, at: str, lines: dict[str, int], n: int, **extra) -> tuple[str, dict]:
    return kind, {"event_id": f"orders:{order_id}:{n}:{kind}", "occurred_at": at, "order_id": order_id,
                  "customer_id": "c-1", "lines": [{"sku": s, "quantity": q} for s, q in lines.items()], **extra}


def stock(kind: str, sku: str, location: str, at: str, available: int, n: int) -> tuple[str, dict]:
    return kind, {"event_id": f"stock:{sku}@{location}:{n}:{kind}", "occurred_at": at, "sku": sku,
                  "location_id": location, "available": available, "on_hand": max(available, 0)}


def po(kind: str, po_id: str, supplier: str, at: str, n: int, status: str, expected_by: str,
       lines: list[dict]) -> tuple[str, dict]:
    return kind, {"event_id": f"purchase_orders:{po_id}:{n}:{kind}", "occurred_at": at, "po_id": po_id,
                  "supplier_id": supplier, "status": status, "expected_by": expected_by, "lines": lines}


EVENTS = [
    # O1: created and shipped complete the same day, within 48 h: on time.
    order("OrderCreated", "o1", "2030-01-01T10:00:00.000Z", {"A": 2, "B": 1}, 0, created_at="2030-01-01T10:00:00.000Z"),
    order("OrderShipped", "o1", "2030-01-01T20:00:00.000Z", {"A": 2, "B": 1}, 4),
    # O2: backordered for 24 h, then reserved, shipped 73 h after its creation: late.
    order("OrderCreated", "o2", "2030-01-01T11:00:00.000Z", {"B": 5}, 0, created_at="2030-01-01T11:00:00.000Z"),
    order("OrderBackordered", "o2", "2030-01-01T11:00:01.000Z", {"B": 5}, 3),
    order("OrderReserved", "o2", "2030-01-02T11:00:01.000Z", {"B": 5}, 4),
    order("OrderShipped", "o2", "2030-01-04T12:00:00.000Z", {"B": 5}, 5),
    # O3: backordered and still open at NOW (24 h).
    order("OrderBackordered", "o3", "2030-01-02T09:00:00.000Z", {"C": 1}, 3),
    # O4: backordered, cancelled 2 h later.
    order("OrderBackordered", "o4", "2030-01-02T10:00:00.000Z", {"B": 1}, 3),
    order("OrderCancelled", "o4", "2030-01-02T12:00:00.000Z", {"B": 1}, 4),
    # Stock: A runs out at main on day 1; A at north and B at main are in stock.
    stock("StockLow", "A", "main", "2030-01-01T15:00:00.000Z", 0, 1),
    stock("StockReceived", "A", "north", "2030-01-01T16:00:00.000Z", 5, 1),
    stock("StockRecovered", "B", "main", "2030-01-01T17:00:00.000Z", 9, 1),
    # acme: po-1 (100 ordered) all received before its day; po-2 (50 ordered, 40 confirmed) late.
    po("PurchaseOrderSent", "po-1", "acme", "2030-01-01T02:00:00.000Z", 1, "SENT", "2030-01-03",
       [{"sku": "A", "quantity": 100}]),
    po("PurchaseOrderReceived", "po-1", "acme", "2030-01-02T08:00:00.000Z", 4, "RECEIVED", "2030-01-03",
       [{"sku": "A", "quantity": 100, "received": 100, "expected": 100}]),
    po("PurchaseOrderSent", "po-2", "acme", "2030-01-01T02:00:00.000Z", 1, "SENT", "2030-01-01",
       [{"sku": "B", "quantity": 50}]),
    po("PurchaseOrderReceived", "po-2", "acme", "2030-01-02T08:00:00.000Z", 3, "PARTIALLY_RECEIVED", "2030-01-01",
       [{"sku": "B", "quantity": 20, "received": 20, "expected": 40}]),
    po("PurchaseOrderReceived", "po-2", "acme", "2030-01-03T08:00:00.000Z", 4, "RECEIVED", "2030-01-01",
       [{"sku": "B", "quantity": 20, "received": 40, "expected": 40}]),
    # beta rejected po-3 (30 ordered).
    po("PurchaseOrderSent", "po-3", "beta", "2030-01-01T02:00:00.000Z", 1, "SENT", "2030-01-04",
       [{"sku": "C", "quantity": 30}]),
    po("PurchaseOrderRejected", "po-3", "beta", "2030-01-01T09:00:00.000Z", 2, "REJECTED", "2030-01-04",
       [{"sku": "C", "quantity": 30}]),
]


def test_kpis_from_a_known_event_sequence(kpis):
    for kind, detail in EVENTS:
        kpis.record(kind, detail)

    got = kpis.kpis(date(2030, 1, 1), date(2030, 1, 4))

    assert got["fill_rate"] == {"orders": 1.0, "lines": 1.0, "units": 1.0}  # whole orders ship at once
    assert (got["orders_shipped"], got["on_time_shipment_rate"]) == (2, 0.5)
    # SKU-days with activity: day 1 A and B, day 2 B and C, day 4 B (o2 ships): 5. Out of stock: A (at main)
    # and B (o2 backordered) on day 1, C and B (o3, o4 backordered) on day 2: 4.
    assert (got["sku_days"], got["stock_out_sku_days"], got["stock_out_rate"]) == (5, 4, 0.8)
    assert got["backorders"] == {"opened": 3, "filled": 1, "dropped": 1, "average_hours_to_close": 13.0,
                                 "open_now": 1, "average_open_age_hours": 24.0}
    assert got["suppliers"] == {
        "acme": {"purchase_orders_closed": 2, "on_time_rate": 0.5, "fill_rate": round(140 / 150, 4)},
        "beta": {"purchase_orders_closed": 1, "on_time_rate": 0.0, "fill_rate": 0.0}}


def test_stock_out_rate_per_location_and_a_redelivered_event_counts_once(kpis):
    for kind, detail in EVENTS + EVENTS[:2] + EVENTS[9:12]:  # a few delivered twice
        kpis.record(kind, detail)
    main = kpis.kpis(date(2030, 1, 1), date(2030, 1, 1), location_id="main")
    assert (main["sku_days"], main["stock_out_sku_days"], main["stock_out_rate"]) == (2, 1, 0.5)  # A out, B in
    north = kpis.kpis(date(2030, 1, 1), date(2030, 1, 1), location_id="north")
    assert (north["sku_days"], north["stock_out_rate"]) == (1, 0.0)
    everything = kpis.kpis(date(2030, 1, 1), date(2030, 1, 4))
    assert everything["orders_shipped"] == 2 and everything["backorders"]["opened"] == 3
    # order events carry no location: a location's KPIs keep the whole shop's order figures (docs/kpis.md)
    at_main = kpis.kpis(date(2030, 1, 1), date(2030, 1, 4), location_id="main")
    assert (at_main["orders_shipped"], at_main["fill_rate"], at_main["backorders"]) == (
        everything["orders_shipped"], everything["fill_rate"], everything["backorders"])


def test_a_range_with_no_events_has_no_rates_and_bad_ranges_are_refused(kpis):
    empty = kpis.kpis(date(2029, 1, 1), date(2029, 1, 7))
    assert empty["fill_rate"] == {"orders": None, "lines": None, "units": None}
    assert empty["on_time_shipment_rate"] is None and empty["backorders"]["open_now"] == 0
    with pytest.raises(Unprocessable):
        kpis.kpis(date(2030, 1, 5), date(2030, 1, 1))
    with pytest.raises(Unprocessable):
        kpis.kpis(date(2029, 1, 1), date(2030, 1, 1))
    assert kpis.kpis(None, None)["from"] == "2029-12-28"  # the last 7 days to NOW's day
    earliest = kpis.kpis(None, date(1, 1, 3))  # the week up to the third day there is: its first three days
    assert (earliest["from"], earliest["to"]) == ("0001-01-01", "0001-01-03")


def test_days_of_cover_turns_and_the_last_runs_forecast_error(kpis):
    for kind, detail in EVENTS:
        kpis.record(kind, detail)
    on_hand = {"A": 10, "B": 6, "C": -2}  # a negative count is none on the shelf
    kpis.stock = SimpleNamespace(get_many=lambda skus: {s: SimpleNamespace(on_hand=on_hand[s]) for s in skus})
    decisions = [SimpleNamespace(sku=sku, location_id="main", forecast=forecast)
                 for sku, forecast in (("A", [2.0] * 5), ("B", [1.0] * 3), ("C", []))]  # C skipped: no forecast
    runs = [SimpleNamespace(run_id="run-2", status="FAILED", cycle="2030-01-02"),
            SimpleNamespace(run_id="run-1", status="COMPLETED", cycle="2030-01-01")]
    kpis.runs = SimpleNamespace(list=lambda limit: runs,
                                decisions_page=lambda run_id, limit, cursor: (decisions, None))
    demand = {"A": {"2030-01-01": 3, "2030-01-02": 1}, "B": {"2030-01-02": 2}}
    kpis.demand = SimpleNamespace(history_by_location=lambda sku, start, end: {
        "main": {day: q for day, q in demand[sku].items() if start <= day <= end}})

    got = kpis.kpis(date(2030, 1, 1), date(2030, 1, 4))

    # 3 + 5 units shipped in 4 days: 2 a day; 16 on hand of the active SKUs A, B, C.
    assert (got["units_shipped"], got["on_hand"], got["days_of_cover"]) == (8, 16, 8.0)
    assert got["inventory_turns"] == pytest.approx(8 * 365 / 4 / 16, abs=0.01)
    # Full days since run-1's cycle up to yesterday (NOW is 2030-01-03): 01 and 02. A: |3−2| + |1−2|, B: |0−1| +
    # |2−1|; realised 4 + 2.
    assert got["forecast_error"] == {"run_id": "run-1", "cycle": "2030-01-01", "skus": 2, "days": 2,
                                     "wape": round(4 / 6, 4), "bias": 0.0}


def test_an_order_reserved_the_day_it_was_created_writes_nothing_more(kpis):
    """Its SKUs were marked active that day by its creation; reserved the next day, they are marked again."""
    created = order("OrderCreated", "o9", "2030-01-01T10:00:00.000Z", {"A": 1}, 0,
                    created_at="2030-01-01T10:00:00.000Z")
    kpis.record(*created)

    assert kpis.record(*order("OrderReserved", "o9", "2030-01-01T10:00:02.000Z", {"A": 1}, 3)) is None
    later = kpis.record(*order("OrderReserved", "o10", "2030-01-02T00:00:05.000Z", {"Z": 1}, 3))
    assert later is not None and later.effects[0].seen == {"Z"}  # created on an earlier day (or unknown)


def test_orders_shipped_in_parts_and_part_cancels_count_and_the_fill_counts_the_first_shipment(kpis):
    """o5 (4 A, 2 B) ships 3 A first (PARTIALLY_SHIPPED), then 1 B is cancelled, then the rest: shipped in parts,
    not complete on its first shipment. o6 (3 A) has 1 cancelled, then ships the other 2 whole: complete, since
    the cancelled unit is no longer owed."""
    events = [
        order("OrderPartiallyShipped", "o5", "2030-01-01T10:00:00.000Z", {"A": 4, "B": 2}, 5, shipped={"A": 3}),
        order("OrderPartiallyShipped", "o5", "2030-01-01T11:00:00.000Z", {"A": 4, "B": 2}, 5, shipped={"A": 3}),
        order("OrderLinesCancelled", "o5", "2030-01-01T12:00:00.000Z", {"A": 4, "B": 2}, 6, cancelled={"B": 1},
              total_cancelled={"B": 1}),
        order("OrderShipped", "o5", "2030-01-02T10:00:00.000Z", {"A": 4, "B": 2}, 7),
        order("OrderLinesCancelled", "o6", "2030-01-01T09:00:00.000Z", {"A": 3}, 4, cancelled={"A": 1},
              total_cancelled={"A": 1}),
        order("OrderShipped", "o6", "2030-01-01T13:00:00.000Z", {"A": 3}, 5),
    ]
    for kind, detail in events:  # the second OrderPartiallyShipped is a redelivery: it counts once
        kpis.record(kind, detail)

    got = kpis.kpis(date(2030, 1, 1), date(2030, 1, 2))
    assert got["orders_shipped"] == 2
    assert got["partial_shipments"] == {"orders_partially_shipped": 1, "orders_shipped_in_parts": 1}
    assert got["part_cancels"] == {"cancels": 2, "units": 2}
    # o5 owed 4 A and 1 B; its first shipment sent 3 A: neither line complete. o6 owed 2 A, sent whole.
    assert got["fill_rate"] == {"orders": 0.5, "lines": round(1 / 3, 4), "units": round(5 / 7, 4)}


def test_the_event_that_begins_a_memory_is_marked_by_it_and_a_race_to_begin_one_loses_nothing(kpis):
    """An order's first event writes its memory instead of a mark of its own; redelivered, even after later
    events, it adds nothing. Two first events of one order racing: the one that finds the memory begun by the
    other fails (its message is retried) and then counts."""
    created = order("OrderCreated", "o7", "2030-01-01T10:00:00.000Z", {"A": 1}, 0,
                    created_at="2030-01-01T10:00:00.000Z")
    backordered = order("OrderBackordered", "o7", "2030-01-01T10:00:01.000Z", {"A": 1}, 2)
    table = kpis.aggregates
    assert kpis.record(*created) is not None
    assert dict(boto3.client("dynamodb").get_item(TableName="kpis", Key={
        "pk": {"S": f"EVENT#{created[1]['event_id']}"}, "sk": {"S": "-"}})).get("Item") is None  # no mark item
    # and no counter: its one write beside its SKU markers is the memory (a PutItem, not a transaction)
    assert "Item" not in boto3.client("dynamodb").get_item(TableName="kpis", Key={
        "pk": {"S": "DAY#2030-01-01"}, "sk": {"S": "all"}})

    # the backorder's handler read no memory yet (it raced the creation), so it would begin one too
    measured = measure(*backordered, memory=None, promise_hours=48)
    with pytest.raises(ConditionFailed):
        table.apply(backordered[1]["event_id"], measured, "order:o7", backordered[1]["occurred_at"], first=True)
    assert kpis.record(*backordered) is not None  # its retry: the memory is there now

    assert kpis.record(*created) is None  # redelivered after a later event: still once
    day = table.days("2030-01-01", "2030-01-01")["2030-01-01"]["all"]
    assert (day["backorders_opened"], day["seen"], day["out"]) == (1, {"A"}, {"A"})


def test_a_day_of_many_skus_keeps_its_day_item_small_and_counts_each_sku_day_once(kpis):
    """600 distinct SKUs sold in a day, some out of stock: the day's aggregate holds counters only (each KPI
    event rewrites it, billed by its size), and the SKU-days are counted from one marker each, once however often
    an event is redelivered, also to another container that has not seen the markers."""
    day = "2030-01-01"
    skus = [f"SKU-{n:05d}" for n in range(600)]
    events = [order("OrderShipped", f"o{n}", f"{day}T10:00:00.000Z", {sku: 1 for sku in skus[4 * n:4 * n + 4]}, 5)
              for n in range(150)]
    events += [stock("StockLow", sku, "main", f"{day}T11:00:00.000Z", 0, 1) for sku in skus[:50]]
    for kind, detail in events + events[:10] + events[-10:]:  # some delivered twice
        kpis.record(kind, detail)
    elsewhere = KpiService(kpis.settings, KpisTable("kpis"), clock=lambda: NOW)  # another container
    for kind, detail in events[-20:] + events[:5]:
        assert elsewhere.record(kind, detail) is None  # marked already, and no marker is new

    item = boto3.client("dynamodb").get_item(TableName="kpis", Key={"pk": {"S": f"DAY#{day}"},
                                                                    "sk": {"S": "all"}})["Item"]
    assert not {"seen", "out"} & set(item) and item["orders_shipped"] == {"N": "150"}
    assert len(json.dumps(item)) < 500  # as with 2 SKUs; the SKU sets made it about 6 KB: 12 WRU in a transaction
    got = kpis.kpis(date(2030, 1, 1), date(2030, 1, 1))
    assert (got["sku_days"], got["stock_out_sku_days"]) == (600, 50)
    main = kpis.kpis(date(2030, 1, 1), date(2030, 1, 1), location_id="main")
    assert (main["sku_days"], main["stock_out_sku_days"]) == (50, 50)


def test_a_day_stored_with_sku_sets_still_reads(kpis):
    """A day written before the markers kept its SKUs in the sets ``seen`` and ``out`` of its aggregate: they count
    with the markers of the same day, a SKU in both once."""
    boto3.client("dynamodb").put_item(TableName="kpis", Item={
        "pk": {"S": "DAY#2030-01-01"}, "sk": {"S": "all"}, "orders_shipped": {"N": "2"},
        "seen": {"SS": ["A", "B"]}, "out": {"SS": ["B"]}})
    kpis.record(*order("OrderCreated", "o1", "2030-01-01T10:00:00.000Z", {"B": 1, "C": 1}, 0,
                       created_at="2030-01-01T10:00:00.000Z"))
    got = kpis.kpis(date(2030, 1, 1), date(2030, 1, 1))
    assert (got["sku_days"], got["stock_out_sku_days"], got["stock_out_rate"]) == (3, 1, round(1 / 3, 4))
