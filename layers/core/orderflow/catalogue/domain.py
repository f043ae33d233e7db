"""The catalogue: products (with how each is bought) and customers (with their credit)."""


from decimal import Decimal
from typing import Literal, Self

from pydantic import Field

from orderflow.shared.types import Model, Money, SignedMoney

# The names of orderflow.forecasting.METHODS (a test keeps them in step; this module loads no numpy).
ForecastMethod = Literal["snaive", "mean", "smean", "ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped",
                         "hw_log", "theta", "trend", "sarimax", "gbm", "croston", "sba", "tsb"]


class SupplyTerms(Model):
    """What buying a product from a supplier takes: price, lead time and its spread, minimum and packs."""

    unit_cost: Money
    lead_time_days: float
    lead_time_sigma_days: float = 0.0
    moq: int = 0
    pack_size: int = 1


class LocationReplenishment(Model):
    """What differs at one location from the product's replenishment parameters (validated on the way in by
    ``orderflow.catalogue.requests.LocationReplenishmentIn``); a field left out is the product's. ``replenish``
    False: the nightly run does not buy the product for that location."""

    replenish: bool = True
    lead_time_days: float | None = None
    lead_time_sigma_days: float | None = None
    moq: int | None = None
    pack_size: int | None = None
    ordering_cost: Money | None = None
    holding_cost_rate: float | None = None
    service_level: float | None = None
    review_period_days: int | None = None

    def terms(self) -> dict[str, object]:
        """The parameters it overrides."""
        return self.model_dump(exclude={"replenish"}, exclude_none=True)


class Replenishment(SupplyTerms):
    """A product's stored replenishment parameters (validated on the way in by
    ``orderflow.requests.ReplenishmentIn``): its supply terms (those of its first supplier), and the
    costs and targets of the inventory policy; ``locations`` overrides some of them per location."""

    ordering_cost: Money
    holding_cost_rate: float
    service_level: float = 0.95
    review_period_days: int = 1
    forecast_methods: list[ForecastMethod] | None = None  # None: forecast()'s default candidate set
    locations: dict[str, LocationReplenishment] | None = None  # what differs per location


class ProductSupplier(SupplyTerms):
    """One supplier of a product, on its own terms (validated on the way in by
    ``orderflow.catalogue.requests.ProductSupplierIn``)."""

    supplier_id: str
    priority: int = 0


class Product(Model):
    sku: str
    name: str
    unit_price: Money
    supplier_id: str | None = None  # the first of ``suppliers`` (kept for readers of one supplier per SKU)
    suppliers: list[ProductSupplier] = Field(default_factory=list)
    active: bool = True
    low_stock_threshold: int | None = None
    replenishment: Replenishment | None = None
    stock_buckets: int | None = None  # a hot SKU's stock split over this many items (docs/scale.md); None: 1

    def sources(self) -> list[ProductSupplier]:
        """Who the product can be bought from, first choice first (``priority``, then the order given). A
        product with only ``supplier_id`` has that one supplier, on the terms of its ``replenishment``."""
        if self.suppliers:
            return sorted(self.suppliers, key=lambda s: s.priority)  # stable: the order given breaks ties
        if self.supplier_id and self.replenishment is not None:
            terms = self.replenishment.model_dump(include=set(SupplyTerms.model_fields))
            return [ProductSupplier(supplier_id=self.supplier_id, **terms)]
        return []

    def bought_from(self, source: ProductSupplier, location_id: str | None = None) -> Self:
        """The product as bought from ``source``: its supplier, and its replenishment on that supplier's terms
        (and, for ``location_id``, with what that location overrides)."""
        assert self.replenishment is not None
        terms = source.model_dump(include=set(SupplyTerms.model_fields))
        bought = self.model_copy(update={"supplier_id": source.supplier_id, "suppliers": [],
                                         "replenishment": self.replenishment.model_copy(update=terms)})
        return bought.at_location(location_id) if location_id else bought

    def at_location(self, location_id: str) -> Self:
        """The product as replenished at ``location_id``: its parameters with what that location overrides."""
        override = (self.replenishment.locations or {}).get(location_id) if self.replenishment else None
        if self.replenishment is None or override is None or not override.terms():
            return self
        return self.model_copy(update={"replenishment": self.replenishment.model_copy(update=override.terms())})


class Customer(Model):
    customer_id: str
    name: str
    credit_limit: Money
    # Below zero is a credit balance: the customer paid for an order that was then cancelled, failed or
    # returned, and is owed that much (credit_available is then above the limit).
    exposure: SignedMoney = Decimal(0)
    credit_available: SignedMoney = Decimal(0)


