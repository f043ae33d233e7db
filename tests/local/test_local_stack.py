"""The fixture template running on the local stack: resources, HTTP front, workflows, queues, schedules."""

from __future__ import annotations

import base64
import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from local_support import eventually

from orderflow_local.http_api import MAX_BODY_BYTES
from orderflow_local.stack import LocalStack


class TransientError(Exception):
    """Named like the error the fixture ASL retries."""


def _item(stack: LocalStack, pk: str) -> dict[str, Any] | None:
    table = stack.resources.tables[0].name
    return stack.boto3_client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item")


# ------------------------------------------------------------------ resources and environment
def test_resources_are_created_from_the_template(stack: LocalStack) -> None:
    table = stack.boto3_client("dynamodb").describe_table(TableName="fixture-items-test")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-kind"]
    ttl = stack.boto3_client("dynamodb").describe_time_to_live(TableName="fixture-items-test")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"
    assert stack.boto3_client("events").describe_event_bus(Name="fixture-test")["Name"] == "fixture-test"

    sqs = stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName="orderflow-JobsQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(":orderflow-JobsDeadLetterQueue")

    lambda_ = stack.boto3_client("lambda")
    config = lambda_.get_function_configuration(FunctionName="orderflow-ApiFunction")
    assert config["Environment"]["Variables"]["ITEMS_TABLE"] == "fixture-items-test"
    assert (config["Timeout"], config["MemorySize"], config["Handler"]) == (10, 256, "app.handler")
    (mapping,) = lambda_.list_event_source_mappings(FunctionName="orderflow-ConsumerFunction")["EventSourceMappings"]
    assert mapping["BatchSize"] == 5

    machine = stack.resources.state_machine("WorkStateMachine")
    described = stack.boto3_client("stepfunctions").describe_state_machine(stateMachineArn=machine.arn)
    assert described["name"] == "fixture-work-test"
    definition = json.loads(described["definition"])
    assert definition["States"]["StepOne"]["Retry"][0]["IntervalSeconds"] == 1  # the local default, not 30


def test_log_groups_queue_policies_alarms_and_dashboards_are_created(stack: LocalStack) -> None:
    logs = stack.boto3_client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/")["logGroups"]}
    assert groups["/fixture/test/api"]["retentionInDays"] == 7
    assert groups["/aws/vendedlogs/states/fixture-work-test"]["retentionInDays"] == 7
    machine = stack.resources.state_machine("WorkStateMachine")
    logging_config = stack.boto3_client("stepfunctions").describe_state_machine(
        stateMachineArn=machine.arn)["loggingConfiguration"]
    assert logging_config["level"] == "ERROR" and logging_config["includeExecutionData"] is False
    assert logging_config["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"].endswith(
        ":log-group:/aws/vendedlogs/states/fixture-work-test:*")

    events = stack.boto3_client("events")
    rule = events.describe_rule(Name="orderflow-FixtureRule", EventBusName="fixture-test")
    (target,) = events.list_targets_by_rule(Rule="orderflow-FixtureRule", EventBusName="fixture-test")["Targets"]
    assert target["DeadLetterConfig"]["Arn"].endswith(":orderflow-JobsDeadLetterQueue")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}
    sqs = stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName="orderflow-JobsDeadLetterQueue")["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]

    cloudwatch = stack.boto3_client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    dlq = alarms["fixture-test-jobs-dlq"]
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "orderflow-JobsDeadLetterQueue"}]
    assert (dlq["Threshold"], dlq["Period"], dlq["AlarmActions"]) == (0.0, 300, [])  # no AlarmTopicArn
    errors = alarms["orderflow-ApiErrorsAlarm"]  # no AlarmName: the stack's name for it
    assert errors["Metrics"][1]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": "orderflow-ApiFunction"}]
    body = json.loads(cloudwatch.get_dashboard(DashboardName="fixture-test")["DashboardBody"])
    assert body["widgets"][0]["properties"]["metrics"] == [
        ["AWS/Lambda", "Errors", "FunctionName", "orderflow-ApiFunction"],
        ["AWS/States", "ExecutionsFailed", "StateMachineArn", machine.arn],
    ]


def test_process_environment_points_at_the_local_endpoint(stack: LocalStack) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_endpoint
    assert os.environ["MOTO_PORT"] == str(urlsplit(stack.aws_endpoint).port)
    assert os.environ["ITEMS_TABLE"] == "fixture-items-test"
    assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert os.environ["POWERTOOLS_LOG_LEVEL"] == "WARNING"
    assert stack.api_url.startswith("http://127.0.0.1:") and stack.aws_endpoint.startswith("http://127.0.0.1:")


