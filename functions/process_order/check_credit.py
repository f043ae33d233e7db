"""Step: hold the order's value on the customer's credit (CreditDenied → REJECTED)."""

from orderflow import init_phase  # first: no garbage collection while the modules load
from orderflow.lambda_support import known_order, workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step("check_credit", lambda event: service.check_credit(event["order_id"], known_order(event)))

init_phase.ready()
