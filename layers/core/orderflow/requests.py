"""Pydantic models of the HTTP request bodies: what the intake API, the CLI and the returns and
purchasing modules validate. Apart from ``orderflow.models`` so the workflow steps, which take no
request bodies, never define them (docs/decisions.md, "Cold start")."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from .models import MAX_ORDER_LINES, ForecastMethod, Identifier, Money, Quantity, Strict


class ReplenishmentIn(Strict):
    """How a product is bought: the inputs of the inventory policy (orderflow.policy, docs/policy.md)."""

    unit_cost: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    ordering_cost: Money = Field(description="cost of placing one purchase order (K)")
    holding_cost_rate: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)] = Field(
        description="yearly cost of holding one unit, as a fraction of its unit cost (h)")
    lead_time_days: Annotated[float, Field(gt=0, le=365, allow_inf_nan=False)]
    lead_time_sigma_days: Annotated[float, Field(ge=0, le=365, allow_inf_nan=False)] = 0.0
    service_level: Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)] = Field(
        0.95, description="target cycle service level: share of replenishment cycles without a stock-out")
    moq: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = 0
    pack_size: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 1
    review_period_days: Annotated[int, Field(ge=1, le=365, strict=True)] = 1
    forecast_methods: Annotated[list[ForecastMethod], Field(min_length=1, max_length=14)] | None = Field(
        None, description="the forecasting candidates for this product (default: the automatic set, "
                          "docs/forecasting.md); e.g. [\"sarimax\", \"hw\", \"snaive\"] makes ARIMA a candidate")


class ProductIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit_price: Money
    supplier_id: Identifier | None = None
    active: bool = True
    low_stock_threshold: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | None = None
    replenishment: ReplenishmentIn | None = None


class PaymentIn(Strict):
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    reference: Annotated[str, Field(min_length=1, max_length=100)]


class CustomerIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    credit_limit: Money


class StockAdjustmentIn(Strict):
    quantity: Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("quantity")
    @classmethod
    def not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("quantity must not be zero")
        return value


class OrderLineIn(Strict):
    sku: Identifier
    quantity: Quantity


class SubmitOrderIn(Strict):
    customer_id: Identifier
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    channel: Annotated[str, Field(min_length=1, max_length=40)] = "api"

    @field_validator("lines")
    @classmethod
    def unique_skus(cls, lines: list[OrderLineIn]) -> list[OrderLineIn]:
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise ValueError(f"sku {line.sku} appears more than once; put the total on one line")
            seen.add(line.sku)
        return lines


class ShipIn(Strict):
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking: Annotated[str, Field(max_length=100)] | None = None


class CancelIn(Strict):
    reason: Annotated[str, Field(max_length=200)] = "cancelled on request"
