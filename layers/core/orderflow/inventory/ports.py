"""What the inventory's service needs: stock records, the catalogue, the arrivals queue, and a way to
wake a backordered order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from orderflow.inventory.domain import Line, StockLevel, StockPosition
from orderflow.shared.ports import Change


class Stock(Protocol):
    """Stock per (SKU, location); a location left out is the main one."""

    def get(self, sku: str) -> StockPosition: ...
    def get_many(self, skus: list[str]) -> dict[str, StockPosition]: ...
    def levels(self, skus: list[str], locations: list[str]) -> dict[tuple[str, str], StockLevel]: ...
    def adjust(self, sku: str, quantity: int, location: str = ..., threshold: int | None = None) -> StockLevel: ...
    def waiting(self, sku: str, page_size: int = 100) -> Iterator[dict[str, Any]]: ...
    def reserve(self, line: Line, location: str = ...) -> Change: ...
    def release(self, line: Line, location: str = ...) -> Change: ...
    def ship(self, line: Line, location: str = ...) -> Change: ...
    def wait(self, line: Line, order_id: str, created_at: str) -> Change: ...
    def unwait(self, sku: str, order_id: str, created_at: str) -> Change: ...
    def restock(self, sku: str, quantity: int, location: str = ...) -> Change: ...
    def order(self, sku: str, quantity: int, location: str = ...) -> Change: ...
    def receive(self, sku: str, quantity: int, location: str = ...) -> Change: ...


class Demand(Protocol):
    """Units that left (shipped) or came back (returned) per SKU and day: what the forecasts read."""

    def record(self, sku: str, day: str, quantity: int) -> Change: ...


class Catalogue(Protocol):
    def get(self, sku: str) -> Any:
        """The product of ``sku`` (strongly consistent), or None."""


class Locations(Protocol):
    def get(self, location_id: str) -> Any:
        """The location stored under ``location_id``, or None (the main location need not be stored)."""


class Arrivals(Protocol):
    def announce(self, skus: list[str]) -> None: ...


class Backorders(Protocol):
    """Resumes a backordered order (its workflow, at the reservation step)."""

    def wake(self, order_id: str, sku: str) -> None: ...
