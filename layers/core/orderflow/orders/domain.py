"""The order aggregate: its statuses, lines, timeline and shipments."""

import hashlib
from enum import StrEnum
from typing import Literal, NamedTuple

from pydantic import Field, model_validator

from orderflow.fulfilment import Address, FulfilmentPolicy
from orderflow.inventory import Units
from orderflow.shared.types import (
    MAIN_LOCATION,
    Model,
    Money,
    packed_entry,
    packed_line,
    packed_ref,
    units_of,
    unpacked_entry,
    unpacked_line,
    unpacked_ref,
)

MAX_ORDER_LINES = 40  # one reservation transaction holds the order + a stock item and a demand item per line
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit on the items of one TransactWriteItems

class OrderStatus(StrEnum):
    PENDING = "PENDING"
    VALIDATED = "VALIDATED"
    CREDIT_APPROVED = "CREDIT_APPROVED"
    RESERVED = "RESERVED"
    PARTIALLY_RESERVED = "PARTIALLY_RESERVED"  # ship_available: some units held, the rest waits for stock
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"  # some units left, the rest is at a location or waiting for stock
    BACKORDERED = "BACKORDERED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURNED = "RETURNED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


class OrderLine(Model):
    sku: str
    quantity: int
    unit_price: Money
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unpacked(cls, value: object) -> object:
        return unpacked_line(value) if isinstance(value, str) else value

    def packed(self) -> str:
        """As the orders table stores it (``orderflow.shared.types.packed_line``)."""
        return packed_line(self.sku, self.quantity, self.unit_price, self.name)


class TimelineEntry(Model):
    status: OrderStatus
    at: str
    reason: str | None = None
    by: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unpacked(cls, value: object) -> object:
        return unpacked_entry(value) if isinstance(value, str) else value

    def packed(self) -> str:
        """As the orders table stores it (``orderflow.shared.types.packed_entry``)."""
        return packed_entry(self.status.value, self.at, self.by, self.reason)


class Shipment(Model):
    """The last shipment that left, as the order tells it (its carrier, tracking and times)."""

    carrier: str | None = None
    tracking: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None


class ShipmentRef(Model):
    """One of the order's shipments, as the order's own writes know it: where from, the units released to
    it and those that left, and its state as far as the order goes (open: at its location, not yet sent).
    Picking and packing touch the shipment alone; its full record is in the Shipments table."""

    shipment_id: str
    location_id: str
    lines: dict[str, int]
    state: Literal["open", "shipped", "delivered", "cancelled"] = "open"
    shipped: dict[str, int] | None = None  # what left, when less than ``lines`` (a partial shipment)
    deadline: str | None = None  # ship by then (its release + the fulfilment timeout), or the sweep cancels it

    @model_validator(mode="before")
    @classmethod
    def _unpacked(cls, value: object) -> object:
        return unpacked_ref(value) if isinstance(value, str) else value

    def packed(self, order_units: dict[str, int] | None = None) -> str:
        """As the orders table stores it (``orderflow.shared.types.packed_ref``); ``order_units``, the order's
        lines (``Order.packed_shipments`` gives them)."""
        return packed_ref(self.shipment_id, self.location_id, self.state, self.lines, self.shipped, self.deadline,
                          order_units)

    @property
    def open(self) -> bool:
        return self.state == "open"

    def sent(self) -> dict[str, int]:
        """SKU → units that left with it (none while open or once cancelled)."""
        if self.state not in ("shipped", "delivered"):
            return {}
        return self.lines if self.shipped is None else self.shipped


# Stored only once they hold something (``Order.as_item``; a transition that empties one removes it).
OMITTED_WHILE_EMPTY = ("returned", "open_returns", "allocations", "shipments", "backordered", "cancelled",
                       "cancel_keys")


