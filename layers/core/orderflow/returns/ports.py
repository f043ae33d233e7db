"""What the return service needs: its own records (which also count returned units on the order), and
the orders, credit, stock and demand it moves in the same transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from orderflow.orders import Order
from orderflow.returns.domain import Return, ReturnTimelineEntry
from orderflow.shared.ports import Change


class Returns(Protocol):
    def get(self, return_id: str) -> Return | None: ...
    def list_by_order(self, order_id: str) -> list[Return]: ...
    def create(self, ret: Return) -> Change: ...
    def advance(self, ret: Return, entries: list[ReturnTimelineEntry],
                changes: dict[str, Any]) -> tuple[Change, Return]: ...
    def link_exchange(self, return_id: str, exchange_order_id: str) -> None: ...
    def ensure_counters(self, order_id: str) -> None: ...
    def order_requested(self, order: Order, ret: Return) -> Change: ...
    def order_closed_one(self, order: Order, ret: Return) -> Change: ...
    def mark_exchange(self, exchange_order_id: str, return_id: str) -> None: ...


class OrderReads(Protocol):
    def get(self, order_id: str) -> Order | None: ...


class Credit(Protocol):
    def release_credit(self, customer_id: str, amount: Decimal) -> Change: ...


class Restock(Protocol):
    def restock(self, sku: str, quantity: int, location: str = ...) -> Change: ...


class Locations(Protocol):
    def get(self, location_id: str) -> Any:
        """The location stored under ``location_id``, or None (the main location need not be stored)."""
