"""Fulfilment: the network of locations (warehouses, stores, 3PLs), shipping addresses, sourcing an
order across locations, and shipments.

Public surface for other areas: this module.
"""

from typing import TYPE_CHECKING

from orderflow.fulfilment.domain import (
    MAIN_LOCATION,
    OPEN_SHIPMENT,
    Address,
    FulfilmentPolicy,
    Location,
    LocationIn,
    LocationKind,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from orderflow.fulfilment.lifecycle import SHIPMENT_LIFECYCLE
from orderflow.fulfilment.sourcing import Candidate, Plan, candidates, plan

if TYPE_CHECKING:
    from orderflow.fulfilment.service import FulfilmentService

__all__ = ["MAIN_LOCATION", "OPEN_SHIPMENT", "SHIPMENT_LIFECYCLE", "Address", "Candidate", "FulfilmentPolicy",
           "FulfilmentService", "Location", "LocationIn", "LocationKind", "Plan", "Shipment", "ShipmentLine",
           "ShipmentStatus", "candidates", "plan"]


def __getattr__(name: str) -> object:
    """``FulfilmentService`` is loaded by its first use (the composition root), not by every module that imports this
    area's models: the order functions' cold start pays only for what they use (docs/decisions.md, "Cold start")."""
    if name == "FulfilmentService":
        from orderflow.fulfilment.service import FulfilmentService

        return FulfilmentService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
