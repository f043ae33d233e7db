"""HTTP request bodies of the catalogue: products, customers, payments."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from orderflow.catalogue.domain import ForecastMethod
from orderflow.shared.types import Identifier, Money, Strict


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


