"""The catalogue: products (with how each is bought) and customers (with their credit)."""

from decimal import Decimal
from typing import Literal

from orderflow.shared.types import Model, Money, SignedMoney

# The names of orderflow.forecasting.METHODS (a test keeps them in step; this module loads no numpy).
ForecastMethod = Literal["snaive", "mean", "ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log",
                         "sarimax", "gbm", "croston", "sba", "tsb"]


class Replenishment(Model):
    """A product's stored replenishment parameters (validated on the way in by
    ``orderflow.requests.ReplenishmentIn``)."""

    unit_cost: Money
    ordering_cost: Money
    holding_cost_rate: float
    lead_time_days: float
    lead_time_sigma_days: float = 0.0
    service_level: float = 0.95
    moq: int = 0
    pack_size: int = 1
    review_period_days: int = 1
    forecast_methods: list[ForecastMethod] | None = None  # None: forecast()'s default candidate set


class Product(Model):
    sku: str
    name: str
    unit_price: Money
    supplier_id: str | None = None
    active: bool = True
    low_stock_threshold: int | None = None
    replenishment: Replenishment | None = None


class Customer(Model):
    customer_id: str
    name: str
    credit_limit: Money
    # Below zero is a credit balance: the customer paid for an order that was then cancelled, failed or
    # returned, and is owed that much (credit_available is then above the limit).
    exposure: SignedMoney = Decimal(0)
    credit_available: SignedMoney = Decimal(0)


