"""The order workflow's Lambda tasks: what each step takes from Step Functions and hands back to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderflow.orders.domain import Order
from orderflow.platform.lambda_support import count, observability
from orderflow.shared.errors import CreditDenied, InvalidOrder


def workflow_step(
    service: str, step: Callable[[dict[str, Any]], Order], counts: str | None = None
) -> Callable[[dict[str, Any], Any], dict]:
    """A Step Functions task handler around ``step``: returns the order's id, status and itself, lets
    business errors (named for the ASL's Catch) propagate, counts rejections, and counts the
    metric ``counts`` each time the step succeeds."""
    logger, tracer, metrics = observability(service)

    @logger.inject_lambda_context(correlation_id_path="order_id")
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict:
        if event.get("error"):  # Compensate's input: the failed step's error, Cause included, for operators
            logger.warning("compensating after a failed step", extra={"error": event["error"]})
        try:
            order = step(event)
        except (InvalidOrder, CreditDenied) as rejection:
            count(metrics, "OrdersRejected")
            logger.info("order rejected", extra={"reason": rejection.message})
            raise
        if counts:
            count(metrics, counts)
        logger.info("step done", extra={"status": order.status.value})
        # The whole order, so the next step can write without reading it first (OrderService._race).
        return {"order_id": order.order_id, "status": order.status.value, "order": order.model_dump(mode="json")}

    return handler


def known_order(event: dict[str, Any]) -> Order | None:
    """The order as the previous step returned it (``event["order"]``), if the workflow passed one."""
    return Order.model_validate(event["order"]) if event.get("order") else None
