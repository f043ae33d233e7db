"""What the fulfilment service needs from storage."""

from __future__ import annotations

from typing import Any, Protocol

from orderflow.fulfilment.domain import Location, LocationIn, Shipment, ShipmentStatus
from orderflow.shared.ports import Change


class Locations(Protocol):
    def get(self, location_id: str) -> Location | None: ...
    def put(self, location_id: str, data: LocationIn) -> Location: ...
    def list_all(self) -> list[Location]: ...


class Shipments(Protocol):
    def get(self, shipment_id: str) -> Shipment | None: ...
    def transition(self, shipment: Shipment, target: ShipmentStatus, by: str, reason: str | None = None,
                   extra: dict[str, Any] | None = None) -> tuple[Change, Shipment]: ...
    def at(self, location_id: str, status: ShipmentStatus, limit: int, cursor: str | None
           ) -> tuple[list[Shipment], str | None]: ...
