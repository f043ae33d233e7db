"""HTTP request bodies of the catalogue: products, customers, payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from orderflow.catalogue.domain import ForecastMethod
from orderflow.shared.types import Identifier, Money, Strict

UnitCost = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
LeadTime = Annotated[float, Field(gt=0, le=365, allow_inf_nan=False)]
LeadTimeSigma = Annotated[float, Field(ge=0, le=365, allow_inf_nan=False)]
Moq = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
PackSize = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
MAX_SUPPLIERS = 10


MAX_LOCATIONS = 50


class LocationReplenishmentIn(Strict):
    """What differs at one location (docs/replenishment.md, "Per location"); a field left out is the
    product's. ``replenish: false`` keeps the nightly run from buying the product for that location."""

    replenish: bool = True
    lead_time_days: LeadTime | None = None
    lead_time_sigma_days: LeadTimeSigma | None = None
    moq: Moq | None = None
    pack_size: PackSize | None = None
    ordering_cost: Money | None = None
    holding_cost_rate: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)] | None = None
    service_level: Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)] | None = None
    review_period_days: Annotated[int, Field(ge=1, le=365, strict=True)] | None = None


class ReplenishmentIn(Strict):
    """How a product is bought: the inputs of the inventory policy (orderflow.policy, docs/policy.md).
    With ``suppliers`` on the product, the supplier's terms (cost, lead time, MOQ, packs) are its own,
    and those left out here are the first supplier's."""

    unit_cost: UnitCost | None = None
    ordering_cost: Money = Field(description="cost of placing one purchase order (K)")
    holding_cost_rate: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)] = Field(
        description="yearly cost of holding one unit, as a fraction of its unit cost (h)")
    lead_time_days: LeadTime | None = None
    lead_time_sigma_days: LeadTimeSigma = 0.0
    service_level: Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)] = Field(
        0.95, description="target cycle service level: share of replenishment cycles without a stock-out")
    moq: Moq = 0
    pack_size: PackSize = 1
    review_period_days: Annotated[int, Field(ge=1, le=365, strict=True)] = 1
    forecast_methods: Annotated[list[ForecastMethod], Field(min_length=1, max_length=14)] | None = Field(
        None, description="the forecasting candidates for this product (default: the automatic set, "
                          "docs/forecasting.md); e.g. [\"sarimax\", \"hw\", \"snaive\"] makes ARIMA a candidate")
    locations: Annotated[dict[Identifier, LocationReplenishmentIn], Field(
        max_length=MAX_LOCATIONS,
        # pydantic documents the key rule as patternProperties alone, which lets any other key through in
        # JSON Schema; the API refuses such a key, so the document says so too.
        json_schema_extra={"additionalProperties": False})] | None = Field(
        None, description="per location id, the parameters that differ there (lead time, service level, MOQ, "
                          "packs, costs, review period), or replenish: false; the others apply as given here")


class ProductSupplierIn(Strict):
    """One supplier of the product and its terms (docs/replenishment.md, "Several suppliers")."""

    supplier_id: Identifier
    unit_cost: UnitCost
    lead_time_days: LeadTime
    lead_time_sigma_days: LeadTimeSigma = 0.0
    moq: Moq = 0
    pack_size: PackSize = 1
    priority: Annotated[int, Field(ge=0, le=1000, strict=True)] = Field(
        0, description="lower first: the order suppliers of equal landed cost are tried in")


class ProductIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit_price: Money
    supplier_id: Identifier | None = Field(None, description="the one supplier (or give suppliers)")
    suppliers: list[ProductSupplierIn] | None = Field(None, min_length=1, max_length=MAX_SUPPLIERS)
    active: bool = True
    low_stock_threshold: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | None = None
    replenishment: ReplenishmentIn | None = None
    stock_buckets: Annotated[int, Field(ge=1, le=256, strict=True)] | None = Field(
        None, description="split a hot SKU's stock at each location over this many items, each taking its own "
                          "~1,000 writes a second (docs/scale.md); 1 is one item; left out: as it is")

    @model_validator(mode="after")
    def _one_way_to_name_suppliers(self) -> ProductIn:
        """``supplier_id`` alone is a list of one; with ``suppliers`` it must be one of them. The stored
        ``supplier_id`` is the first choice, and the replenishment terms left out are its."""
        if self.suppliers is None:
            if self.replenishment is not None:
                for name in ("unit_cost", "lead_time_days"):
                    if getattr(self.replenishment, name) is None:
                        raise ValueError(f"replenishment.{name} is required unless suppliers give it")
            return self
        ids = [s.supplier_id for s in self.suppliers]
        if len(set(ids)) != len(ids):
            raise ValueError("a supplier is named twice in suppliers")
        if self.supplier_id is not None and self.supplier_id not in ids:
            raise ValueError(f"supplier_id {self.supplier_id} is not one of suppliers; give one or the other")
        first = sorted(self.suppliers, key=lambda s: s.priority)[0]
        self.supplier_id = first.supplier_id
        if self.replenishment is not None:
            given = self.replenishment.model_fields_set
            terms = first.model_dump(include={"unit_cost", "lead_time_days", "lead_time_sigma_days", "moq",
                                              "pack_size"})
            self.replenishment = self.replenishment.model_copy(
                update={k: v for k, v in terms.items() if k not in given or getattr(self.replenishment, k) is None})
        return self


class PaymentIn(Strict):
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    reference: Annotated[str, Field(min_length=1, max_length=100)]


class CustomerIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    credit_limit: Money


