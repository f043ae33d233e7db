"""Locations table: one item per location, all under one partition key (``network``). A shop has tens of
locations, not thousands, so the whole list is one Query of a few KB, which each reservation reads
(docs/fulfilment.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.types import MAIN_LOCATION

if TYPE_CHECKING:
    from orderflow.fulfilment.domain import Location, LocationIn
    from orderflow.fulfilment.sourcing import Candidate

# The location model and sourcing load with the first location read or written, not with the order service that
# holds this repository: taking and reading orders needs neither (docs/decisions.md, "Cold start").

NETWORK = "default"  # the one partition every location lives in


class LocationsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, location_id: str) -> Location | None:
        from orderflow.fulfilment.domain import Location

        item = dynamo.get(self.table, {"network": NETWORK, "location_id": location_id})
        return Location.model_validate(item) if item else None

    def put(self, location_id: str, data: LocationIn) -> Location:
        from orderflow.fulfilment.domain import Location

        location = Location(location_id=location_id, **data.model_dump())
        item = {"network": NETWORK, **location.model_dump(mode="python", exclude_none=True)}
        dynamo.apply(Write("Put", self.table, item=item))
        return location

    def list_all(self) -> list[Location]:
        from orderflow.fulfilment.domain import Location

        found: list[Location] = []
        page: dict[str, Any] = {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression="network = :n",
                                       ExpressionAttributeValues={":n": NETWORK}, **page)
            found += [Location.model_validate(item) for item in items]
            if not last:
                return found
            page = {"ExclusiveStartKey": last}

    def ids(self) -> list[str]:
        """Every location, active or not, the main one included: where shipments may still be open."""
        return sorted({MAIN_LOCATION, *(loc.location_id for loc in self.list_all())})

    def active(self) -> list[Candidate]:
        """The locations sourcing may allocate from: the stored active ones, and the main location unless
        it was stored inactive (one Query of this small table)."""
        from orderflow.fulfilment.domain import main_location
        from orderflow.fulfilment.sourcing import candidates

        stored = {loc.location_id: loc for loc in self.list_all()}
        stored.setdefault(MAIN_LOCATION, main_location())
        return candidates(list(stored.values()))
