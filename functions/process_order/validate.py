"""Step: check the order against the current catalogue and customer (InvalidOrder → REJECTED)."""

from orderflow import init_phase  # first: no garbage collection while the modules load
from orderflow.lambda_support import known_order, workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step("validate_order", lambda event: service.validate(event["order_id"], known_order(event)))

init_phase.ready()
