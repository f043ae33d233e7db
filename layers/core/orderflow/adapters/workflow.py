"""Step Functions port: start a named execution (an order's allocation, a replenishment run, a simulation)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import TransientError
from .aws import client, error_code

if TYPE_CHECKING:
    from ..models import Order


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str | None):
        self.state_machine_arn = state_machine_arn

    def start(self, order: Order) -> None:
        """Start the order's execution, named by the order id; starting it twice is a no-op. The input
        carries the order as stored, so Validate writes from it without reading it first (an order of at
        most ``MAX_ORDER_LINES`` lines is a few KB, far below the 256 KB input limit)."""
        self.start_named(order.order_id, {"order_id": order.order_id, "woken_by": None,
                                          "order": order.model_dump(mode="json")})

    def wake(self, order_id: str, sku: str) -> None:
        """Start a backordered order's execution again, at Reserve (``woken_by``). Each wake-up is a new
        execution; one that finds the order already reserved does nothing."""
        self.start_named(f"{order_id}-{uuid.uuid4().hex[:12]}", {"order_id": order_id, "woken_by": sku})

    def start_named(self, name: str, payload: dict[str, Any]) -> None:
        """Start an execution called ``name`` with ``payload`` as its input; a second start of the same
        name is a no-op (Step Functions keeps the first)."""
        if not self.state_machine_arn:
            raise RuntimeError("the state machine ARN is not set in this function's environment")
        try:
            client("stepfunctions").start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                                    input=json.dumps(payload))
        except Exception as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return
            if error_code(exc) in {"ThrottlingException", "ServiceUnavailable"}:
                raise TransientError("Step Functions is busy; try again") from exc
            raise
