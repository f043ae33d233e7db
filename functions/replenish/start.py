"""Step StartRun: record the run and split the catalogue into batches (parallel-scan segments)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser

from orderflow import wiring
from orderflow.platform.lambda_support import observability
from orderflow.replenishment.steps import StartRunEvent

logger, tracer, metrics = observability("replenish_start")
service = wiring.replenishment_service()


@logger.inject_lambda_context(correlation_id_path="run_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=StartRunEvent)
def handler(event: StartRunEvent, context: Any) -> dict:
    trigger = str(event.input.get("trigger") or "manual")
    started = service.start_run(event.run_id, event.started_at, trigger, note=event.input.get("note"))
    logger.info("run started", extra={"cycle": started["cycle"], "batches": started["total_segments"]})
    return started
