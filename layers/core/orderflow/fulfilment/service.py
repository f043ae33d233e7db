"""The fulfilment network: locations, and the warehouse's side of shipments. The main location always
exists, so stock, receipts and returns that name no location have somewhere to land.

Picking and packing move the shipment alone. Shipping and delivering move the order and the stock too,
so they are the order service's (``OrderService.ship_shipment``, ``deliver_shipment``)."""

from __future__ import annotations

from orderflow.fulfilment.domain import MAIN_LOCATION, Location, LocationIn, Shipment, ShipmentStatus, main_location
from orderflow.fulfilment.ports import Locations, Shipments
from orderflow.shared.errors import ConditionFailed, NotFound, TransientError
from orderflow.shared.ports import Store

RACE_ATTEMPTS = 5


class FulfilmentService:
    def __init__(self, locations: Locations, shipments: Shipments, store: Store):
        self.locations, self.shipments, self.store = locations, shipments, store

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

    # ------------------------------------------------------------------ shipments
    def get_shipment(self, shipment_id: str) -> Shipment:
        found = self.shipments.get(shipment_id)
        if found is None:
            raise NotFound(f"shipment {shipment_id} not found")
        return found

    def pick_list(self, location_id: str, status: ShipmentStatus, limit: int, cursor: str | None
                  ) -> tuple[list[Shipment], str | None]:
        self.get_location(location_id)  # an unknown location is a 404, not an empty list
        return self.shipments.at(location_id, status, limit, cursor)

    def pick(self, shipment_id: str) -> Shipment:
        return self._advance(shipment_id, ShipmentStatus.PICKED)

    def pack(self, shipment_id: str) -> Shipment:
        return self._advance(shipment_id, ShipmentStatus.PACKED)

    def _advance(self, shipment_id: str, target: ShipmentStatus) -> Shipment:
        """Move the shipment to ``target``; a retry that finds it there (or past it) changes nothing."""
        for _ in range(RACE_ATTEMPTS):
            shipment = self.get_shipment(shipment_id)
            reached = shipment.status == target or any(entry.status == target for entry in shipment.timeline)
            if reached and shipment.status != ShipmentStatus.CANCELLED:
                return shipment
            write, after = self.shipments.transition(shipment, target, by="warehouse")
            try:
                self.store.commit([write])
            except ConditionFailed:
                continue  # it changed since it was read: decide again
            return after
        raise TransientError(f"shipment {shipment_id} kept changing; try again")
