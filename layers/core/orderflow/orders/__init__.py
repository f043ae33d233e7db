"""Orders: the order aggregate, its lifecycle, and the service behind the intake API and the workflow.

Public surface for other areas: this module, and ``orderflow.orders.requests`` (the HTTP bodies).
"""

from orderflow.orders.domain import MAX_ORDER_LINES, Order, OrderLine, OrderStatus, TimelineEntry
from orderflow.orders.lifecycle import ORDER_LIFECYCLE, RETURNABLE
from orderflow.orders.service import OrderService

__all__ = ["MAX_ORDER_LINES", "ORDER_LIFECYCLE", "RETURNABLE", "Order", "OrderLine", "OrderService", "OrderStatus",
           "TimelineEntry"]
