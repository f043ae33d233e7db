"""HTTP API of the warehouse (and a 3PL): locations, each location's pick list, and its shipments (pick, pack,
ship, deliver).

A function of its own, like the purchasing API: the order intake, which every customer's submit and read cold
starts, does not load the fulfilment service or build these routes (docs/decisions.md, "Cold start"). Thin, like
the intake: Powertools validates requests against the pydantic models, ``FulfilmentService`` and the order
service (shipping a shipment moves its order) do the work, errors leave as ``{"error": {code, message,
details}}`` (``orderflow.platform.http_api``).
"""

from __future__ import annotations

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from orderflow import wiring
from orderflow.fulfilment import LocationIn, ShipmentStatus
from orderflow.platform.http_api import Bodies, IssuedId, PathId, caller_of, http_function
from orderflow.shared.settings import get_settings

if TYPE_CHECKING:
    from orderflow.orders import requests as orders_in
else:  # the ship route's body loads with its first request
    orders_in = Bodies("orderflow.orders.requests")

settings = get_settings()
app, logger, tracer, metrics, handler = http_function("warehouse_api", settings.max_body_bytes)
orders = wiring.order_service(settings)
fulfilment = wiring.fulfilment_service(settings)


# ------------------------------------------------------------------ locations
@app.put("/locations/<location_id>")
def put_location(location_id: PathId, location: LocationIn) -> dict:
    return fulfilment.put_location(location_id, location).model_dump(mode="json", exclude_none=True)


@app.get("/locations/<location_id>")
def get_location(location_id: PathId) -> dict:
    return fulfilment.get_location(location_id).model_dump(mode="json", exclude_none=True)


@app.get("/locations")
def list_locations() -> dict:
    return {"locations": [loc.model_dump(mode="json", exclude_none=True) for loc in fulfilment.list_locations()]}


# ------------------------------------------------------------------ shipments (warehouse, 3PL)
@app.get("/locations/<location_id>/shipments")
def list_location_shipments(location_id: PathId, status: ShipmentStatus = ShipmentStatus.RELEASED,
                            limit: Annotated[int, Query(ge=1, le=100)] = 25,
                            cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict:
    """The pick list: the location's shipments in ``status`` (RELEASED by default), oldest first, with addresses."""
    shipments, next_cursor = fulfilment.pick_list(location_id, status, limit, cursor)
    return {"shipments": [s.public() for s in shipments], "next_cursor": next_cursor}


@app.get("/shipments/<shipment_id>")
def get_shipment(shipment_id: IssuedId) -> dict:
    shipment = fulfilment.get_shipment(shipment_id)
    caller_of(app.current_event.raw_event, settings.customer_id_claim).require_owner(
        shipment.customer_id, f"shipment {shipment_id}")
    return shipment.public()


@app.post("/shipments/<shipment_id>/pick")
def pick_shipment(shipment_id: IssuedId) -> dict:
    return fulfilment.pick(shipment_id).public()


@app.post("/shipments/<shipment_id>/pack")
def pack_shipment(shipment_id: IssuedId) -> dict:
    return fulfilment.pack(shipment_id).public()


@app.post("/shipments/<shipment_id>/ship")
def ship_shipment(shipment_id: IssuedId, request: Annotated[orders_in.ShipIn | None, Body()] = None) -> dict:
    _, shipment = orders.ship_shipment(shipment_id, request or orders_in.ShipIn())
    return shipment.public()


@app.post("/shipments/<shipment_id>/deliver")
def deliver_shipment(shipment_id: IssuedId) -> dict:
    _, shipment = orders.deliver_shipment(shipment_id)
    return shipment.public()


init_phase.ready()
