"""A function's Timeout offline (local/deadlines.py), through moto's Step Functions: the error the workflow's
Retry and Catch see, and the handler's writes after its deadline never made.

The handler is the test's own (``inject_fault``) and the runtime's clock is stepped by the test, so the
deadline passes when the test says, not after real seconds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderflow_local.faults import Faults
from orderflow_local.stack import LocalStack

TEMPLATE = Path(__file__).parent / "fixtures" / "timeouts" / "template.yaml"
TABLE = "timeouts-notes"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(TEMPLATE, faults=Faults())
    try:
        local.start()
        yield local
    finally:
        local.stop()


def _notes(stack: LocalStack) -> set[str]:
    items = stack.boto3_client("dynamodb").scan(TableName=TABLE)["Items"]
    return {item["pk"]["S"] for item in items}


def test_a_task_past_its_timeout_fails_with_sandbox_timedout_caught_not_retried(stack: LocalStack,
                                                                               stack_clock: Any) -> None:
    """As on AWS: the task fails with Lambda's ``Sandbox.Timedout``, which the retrier of Lambda's service
    errors does not match (one run) and ``States.ALL`` catches; the write made before the deadline stays,
    the one after it never happens."""
    dynamodb = stack.boto3_client("dynamodb")
    started, go_on = threading.Event(), threading.Event()

    def slow(event: Any, _context: Any) -> dict[str, Any]:
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"{event['run']}-before"}})
        started.set()
        while not go_on.is_set():
            go_on.wait(0.01)
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"{event['run']}-after"}})
        return {"done": True}

    stack.runtime.inject_fault("SlowFunction", slow)
    arn = stack.start_execution("GuardedStateMachine", "slow-1", {"run": "slow-1"})
    try:
        assert started.wait(30)
        stack_clock.now += 3.0  # the function's Timeout
        described = stack.wait_for_execution(arn)
    finally:
        go_on.set()
    assert described["status"] == "SUCCEEDED"
    caught = json.loads(described["output"])["error"]
    assert caught["Error"] == "Sandbox.Timedout"
    assert "Task timed out" in json.loads(caught["Cause"])["errorMessage"]  # Lambda's own words for it
    assert stack.task_runs("GuardedStateMachine", run="slow-1") == [("Slow", "Sandbox.Timedout")]
    assert _notes(stack) >= {"slow-1-before"} and "slow-1-after" not in _notes(stack)


def test_a_task_within_its_timeout_is_not_stopped(stack: LocalStack, stack_clock: Any) -> None:
    dynamodb = stack.boto3_client("dynamodb")

    def quick(event: Any, context: Any) -> dict[str, Any]:
        stack_clock.now += 2.5  # most of the Timeout, not all
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"{event['run']}-after"}})
        return {"left": context.get_remaining_time_in_millis()}

    stack.runtime.inject_fault("SlowFunction", quick)
    described = stack.wait_for_execution(stack.start_execution("GuardedStateMachine", "quick-1", {"run": "quick-1"}))
    assert json.loads(described["output"]) == {"left": 500}
    assert "quick-1-after" in _notes(stack)
