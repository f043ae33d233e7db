"""Stock: a SKU's counters, the lines that move them, and the message saying stock of a SKU arrived."""

from __future__ import annotations

from typing import Protocol

from orderflow.shared.types import Model


class StockLevel(Model):
    sku: str
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    on_order: int = 0
    backordered: int = 0


class Line(Protocol):
    """What moves stock: so many units of a SKU (an order line, a return line)."""

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


class StockArrival(Model):
    """Stock of a SKU arrived (a receipt, a return put back, a supplier's delivery): the message on which
    the backordered orders waiting for it are woken."""

    sku: str
