"""Step Decide (one batch of the run's Map): forecast, inventory policy, draft purchase orders."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability
from orderflow.replenishment.steps import BatchItem

logger, tracer, metrics = observability("replenish_decide")
service = wiring.replenishment_service()


@logger.inject_lambda_context(correlation_id_path="run_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=BatchItem)
def handler(event: BatchItem, context: Any) -> dict:
    decided = service.decide_batch(event)
    counts = decided["counts"]
    count(metrics, "SkusDecided", counts["skus"])
    count(metrics, "PurchaseOrdersDrafted", counts["ordered"])
    count(metrics, "SkusSkipped", counts["skipped"])
    logger.info("batch decided", extra={"batch": event.batch.model_dump(), "counts": counts})
    return decided
