"""Fulfilment: the network of locations (warehouses, stores, 3PLs), shipping addresses, sourcing an
order across locations, and shipments.

Public surface for other areas: this module.
"""

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
from orderflow.fulfilment.service import FulfilmentService
from orderflow.fulfilment.sourcing import Candidate, Plan, candidates, plan

__all__ = ["MAIN_LOCATION", "OPEN_SHIPMENT", "SHIPMENT_LIFECYCLE", "Address", "Candidate", "FulfilmentPolicy",
           "FulfilmentService", "Location", "LocationIn", "LocationKind", "Plan", "Shipment", "ShipmentLine",
           "ShipmentStatus", "candidates", "plan"]
