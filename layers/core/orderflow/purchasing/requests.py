"""HTTP request bodies of purchasing by hand: make, change and cancel a purchase order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from orderflow.shared.types import MAIN_LOCATION, Identifier, Quantity, Strict

MAX_LINES = 100
# A supplier's price list may quote fractions of a cent; more than 4 decimals is a typo, not a price.
UnitCost = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]


class PurchaseOrderLineIn(Strict):
    sku: Identifier
    quantity: Quantity
    unit_cost: UnitCost | None = Field(
        None, description="price per unit; default: the product's unit cost from this supplier")


def _one_line_per_sku(lines: list[PurchaseOrderLineIn] | None) -> None:
    if lines is None:
        return
    seen: set[str] = set()
    for line in lines:
        if line.sku in seen:
            raise ValueError(f"SKU {line.sku} is on two lines; put its whole quantity on one")
        seen.add(line.sku)


class PurchaseOrderIn(Strict):
    """``POST /purchase-orders``: a purchase order made by hand."""

    supplier_id: Identifier
    deliver_to: Identifier = Field(MAIN_LOCATION, description="the location the goods go to (an active one): its "
                                                              "on_order counts them and the receipt lands there")
    expected_by: date | None = Field(None, description="day the goods are expected; default: today + the "
                                                       "longest lead time of its products")
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    note: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _distinct_skus(self) -> PurchaseOrderIn:
        _one_line_per_sku(self.lines)
        return self


class PurchaseOrderChangeIn(Strict):
    """``PATCH /purchase-orders/{po_id}`` while DRAFT or PENDING_APPROVAL. ``lines`` replaces all the
    lines (a SKU left out leaves the purchase order); the fields not given keep their value."""

    lines: list[PurchaseOrderLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    expected_by: date | None = None
    deliver_to: Identifier | None = Field(None, description="another location for the goods: its units move there")
    note: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> PurchaseOrderChangeIn:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give lines, expected_by, deliver_to or note")
        _one_line_per_sku(self.lines)
        return self


class PurchaseOrderCancelIn(Strict):
    """``POST /purchase-orders/{po_id}/cancel``."""

    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None
