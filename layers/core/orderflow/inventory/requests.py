"""HTTP request bodies of stock: adjustments."""

from typing import Annotated

from pydantic import Field, field_validator

from orderflow.shared.types import MAIN_LOCATION, Identifier, Strict


class StockAdjustmentIn(Strict):
    quantity: Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    location_id: Identifier = Field(MAIN_LOCATION, description="where the stock is counted (default: main)")

    @field_validator("quantity")
    @classmethod
    def not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("quantity must not be zero")
        return value


