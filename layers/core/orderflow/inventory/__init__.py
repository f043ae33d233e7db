"""Inventory: stock levels per SKU, backorder waits, stock arrivals, and the demand history shipments
and returns leave behind.

Public surface for other areas: this module, and ``orderflow.inventory.requests`` (the HTTP bodies).
"""

from typing import TYPE_CHECKING

from orderflow.inventory.domain import Line, StockArrival, StockLevel, StockPosition, Units, by_sku

if TYPE_CHECKING:
    from orderflow.inventory.ports import Arrivals, Backorders, Demand, Stock
    from orderflow.inventory.service import InventoryService

__all__ = ["Arrivals", "Backorders", "Demand", "InventoryService", "Line", "Stock", "StockArrival", "StockLevel",
           "StockPosition", "Units", "by_sku"]


def __getattr__(name: str) -> object:
    """``InventoryService`` and the ports are loaded by their first use (the composition root; the ports name types,
    which only checkers and the service need), not by every module that imports this area's models: the order
    functions' cold start pays only for what they use (docs/decisions.md, "Cold start")."""
    if name == "InventoryService":
        from orderflow.inventory.service import InventoryService

        return InventoryService
    if name in ("Arrivals", "Backorders", "Demand", "Stock"):
        from orderflow.inventory import ports

        return getattr(ports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
