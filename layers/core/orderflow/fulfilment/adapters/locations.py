"""Locations table: one item per location. A shop has tens of locations, not thousands, so the list is
one paginated Scan of a table that holds nothing else (docs/fulfilment.md)."""

from __future__ import annotations

from typing import Any

from orderflow.fulfilment.domain import Location, LocationIn
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
