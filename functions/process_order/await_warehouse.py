"""Step (waitForTaskToken): park the token until the warehouse reports the order SHIPPED or DELIVERED."""

from orderflow.lambda_support import workflow_step
from orderflow.models import OrderStatus
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step(
    "await_warehouse",
    lambda event: service.await_warehouse(event["order_id"], OrderStatus(event["awaiting"]), event["task_token"]),
)
