"""Inventory: stock levels per SKU, backorder waits, stock arrivals, and the demand history shipments
and returns leave behind.

Public surface for other areas: this module, and ``orderflow.inventory.requests`` (the HTTP bodies).
"""

from orderflow.inventory.domain import Line, StockArrival, StockLevel, StockPosition, Units, by_sku
from orderflow.inventory.ports import Arrivals, Backorders, Demand, Stock
from orderflow.inventory.service import InventoryService

__all__ = ["Arrivals", "Backorders", "Demand", "InventoryService", "Line", "Stock", "StockArrival", "StockLevel",
           "StockPosition", "Units", "by_sku"]
