"""Express workflows as AWS runs them, not as moto does.

- No execution history through the API. AWS's ``ListExecutions`` answers ``StateMachineTypeNotSupported``
  for an EXPRESS state machine, and ``DescribeExecution`` / ``GetExecutionHistory`` do not support its
  executions (an Express execution's record is its CloudWatch Logs execution log). moto answers all
  three; here they fail as on AWS, always. The stack itself still reads its executions in-process
  (:func:`execution`): that is how ``LocalStack.wait_for_execution`` waits for one, the offline stand-in
  for reading its execution log.
- At-least-once starts (switched by :mod:`~orderflow_local.faults`). AWS documents asynchronous Express
  workflows as at-least-once, with no name idempotency: "Starting multiple workflows with the same name
  results in concurrent executions". moto refuses a second start with a name it has seen
  (``ExecutionAlreadyExists``), or returns the running one. With ``express_name_reuse`` a same-name
  start runs again; with ``duplicate_executions`` a start runs twice, concurrently.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from orderflow_local import faults as faults_module

_unchecked = threading.local()
_installed = False
EXPRESS_NOT_SUPPORTED = "Resource type not valid in this context: express"


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    StateMachine._handle_name_input_idempotency = _names_checked(StateMachine._handle_name_input_idempotency)
    StepFunctionsParserBackend.start_execution = _at_least_once(StepFunctionsParserBackend.start_execution)
    StepFunctionResponse.list_executions = _standard_machines_only(StepFunctionResponse.list_executions)
    for action in ("describe_execution", "get_execution_history"):
        setattr(StepFunctionResponse, action, _standard_executions_only(getattr(StepFunctionResponse, action)))
    _installed = True


def _names_checked(original: Any) -> Any:
    @functools.wraps(original)
    def check(self: Any, name: str, execution_input: str) -> Any:
        if getattr(_unchecked, "on", False):
            return None
        return original(self, name, execution_input)

    return check


def _at_least_once(original: Any) -> Any:
    @functools.wraps(original)
    def start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                        trace_header: Any = None) -> Any:
        faults, dice = faults_module.current()
        machine = self.describe_state_machine(state_machine_arn)
        if machine.type != "EXPRESS" or not (faults.express_name_reuse or faults.duplicate_executions):
            return original(self, state_machine_arn, name, execution_input, trace_header)
        _unchecked.on = faults.express_name_reuse
        try:
            execution = original(self, state_machine_arn, name, execution_input, trace_header)
        finally:
            _unchecked.on = False
        if dice.roll(faults.duplicate_executions, "duplicate_executions"):
            _unchecked.on = True
            try:  # the same start delivered twice: a second run, alongside the first
                original(self, state_machine_arn, name, execution_input, trace_header)
            finally:
                _unchecked.on = False
        return execution

    return start_execution


def _express(backend: Any, state_machine_arn: str) -> bool:
    return any(m.arn == state_machine_arn and m.type == "EXPRESS" for m in backend.state_machines)


def _standard_machines_only(original: Any) -> Any:
    from moto.core.exceptions import AWSError

    @functools.wraps(original)
    def list_executions(self: Any) -> Any:
        arn = self._get_param("stateMachineArn")
        if _express(self.stepfunction_backend, arn):
            raise AWSError("This operation is not supported by this type of state machine",
                           "StateMachineTypeNotSupported")
        return original(self)

    return list_executions


def _standard_executions_only(original: Any) -> Any:
    from moto.stepfunctions.exceptions import InvalidArn

    @functools.wraps(original)
    def action(self: Any) -> Any:
        arn = self._get_param("executionArn")
        if arn and _express(self.stepfunction_backend, _machine_arn(arn)):
            raise InvalidArn(f"Invalid Arn: '{EXPRESS_NOT_SUPPORTED}'")
        return original(self)

    return action


def _machine_arn(execution_arn: str) -> str:
    """``arn:aws:states:r:a:execution:machine:name`` -> ``arn:aws:states:r:a:stateMachine:machine``."""
    parts = execution_arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]]) if len(parts) >= 8 else ""


def execution(backend: Any, execution_arn: str) -> dict[str, Any] | None:
    """The latest run of an execution, read in-process (Express ones included): ``status``, ``input``,
    ``output``, ``error``, ``cause``; ``None`` if no run has that ARN."""
    runs = executions(backend, execution_arn)
    if not runs:
        return None
    run = runs[-1]
    described = {"executionArn": execution_arn, "name": run.name, "status": run.status,
                 "input": run.execution_input, "startDate": run.start_date}
    if run.output is not None:
        described["output"] = run.output if isinstance(run.output, str) else json.dumps(run.output)
    described.update({k: v for k, v in (("error", run.error), ("cause", run.cause)) if v is not None})
    return described


def executions(backend: Any, execution_arn: str) -> list[Any]:
    """Every run with that ARN, oldest first (more than one for an Express start run again)."""
    machine_arn = _machine_arn(execution_arn)
    for machine in backend.state_machines:
        if machine.arn == machine_arn:
            return [e for e in machine.executions if e.execution_arn == execution_arn]
    return []
