"""Scheduled: the periodic look for what no single event announces: purchase orders past their
``expected_by``, replenishment runs that failed, dead-letter queues with messages (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability

service = wiring.alert_service()
logger, tracer, metrics = observability("alerts_check")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    told = service.check()
    count(metrics, "AlertsTold", len(told))
    logger.info("alert check done", extra={"told": [alert.subject for alert in told]})
    return {"told": [alert.subject for alert in told]}
