"""Domain events from stream images: which change publishes what, once, and in the published schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from orderflow.events.derive import PRODUCED, DomainEvent, Table, events_for

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"
AT = "2030-01-02T03:04:05.678Z"


def schema(detail_type: str) -> dict:
    return json.loads((SCHEMAS / f"{detail_type}.json").read_text())


def conforming(events: list[DomainEvent]) -> list[DomainEvent]:
    """The events, after checking each detail against its schema (as JSON, the way it is published)."""
    for event in events:
        validator = Draft202012Validator(schema(event.detail_type), format_checker=Draft202012Validator.FORMAT_CHECKER)
        validator.validate(json.loads(json.dumps(event.detail)))
    return events


def types(events: list[DomainEvent]) -> list[str]:
    return [e.detail_type for e in conforming(events)]


# ------------------------------------------------------------------ orders
def order(status: str = "PENDING", version: int = 0, **extra) -> dict:
    return {
        "order_id": "ord-1", "customer_id": "cust-1", "status": status, "version": Decimal(version),
        "total": Decimal("29.97"), "channel": "api", "created_at": AT, "updated_at": AT,
        "lines": [{"sku": "SKU-1", "quantity": Decimal(3), "unit_price": Decimal("9.99"), "name": "Widget"}],
        "timeline": [{"status": status, "at": AT, "reason": f"why {status}", "by": "workflow"}],
        **extra,
    }


def test_a_new_order_publishes_order_created_with_its_business_fields() -> None:
    (event,) = conforming(events_for(Table.ORDERS, None, order(), sequence="100"))
    assert event.detail_type == "OrderCreated"
    assert event.detail == {
        "version": 1, "event_id": "orders:ord-1:0:OrderCreated", "occurred_at": AT,
        "order_id": "ord-1", "customer_id": "cust-1", "status": "PENDING", "order_version": 0, "total": 29.97,
        "lines": [{"sku": "SKU-1", "quantity": 3, "unit_price": 9.99}], "channel": "api", "created_at": AT,
    }


@pytest.mark.parametrize(("before", "after", "detail_type"), [
    ("CREDIT_APPROVED", "RESERVED", "OrderReserved"),
    ("BACKORDERED", "RESERVED", "OrderReserved"),
    ("CREDIT_APPROVED", "BACKORDERED", "OrderBackordered"),
    ("RESERVED", "SHIPPED", "OrderShipped"),
    ("RESERVED", "PARTIALLY_SHIPPED", "OrderPartiallyShipped"),
    ("PARTIALLY_SHIPPED", "SHIPPED", "OrderShipped"),
    ("SHIPPED", "DELIVERED", "OrderDelivered"),
    ("RESERVED", "CANCELLED", "OrderCancelled"),
    ("VALIDATED", "REJECTED", "OrderRejected"),
    ("BACKORDERED", "FAILED", "OrderFailed"),
])
def test_each_status_change_that_integrators_care_about_publishes_its_event(before, after, detail_type) -> None:
    shipment = {"carrier": "UPS", "tracking": "1Z", "shipped_at": AT, "delivered_at": AT}
    events = events_for(Table.ORDERS, order(before, 4), order(after, 5, shipment=shipment), sequence="100")
    assert types(events) == [detail_type]
    assert events[0].detail["event_id"] == f"orders:ord-1:5:{detail_type}"
    assert events[0].detail["status"] == after


def test_rejections_cancellations_and_failures_say_why_and_shipping_says_how() -> None:
    (rejected,) = events_for(Table.ORDERS, order("VALIDATED", 1), order("REJECTED", 2), sequence="1")
    assert rejected.detail["reason"] == "why REJECTED"
    shipment = {"carrier": "UPS", "tracking": "1Z", "shipped_at": AT}
    (shipped,) = events_for(Table.ORDERS, order("RESERVED", 3), order("SHIPPED", 4, shipment=shipment), sequence="2")
    assert shipped.detail["shipment"] == shipment
    assert "reason" not in shipped.detail


@pytest.mark.parametrize(("before", "after"), [
    ("PENDING", "VALIDATED"), ("VALIDATED", "CREDIT_APPROVED"), ("DELIVERED", "RETURN_REQUESTED"),
    ("RETURN_REQUESTED", "RETURNED"),
])
def test_internal_steps_publish_nothing(before, after) -> None:
    assert events_for(Table.ORDERS, order(before, 1), order(after, 2), sequence="1") == []


def test_a_write_that_keeps_the_status_or_a_delete_publishes_nothing() -> None:
    assert events_for(Table.ORDERS, order("BACKORDERED", 3), order("BACKORDERED", 4), sequence="1") == []
    assert events_for(Table.ORDERS, order("DELIVERED", 3), None, sequence="2") == []


def test_a_partial_shipment_says_what_left_and_what_waits_and_a_second_one_publishes_nothing_more() -> None:
    shipment = {"carrier": "UPS", "tracking": "1Z", "shipped_at": AT}
    shipments = [{"shipment_id": "shp-1-1", "location_id": "leeds", "lines": {"SKU-1": Decimal(3)}, "state": "shipped",
                  "shipped": {"SKU-1": Decimal(1)}},
                 {"shipment_id": "shp-1-2", "location_id": "york", "lines": {"SKU-1": Decimal(2)}, "state": "open"}]
    partly = order("PARTIALLY_SHIPPED", 5, shipment=shipment, shipments=shipments, backordered={"SKU-1": Decimal(2)})
    (event,) = conforming(events_for(Table.ORDERS, order("RESERVED", 4), partly, sequence="1"))
    assert (event.detail["shipped"], event.detail["backordered"]) == ({"SKU-1": 1}, {"SKU-1": 2})
    assert events_for(Table.ORDERS, partly, {**partly, "version": Decimal(6)}, sequence="2") == []
    packed = {**partly, "shipments": ["shp-1-1|leeds|shipped|SKU-1=3|SKU-1=1|", "shp-1-2|york|open|SKU-1=2||"]}
    (same,) = events_for(Table.ORDERS, order("RESERVED", 4), packed, sequence="1")  # as the orders table stores them
    assert same.detail == event.detail
    whole = {**partly, "shipments": [{**shipments[0], "lines": {"SKU-1": Decimal(3)}, "shipped": None}]}
    as_stored = {**whole, "shipments": ["shp-1-1|leeds|shipped|*||"]}  # a shipment of the whole order names no SKU
    (maps,) = events_for(Table.ORDERS, order("RESERVED", 4), whole, sequence="1")
    (packed_whole,) = events_for(Table.ORDERS, order("RESERVED", 4), as_stored, sequence="1")
    assert packed_whole.detail == maps.detail and maps.detail["shipped"] == {"SKU-1": 3}


def test_a_ship_available_order_held_in_part_says_where_and_what_waits_then_reserved_once_the_rest_came() -> None:
    partly = order("PARTIALLY_RESERVED", 4, allocations={"leeds": {"SKU-1": Decimal(1)}},
                   backordered={"SKU-1": Decimal(2)})
    (event,) = conforming(events_for(Table.ORDERS, order("CREDIT_APPROVED", 3), partly, sequence="1"))
    assert event.detail_type == "OrderPartiallyReserved"
    assert (event.detail["allocations"], event.detail["backordered"]) == ({"leeds": {"SKU-1": 1}}, {"SKU-1": 2})
    more = {**partly, "version": Decimal(5), "backordered": {"SKU-1": Decimal(1)}}
    assert events_for(Table.ORDERS, partly, more, sequence="2") == []  # more of it held: no new event
    whole = order("RESERVED", 6, allocations={"leeds": {"SKU-1": Decimal(3)}})
    assert types(events_for(Table.ORDERS, more, whole, sequence="3")) == ["OrderReserved"]


def test_cancelling_some_units_says_which_and_why_besides_any_status_it_reaches() -> None:
    reserved = order("RESERVED", 4)
    fewer = order("RESERVED", 5, cancelled={"SKU-1": Decimal(1)}, total=Decimal("19.98"))
    (event,) = conforming(events_for(Table.ORDERS, reserved, fewer, sequence="1"))
    assert (event.detail_type, event.detail["cancelled"], event.detail["total_cancelled"]) == (
        "OrderLinesCancelled", {"SKU-1": 1}, {"SKU-1": 1})
    shipment = {"carrier": "UPS", "shipped_at": AT}
    rest_gone = order("SHIPPED", 6, cancelled={"SKU-1": Decimal(2)}, shipment=shipment)
    events = events_for(Table.ORDERS, {**fewer, "status": "PARTIALLY_SHIPPED"}, rest_gone, sequence="2")
    assert types(events) == ["OrderLinesCancelled", "OrderShipped"]
    assert events[0].detail["cancelled"] == {"SKU-1": 1}


# ------------------------------------------------------------------ shipments
ADDRESS = {"name": "Ada", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}


def shipment(status: str = "RELEASED", version: int = 0, **extra) -> dict:
    return {"shipment_id": "shp-1-1", "order_id": "ord-1", "customer_id": "cust-1", "location_id": "leeds",
            "status": status, "version": Decimal(version), "address": ADDRESS, "created_at": AT, "updated_at": AT,
            "lines": [{"sku": "SKU-1", "quantity": Decimal(3)}], "at_location": f"leeds#{status}",
            "timeline": [{"status": status, "at": AT, "reason": f"why {status}", "by": "warehouse"}], **extra}


def test_a_released_shipment_tells_the_location_what_to_send_and_where() -> None:
    (event,) = conforming(events_for(Table.SHIPMENTS, None, shipment(), sequence="1"))
    assert event.detail_type == "ShipmentReleased"
    assert event.detail == {
        "version": 1, "event_id": "shipments:shp-1-1:0:ShipmentReleased", "occurred_at": AT,
        "shipment_id": "shp-1-1", "order_id": "ord-1", "customer_id": "cust-1", "location_id": "leeds",
        "status": "RELEASED", "shipment_version": 0, "address": ADDRESS, "lines": [{"sku": "SKU-1", "quantity": 3}]}
    (due,) = conforming(events_for(Table.SHIPMENTS, None, shipment(ship_by=AT), sequence="1"))
    assert due.detail["ship_by"] == AT  # by when the location must send it


@pytest.mark.parametrize(("before", "after", "detail_type"), [
    ("RELEASED", "PICKED", "ShipmentPicked"), ("PICKED", "PACKED", "ShipmentPacked"),
    ("PACKED", "SHIPPED", "ShipmentShipped"), ("RELEASED", "SHIPPED", "ShipmentShipped"),
    ("SHIPPED", "DELIVERED", "ShipmentDelivered"), ("PICKED", "CANCELLED", "ShipmentCancelled"),
])
def test_each_shipment_status_publishes_its_event_once(before, after, detail_type) -> None:
    sent = {"shipped": [{"sku": "SKU-1", "quantity": Decimal(2)}], "carrier": "UPS", "tracking": "1Z"}
    new = shipment(after, 3, **(sent if after in ("SHIPPED", "DELIVERED") else {}))
    (event,) = conforming(events_for(Table.SHIPMENTS, shipment(before, 2), new, sequence="1"))
    assert (event.detail_type, event.detail["event_id"]) == (detail_type, f"shipments:shp-1-1:3:{detail_type}")
    if after == "SHIPPED":
        assert (event.detail["shipped"], event.detail["carrier"]) == ([{"sku": "SKU-1", "quantity": 2}], "UPS")
    if after == "CANCELLED":
        assert event.detail["reason"] == "why CANCELLED"
    assert events_for(Table.SHIPMENTS, new, {**new, "updated_at": "later"}, sequence="2") == []


# ------------------------------------------------------------------ stock
def level(available: int, threshold: int | None = 10, on_hand: int | None = None, reserved: int = 0) -> dict:
    item = {"sku": "SKU-1", "record": "LEVEL#main",
            "on_hand": Decimal(available + reserved if on_hand is None else on_hand),
            "reserved": Decimal(reserved), "available": Decimal(available), "on_order": Decimal(0),
            "backordered": Decimal(0)}
    if threshold is not None:
        item["threshold"] = Decimal(threshold)
    return item


def stock_events(old: dict | None, new: dict, sequence: str = "200") -> list[str]:
    return types(events_for(Table.STOCK, old, new, sequence=sequence, approximate_time=1_893_553_445))


def test_stock_low_is_published_once_per_crossing_and_cleared_by_stock_recovered() -> None:
    # Reservations take available 12 → 8 one unit at a time; threshold 10.
    changes = [(level(a + 1, reserved=11 - a), level(a, reserved=12 - a)) for a in range(11, 7, -1)]
    assert [stock_events(old, new) for old, new in changes] == [[], ["StockLow"], [], []]
    # A receipt of 5 takes it from 8 to 13.
    assert stock_events(level(8, reserved=4), level(13, reserved=4)) == ["StockReceived", "StockRecovered"]
    assert stock_events(level(13, reserved=4), level(14, reserved=4)) == ["StockReceived"]


def test_the_stock_low_event_carries_the_level_threshold_and_change_identity() -> None:
    (event,) = conforming(events_for(Table.STOCK, level(11, reserved=1), level(10, reserved=2), sequence="777",
                                     approximate_time=1_893_553_445))
    assert event.detail == {
        "version": 1, "event_id": "stock:SKU-1@main:777:StockLow", "occurred_at": "2030-01-02T03:04:05.000Z",
        "sku": "SKU-1", "location_id": "main", "on_hand": 12, "reserved": 2, "available": 10, "on_order": 0,
        "backordered": 0, "threshold": 10,
    }


def test_creating_a_stock_record_is_not_a_crossing_only_its_first_stock_is() -> None:
    # PUT /products with a low_stock_threshold creates the level with the threshold alone.
    created = {"sku": "SKU-1", "record": "LEVEL#main", "threshold": Decimal(5)}
    assert stock_events(None, created) == []
    # Its first receipt: no StockLow-then-StockRecovered pair, just the goods arriving...
    assert stock_events(created, level(20, threshold=5)) == ["StockReceived"]
    # ...or, when the first receipt leaves it at or below the threshold, a real StockLow.
    assert stock_events(created, level(3, threshold=5)) == ["StockReceived", "StockLow"]
    # A purchase order or a backorder on it moves no available stock: still nothing to be low.
    assert stock_events(created, {**created, "on_order": Decimal(40)}) == []


def test_a_new_stock_item_at_or_below_its_threshold_is_low_and_received_stock_is_counted() -> None:
    events = events_for(Table.STOCK, None, level(3, threshold=5), sequence="1")
    assert types(events) == ["StockReceived", "StockLow"]
    assert events[0].detail["quantity"] == 3
    assert stock_events(None, level(6, threshold=5)) == ["StockReceived"]


def test_shipping_and_reserving_receive_nothing_and_without_a_threshold_nothing_is_low() -> None:
    assert stock_events(level(5, reserved=3), level(5, reserved=2, on_hand=7)) == []  # shipped 1
    assert stock_events(level(20, threshold=None), level(0, threshold=None, reserved=20)) == []


def test_moving_the_threshold_itself_crosses_too() -> None:
    assert stock_events(level(8, threshold=5), level(8, threshold=8)) == ["StockLow"]
    assert stock_events(level(8, threshold=8), level(8, threshold=None)) == ["StockRecovered"]


def test_a_bucketed_level_is_low_when_its_flag_flips_with_the_summed_level_not_by_its_share() -> None:
    base = {**level(3, reserved=0), "buckets": Decimal(4)}  # the base holds a share: 3 of the level's 40
    assert stock_events(base, {**base, "available": Decimal(2), "reserved": Decimal(1)}) == []
    assert stock_events(base, {**base, "low": False}) == []  # the split set the flag: no crossing
    summed = {"on_hand": Decimal(40), "reserved": Decimal(31), "available": Decimal(9)}
    flagged = {**base, "low": True, "low_level": summed}
    (low,) = events_for(Table.STOCK, {**base, "low": False}, flagged, sequence="9", approximate_time=1_893_553_445)
    assert (low.detail_type, low.detail["available"], low.detail["reserved"], low.detail["threshold"]) == \
        ("StockLow", 9, 31, 10)
    assert stock_events(flagged, {**flagged, "available": Decimal(0)}) == []  # a share moved, no flag change
    assert stock_events(flagged, {**flagged, "low": False, "low_level": {**summed, "available": Decimal(30)}}) == \
        ["StockRecovered"]


def test_backorder_wait_items_are_not_stock_levels() -> None:
    wait = {"sku": "SKU-1", "record": "WAIT#2030#ord-1", "order_id": "ord-1", "quantity": Decimal(2)}
    assert stock_events(None, wait) == []


# ------------------------------------------------------------------ returns
def rma(status: str, version: int = 0) -> dict:
    """A return item as ``orderflow.returns`` stores it."""
    item = {"return_id": "rma-1", "order_id": "ord-1", "customer_id": "cust-1", "status": status,
            "version": Decimal(version), "refund_amount": Decimal("9.99"), "created_at": AT, "updated_at": AT,
            "lines": [{"sku": "SKU-1", "quantity": Decimal(1), "reason": "too big", "unit_price": Decimal("9.99"),
                       "refund": Decimal("9.99")}]}
    if status in ("RECEIVED", "RESTOCKED", "SCRAPPED", "REFUNDED"):
        item.update(received=[{"sku": "SKU-1", "quantity": Decimal(1), "condition": "resellable",
                               "disposition": "restocked"}],
                    restocked={"SKU-1": Decimal(1)}, scrapped={}, received_at=AT)
    if status == "REFUNDED":
        item["refunded_at"] = AT
    return item


@pytest.mark.parametrize(("before", "after", "expected"), [
    (None, "REQUESTED", ["ReturnRequested"]),
    (None, "APPROVED", ["ReturnRequested"]),
    ("REQUESTED", "APPROVED", []),
    ("REQUESTED", "REJECTED", []),
    ("APPROVED", "RECEIVED", ["ReturnReceived"]),
    ("APPROVED", "RESTOCKED", ["ReturnReceived"]),
    ("APPROVED", "REFUNDED", ["ReturnReceived", "ReturnRefunded"]),
    ("RECEIVED", "RESTOCKED", []),
    ("RESTOCKED", "REFUNDED", ["ReturnRefunded"]),
    ("REFUNDED", "REFUNDED", []),
])
def test_returns_publish_requested_received_once_and_refunded(before, after, expected) -> None:
    old = rma(before) if before else None
    assert types(events_for(Table.RETURNS, old, rma(after), sequence="300")) == expected


def test_return_events_name_the_return_its_order_lines_and_what_was_received_and_refunded() -> None:
    received, refunded = events_for(Table.RETURNS, rma("APPROVED", 0), rma("REFUNDED", 1), sequence="300")
    assert received.detail["event_id"] == "returns:rma-1:1:ReturnReceived"
    assert received.detail["restocked"] == {"SKU-1": 1}
    assert received.detail["lines"][0] == {"sku": "SKU-1", "quantity": 1, "reason": "too big", "unit_price": 9.99,
                                           "refund": 9.99}
    assert (refunded.detail["return_id"], refunded.detail["order_id"], refunded.detail["refund_amount"]) == (
        "rma-1", "ord-1", 9.99)
    (requested,) = events_for(Table.RETURNS, None, rma("APPROVED"), sequence="299")
    assert requested.detail["event_id"] == "returns:rma-1:0:ReturnRequested"


# ------------------------------------------------------------------ purchase orders
def purchase_order(status: str, version: int, received: int = 0, confirmed: int | None = None,
                   reason: str | None = None) -> dict:
    """A purchase order item as ``orderflow.purchasing`` stores it: one line of 10 units."""
    line = {"sku": "SKU-1", "quantity": Decimal(10), "unit_cost": Decimal("2.5"), "received": Decimal(received)}
    if confirmed is not None:
        line["confirmed"] = Decimal(confirmed)
    entry = {"status": status, "at": AT, "by": "supplier acme", **({"reason": reason} if reason else {})}
    return {"po_id": "po-2030-01-01-SKU-1", "supplier_id": "acme", "cycle": "2030-01-01", "run_id": "run-1",
            "status": status, "version": Decimal(version), "lines": [line], "total": Decimal(25),
            "expected_by": "2030-01-04", "created_at": AT, "updated_at": AT, "timeline": [entry],
            "applied_replies": {"r-1"}}


@pytest.mark.parametrize(("before", "after", "expected"), [
    (None, purchase_order("DRAFT", 0), []),
    (purchase_order("DRAFT", 0), purchase_order("SENT", 1), ["PurchaseOrderSent"]),
    (purchase_order("SENT", 1), purchase_order("ACKNOWLEDGED", 2), ["PurchaseOrderAcknowledged"]),
    (purchase_order("SENT", 1), purchase_order("PARTIALLY_CONFIRMED", 2, confirmed=6), ["PurchaseOrderAcknowledged"]),
    (purchase_order("ACKNOWLEDGED", 2), purchase_order("REJECTED", 3, reason="closed"), ["PurchaseOrderRejected"]),
    (purchase_order("ACKNOWLEDGED", 2), purchase_order("SHIPPED", 3), []),
    (purchase_order("SHIPPED", 3), purchase_order("SHIPPED", 4), []),  # a late reply: timeline only
    (purchase_order("DRAFT", 0), purchase_order("PENDING_APPROVAL", 1, reason="above 10000"),
     ["PurchaseOrderAwaitingApproval"]),
    (purchase_order("PENDING_APPROVAL", 1), purchase_order("PENDING_APPROVAL", 2), []),  # a buyer's change
    (purchase_order("PENDING_APPROVAL", 2), purchase_order("APPROVED", 3), []),
    (purchase_order("APPROVED", 3), purchase_order("SENT", 4), ["PurchaseOrderSent"]),
    (purchase_order("SENT", 1), purchase_order("CANCELLED", 2, reason="promo off"), ["PurchaseOrderCancelled"]),
    (purchase_order("SHIPPED", 3), purchase_order("PARTIALLY_RECEIVED", 4, received=4), ["PurchaseOrderReceived"]),
    (purchase_order("PARTIALLY_RECEIVED", 4, received=4), purchase_order("PARTIALLY_RECEIVED", 5, received=7),
     ["PurchaseOrderReceived"]),
    (purchase_order("PARTIALLY_RECEIVED", 5, received=7), purchase_order("RECEIVED", 6, received=10),
     ["PurchaseOrderReceived"]),
])
def test_purchase_orders_publish_sent_acknowledged_rejected_and_every_receipt(before, after, expected) -> None:
    assert types(conforming(events_for(Table.PURCHASE_ORDERS, before, after, sequence="400"))) == expected


def test_a_receipt_event_says_what_this_receipt_brought_and_how_far_the_line_is() -> None:
    """A purchase order stored before locations names no ``deliver_to``: its events say ``main``."""
    (event,) = conforming(events_for(Table.PURCHASE_ORDERS, purchase_order("PARTIALLY_RECEIVED", 4, received=4),
                                     purchase_order("PARTIALLY_RECEIVED", 5, received=7), sequence="400"))
    assert event.detail == {
        "version": 1, "event_id": "purchase_orders:po-2030-01-01-SKU-1:5:PurchaseOrderReceived", "occurred_at": AT,
        "po_id": "po-2030-01-01-SKU-1", "supplier_id": "acme", "status": "PARTIALLY_RECEIVED", "po_version": 5,
        "total": 25, "cycle": "2030-01-01", "expected_by": "2030-01-04", "run_id": "run-1", "deliver_to": "main",
        "lines": [{"sku": "SKU-1", "quantity": 3, "received": 7, "expected": 10}],
    }


@pytest.mark.parametrize(("before", "after"), [
    (purchase_order("DRAFT", 0), purchase_order("SENT", 1)),
    (purchase_order("SHIPPED", 3), purchase_order("RECEIVED", 4, received=10)),
])
def test_purchase_order_events_name_the_location_the_goods_go_to(before, after) -> None:
    before, after = ({**po, "deliver_to": "store-7"} for po in (before, after))
    (event,) = conforming(events_for(Table.PURCHASE_ORDERS, before, after, sequence="400"))
    assert event.detail["deliver_to"] == "store-7"


def test_sent_lists_the_lines_and_confirmations_and_rejections_say_why() -> None:
    (sent,) = events_for(Table.PURCHASE_ORDERS, purchase_order("DRAFT", 0), purchase_order("SENT", 1), sequence="1")
    assert sent.detail["lines"] == [{"sku": "SKU-1", "quantity": 10, "unit_cost": 2.5}]
    assert "reason" not in sent.detail
    (partial,) = events_for(Table.PURCHASE_ORDERS, purchase_order("SENT", 1),
                            purchase_order("PARTIALLY_CONFIRMED", 2, confirmed=6, reason="short"), sequence="2")
    assert (partial.detail["status"], partial.detail["lines"][0]["confirmed"], partial.detail["reason"]) == (
        "PARTIALLY_CONFIRMED", 6, "short")
    (rejected,) = events_for(Table.PURCHASE_ORDERS, purchase_order("SENT", 1),
                             purchase_order("REJECTED", 2, reason="supplier: closed"), sequence="3")
    assert rejected.detail["reason"] == "supplier: closed"


# ------------------------------------------------------------------ schemas
def test_every_schema_is_valid_versioned_and_every_event_type_has_one() -> None:
    documents = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    # The folder also holds the supplier message schemas (purchase-order.v1, supplier-reply.v1).
    files = {stem: d for stem, d in documents.items() if d["$id"].startswith("urn:orderflow:events:")}
    assert set(files) == set(PRODUCED)
    for name, document in files.items():
        Draft202012Validator.check_schema(document)
        assert document["title"] == name and document["$id"]
        assert document["properties"]["version"] == {**document["properties"]["version"], "const": 1}
        assert {"version", "event_id", "occurred_at"} <= set(document["required"])
        assert document.get("additionalProperties", True) is True


def test_a_shipment_some_of_whose_units_were_cancelled_tells_its_location_what_is_left() -> None:
    released = shipment("PICKED", 1)
    fewer = shipment("PICKED", 2, lines=[{"sku": "SKU-1", "quantity": Decimal(1)}],
                     cancelled=[{"sku": "SKU-1", "quantity": Decimal(1)}])
    (event,) = conforming(events_for(Table.SHIPMENTS, released, fewer, sequence="1"))
    assert event.detail_type == "ShipmentLinesCancelled"
    assert (event.detail["lines"], event.detail["cancelled"]) == ([{"sku": "SKU-1", "quantity": 1}],
                                                                  [{"sku": "SKU-1", "quantity": 1}])
    assert events_for(Table.SHIPMENTS, fewer, {**fewer, "version": Decimal(3)}, sequence="2") == []


def test_an_order_stored_packed_publishes_the_same_events_as_one_stored_as_maps() -> None:
    """The orders table stores lines and timeline entries packed (``Order.as_item``); the events read the same."""
    packed = order(lines=["SKU-1|3|9.99|Widget"], timeline=[f"PENDING|{AT}|workflow|why PENDING"])
    assert [e.detail for e in events_for(Table.ORDERS, None, packed, sequence="100")] == \
        [e.detail for e in events_for(Table.ORDERS, None, order(), sequence="100")]
    cancelled = order("CANCELLED", 1, lines=["SKU-1|3|9.99|Widget"],
                      timeline=[f"PENDING|{AT}|workflow|", f"CANCELLED|{AT}|customer|changed my mind"])
    (event,) = conforming(events_for(Table.ORDERS, order("RESERVED"), cancelled, sequence="101"))
    assert event.detail["reason"] == "changed my mind"
    assert event.detail["lines"] == [{"sku": "SKU-1", "quantity": 3, "unit_price": 9.99}]
