"""Scheduled: act on the orders past their deadline (backorders no stock came for, shipments not
shipped in time), giving back their stock and credit (docs/fulfilment.md)."""

from typing import Any

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from orderflow import wiring
from orderflow.platform.lambda_support import count, observability

service = wiring.order_service()
logger, tracer, metrics = observability("expire_orders")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    expired = service.expire_overdue()
    count(metrics, "OrdersExpired", len(expired))
    logger.info("overdue orders failed", extra={"orders": len(expired)})
    return {"expired": [order.order_id for order in expired]}


init_phase.ready()