# ------------------------------------------------------------------ HTTP front
def test_items_round_trip_through_handler_and_dynamodb(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.api_url) as client:
        created = client.put("/items/i1", json={"name": "first"})
        assert (created.status_code, created.json()) == (201, {"id": "i1"})
        assert client.get("/items/i1").json() == {"pk": "i1", "kind": "item", "name": "first"}
        assert client.get("/items/missing").status_code == 404
        listed = client.get("/items")  # a non-proxy result: 200 with JSON
        assert (listed.status_code, listed.headers["content-type"], listed.json()) == (200, "application/json", ["i1"])


def test_request_becomes_a_v2_event_and_response_comes_back(stack: LocalStack) -> None:
    response = httpx.post(
        f"{stack.api_url}/echo/a%20b?x=1&x=2",
        content=b'{"hello": "world"}',
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "s=1; t=2")],
    )
    assert response.status_code == 200
    assert response.headers["x-count"] == "2"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    seen = response.json()
    event, context = seen["event"], seen["context"]
    assert event["routeKey"] == "ANY /echo/{name}"
    assert event["pathParameters"] == {"name": "a b"}
    assert (event["rawPath"], event["rawQueryString"]) == ("/echo/a%20b", "x=1&x=2")
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"hello": "world"}', False)
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert context["function_name"] == "orderflow-ApiFunction"
    assert context["log_group_name"] == "/fixture/test/api"  # its LoggingConfig
    assert context["invoked_function_arn"].endswith(":function:orderflow-ApiFunction")
    assert context["memory_limit_in_mb"] == 256 and 0 < context["remaining_ms"] <= 10_000


def test_binary_bodies_both_ways(stack: LocalStack) -> None:
    echoed = httpx.put(f"{stack.api_url}/echo/bin", content=b"\xff\xfe\x00").json()["event"]
    assert echoed["isBase64Encoded"] is True
    assert base64.b64decode(echoed["body"]) == b"\xff\xfe\x00"
    chunked = httpx.patch(f"{stack.api_url}/echo/chunks", content=iter([b"ab", b"cd"])).json()["event"]
    assert chunked["body"] == "abcd"
    file = httpx.get(f"{stack.api_url}/files/docs/a.txt")
    assert (file.headers["content-type"], file.content) == ("application/octet-stream", b"\x00\xffdocs/a.txt")


def test_gateway_errors(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.api_url) as client:
        missing = client.get("/nowhere")
        assert missing.status_code == 404
        assert missing.json() == {
            "error": {"code": "ROUTE_NOT_FOUND", "message": "no route for GET /nowhere", "details": {}}
        }
        assert client.delete("/items/i1").json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        crashed = client.get("/crash")
        assert (crashed.status_code, crashed.json()) == (500, {"message": "Internal Server Error"})

    address = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    try:  # announce a body over 10 MB: refused before it is read
        connection.putrequest("POST", "/echo/big")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        too_large = connection.getresponse()
        assert too_large.status == 413
        assert json.loads(too_large.read())["error"]["code"] == "PAYLOAD_TOO_LARGE"
    finally:
        connection.close()


def test_a_route_whose_function_outlives_its_timeout_answers_as_api_gateway_does(stack: LocalStack,
                                                                                stack_clock: Any) -> None:
    """Lambda stops the function at its Timeout and API Gateway answers the failed integration with its own
    500; the handler's late answer is never made."""
    started, answered = threading.Event(), []

    def slow(_event: Any, _context: Any) -> dict[str, Any]:
        started.set()
        for _ in range(3000):  # 30 s at most, so a runtime that never stops it fails the test
            time.sleep(0.01)
        answered.append("late")
        return {"statusCode": 200, "body": "late"}

    stack.runtime.inject_fault("ApiFunction", slow)
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(httpx.get, f"{stack.api_url}/items/i1", timeout=60)
        assert started.wait(30)
        stack_clock.now += stack.resources.function("ApiFunction").timeout
        assert (response.result().status_code, response.result().json()) == (500, {"message": "Internal Server Error"})
    assert answered == []


