"""HTTP request bodies of returns: the request (RMA) and the warehouse's receipt.

Apart from the return's models and rules (``orderflow.returns.domain``), so the intake names them in its routes
without loading the returns area at init (docs/decisions.md, "Cold start").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator

from orderflow.orders import MAX_ORDER_LINES
from orderflow.shared.types import MAIN_LOCATION, Identifier, Quantity, Strict


class ItemCondition(StrEnum):
    RESELLABLE = "resellable"
    DAMAGED = "damaged"


Reason = Annotated[str, Field(min_length=1, max_length=200)]


def _unique(lines: list[Any], key: str = "sku") -> list[Any]:
    seen: set[Any] = set()
    for line in lines:
        value = tuple(getattr(line, k) for k in key.split(","))
        if value in seen:
            raise ValueError(f"{', '.join(map(str, value))} appears more than once; put the total on one line")
        seen.add(value)
    return lines


class ReturnLineIn(Strict):
    sku: Identifier
    quantity: Quantity
    reason: Reason


class ExchangeLineIn(Strict):
    sku: Identifier
    quantity: Quantity


class ReturnRequestIn(Strict):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    exchange: Annotated[list[ExchangeLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)] | None = None

    @field_validator("lines", "exchange")
    @classmethod
    def unique_skus(cls, lines: list[Any] | None) -> list[Any] | None:
        return _unique(lines) if lines else lines


class ReceiveLineIn(Strict):
    sku: Identifier
    quantity: Quantity
    condition: ItemCondition


class ReceiveIn(Strict):
    """What the warehouse found in the parcel. A SKU may appear twice, once per condition
    (e.g. 2 resellable and 1 damaged)."""

    lines: Annotated[list[ReceiveLineIn], Field(min_length=1, max_length=2 * MAX_ORDER_LINES)]
    location_id: Identifier = Field(MAIN_LOCATION, description="where the parcel was received (a warehouse, or "
                                                               "the store the customer brought it to)")

    @field_validator("lines")
    @classmethod
    def unique_sku_and_condition(cls, lines: list[ReceiveLineIn]) -> list[ReceiveLineIn]:
        return _unique(lines, "sku,condition")


# ------------------------------------------------------------------ the aggregate
