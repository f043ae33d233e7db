"""Domain events derived from committed changes: one stream record (old and new image) → its events.

Pure: no AWS, no Lambda. ``functions/publish_events`` feeds it the deserialized images of each
DynamoDB stream record of the orders, stock, returns and purchase orders tables. Every rule compares
the two images of one atomic write, so an event exists exactly when the write that causes it landed,
and a threshold crossing is seen by exactly one write however many writers race.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from orderflow.shared.types import MAIN_LOCATION, unpacked_entry, unpacked_line, unpacked_ref

SOURCE = "orderflow"
SCHEMA_VERSION = 1

Image = Mapping[str, Any]


class Table(StrEnum):
    ORDERS = "orders"
    STOCK = "stock"
    RETURNS = "returns"
    PURCHASE_ORDERS = "purchase_orders"
    SHIPMENTS = "shipments"


class DomainEvent(BaseModel):
    detail_type: str
    detail: dict[str, Any]


ORDER_STATUS_EVENTS = {
    "RESERVED": "OrderReserved", "PARTIALLY_RESERVED": "OrderPartiallyReserved", "BACKORDERED": "OrderBackordered",
    "PARTIALLY_SHIPPED": "OrderPartiallyShipped",
    "SHIPPED": "OrderShipped",
    "DELIVERED": "OrderDelivered", "CANCELLED": "OrderCancelled", "REJECTED": "OrderRejected",
    "FAILED": "OrderFailed",
}
_WITH_REASON = {"BACKORDERED", "CANCELLED", "REJECTED", "FAILED"}
_WITH_SHIPMENT = {"PARTIALLY_SHIPPED", "SHIPPED", "DELIVERED"}
# A shipment's status → its event: RELEASED is what a WMS or 3PL subscribes to (the address, lines, location).
SHIPMENT_STATUS_EVENTS = {"RELEASED": "ShipmentReleased", "PICKED": "ShipmentPicked", "PACKED": "ShipmentPacked",
                          "SHIPPED": "ShipmentShipped", "DELIVERED": "ShipmentDelivered",
                          "CANCELLED": "ShipmentCancelled"}
# How far along its lifecycle a return is (REJECTED ends it before it is ever received).
_RETURN_STAGE = {"REQUESTED": 0, "APPROVED": 1, "REJECTED": 1, "RECEIVED": 2, "RESTOCKED": 3, "SCRAPPED": 3,
                 "REFUNDED": 4}
_RECEIVED = _RETURN_STAGE["RECEIVED"]
_STOCK_COUNTERS = ("on_hand", "reserved", "available", "on_order", "backordered")
_LEVEL = "LEVEL#"  # a stock level at one location: LEVEL#<location_id> (inventory.adapters.stock)

# A purchase order's status → its event (PARTIALLY_CONFIRMED is an acknowledgement of less than ordered).
PURCHASE_ORDER_STATUS_EVENTS = {"SENT": "PurchaseOrderSent", "ACKNOWLEDGED": "PurchaseOrderAcknowledged",
                                "PARTIALLY_CONFIRMED": "PurchaseOrderAcknowledged",
                                "REJECTED": "PurchaseOrderRejected",
                                "PENDING_APPROVAL": "PurchaseOrderAwaitingApproval",
                                "CANCELLED": "PurchaseOrderCancelled"}

# Every detail type this module produces (a schema exists for each).
PRODUCED = ("OrderCreated", *ORDER_STATUS_EVENTS.values(), "ReturnRequested", "ReturnReceived", "ReturnRefunded",
            "StockLow", "StockRecovered", "StockReceived", *dict.fromkeys(PURCHASE_ORDER_STATUS_EVENTS.values()),
            "PurchaseOrderReceived", *SHIPMENT_STATUS_EVENTS.values(), "OrderLinesCancelled", "ShipmentLinesCancelled")


def events_for(table: Table, old: Image | None, new: Image | None, sequence: str,
               approximate_time: float | None = None) -> list[DomainEvent]:
    """The events caused by one change of ``table`` from ``old`` to ``new`` (``None`` = no item).

    ``sequence`` (the stream record's sequence number) identifies changes of items without a
    version; ``approximate_time`` (epoch seconds) dates changes of items without ``updated_at``.
    """
    if new is None:
        return []
    change = _Change(table, old, new, sequence, approximate_time)
    match table:
        case Table.ORDERS:
            return _order_events(change)
        case Table.STOCK:
            return _stock_events(change)
        case Table.RETURNS:
            return _return_events(change)
        case Table.PURCHASE_ORDERS:
            return _purchase_order_events(change)
        case Table.SHIPMENTS:
            return _shipment_events(change)


class _Change:
    def __init__(self, table: Table, old: Image | None, new: Image, sequence: str, approximate_time: float | None):
        self.table, self.old, self.new = table, old, new
        self.revision = str(_plain(new["version"])) if "version" in new else sequence
        when = datetime.fromtimestamp(approximate_time, UTC) if approximate_time is not None else datetime.now(UTC)
        self.occurred_at = new.get("updated_at") or when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def event(self, detail_type: str, key: str, **fields: Any) -> DomainEvent:
        return DomainEvent(detail_type=detail_type, detail={
            "version": SCHEMA_VERSION,
            "event_id": f"{self.table.value}:{key}:{self.revision}:{detail_type}",
            "occurred_at": self.occurred_at,
            **_plain(fields),
        })


# ------------------------------------------------------------------ orders
def _order_events(change: _Change) -> list[DomainEvent]:
    new, old = change.new, change.old
    status = new["status"]
    if old is None:
        return [_order_event(change, "OrderCreated", channel=new.get("channel"), created_at=new.get("created_at"))]
    events = _lines_cancelled(change)
    if old.get("status") == status or status not in ORDER_STATUS_EVENTS:
        return events
    fields: dict[str, Any] = {}
    if status in _WITH_REASON:
        fields["reason"] = _last_reason(new)
    if status in _WITH_SHIPMENT:
        fields["shipment"] = new.get("shipment") or {}
    if status == "PARTIALLY_SHIPPED":
        fields.update(shipped=_sent(new), backordered=new.get("backordered") or {})
    if status == "PARTIALLY_RESERVED":
        fields.update(allocations=new.get("allocations") or {}, backordered=new.get("backordered") or {})
    return [*events, _order_event(change, ORDER_STATUS_EVENTS[status], **fields)]


def _lines_cancelled(change: _Change) -> list[DomainEvent]:
    """Some units were cancelled while the rest of the order goes on: which (this change), and why."""
    before, after = (change.old or {}).get("cancelled") or {}, change.new.get("cancelled") or {}
    gone = {sku: units - before.get(sku, 0) for sku, units in after.items() if units > before.get(sku, 0)}
    if not gone:
        return []
    return [_order_event(change, "OrderLinesCancelled", cancelled=gone, total_cancelled=after,
                         reason=_last_reason(change.new))]


def _last_reason(image: Image) -> str | None:
    """The reason of the latest timeline entry (an order's are stored packed: ``unpacked_entry``)."""
    timeline = image.get("timeline") or [{}]
    return unpacked_entry(timeline[-1]).get("reason")


def _sent(order: Image) -> dict[str, Any]:
    """SKU → units that left, over the order's shipments (a shipment's ``shipped`` when it left in part)."""
    units: dict[str, Any] = {}
    for ref in (unpacked_ref(r, order.get("lines")) for r in order.get("shipments") or []):  # stored packed
        if ref.get("state") in ("shipped", "delivered"):
            for sku, quantity in (ref.get("shipped") or ref.get("lines") or {}).items():
                units[sku] = units.get(sku, 0) + quantity
    return units


def _order_event(change: _Change, detail_type: str, **fields: Any) -> DomainEvent:
    new = change.new
    return change.event(
        detail_type, new["order_id"], order_id=new["order_id"], customer_id=new["customer_id"],
        status=new["status"], order_version=new.get("version", 0), total=new.get("total"),
        lines=[{"sku": li["sku"], "quantity": li["quantity"], "unit_price": li.get("unit_price")}
               for li in map(unpacked_line, new.get("lines") or [])],  # an order's lines are stored packed
        **fields)


# ------------------------------------------------------------------ shipments
def _shipment_events(change: _Change) -> list[DomainEvent]:
    """Each status a shipment enters: released (created) to its location, picked, packed, shipped (with
    what left, and carrier and tracking), delivered or cancelled (with why)."""
    new, old = change.new, change.old
    status = new["status"]
    if old is not None and len(new.get("cancelled") or []) > len(old.get("cancelled") or []):
        return [change.event(  # some of its units were cancelled; it stays open with the rest
            "ShipmentLinesCancelled", new["shipment_id"], shipment_id=new["shipment_id"], order_id=new["order_id"],
            customer_id=new.get("customer_id"), location_id=new["location_id"], status=status,
            shipment_version=new.get("version", 0), lines=new.get("lines") or [],
            cancelled=(new.get("cancelled") or [])[len(old.get("cancelled") or []):])]
    if (old is not None and old.get("status") == status) or status not in SHIPMENT_STATUS_EVENTS:
        return []
    reason = (new.get("timeline") or [{}])[-1].get("reason")
    fields = {name: new[name] for name in ("carrier", "tracking", "shipped") if new.get(name) is not None}
    if status == "RELEASED" and new.get("ship_by"):
        fields["ship_by"] = new["ship_by"]  # by when the location must send it
    if status == "CANCELLED" and reason:
        fields["reason"] = reason
    return [change.event(
        SHIPMENT_STATUS_EVENTS[status], new["shipment_id"], shipment_id=new["shipment_id"], order_id=new["order_id"],
        customer_id=new.get("customer_id"), location_id=new["location_id"], status=status,
        shipment_version=new.get("version", 0), address=new.get("address"), lines=new.get("lines") or [], **fields)]


# ------------------------------------------------------------------ stock
def _stock_events(change: _Change) -> list[DomainEvent]:
    new, old = change.new, change.old or {}
    if not str(new.get("record", "")).startswith(_LEVEL) or "bucket_of" in new:
        return []  # a backorder's wait, or a hot SKU's bucket (a share of a level: docs/scale.md)
    sku, location = new["sku"], new["record"][len(_LEVEL):]
    level = {c: int(new.get(c, 0)) for c in _STOCK_COUNTERS}
    key = f"{sku}@{location}"
    events = []
    if new.get("rebalanced") != old.get("rebalanced"):
        return events  # units moved between a level's buckets, which no receipt or crossing is (docs/scale.md)
    received = level["on_hand"] - int(old.get("on_hand", 0))
    if received > 0:
        events.append(change.event("StockReceived", key, sku=sku, location_id=location, quantity=received, **level))
    if "buckets" in new:  # a bucketed base's available is a share: its flag says when the level crossed
        if old.get("low") is not None and new.get("low") is not None and old["low"] != new["low"]:
            summed = {c: int(new["low_level"].get(c, 0)) for c in _STOCK_COUNTERS if c in new["low_level"]}
            events.append(change.event("StockLow" if new["low"] else "StockRecovered", key, sku=sku,
                                       location_id=location, threshold=new.get("threshold"), **{**level, **summed}))
        return events
    was_low, is_low = _low(old), _low(new)
    if is_low != was_low:
        events.append(change.event("StockLow" if is_low else "StockRecovered", key, sku=sku, location_id=location,
                                   threshold=new.get("threshold"), **level))
    return events


def _low(level: Image) -> bool:
    """At or below its low-stock threshold (never, without one). A record no stock has moved through yet
    (a new product's threshold, set before any receipt) has no ``available`` to be low: creating it is not
    a crossing, and its first receipt is StockReceived alone, or StockLow if it stays at or below."""
    threshold = level.get("threshold")
    return threshold is not None and "available" in level and int(level["available"]) <= int(threshold)


# ------------------------------------------------------------------ returns
def _return_events(change: _Change) -> list[DomainEvent]:
    new, old = change.new, change.old
    status = new["status"]
    before = -1 if old is None else _RETURN_STAGE.get(old.get("status"), -1)
    events = []
    if old is None:
        events.append(_return_event(change, "ReturnRequested", "refund_amount", "exchange"))
    if before < _RECEIVED <= _RETURN_STAGE.get(status, -1):
        events.append(_return_event(change, "ReturnReceived", "received", "restocked", "scrapped", "received_at"))
    if status == "REFUNDED" and (old or {}).get("status") != "REFUNDED":
        events.append(_return_event(change, "ReturnRefunded", "refund_amount", "refunded_at"))
    return events


def _return_event(change: _Change, detail_type: str, *optional: str) -> DomainEvent:
    """A return event: who and what, plus those ``optional`` attributes the return has."""
    new = change.new
    return change.event(detail_type, new["return_id"], return_id=new["return_id"], order_id=new["order_id"],
                        customer_id=new.get("customer_id"), status=new["status"], lines=new.get("lines") or [],
                        **{name: new[name] for name in optional if name in new})


# ------------------------------------------------------------------ purchase orders
def _purchase_order_events(change: _Change) -> list[DomainEvent]:
    """A status change the supplier's partners care about, and every receipt (partial ones too: a second
    partial receipt leaves the status as it was, so receipts are told by each line's ``received``)."""
    new, old = change.new, change.old or {}
    events = []
    status = new["status"]
    if old.get("status") != status and status in PURCHASE_ORDER_STATUS_EVENTS:
        lines = [{"sku": li["sku"], "quantity": li["quantity"], "unit_cost": li.get("unit_cost"),
                  **({"confirmed": li["confirmed"]} if li.get("confirmed") is not None else {})}
                 for li in new.get("lines") or []]
        reason = (new.get("timeline") or [{}])[-1].get("reason")
        events.append(_purchase_order_event(change, PURCHASE_ORDER_STATUS_EVENTS[status], lines,
                                            **({"reason": reason} if status != "SENT" and reason else {})))
    before = {li["sku"]: int(li.get("received", 0)) for li in old.get("lines") or []}
    received = [{"sku": li["sku"], "quantity": int(li.get("received", 0)) - before.get(li["sku"], 0),
                 "received": li.get("received", 0),
                 "expected": li["confirmed"] if li.get("confirmed") is not None else li["quantity"]}
                for li in new.get("lines") or []]
    if received := [line for line in received if line["quantity"] > 0]:
        events.append(_purchase_order_event(change, "PurchaseOrderReceived", received))
    return events


def _purchase_order_event(change: _Change, detail_type: str, lines: list[dict[str, Any]], **fields: Any) -> DomainEvent:
    new = change.new
    return change.event(detail_type, new["po_id"], po_id=new["po_id"], supplier_id=new["supplier_id"],
                        status=new["status"], po_version=new.get("version", 0), total=new.get("total"),
                        deliver_to=new.get("deliver_to") or MAIN_LOCATION,
                        **{k: new[k] for k in ("cycle", "expected_by", "run_id") if new.get(k) is not None},
                        lines=lines, **fields)


def _plain(value: Any) -> Any:
    """DynamoDB numbers (``Decimal``) as JSON numbers, recursively; sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return value
