"""The fulfilment network: locations (warehouses, stores, 3PLs), the addresses orders ship to and from,
and shipments (one fulfilment order per location an order is allocated from)."""


from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from orderflow.shared.types import MAIN_LOCATION, Identifier, Model, Strict

Text = Annotated[str, Field(min_length=1, max_length=200)]
OptionalText = Annotated[str, Field(max_length=200)] | None


class Address(Strict):
    """A postal address; ``country`` is ISO 3166-1 alpha-2 (checked against the ISO list)."""

    name: Text
    line1: Text
    line2: OptionalText = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    region: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]
    country: Annotated[str, Field(min_length=2, max_length=2)]

    @field_validator("country")
    @classmethod
    def iso_country(cls, value: str) -> str:
        from iso3166 import countries_by_alpha2  # loaded by the first address checked, not at cold start

        code = value.upper()
        if code not in countries_by_alpha2:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. GB, DE, US)")
        return code


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    THIRD_PARTY = "3pl"


class LocationIn(Strict):
    """``PUT /locations/{location_id}``."""

    name: Text
    address: Address
    priority: Annotated[int, Field(ge=1, le=1000, strict=True)] = Field(
        100, description="1 is the first choice when several locations can fill an order")
    active: bool = True
    kind: LocationKind = LocationKind.WAREHOUSE


class Location(Model):
    location_id: Identifier
    name: str
    address: Address | None = None  # the main location exists before anyone gives it an address
    priority: int = 100
    active: bool = True
    kind: LocationKind = LocationKind.WAREHOUSE


class FulfilmentPolicy(StrEnum):
    SHIP_COMPLETE = "ship_complete"  # allocate every line before anything ships (several locations allowed)
    SHIP_AVAILABLE = "ship_available"  # allocate what is in stock now, backorder the rest, ship in parts


class ShipmentStatus(StrEnum):
    RELEASED = "RELEASED"  # allocated and handed to the location: on its pick list
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class ShipmentLine(Model):
    sku: str
    quantity: int


class ShipmentEntry(Model):
    status: ShipmentStatus
    at: str
    reason: str | None = None
    by: str | None = None


class Shipment(Model):
    """A fulfilment order: what one location is to send for one order, to the order's address. ``lines`` are
    what was released to the location; ``shipped`` what left it (less, for a partial shipment)."""

    shipment_id: str
    order_id: str
    customer_id: str
    location_id: str
    lines: list[ShipmentLine]
    status: ShipmentStatus
    address: Address | None = None
    ship_by: str | None = None  # past it, the deadline sweep cancels what is still here (docs/fulfilment.md)
    carrier: str | None = None
    tracking: str | None = None
    shipped: list[ShipmentLine] | None = None
    cancelled: list[ShipmentLine] | None = None  # units cancelled from it while open, one entry per cancellation
    created_at: str
    updated_at: str
    version: int = 0
    timeline: list[ShipmentEntry] = Field(default_factory=list)

    def public(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)


OPEN_SHIPMENT = frozenset({ShipmentStatus.RELEASED, ShipmentStatus.PICKED, ShipmentStatus.PACKED})


def main_location() -> Location:
    return Location(location_id=MAIN_LOCATION, name="Main warehouse", priority=100)
