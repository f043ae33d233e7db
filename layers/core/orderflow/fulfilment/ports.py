"""What the fulfilment service needs from storage."""

from __future__ import annotations

from typing import Protocol

from orderflow.fulfilment.domain import Location, LocationIn


class Locations(Protocol):
    def get(self, location_id: str) -> Location | None: ...
    def put(self, location_id: str, data: LocationIn) -> Location: ...
    def list_all(self) -> list[Location]: ...
