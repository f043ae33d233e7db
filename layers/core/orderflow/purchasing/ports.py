"""What the purchasing service needs: suppliers, purchase orders, the suppliers' queues, and the stock
a purchase order or a receipt moves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from orderflow.catalogue import Product
from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderStatus, Supplier, SupplierIn
from orderflow.shared.ports import Change


class Suppliers(Protocol):
    def get(self, supplier_id: str) -> Supplier | None: ...
    def put(self, supplier_id: str, data: SupplierIn, queue_url: str) -> Supplier: ...
    def capacity_write(self, supplier_id: str, cycle: str, capacity: int, quantity: int) -> Change: ...
    def remaining(self, supplier_id: str, cycle: str, capacity: int | None) -> int | None: ...


class PurchaseOrders(Protocol):
    def get(self, po_id: str) -> PurchaseOrder | None: ...
    def get_many(self, po_ids: list[str]) -> dict[str, PurchaseOrder]: ...
    def create(self, po: PurchaseOrder) -> Change: ...
    def transition(self, po: PurchaseOrder, status: PurchaseOrderStatus, *, by: str, reason: str | None = None,
                   reply_id: str | None = None, lines: Any = None, fields: dict[str, Any] | None = None,
                   ) -> tuple[Change, PurchaseOrder]: ...
    def list_by_status(self, status: PurchaseOrderStatus | Sequence[PurchaseOrderStatus], limit: int,
                       cursor: str | None) -> tuple[list[PurchaseOrder], str | None]: ...


class SupplierQueues(Protocol):
    def ensure(self, supplier_id: str) -> str: ...
    def send(self, url: str, message: str) -> str: ...
    def send_batch(self, url: str, messages: list[str]) -> list[bool]: ...


class StockOnOrder(Protocol):
    """A SKU's stock at a location: what is on order there, and what a receipt puts on its shelf."""

    def order(self, sku: str, quantity: int, location: str = ..., threshold: int | None = None,
              mark: tuple[str, str] | None = None) -> Change: ...
    def receive(self, sku: str, quantity: int, location: str = ...) -> Change: ...


class Products(Protocol):
    """The catalogue's products: which supplier supplies a SKU, and at what cost."""

    def get_many(self, skus: list[str]) -> dict[str, Product]: ...


class Locations(Protocol):
    """Where goods can be delivered (the fulfilment area's service satisfies this): raises ``NotFound``
    for a location that does not exist."""

    def get_location(self, location_id: str) -> Any: ...
