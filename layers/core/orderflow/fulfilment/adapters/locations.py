"""Locations table: one item per location. A shop has tens of locations, not thousands, so the list is
one paginated Scan of a table that holds nothing else (docs/fulfilment.md)."""

from __future__ import annotations

from typing import Any

from orderflow.fulfilment.domain import MAIN_LOCATION, Location, LocationIn, main_location
from orderflow.fulfilment.sourcing import Candidate, candidates
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write


class LocationsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, location_id: str) -> Location | None:
        item = dynamo.get(self.table, {"location_id": location_id})
        return Location.model_validate(item) if item else None

    def put(self, location_id: str, data: LocationIn) -> Location:
        location = Location(location_id=location_id, **data.model_dump())
        dynamo.apply(Write("Put", self.table, item=location.model_dump(mode="python", exclude_none=True)))
        return location

    def list_all(self) -> list[Location]:
        found: list[Location] = []
        page: dict[str, Any] = {}
        while True:
            response = dynamo.scan(self.table, **page)
            found += [Location.model_validate(dynamo.from_item(item)) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            page = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def active(self) -> list[Candidate]:
        """The locations sourcing may allocate from: the stored active ones, and the main location unless
        it was stored inactive (one Scan of this small table)."""
        stored = {loc.location_id: loc for loc in self.list_all()}
        stored.setdefault(MAIN_LOCATION, main_location())
        return candidates(list(stored.values()))
