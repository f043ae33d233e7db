"""Step: reserve every line in one transaction, or none (OutOfStock → backorder)."""

from orderflow import init_phase  # first: no garbage collection while the modules load
from orderflow.lambda_support import known_order, workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step("reserve_stock", lambda event: service.reserve(event["order_id"], known_order(event)))

init_phase.ready()
