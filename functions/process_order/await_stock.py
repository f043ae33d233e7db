"""Step: backorder the order and register it as waiting on each SKU (reserving at once if stock came in)."""

from orderflow import (
                        init_phase,  # first: no garbage collection while the modules load
                        wiring,
)
from orderflow.orders.adapters.steps import known_order, workflow_step

service = wiring.order_service()
handler = workflow_step("await_stock", lambda event: service.await_stock(event["order_id"], known_order(event)),
                        counts="BackorderWaits")

init_phase.ready()
