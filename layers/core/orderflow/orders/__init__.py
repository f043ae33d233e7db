"""Orders: the order aggregate, its lifecycle, and the service behind the intake API and the workflow.

Public surface for other areas: this module, and ``orderflow.orders.requests`` (the HTTP bodies).
"""

from typing import TYPE_CHECKING

from orderflow.orders.domain import MAX_ORDER_LINES, Order, OrderLine, OrderStatus, TimelineEntry
from orderflow.orders.lifecycle import ORDER_LIFECYCLE, RETURNABLE

if TYPE_CHECKING:
    from orderflow.orders.service import OrderService

__all__ = ["MAX_ORDER_LINES", "ORDER_LIFECYCLE", "RETURNABLE", "Order", "OrderLine", "OrderService", "OrderStatus",
           "TimelineEntry"]


def __getattr__(name: str) -> object:
    """``OrderService`` is loaded by its first use (the composition root), not by every module that imports this
    area's models: the order functions' cold start pays only for what they use (docs/decisions.md, "Cold start")."""
    if name == "OrderService":
        from orderflow.orders.service import OrderService

        return OrderService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
