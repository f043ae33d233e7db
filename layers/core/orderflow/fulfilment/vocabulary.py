"""What other areas say about fulfilment without loading it: the address an order ships to, how it may ship
(its fulfilment policy), the statuses a shipment goes through and which of them are open. An order's models and the
order service's modules name these; the locations, shipments and sourcing (``domain``, ``sourcing``) load on first
use (docs/decisions.md, "Cold start")."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from orderflow.shared.types import Strict

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


OPEN_SHIPMENT = frozenset({ShipmentStatus.RELEASED, ShipmentStatus.PICKED, ShipmentStatus.PACKED})