class Order(Model):
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: list[OrderLine]
    total: Money
    channel: str = "api"
    shipping_address: Address | None = None  # None only for orders stored before orders had one
    fulfilment_policy: FulfilmentPolicy = FulfilmentPolicy.SHIP_COMPLETE
    created_at: str
    updated_at: str
    version: int = 0
    timeline: list[TimelineEntry] = Field(default_factory=list)
    shipment: Shipment | None = None
    # After-sales (orderflow.returns): units returned per SKU across all the order's returns, how
    # many of its returns are still open, and for an exchange order the return it replaces goods for.
    returned: dict[str, int] = Field(default_factory=dict)
    open_returns: int = 0
    exchange_for_return: str | None = None
    # Where the reservation holds each line: location → SKU → units (empty before it, and for orders
    # reserved before stock had locations: those hold everything at the main location).
    allocations: dict[str, dict[str, int]] = Field(default_factory=dict)
    # Its shipments (one per location allocated, more after a partial shipment: what was shipped and
    # delivered is read off them), and per SKU the units that wait to be sourced again (a partial shipment's
    # rest, or a ship_available order's backordered part).
    shipments: list[ShipmentRef] = Field(default_factory=list)
    backordered: dict[str, int] = Field(default_factory=dict)
    # Units cancelled per SKU while the rest of the order goes on (``POST /orders/{id}/cancel`` with lines), and
    # the Idempotency-Keys of those requests: a retried one finds its key and changes nothing.
    cancelled: dict[str, int] = Field(default_factory=dict)
    cancel_keys: list[str] = Field(default_factory=list)
    # RESERVED, PARTIALLY_RESERVED: ship by then; BACKORDERED: stock must come by then. Past it,
    # ExpireOrdersFunction fails it.
    deadline: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _whole_order_refs(cls, value: object) -> object:
        """Refs stored packed read back with the order's lines (a ref holding the whole order names none)."""
        if isinstance(value, dict) and any(isinstance(ref, str) for ref in value.get("shipments") or ()):
            lines = value.get("lines") or ()
            value = {**value, "shipments": [unpacked_ref(ref, lines) for ref in value["shipments"]]}
        return value

    def as_item(self) -> dict:
        """The order as the orders table stores it: lines, timeline entries and shipment refs packed, and the
        after-sales and fulfilment fields left out while empty and the fulfilment policy while the default (they
        read back as their defaults). Every write of the order is billed by its size (docs/decisions.md, "DynamoDB
        calls per order")."""
        item = self.model_dump(mode="python", exclude_none=True)
        item["timeline"] = [entry.packed() for entry in self.timeline]
        item["lines"] = [line.packed() for line in self.lines]
        item["shipments"] = self.packed_shipments(self.shipments)
        for name in OMITTED_WHILE_EMPTY:
            if not item.get(name):
                item.pop(name, None)
        if self.fulfilment_policy == FulfilmentPolicy.SHIP_COMPLETE:
            item.pop("fulfilment_policy", None)
        return item

    def packed_shipments(self, refs: list[ShipmentRef]) -> list[str]:
        """``refs`` (the order's shipments, as a write leaves them) as the orders table stores them."""
        units = units_of(self.lines)
        return [ref.packed(units) for ref in refs]

    def held(self) -> list[tuple[str, Units]]:
        """(location, units) for each hold of the order's reservation."""
        if self.allocations:
            return [(location, Units(sku, quantity)) for location, lines in self.allocations.items()
                    for sku, quantity in lines.items()]
        return [(MAIN_LOCATION, Units(line.sku, line.quantity)) for line in self.lines]

    def owed(self) -> dict[str, int]:
        """SKU → units the customer still wants: each line less what was cancelled of it."""
        return {li.sku: li.quantity - self.cancelled.get(li.sku, 0) for li in self.lines}

    @property
    def had_returns(self) -> bool:
        """A return was ever requested for the order: only then has it returns to read (orderflow.returns)."""
        return bool(self.returned or self.open_returns) or self.status in (OrderStatus.RETURN_REQUESTED,
                                                                           OrderStatus.RETURNED)

    def open_shipments(self) -> list[ShipmentRef]:
        return [ref for ref in self.shipments if ref.open]

    def shipped(self, delivered_only: bool = False) -> dict[str, int]:
        """SKU → units that left (delivered or not), or that were delivered, over its shipments."""
        units: dict[str, int] = {}
        for ref in self.shipments:
            if not delivered_only or ref.state == "delivered":
                units = added(units, ref.sent())
        return units

    def line_quantities(self, sku: str, quantity: int) -> dict[str, int]:
        """Where the units of a line are: allocated (held at a location, not shipped yet), shipped (delivered
        included), delivered, backordered (waiting for stock), cancelled."""
        whole = not self.shipments  # an order shipped before orders had shipments moved whole
        shipped = quantity if whole and self.status in _SHIPPED_WHOLE else self.shipped().get(sku, 0)
        delivered = quantity if whole and self.status in _DELIVERED_WHOLE else self.shipped(True).get(sku, 0)
        if self.status in _ENDED_UNSHIPPED:
            return {"allocated": 0, "shipped": shipped, "delivered": delivered, "backordered": 0,
                    "cancelled": quantity - shipped}
        allocated = sum(lines.get(sku, 0) for lines in self.allocations.values())
        if whole and not self.allocations and self.status == OrderStatus.RESERVED:
            allocated = quantity  # reserved before stock had locations: held whole at the main location
        backordered = (quantity - self.cancelled.get(sku, 0) if self.status == OrderStatus.BACKORDERED
                       else self.backordered.get(sku, 0))
        return {"allocated": allocated, "shipped": shipped, "delivered": delivered, "backordered": backordered,
                "cancelled": self.cancelled.get(sku, 0)}

    def public(self) -> dict:
        """The order as the API returns it: each line says where its units are. The shipments' own records
        (``GET /orders/{id}`` adds them) stand for the order's bookkeeping of them."""
        body = self.model_dump(mode="json", exclude={"shipments"})
        for line in body["lines"]:
            line.update(self.line_quantities(line["sku"], line["quantity"]))
        return body


