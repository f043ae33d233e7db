"""Scheduled: the buying side's deadlines. Runs still RUNNING long after they started are FAILED (their
execution was lost or stopped), drafts nobody will send and expired approvals are cancelled, and purchase
orders the supplier has not shipped long after they were expected are cancelled (the supplier is told)."""

from typing import Any

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability

logger, tracer, metrics = observability("replenish_sweep")
service = wiring.replenishment_service()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    swept = service.sweep()
    count(metrics, "ReplenishmentRunsTimedOut", len(swept["runs_failed"]))
    count(metrics, "PurchaseOrdersOverdueCancelled", len(swept["unshipped_cancelled"]))
    if swept["runs_failed"]:
        logger.error("runs past their deadline failed", extra={"runs": swept["runs_failed"]})
    logger.info("buying deadlines swept", extra={k: v if isinstance(v, int) else len(v) for k, v in swept.items()})
    return swept
