"""Step Functions: start a named execution (an order's workflow, a replenishment run, a simulation)."""

from __future__ import annotations

import json
from typing import Any

from orderflow.platform.aws import client, error_code
from orderflow.shared.errors import TransientError


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str | None):
        self.state_machine_arn = state_machine_arn

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
