"""Step: a step failed after holds were taken; give every hold back and mark the order FAILED."""

from orderflow import init_phase  # first: no garbage collection while the modules load
from orderflow.lambda_support import workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step("compensate_order", lambda event: service.compensate(event["order_id"], event.get("error")))

init_phase.ready()
