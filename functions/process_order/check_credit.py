"""Step: hold the order's value on the customer's credit (CreditDenied → REJECTED)."""

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from orderflow import wiring
from orderflow.orders.adapters.steps import known_order, workflow_step

service = wiring.order_service()
handler = workflow_step("check_credit", lambda event: service.check_credit(event["order_id"], known_order(event)))

init_phase.ready()
