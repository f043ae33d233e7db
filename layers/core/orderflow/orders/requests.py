"""HTTP request bodies of orders: submit, ship, cancel."""

from typing import Annotated

from pydantic import AfterValidator, Field

from orderflow.fulfilment import Address, FulfilmentPolicy
from orderflow.orders.domain import MAX_ORDER_LINES
from orderflow.shared.types import Identifier, Quantity, Strict


class OrderLineIn(Strict):
    sku: Identifier
    quantity: Quantity


def _unique(lines: list[OrderLineIn]) -> list[OrderLineIn]:
    seen: set[str] = set()
    for line in lines:
        if line.sku in seen:
            raise ValueError(f"sku {line.sku} appears more than once; put the total on one line")
        seen.add(line.sku)
    return lines


# An order's lines: one to MAX_ORDER_LINES, each SKU once.
Lines = Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES), AfterValidator(_unique)]


class SubmitOrderIn(Strict):
    customer_id: Identifier
    lines: Lines
    shipping_address: Address = Field(description="where the order ships to (docs/fulfilment.md, Addresses)")
    channel: Annotated[str, Field(min_length=1, max_length=40)] = "api"
    fulfilment_policy: FulfilmentPolicy = Field(
        FulfilmentPolicy.SHIP_COMPLETE, description="ship_complete: every line is allocated before anything ships; "
        "ship_available: ship what is in stock now, backorder the rest (docs/fulfilment.md)")


class ShipIn(Strict):
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking: Annotated[str, Field(max_length=100)] | None = None
    lines: Lines | None = Field(
        None, description="what left, when less than the shipment holds (a partial shipment); all of it if left out")


class CancelIn(Strict):
    reason: Annotated[str, Field(max_length=200)] = "cancelled on request"
    lines: Lines | None = Field(
        None, description="units to cancel, when not the whole order (an Idempotency-Key header is then required)")
