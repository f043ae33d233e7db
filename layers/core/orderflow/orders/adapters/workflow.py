"""The order workflow on Step Functions: one execution per order, and one per wake-up of a backorder."""

from __future__ import annotations

import uuid

from orderflow.orders.domain import Order
from orderflow.platform.stepfunctions import StepFunctionsStarter


class OrderWorkflow(StepFunctionsStarter):
    def start(self, order: Order) -> None:
        """Start the order's execution, named by the order id; starting it twice is a no-op. The input
        carries the order as stored, so Validate writes from it without reading it first (an order of at
        most ``MAX_ORDER_LINES`` lines is a few KB, far below the 256 KB input limit)."""
        self.start_named(order.order_id, {"order_id": order.order_id, "woken_by": None,
                                          "order": order.model_dump(mode="json")})

    def wake(self, order_id: str, sku: str) -> None:
        """Start a backordered order's execution again, at Reserve (``woken_by``). Each wake-up is a new
        execution; one that finds the order already reserved does nothing."""
        self.start_named(f"{order_id}-{uuid.uuid4().hex[:12]}", {"order_id": order_id, "woken_by": sku})
