"""Step: a step failed after holds were taken; give every hold back and mark the order FAILED."""

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from orderflow import wiring
from orderflow.orders.adapters.steps import workflow_step

service = wiring.order_service()
handler = workflow_step("compensate_order", lambda event: service.compensate(event["order_id"], event.get("error")))

init_phase.ready()
