"""Step: reserve every line in one transaction, or none (OutOfStock → backorder)."""

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from orderflow import wiring
from orderflow.orders.adapters.steps import known_order, workflow_step

service = wiring.order_service()
handler = workflow_step("reserve_stock", lambda event: service.reserve(event["order_id"], known_order(event)))

init_phase.ready()
