"""The simulation workflow's step: replay a requested simulation (``Simulate``), or record why it
failed (``SimulationFailed``, with the Catch payload in ``error``). Has the forecasting layer."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from pydantic import BaseModel

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability
from orderflow.replenishment.decisions import error_text

logger, tracer, metrics = observability("simulate")
service = wiring.simulations_service()


class SimulateEvent(BaseModel):
    simulation_id: str
    error: Any = None


@logger.inject_lambda_context(correlation_id_path="simulation_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=SimulateEvent)
def handler(event: SimulateEvent, context: Any) -> dict:
    if event.error is not None:
        outcome = service.fail(event.simulation_id, error_text(event.error))
    else:
        outcome = service.run(event.simulation_id)
    count(metrics, f"Simulations{outcome['status'].capitalize()}")
    logger.info("simulation closed", extra=outcome)
    return outcome
