"""The fulfilment network: locations. The main location always exists, so stock, receipts and returns
that name no location have somewhere to land."""

from __future__ import annotations

from orderflow.fulfilment.domain import MAIN_LOCATION, Location, LocationIn, main_location
from orderflow.fulfilment.ports import Locations
from orderflow.shared.errors import NotFound


class FulfilmentService:
    def __init__(self, locations: Locations):
        self.locations = locations

    def put_location(self, location_id: str, data: LocationIn) -> Location:
        return self.locations.put(location_id, data)

    def get_location(self, location_id: str) -> Location:
        found = self.locations.get(location_id)
        if found is not None:
            return found
        if location_id == MAIN_LOCATION:
            return main_location()
        raise NotFound(f"location {location_id} not found")

    def list_locations(self) -> list[Location]:
        """Every location, the main one included, first choice first (priority, then id)."""
        stored = {loc.location_id: loc for loc in self.locations.list_all()}
        stored.setdefault(MAIN_LOCATION, main_location())
        return sorted(stored.values(), key=lambda loc: (loc.priority, loc.location_id))