_DELIVERED_WHOLE = {OrderStatus.DELIVERED, OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED}
_SHIPPED_WHOLE = {OrderStatus.SHIPPED, *_DELIVERED_WHOLE}
_ENDED_UNSHIPPED = {OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REJECTED}
# Nothing is held for its units yet: cancelling some of them shrinks what is owed (orderflow.orders.cancelling).
BEFORE_RESERVATION = frozenset({OrderStatus.PENDING, OrderStatus.VALIDATED, OrderStatus.CREDIT_APPROVED,
                                OrderStatus.BACKORDERED})


def shipment_id_for(order_id: str, number: int) -> str:
    """The order's ``number``-th shipment (from 1): deterministic, so a retried reservation that lost its
    answer finds the shipments it released instead of releasing them twice."""
    return f"shp-{order_id.removeprefix('ord-')}-{number}"


def released(order: Order, allocations: dict[str, dict[str, int]], deadline: str | None = None) -> list[ShipmentRef]:
    """One new shipment per location of ``allocations``, numbered after the order's existing ones, each to ship
    by ``deadline``."""
    first = len(order.shipments) + 1
    return [ShipmentRef(shipment_id=shipment_id_for(order.order_id, first + i), location_id=location, lines=dict(lines),
                        deadline=deadline) for i, (location, lines) in enumerate(allocations.items())]


def earliest_deadline(shipments: list[ShipmentRef], legacy: str | None = None) -> str | None:
    """The earliest deadline of the open ``shipments`` (None when none is open): the order's own deadline, by
    which the sweep looks at it. A shipment released before shipments had deadlines has the order's (``legacy``)."""
    dates = [d for d in (ref.deadline or legacy for ref in shipments if ref.open) if d]
    return min(dates) if dates else None


def overdue_shipments(order: Order, now: str) -> list[ShipmentRef]:
    """The order's open shipments past their deadline at ``now``."""
    return [ref for ref in order.open_shipments() if (deadline := ref.deadline or order.deadline) and deadline <= now]


class LinesCancelled(NamedTuple):
    """What cancelling some units of an order changes: its backordered units and shipments after, the holds
    released (location, units) and the shipments that shrank or went (their refs after)."""

    backordered: dict[str, int]
    shipments: list[ShipmentRef]
    released: list[tuple[str, Units]]
    changed: list[ShipmentRef]


