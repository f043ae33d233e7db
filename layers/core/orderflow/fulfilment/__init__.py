"""Fulfilment: the network of locations (warehouses, stores, 3PLs), shipping addresses, sourcing an
order across locations, and shipments.

Public surface for other areas: this module. What an order names (its address, its fulfilment policy, a
shipment's statuses) loads with it; the locations, shipments, sourcing and the service load on first access,
so a function that only takes and reads orders never builds them (docs/decisions.md, "Cold start").
"""

from typing import TYPE_CHECKING

from orderflow.fulfilment.vocabulary import OPEN_SHIPMENT, Address, FulfilmentPolicy, ShipmentStatus
from orderflow.shared.types import MAIN_LOCATION

if TYPE_CHECKING:
    from orderflow.fulfilment.domain import Location, LocationIn, LocationKind, Shipment, ShipmentLine
    from orderflow.fulfilment.lifecycle import SHIPMENT_LIFECYCLE
    from orderflow.fulfilment.service import FulfilmentService
    from orderflow.fulfilment.sourcing import Candidate, Plan, candidates, plan

__all__ = ["MAIN_LOCATION", "OPEN_SHIPMENT", "SHIPMENT_LIFECYCLE", "Address", "Candidate", "FulfilmentPolicy",
           "FulfilmentService", "Location", "LocationIn", "LocationKind", "Plan", "Shipment", "ShipmentLine",
           "ShipmentStatus", "candidates", "plan"]

_DOMAIN = frozenset({"Location", "LocationIn", "LocationKind", "Shipment", "ShipmentLine"})
_SOURCING = frozenset({"Candidate", "Plan", "candidates", "plan"})


def __getattr__(name: str) -> object:
    """The locations, shipments, sourcing and ``FulfilmentService``, loaded by their first use (and kept here)."""
    if name in _DOMAIN:
        from orderflow.fulfilment import domain as module
    elif name in _SOURCING:
        from orderflow.fulfilment import sourcing as module
    elif name == "SHIPMENT_LIFECYCLE":
        from orderflow.fulfilment import lifecycle as module
    elif name == "FulfilmentService":
        from orderflow.fulfilment import service as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value
