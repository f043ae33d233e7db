"""Powertools wiring shared by every handler: the one module of ``orderflow`` that knows about Lambda.

Logger (JSON, correlation id = order id), Tracer and Metrics are built once per function at cold start.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from .errors import CreditDenied, InvalidOrder
from .models import Order

# A request that records no metric is normal (a GET, a no-op retry); Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def observability(service: str) -> tuple[Logger, Tracer, Metrics]:
    return Logger(service=service), Tracer(service=service), Metrics(service=service)


def count(metrics: Metrics, name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def workflow_step(
    service: str, step: Callable[[dict[str, Any]], Order], counts: str | None = None
) -> Callable[[dict[str, Any], Any], dict]:
    """A Step Functions task handler around ``step``: returns the order's id and status, lets
    business errors (named for the ASL's Catch) propagate, counts rejections, and counts the
    metric ``counts`` each time the step succeeds."""
    logger, tracer, metrics = observability(service)

    @logger.inject_lambda_context(correlation_id_path="order_id")
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict:
        try:
            order = step(event)
        except (InvalidOrder, CreditDenied) as rejection:
            count(metrics, "OrdersRejected")
            logger.info("order rejected", extra={"reason": rejection.message})
            raise
        if counts:
            count(metrics, counts)
        logger.info("step done", extra={"status": order.status.value})
        return {"order_id": order.order_id, "status": order.status.value}

    return handler
