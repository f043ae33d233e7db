"""Pydantic models of the aggregates (the HTTP request bodies are in ``orderflow.requests``)."""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
SignedMoney = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Quantity = Annotated[int, Field(gt=0, le=1_000_000, strict=True)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
# The names of orderflow.forecasting.METHODS (a test keeps them in step; this module loads no numpy).
ForecastMethod = Literal["snaive", "mean", "ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log",
                         "sarimax", "gbm", "croston", "sba", "tsb"]
MAX_ORDER_LINES = 40  # one reservation transaction holds the order + a stock item and a demand item per line


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


class Model(BaseModel):
    """Base of every model here: pydantic builds a model's validator on its first use, not at import
    (a cold start pays only for the models its first request touches)."""

    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# ------------------------------------------------------------------ aggregates
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


class StockLevel(Model):
    sku: str
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    on_order: int = 0
    backordered: int = 0


class StockArrival(Model):
    """Stock of a SKU arrived (a receipt, a return put back, a supplier's delivery): the message on which
    the backordered orders waiting for it are woken."""

    sku: str


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
    created_at: str
    updated_at: str
    version: int = 0
    timeline: list[TimelineEntry] = []
    shipment: Shipment | None = None
    # After-sales (orderflow.returns): units returned per SKU across all the order's returns, how
    # many of its returns are still open, and for an exchange order the return it replaces goods for.
    returned: dict[str, int] = {}
    open_returns: int = 0
    exchange_for_return: str | None = None
    # RESERVED: ship by then; BACKORDERED: stock must come by then. Past it, ExpireOrdersFunction fails it.
    deadline: str | None = None

    def public(self) -> dict:
        """The order as the API returns it."""
        return self.model_dump(mode="json")
