"""Stock: levels, adjustments, and the arrivals that wake backordered orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderflow.inventory.domain import StockLevel, StockPosition
from orderflow.inventory.ports import Arrivals, Backorders, Catalogue, Locations, Stock
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, Unprocessable
from orderflow.shared.types import MAIN_LOCATION

if TYPE_CHECKING:  # request bodies: functions that take none never build their models
    from orderflow.inventory.requests import StockAdjustmentIn


class InventoryService:
    def __init__(self, stock: Stock, catalogue: Catalogue, arrivals: Arrivals, backorders: Backorders,
                 locations: Locations):
        self.stock, self.catalogue, self.arrivals, self.backorders = stock, catalogue, arrivals, backorders
        self.locations = locations

    def get_stock(self, sku: str) -> StockPosition:
        self._known(sku)
        return self.stock.get(sku)

    def adjust_stock(self, sku: str, adjustment: StockAdjustmentIn) -> StockLevel:
        """Receive (positive) or write off (negative) stock at a location (the main one unless named). The
        caller announces a receipt (``stock_arrived``) once it is stored, so backorders waiting are woken."""
        product = self._known(sku)
        location = adjustment.location_id
        if location != MAIN_LOCATION and self.locations.get(location) is None:
            raise Unprocessable(f"unknown location {location}: create it with PUT /locations/{location}",
                                {"location_id": location})
        try:
            return self.stock.adjust(sku, adjustment.quantity, location, product.low_stock_threshold)
        except ConditionFailed:
            level = self.stock.get(sku).at(location)
            raise Conflict(f"cannot remove {-adjustment.quantity} of {sku} at {location}: only {level.available} "
                           "available there (reserved stock cannot be written off)",
                           {"sku": sku, "location_id": location, "available": level.available}) from None

    def stock_arrived(self, skus: list[str]) -> None:
        """Announce that stock of ``skus`` arrived; ``wake_backorders`` runs on each announcement,
        away from the request that brought the stock. Announced again on a retry (a second
        announcement wakes nothing new), so a retry finishes an announcement that failed."""
        if skus:
            self.arrivals.announce(skus)

    def wake_backorders(self, sku: str) -> int:
        """Resume, oldest first, each backordered order this SKU's available stock can now serve, skipping an
        order short of another SKU it must have with this one (its wait's ``together``, a ship_complete order):
        the arrival of that SKU wakes it, so a restock of a plentiful SKU does not wake every order waiting on a
        short one. The other SKUs' levels are read once each per call, strongly consistent (docs/decisions.md,
        "Backorders wait on the stock table"). A wake-up that finds the order reserved changes nothing."""
        available = self.stock.get(sku).available
        others: dict[str, int] = {}
        woken = 0
        for wait in self.stock.waiting(sku):
            together = {other: int(units) for other, units in (wait.get("together") or {}).items()}
            if unread := [other for other in together if other not in others]:
                others.update(self.stock.available(unread))
            if any(others[other] < units for other, units in together.items()):
                continue  # it cannot be reserved whole yet: it holds no place in this SKU's queue
            quantity = int(wait["quantity"])
            if quantity > available:
                break
            self.backorders.wake(wait["order_id"], sku)
            available -= quantity
            woken += 1
        return woken

    def follow_heat(self, changes: list[tuple[dict | None, dict | None, float]]) -> dict[str, int]:
        """Split the SKUs a batch of the Stock table's stream (old image, new image, epoch seconds) shows hot,
        and join again those it shows cool (``orderflow.inventory.heat``, docs/scale.md). A count an admin set
        (the product's ``stock_buckets``) is left as it is. Returns SKU → the count given."""
        from orderflow.inventory.heat import measure, wanted  # the stream's only: not loaded by the intake's init

        given: dict[str, int] = {}
        for heat in measure(changes):
            count = wanted(heat)
            if count is None or heat.sku in given:
                continue
            product = self.catalogue.get(heat.sku)
            if product is None or (product.stock_buckets or 1) > 1:
                continue
            self.stock.set_buckets(heat.sku, count)
            given[heat.sku] = count
        return given

    def follow_bucketed_lows(self, changes: list[tuple[dict | None, dict | None, float]]
                             ) -> dict[tuple[str, str], bool]:
        """For each bucketed level a batch of the Stock table's stream changed, flag it low (or no longer low)
        when its available units summed over its buckets cross its threshold; a bucket's own change carries only
        its share (docs/scale.md, "Events"). Returns (SKU, location) → the flag written."""
        levels = dict.fromkeys(
            (str(new.get("bucket_of") or new["sku"]), new["record"][len("LEVEL#"):])
            for old, new, _ in changes
            if new and str(new.get("record", "")).startswith("LEVEL#") and ("bucket_of" in new or "buckets" in new)
            and (old or {}).get("available") != new.get("available")
            and (old or {}).get("rebalanced") == new.get("rebalanced"))  # a move between buckets keeps the sum
        flagged = {}
        for sku, location in levels:
            if (low := self.stock.follow_low(sku, location)) is not None:
                flagged[sku, location] = low
        return flagged

    def _known(self, sku: str) -> Any:
        product = self.catalogue.get(sku)
        if product is None:
            raise NotFound(f"product {sku} not found")
        return product
