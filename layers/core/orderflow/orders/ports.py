"""What the order service needs: the orders' own store and workflow, and the other areas' records it
moves in the same transaction (credit, stock, demand), each as a narrow protocol."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from orderflow.catalogue import Customer
from orderflow.fulfilment import ShipmentStatus
from orderflow.orders.domain import Order, OrderStatus
from orderflow.shared.ports import Change, Read

if TYPE_CHECKING:
    from orderflow.fulfilment import Candidate, Shipment


class Orders(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def create(self, order: Order) -> bool: ...
    def transition(self, order: Order, target: OrderStatus, reason: str | None = None, by: str = "workflow",
                   extra: dict[str, Any] | None = None, at: str | None = None) -> tuple[Change, Order]: ...
    def advance(self, order_id: str, current: OrderStatus, target: OrderStatus, by: str = "workflow",
                reason: str | None = None, stamp: str | None = None) -> Order: ...
    def overdue(self, status: OrderStatus, now: str, limit: int = 100) -> list[str]: ...
    def list_by_customer(self, customer_id: str, limit: int, cursor: str | None, status: OrderStatus | None = None,
                         placed_from: str | None = None, placed_to: str | None = None
                         ) -> tuple[list[Order], str | None]: ...


class OrderWorkflow(Protocol):
    def start(self, order: Order) -> None: ...
    def wake(self, order_id: str, sku: str) -> None: ...


class Customers(Protocol):
    """The customer (read with the products in one request: ``Store.read_together``) and their credit."""

    def read(self, customer_id: str) -> Read: ...
    def get(self, customer_id: str) -> Customer | None: ...
    def hold_credit(self, customer_id: str, amount: Decimal) -> Change: ...
    def release_credit(self, customer_id: str, amount: Decimal) -> Change: ...


class Products(Protocol):
    def read_many(self, skus: list[str]) -> Read: ...


class Locations(Protocol):
    def active(self) -> list[Candidate]:
        """The locations an order may be sourced from now (the main one included unless deactivated)."""

    def ids(self) -> list[str]:
        """Every location, active or not, the main one included."""


class Shipments(Protocol):
    """The order's shipments, released, shipped, delivered and cancelled in the order's own transactions."""

    def get(self, shipment_id: str) -> Shipment | None: ...
    def read_many(self, shipment_ids: list[str]) -> Read: ...
    def release(self, shipment: Shipment) -> Change: ...
    def shrink(self, shipment_id: str, lines: dict[str, int], gone: dict[str, int]) -> Change: ...
    def move(self, shipment_id: str, location_id: str, target: ShipmentStatus, by: str, reason: str | None = None,
             extra: dict[str, Any] | None = None, version: int | None = None) -> Change: ...
    def late(self, location_id: str, now: str, released_before: str) -> list[str]:
        """The orders of the location's open shipments past their ship_by, each once."""
