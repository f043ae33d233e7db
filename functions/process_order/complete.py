"""Step: the order is delivered; confirm it and close the workflow."""

from orderflow.lambda_support import workflow_step
from orderflow.service import OrderService

service = OrderService.from_settings()
handler = workflow_step("complete_order", lambda event: service.complete(event["order_id"]), counts="OrdersDelivered")
