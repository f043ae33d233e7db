"""The fulfilment network: locations (warehouses, stores, 3PLs) and shipments (one fulfilment order per location an
order is allocated from). The address, the fulfilment policy and a shipment's statuses, which orders name too, are
in ``vocabulary`` (re-exported here)."""


from enum import StrEnum
from typing import Annotated

from pydantic import Field

from orderflow.fulfilment.vocabulary import OPEN_SHIPMENT, Address, FulfilmentPolicy, ShipmentStatus, Text
from orderflow.shared.types import MAIN_LOCATION, Identifier, Model, Strict

__all__ = ["MAIN_LOCATION", "OPEN_SHIPMENT", "Address", "FulfilmentPolicy", "Location", "LocationIn", "LocationKind",
           "Shipment", "ShipmentEntry", "ShipmentLine", "ShipmentStatus", "main_location"]


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



def main_location() -> Location:
    return Location(location_id=MAIN_LOCATION, name="Main warehouse", priority=100)
