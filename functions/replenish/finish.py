"""Steps FinishRun and RunFailed: close the run with its totals (COMPLETED), or with the error (FAILED)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability
from orderflow.replenishment.steps import FinishEvent

logger, tracer, metrics = observability("replenish_finish")
service = wiring.replenishment_service()


@logger.inject_lambda_context(correlation_id_path="run_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinishEvent)
def handler(event: FinishEvent, context: Any) -> dict:
    if event.total_segments is None:
        run = service.fail(event.run_id, event.error, event.started_at, event.input.get("trigger"))
        count(metrics, "ReplenishmentRunsFailed")
        logger.error("run failed", extra={"error": run.error})
    else:
        run = service.finish(event.run_id, event.total_segments)
        count(metrics, "ReplenishmentRunsCompleted")
        logger.info("run completed", extra={"counts": run.counts.model_dump()})
    return run.model_dump(mode="json")
