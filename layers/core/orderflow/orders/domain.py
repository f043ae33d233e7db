"""The order aggregate: its statuses, lines, timeline and shipment."""

import hashlib
from enum import StrEnum

from pydantic import Field

from orderflow.fulfilment import Address
from orderflow.inventory import Units
from orderflow.shared.types import MAIN_LOCATION, Model, Money

MAX_ORDER_LINES = 40  # one reservation transaction holds the order + a stock item and a demand item per line

class OrderStatus(StrEnum):
    PENDING = "PENDING"
    VALIDATED = "VALIDATED"
    CREDIT_APPROVED = "CREDIT_APPROVED"
    RESERVED = "RESERVED"
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


class TimelineEntry(Model):
    status: OrderStatus
    at: str
    reason: str | None = None
    by: str | None = None


class Shipment(Model):
    carrier: str | None = None
    tracking: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None


class Order(Model):
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: list[OrderLine]
    total: Money
    channel: str = "api"
    shipping_address: Address | None = None  # None only for orders stored before orders had one
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
    # RESERVED: ship by then; BACKORDERED: stock must come by then. Past it, ExpireOrdersFunction fails it.
    deadline: str | None = None

    def held(self) -> list[tuple[str, Units]]:
        """(location, units) for each hold of the order's reservation."""
        if self.allocations:
            return [(location, Units(sku, quantity)) for location, lines in self.allocations.items()
                    for sku, quantity in lines.items()]
        return [(MAIN_LOCATION, Units(line.sku, line.quantity)) for line in self.lines]

    def public(self) -> dict:
        """The order as the API returns it."""
        return self.model_dump(mode="json")


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    """Deterministic, so a submit retried after a crash finds the order it already stored."""
    digest = hashlib.sha256(f"{customer_id}\n{idempotency_key}".encode()).hexdigest()
    return f"ord-{digest[:20]}"
