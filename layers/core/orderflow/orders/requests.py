"""HTTP request bodies of orders: submit, ship, cancel."""

from typing import Annotated

from pydantic import Field, field_validator

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


class SubmitOrderIn(Strict):
    customer_id: Identifier
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    shipping_address: Address = Field(description="where the order ships to (docs/fulfilment.md, Addresses)")
    channel: Annotated[str, Field(min_length=1, max_length=40)] = "api"
    fulfilment_policy: FulfilmentPolicy = Field(
        FulfilmentPolicy.SHIP_COMPLETE, description="ship_complete: every line is allocated before anything ships; "
        "ship_available: ship what is in stock now, backorder the rest (docs/fulfilment.md)")

    @field_validator("lines")
    @classmethod
    def unique_skus(cls, lines: list[OrderLineIn]) -> list[OrderLineIn]:
        return _unique(lines)


class ShipIn(Strict):
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking: Annotated[str, Field(max_length=100)] | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)] | None = Field(
        None, description="what left, when less than the shipment holds (a partial shipment); all of it if left out")

    @field_validator("lines")
    @classmethod
    def unique_skus(cls, lines: list[OrderLineIn] | None) -> list[OrderLineIn] | None:
        return None if lines is None else _unique(lines)


class CancelIn(Strict):
    reason: Annotated[str, Field(max_length=200)] = "cancelled on request"
