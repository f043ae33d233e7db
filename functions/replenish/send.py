"""Step Send (one batch of the run's Map): put the batch's drafted purchase orders on their suppliers'
queues."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability
from orderflow.replenishment.steps import SendEvent

logger, tracer, metrics = observability("replenish_send")
service = wiring.replenishment_service()


@logger.inject_lambda_context(correlation_id_path="run_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=SendEvent)
def handler(event: SendEvent, context: Any) -> dict:
    result = service.send_batch(event.run_id, event.batch, event.decided)
    count(metrics, "PurchaseOrdersSent", result["counts"]["sent"])
    logger.info("batch sent", extra={"batch": event.batch.model_dump(), "sent": result["counts"]["sent"]})
    return result