# ------------------------------------------------------------------ workflows
def test_workflow_retries_parks_on_a_task_token_and_succeeds(stack: LocalStack) -> None:
    before = stack.runtime.invocations["StepOneFunction"]
    stack.runtime.inject_fault("StepOneFunction", TransientError("try again"), times=1)
    started = httpx.post(f"{stack.api_url}/work", json={"id": "w-ok"})
    assert started.status_code == 202
    arn = started.json()["executionArn"]
    assert arn == stack.execution_arn("WorkStateMachine", "w-ok")

    stack.wait_for_state(arn, "Park")
    token = eventually(lambda: _item(stack, "w-ok#parked"))["token"]["S"]
    stack.boto3_client("stepfunctions").send_task_success(taskToken=token, output='{"approved": true}')
    done = stack.wait_for_execution(arn)

    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["parked"] == {"approved": True}
    assert output["one"]["module"] != output["two"]["module"]  # same file, one module per function
    assert stack.runtime.invocations["StepOneFunction"] - before == 2  # failed once, retried once


@pytest.mark.parametrize(
    ("payload", "fault", "error"),
    [({"invalid": True}, None, "InvalidInput"), ({}, RuntimeError("disk on fire"), "RuntimeError")],
)
def test_workflow_catch_runs_the_compensation(
    stack: LocalStack, payload: dict, fault: Exception | None, error: str
) -> None:
    name = f"w-{error}"
    if fault:
        stack.runtime.inject_fault("StepOneFunction", fault)
    cleanups = stack.runtime.invocations["CleanupFunction"]
    arn = stack.start_execution("WorkStateMachine", name, {"id": name, **payload})
    done = stack.wait_for_execution(arn)
    assert (done["status"], done.get("error")) == ("FAILED", "WorkFailed")
    assert _item(stack, f"{name}#cleanup")["error"]["S"] == error
    assert stack.runtime.invocations["CleanupFunction"] == cleanups + 1


def test_lambda_invoke_api_runs_the_handler_in_process(stack: LocalStack) -> None:
    lambda_ = stack.boto3_client("lambda")
    ok = lambda_.invoke(FunctionName="orderflow-StepOneFunction", Payload=json.dumps({"id": "direct"}))
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["function"] == "orderflow-StepOneFunction"

    stack.runtime.inject_fault("StepOneFunction", lambda event, context: {"not", "json"})
    bad = lambda_.invoke(FunctionName="orderflow-StepOneFunction", Payload=b"{}")
    assert bad["FunctionError"] == "Handled"
    assert json.loads(bad["Payload"].read())["errorType"] == "Runtime.MarshalError"


# ------------------------------------------------------------------ queues and schedules
def test_sqs_messages_reach_the_consumer(stack: LocalStack) -> None:
    (queue,) = [q for q in stack.resources.queues if q.logical_id == "JobsQueue"]
    # The URL that !Ref gives handlers (AWS's form) works against the local endpoint.
    stack.boto3_client("sqs").send_message(QueueUrl=queue.url, MessageBody=json.dumps({"id": "j1"}))
    assert eventually(lambda: _item(stack, "job#j1"))["kind"]["S"] == "job"
    assert stack.runtime.invocations["ConsumerFunction"] >= 1


def test_schedules_fire_the_function(stack: LocalStack) -> None:
    result = stack.schedules.fire("TickFunction")
    assert result["detail-type"] == "Scheduled Event"
    (event_id,) = [
        item["pk"]["S"]
        for item in stack.boto3_client("dynamodb").scan(TableName="fixture-items-test")["Items"]
        if item["kind"]["S"] == "tick"
    ]
    assert _item(stack, event_id)["source"]["S"] == "aws.events"
    assert stack.schedules.fire("TickFunction", "Nightly")["detail-type"] == "Nightly"


def test_state_machine_schedules_start_an_execution(stack: LocalStack) -> None:
    arn = stack.schedules.fire("WorkStateMachine")
    assert arn.split(":")[-1].startswith("sched-")
    done = stack.wait_for_execution(arn)
    assert json.loads(done["input"]) == {"id": "scheduled", "invalid": True}  # the event's Input
    assert (done["status"], done.get("error")) == ("FAILED", "WorkFailed")
    assert _item(stack, "scheduled#cleanup")["error"]["S"] == "InvalidInput"


def test_no_simulated_supplier_without_supplier_queues(stack: LocalStack) -> None:
    assert stack.suppliers is None  # the fixture's functions name no SUPPLIER_QUEUE_PREFIX
