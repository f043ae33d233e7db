"""Step (waitForTaskToken): mark the order BACKORDERED and park its token until stock arrives."""

from orderflow.lambda_support import workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step(
    "await_stock", lambda event: service.await_stock(event["order_id"], event["task_token"]), counts="BackorderWaits"
)
