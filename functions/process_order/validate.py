"""Step: check the order against the current catalogue and customer (InvalidOrder → REJECTED)."""

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from orderflow import wiring
from orderflow.orders.adapters.steps import known_order, workflow_step

service = wiring.order_service()
handler = workflow_step("validate_order", lambda event: service.validate(event["order_id"], known_order(event)))

init_phase.ready()
