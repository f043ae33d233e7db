"""Step Functions port: start a named execution (an order's workflow, a replenishment run) and resume
or stop an order's workflow at a task token."""

from __future__ import annotations

import json
from typing import Any

from ..errors import TransientError
from .aws import client, error_code


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str | None):
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str) -> None:
        """Start the order's execution, named by the order id; starting it twice is a no-op."""
        self.start_named(order_id, {"order_id": order_id})

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

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Hand a result to the step waiting on ``token``; False if that step is no longer waiting."""
        try:
            client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output))
        except Exception as exc:
            if error_code(exc) in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
                return False
            raise
        return True

    def stop(self, token: str, error: str, cause: str) -> bool:
        """Fail the step waiting on ``token`` with a named error the ASL catches."""
        try:
            client("stepfunctions").send_task_failure(taskToken=token, error=error, cause=cause)
        except Exception as exc:
            if error_code(exc) in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
                return False
            raise
        return True
