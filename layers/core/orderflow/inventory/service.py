"""Stock: levels, adjustments, and the arrivals that wake backordered orders."""

from __future__ import annotations

from orderflow.inventory.domain import StockLevel
from orderflow.inventory.ports import Arrivals, Backorders, Catalogue, Stock
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound


class InventoryService:
    def __init__(self, stock: Stock, catalogue: Catalogue, arrivals: Arrivals, backorders: Backorders):
        self.stock, self.catalogue, self.arrivals, self.backorders = stock, catalogue, arrivals, backorders

    def get_stock(self, sku: str) -> StockLevel:
        self._known(sku)
        return self.stock.get(sku)

    def adjust_stock(self, sku: str, adjustment: StockAdjustmentIn) -> StockLevel:
        """Receive (positive) or write off (negative) stock. The caller announces a receipt
        (``stock_arrived``) once it is stored, so backorders waiting for it are woken."""
        self._known(sku)
        try:
            return self.stock.adjust(sku, adjustment.quantity)
        except ConditionFailed:
            level = self.stock.get(sku)
            raise Conflict(f"cannot remove {-adjustment.quantity} of {sku}: only {level.available} available "
                           "(reserved stock cannot be written off)",
                           {"sku": sku, "available": level.available}) from None

    def stock_arrived(self, skus: list[str]) -> None:
        """Announce that stock of ``skus`` arrived; ``wake_backorders`` runs on each announcement,
        away from the request that brought the stock. Announced again on a retry (a second
        announcement wakes nothing new), so a retry finishes an announcement that failed."""
        if skus:
            self.arrivals.announce(skus)

    def wake_backorders(self, sku: str) -> int:
        """Resume, oldest first, each backordered order this SKU's available stock can now serve. A
        wake-up that finds the order reserved (or short of another SKU) changes nothing."""
        available = self.stock.get(sku).available
        woken = 0
        for wait in self.stock.waiting(sku):
            quantity = int(wait["quantity"])
            if quantity > available:
                break
            self.backorders.wake(wait["order_id"], sku)
            available -= quantity
            woken += 1
        return woken

    def _known(self, sku: str) -> None:
        if self.catalogue.get(sku) is None:
            raise NotFound(f"product {sku} not found")