def cancel_units(order: Order, units: dict[str, int]) -> LinesCancelled:
    """Take ``units`` (SKU → units) off the order where they have not left: the backordered units first (nothing
    is held for them), then the open shipments, the latest released first (the one least likely to be in a
    picker's hands). ValueError naming the SKU when more is asked than can be cancelled."""
    backordered = dict(order.backordered)
    refs = {ref.shipment_id: ref for ref in order.shipments}
    released: list[tuple[str, Units]] = []
    changed: set[str] = set()
    for sku, wanted in units.items():
        left = wanted
        take = min(left, backordered.get(sku, 0))
        backordered, left = added(backordered, {sku: -take}), left - take
        for ref in reversed(order.open_shipments()):
            current = refs[ref.shipment_id]
            take = min(left, current.lines.get(sku, 0))
            if take:
                lines = added(current.lines, {sku: -take})
                refs[ref.shipment_id] = (current.model_copy(update={"lines": lines}) if lines
                                         else current.model_copy(update={"state": "cancelled"}))
                released.append((ref.location_id, Units(sku, take)))
                changed.add(ref.shipment_id)
                left -= take
        if left:
            raise ValueError(sku)
    shipments = [refs[ref.shipment_id] for ref in order.shipments]
    return LinesCancelled(backordered=backordered, shipments=shipments, released=released,
                          changed=[r for r in shipments if r.shipment_id in changed])


def cancel_shipments(order: Order, shipment_ids: set[str]) -> LinesCancelled:
    """Cancel the open shipments ``shipment_ids`` whole (their deadline passed): their holds go back where they
    were, the order's backordered units are left as they are."""
    changed = [ref.model_copy(update={"state": "cancelled"}) for ref in order.open_shipments()
               if ref.shipment_id in shipment_ids]
    gone = {ref.shipment_id: ref for ref in changed}
    return LinesCancelled(backordered=dict(order.backordered),
                          shipments=[gone.get(ref.shipment_id, ref) for ref in order.shipments],
                          released=[(ref.location_id, Units(sku, n)) for ref in changed
                                    for sku, n in ref.lines.items()],
                          changed=changed)


def cancellable(order: Order) -> dict[str, int]:
    """SKU → units that can still be cancelled: backordered, or held in an open shipment; before the reservation
    (and while backordered whole), every unit still owed."""
    if order.status in BEFORE_RESERVATION:
        return {sku: units for sku, units in order.owed().items() if units}
    units = dict(order.backordered)
    for ref in order.open_shipments():
        units = added(units, ref.lines)
    return units


def holds_of(shipments: list[ShipmentRef]) -> dict[str, dict[str, int]]:
    """Location → SKU → units held for the open shipments (what ``Order.allocations`` says)."""
    holds: dict[str, dict[str, int]] = {}
    for ref in shipments:
        if ref.open:
            at = holds.setdefault(ref.location_id, {})
            for sku, units in ref.lines.items():
                at[sku] = at.get(sku, 0) + units
    return holds


def added(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """SKU → units, with ``more`` added (negative takes away); SKUs at zero are left out."""
    total = dict(counts)
    for sku, units in more.items():
        total[sku] = total.get(sku, 0) + units
    return {sku: units for sku, units in total.items() if units}


def worst_case_reservation(quantities: list[int], locations: int | None = None) -> int:
    """The most items one reservation transaction of an order with these line ``quantities`` can write, over
    ``locations`` active locations (None: as many as it takes). The order, one hold per (SKU, location) (a line
    splits over at most as many locations as it has units), one shipment per location holding something, and
    one wait item per line (a backorder's waits are cleared, or a partial allocation's written, in the same
    transaction). A single location writes at most ``2 * lines + 2`` items: with ``MAX_ORDER_LINES`` = 40, 82."""
    holds = sum(q if locations is None else min(q, locations) for q in quantities)
    shipments = holds if locations is None else min(holds, locations)
    return 1 + holds + shipments + len(quantities)


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    """Deterministic, so a submit retried after a crash finds the order it already stored."""
    digest = hashlib.sha256(f"{customer_id}\n{idempotency_key}".encode()).hexdigest()
    return f"ord-{digest[:20]}"
