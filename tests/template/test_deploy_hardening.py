"""What deploys is hardened: log retention everywhere, a dead-letter queue on every asynchronous path,
an alarm on every failure signal, a dashboard of what exists, IAM wildcards only where AWS requires them,
and the deploy defaults in samconfig.toml.

These read files only (template.yaml, the functions' sources, samconfig.toml): no AWS, no moto.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderflow_local.template import load_template, read_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Their errors are the business outcomes the order workflow catches by name (InvalidOrder, CreditDenied,
# OutOfStock, OrderCancelled), so an Errors alarm would fire on ordinary orders: they alarm on throttles,
# and their real failures end the execution (OrderProcessingStateMachineFailedAlarm).
OUTCOME_STEPS = {
    "ValidateOrderFunction", "CheckCreditFunction", "ReserveStockFunction", "AwaitStockFunction",
}
# Step Functions' log delivery: none of these supports resource-level permissions (Resource "*").
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}
ASYNC_EVENT_TYPES = {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}
STREAM_EVENT_TYPES = {"DynamoDB", "Kinesis"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return read_template(TEMPLATE)


def _of_type(doc: dict[str, Any], *rtypes: str) -> dict[str, dict[str, Any]]:
    return {name: res.get("Properties") or {} for name, res in doc["Resources"].items() if res["Type"] in rtypes}


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None


def _get_att(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        return tuple(target if isinstance(target, list) else target.split(".", 1))  # type: ignore[return-value]
    return None


def _events(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(owner, event name, event, its properties) of every function and state machine."""
    for owner, props in _of_type(doc, "AWS::Serverless::Function", "AWS::Serverless::StateMachine").items():
        for name, event in (props.get("Events") or {}).items():
            yield owner, name, event, event.get("Properties") or {}


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _alarm_metrics(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Each metric an alarm reads: {Namespace, MetricName, Dimensions} (single metric or metric math)."""
    if "MetricName" in props:
        return [{k: props.get(k) for k in ("Namespace", "MetricName", "Dimensions")}]
    return [query["MetricStat"]["Metric"] for query in props.get("Metrics", []) if "MetricStat" in query]


def _dead_letter_queues(doc: dict[str, Any]) -> dict[str, str]:
    """Queue logical id -> what sends to it (a redrive policy, an EventBridge target, a stream's OnFailure)."""
    found: dict[str, str] = {}
    for name, props in _of_type(doc, "AWS::SQS::Queue").items():
        if target := _get_att((props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")):
            found[target[0]] = f"redrive of {name}"
    for name, props in _of_type(doc, "AWS::Events::Rule").items():
        for target in props.get("Targets", []):
            if dlq := _get_att((target.get("DeadLetterConfig") or {}).get("Arn")):
                found[dlq[0]] = f"eventbridge:{name}"
    for owner, event_name, _event, props in _events(doc):
        if dlq := _get_att((props.get("DeadLetterConfig") or {}).get("Arn")):
            found[dlq[0]] = f"eventbridge:{owner}.{event_name}"
        if dlq := _get_att(((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")):
            found[dlq[0]] = f"on-failure of {owner}.{event_name}"
    return found


# ---------------------------------------------------------------- logs
def test_every_function_logs_to_its_own_group_with_retention(doc):
    functions = _of_type(doc, "AWS::Serverless::Function")
    groups = _of_type(doc, "AWS::Logs::LogGroup")
    used: dict[str, str] = {}
    for name, props in functions.items():
        group = _ref((props.get("LoggingConfig") or {}).get("LogGroup"))
        assert group in groups, f"{name}: LoggingConfig.LogGroup is not a !Ref to a log group of the template"
        assert group not in used, f"{name} and {used.get(group)} share {group}"
        used[group] = name
        assert groups[group].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, group


def test_every_log_group_has_retention(doc):
    allowed = {str(v) for v in doc["Parameters"]["LogRetentionDays"]["AllowedValues"]}
    assert str(doc["Parameters"]["LogRetentionDays"]["Default"]) in allowed
    for name, props in _of_type(doc, "AWS::Logs::LogGroup").items():
        retention = props.get("RetentionInDays")
        assert retention == {"Ref": "LogRetentionDays"} or str(retention) in allowed, f"{name}: RetentionInDays"


def test_state_machines_log_errors_without_execution_data(doc):
    groups = _of_type(doc, "AWS::Logs::LogGroup")
    policy = _of_type(doc, "AWS::IAM::ManagedPolicy")["StateMachineLoggingPolicy"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) == LOG_DELIVERY_ACTIONS
    for name, props in _of_type(doc, "AWS::Serverless::StateMachine").items():
        logging = props.get("Logging") or {}
        assert logging.get("Level") in ("ERROR", "ALL"), f"{name}: Logging.Level"
        assert logging.get("IncludeExecutionData") is False, f"{name}: execution data (orders, customers) in logs"
        (destination,) = logging["Destinations"]
        group, attribute = _get_att(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
        assert attribute == "Arn" and group in groups
        assert groups[group]["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
        assert {"Ref": "StateMachineLoggingPolicy"} in props["Policies"], f"{name}: no permission to log"


def test_wildcard_resources_only_where_aws_requires_them(doc):
    statements: list[tuple[str, dict[str, Any]]] = []
    for name, props in _of_type(doc, "AWS::Serverless::Function", "AWS::Serverless::StateMachine").items():
        for policy in props.get("Policies") or []:
            for statement in (policy.get("Statement") or []) if isinstance(policy, dict) else []:
                statements.append((name, statement))
    for name, props in _of_type(doc, "AWS::IAM::ManagedPolicy").items():
        statements += [(name, s) for s in props["PolicyDocument"]["Statement"]]
    assert statements
    for name, statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), f"{name}: wildcard action {actions}"
        if statement.get("Resource") == "*":
            assert name == "StateMachineLoggingPolicy" and set(actions) <= LOG_DELIVERY_ACTIONS, (
                f"{name}: Resource '*' for {actions}")


# ---------------------------------------------------------------- queues and asynchronous paths
def test_every_queue_is_encrypted(doc):
    for name, props in _of_type(doc, "AWS::SQS::Queue").items():
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, f"{name}: no SSE"


def test_every_queue_and_async_target_has_a_dead_letter_queue(doc):
    queues = _of_type(doc, "AWS::SQS::Queue")
    dlqs = _dead_letter_queues(doc)
    for name, props in queues.items():
        assert name in dlqs or "RedrivePolicy" in props, f"{name}: neither a DLQ nor redriven to one"
    for name, props in _of_type(doc, "AWS::Events::Rule").items():
        for target in props["Targets"]:
            assert "DeadLetterConfig" in target and "RetryPolicy" in target, f"{name} target {target['Id']}"
    for owner, event_name, event, props in _events(doc):
        where = f"{owner}.{event_name}"
        if event["Type"] in ASYNC_EVENT_TYPES:
            assert "DeadLetterConfig" in props and "RetryPolicy" in props, f"{where}: no DLQ/retry policy"
        elif event["Type"] in STREAM_EVENT_TYPES:
            assert "OnFailure" in (props.get("DestinationConfig") or {}), f"{where}: no on-failure destination"
        elif event["Type"] == "SQS":
            queue, _ = _get_att(props["Queue"])
            assert "RedrivePolicy" in queues[queue], f"{where}: {queue} has no redrive policy"


def test_eventbridge_may_send_to_its_dead_letter_queues(doc):
    policies = _of_type(doc, "AWS::SQS::QueuePolicy")
    schedules = {f"eventbridge:{owner}.{name}": props for owner, name, _, props in _events(doc)}
    for queue, sender in _dead_letter_queues(doc).items():
        if not sender.startswith("eventbridge:"):
            continue
        statements = [s for p in policies.values() if {"Ref": queue} in p["Queues"]
                      for s in p["PolicyDocument"]["Statement"]]
        (statement,) = [s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"}]
        assert (statement["Effect"], statement["Action"]) == ("Allow", "sqs:SendMessage")
        assert statement["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        if sender in schedules:  # the rule SAM generates, named by the event's Name
            assert source["Fn::Sub"].endswith(":rule/" + schedules[sender]["Name"]["Fn::Sub"]), queue
        else:
            assert source == {"Fn::GetAtt": [sender.removeprefix("eventbridge:"), "Arn"]}, queue


# ---------------------------------------------------------------- alarms
@pytest.fixture(scope="module")
def alarms(doc) -> dict[str, dict[str, Any]]:
    return _of_type(doc, "AWS::CloudWatch::Alarm")


def _alarmed(alarms: dict[str, dict[str, Any]], namespace: str, metric: str, dimension: str) -> dict[str, Any]:
    """Alarm logical id -> the dimension value, for the alarms reading ``namespace``/``metric``."""
    return {name: d["Value"] for name, props in alarms.items() for m in _alarm_metrics(props)
            if (m["Namespace"], m["MetricName"]) == (namespace, metric)
            for d in m["Dimensions"] if d["Name"] == dimension}


def test_every_alarm_fires_above_zero_and_notifies_the_optional_topic(doc, alarms):
    assert doc["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert doc["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    assert len(alarms) > 30
    for name, props in alarms.items():
        assert props["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}, name
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0), name
        assert props["TreatMissingData"] == "notBreaching", name


def test_every_dead_letter_queue_has_a_depth_alarm(doc, alarms):
    watched = list(_alarmed(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName").values())
    for queue in _dead_letter_queues(doc):
        assert {"Fn::GetAtt": [queue, "QueueName"]} in watched, f"no depth alarm on {queue}"


def test_every_state_machine_has_a_failed_executions_alarm(doc, alarms):
    watched = _alarmed(alarms, "AWS/States", "ExecutionsFailed", "StateMachineArn").values()
    for machine in _of_type(doc, "AWS::Serverless::StateMachine"):
        assert {"Ref": machine} in watched, machine


def test_the_api_has_a_5xx_alarm(doc, alarms):
    (api,) = _of_type(doc, "AWS::Serverless::HttpApi")
    assert {"Ref": api} in _alarmed(alarms, "AWS/ApiGateway", "5xx", "ApiId").values()


def test_every_function_alarms_on_throttles_and_errors(doc, alarms):
    throttles = _alarmed(alarms, "AWS/Lambda", "Throttles", "FunctionName").values()
    errors = _alarmed(alarms, "AWS/Lambda", "Errors", "FunctionName").values()
    functions = _of_type(doc, "AWS::Serverless::Function")
    assert set(functions) >= OUTCOME_STEPS
    for fn in functions:
        assert {"Ref": fn} in throttles, f"{fn}: no throttles alarm"
        assert ({"Ref": fn} in errors) is (fn not in OUTCOME_STEPS), f"{fn}: errors alarm"
    math = [p for p in alarms.values() if "Metrics" in p and any("MetricStat" in q for q in p["Metrics"])]
    for props in math:  # the one expression an alarm watches returns data; what it reads does not
        assert [q["Id"] for q in props["Metrics"] if q.get("ReturnData", True)] == [props["Metrics"][0]["Id"]]


def test_every_table_has_a_throttled_requests_alarm(doc, alarms):
    queries = [q["Expression"]["Fn::Sub"] for p in alarms.values() for q in p.get("Metrics", [])
               if isinstance(q.get("Expression"), dict)]
    for table in _of_type(doc, "AWS::DynamoDB::Table"):
        assert (f'SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", Operation, TableName) '
                f"WHERE TableName = '${{{table}}}'") in queries, table


def _emitted_metrics() -> dict[str, set[str]]:
    """Powertools service name -> the metric names its handler module counts (read from the sources)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "functions").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        service = re.search(r'(?:observability|workflow_step|http_function)\(\s*"(\w+)"', text)
        if not service:
            continue
        names = set(re.findall(r'count\(metrics, "(\w+)"', text)) | set(re.findall(r'counts="(\w+)"', text))
        if "workflow_step(" in text:
            names.add("OrdersRejected")  # counted by orderflow.orders.adapters.steps.workflow_step itself
        found.setdefault(service.group(1), set()).update(names)
    steps = (ROOT / "layers" / "core" / "orderflow" / "orders" / "adapters" / "steps.py").read_text(encoding="utf-8")
    assert 'count(metrics, "OrdersRejected")' in steps
    return found


def test_replenishment_run_failures_alarm_reads_what_finish_emits(doc, alarms):
    namespace = doc["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    props = alarms["ReplenishmentRunsFailedAlarm"]
    assert (props["Namespace"], props["MetricName"]) == (namespace, "ReplenishmentRunsFailed")
    (dimension,) = props["Dimensions"]  # Powertools Metrics adds the service as the dimension "service"
    assert dimension["Name"] == "service"
    assert "ReplenishmentRunsFailed" in _emitted_metrics()[dimension["Value"]]
    finish = (ROOT / "functions" / "replenish" / "finish.py").read_text(encoding="utf-8")
    assert f'observability("{dimension["Value"]}")' in finish


def test_forged_supplier_replies_alarm_reads_what_supplier_events_emits(doc, alarms):
    namespace = doc["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    props = alarms["SupplierRepliesForgedAlarm"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (namespace, "SupplierRepliesForged", "Sum")
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
    (dimension,) = props["Dimensions"]
    assert dimension["Name"] == "service"
    assert "SupplierRepliesForged" in _emitted_metrics()[dimension["Value"]]
    policies = doc["Resources"]["SupplierEventsFunction"]["Properties"]["Policies"]
    assert {"DynamoDBReadPolicy": {"TableName": {"Ref": "SuppliersTable"}}} in policies  # the registered principal


# What each function does to a table it only updates (read from the code and from the calls the functions made
# in the integration, workflow and e2e suites): those actions, not DynamoDBCrudPolicy.
ONLY_UPDATES = {
    ("CheckCreditFunction", "CustomersTable"): ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    ("CompensateOrderFunction", "CustomersTable"): ["dynamodb:UpdateItem"],
    ("ExpireOrdersFunction", "CustomersTable"): ["dynamodb:UpdateItem"],
    ("SupplierEventsFunction", "StockTable"): ["dynamodb:UpdateItem"],
    ("SupplierEventsFunction", "PurchaseOrdersTable"): ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    ("ReplenishSendFunction", "PurchaseOrdersTable"): ["dynamodb:GetItem", "dynamodb:BatchGetItem",
                                                       "dynamodb:UpdateItem"],
    ("ReplenishSendFunction", "ReplenishmentTable"): ["dynamodb:PutItem"],
    ("ReplenishFinishFunction", "ReplenishmentTable"): ["dynamodb:Query", "dynamodb:UpdateItem"],
    ("ReplenishDecideFunction", "SuppliersTable"): ["dynamodb:GetItem", "dynamodb:UpdateItem"],
}


def test_a_function_that_only_updates_a_table_gets_the_actions_it_uses(doc):
    for (function, table), actions in ONLY_UPDATES.items():
        policies = doc["Resources"][function]["Properties"]["Policies"]
        assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": table}}} not in policies, (function, table)
        granted = [s["Action"] for p in policies for s in p.get("Statement", [])
                   if s.get("Resource") == {"Fn::GetAtt": [table, "Arn"]}]
        assert granted == [actions], (function, table, granted)


def test_the_purchasing_api_may_create_and_send_to_supplier_queues_and_nothing_more(doc):
    policies = doc["Resources"]["PurchasingApiFunction"]["Properties"]["Policies"]
    sqs = [s["Action"] for p in policies for s in p.get("Statement", []) if str(s["Action"]).startswith("['sqs:")]
    assert sqs == [["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:SendMessage"]]


# ---------------------------------------------------------------- dashboard
def test_dashboard_references_only_what_exists(doc):
    (raw,) = _of_type(doc, "AWS::CloudWatch::Dashboard").values()
    known = set(doc["Resources"]) | set(doc["Parameters"])
    for placeholder in re.findall(r"\$\{([^}]+)\}", raw["DashboardBody"]["Fn::Sub"]):
        assert placeholder.startswith("AWS::") or placeholder.split(".", 1)[0] in known, placeholder

    template = load_template(TEMPLATE)
    (dashboard,) = template.dashboards
    widgets = json.loads(dashboard.body)["widgets"]
    ids = ({fn.name for fn in template.functions} | {sm.arn for sm in template.state_machines}
           | {q.name for q in template.queues} | {t.name for t in template.tables} | {"local"})  # the API's id
    emitted = _emitted_metrics()
    namespace = doc["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    seen: set[str] = set()
    for widget in widgets:
        for row in widget["properties"]["metrics"]:
            if isinstance(row, dict):  # a Metrics Insights query over one table
                table = re.fullmatch(r"SELECT SUM\(ThrottledRequests\) .* WHERE TableName = '([^']+)'",
                                     row["expression"]).group(1)
                assert table in ids
                seen.add(table)
                continue
            dims = [v for v in row[2:] if not isinstance(v, dict)]
            dimensions = dict(zip(dims[::2], dims[1::2], strict=True))
            if row[0] == namespace:
                assert row[1] in emitted.get(dimensions.get("service", ""), set()), f"nothing emits {row[:4]}"
            else:
                assert row[0].startswith("AWS/") and set(dimensions.values()) <= ids, row
                seen |= set(dimensions.values())
    dlqs = {q.name for q in template.queues if q.logical_id in _dead_letter_queues(doc)}
    everything = ({fn.name for fn in template.functions} | {sm.arn for sm in template.state_machines} | dlqs
                  | {t.name for t in template.tables} | {"local"})
    assert everything <= seen, f"not on the dashboard: {sorted(everything - seen)}"


# ---------------------------------------------------------------- deploy defaults
def test_samconfig_holds_the_deploy_defaults(doc):
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    default = config["default"]["deploy"]["parameters"]
    assert (default["stack_name"], default["region"]) == ("orderflow", "us-east-1")
    environments = [env for env, commands in config.items() if isinstance(commands, dict) and "deploy" in commands]
    for env in environments:
        deploy = config[env]["deploy"]["parameters"]
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}, env
        assert deploy["resolve_s3"] is True and deploy["confirm_changeset"] is True, env
        overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))
        assert "Stage" in overrides and set(overrides) <= set(doc["Parameters"]), env
    # only deploy settings: sam build and sam validate (make build, make lint) must not pick any up
    assert all(set(commands) == {"deploy"} for env, commands in config.items() if isinstance(commands, dict))


def test_only_an_administrator_creates_users_unless_sign_up_is_opened():
    doc = read_template(TEMPLATE)
    assert doc["Parameters"]["AllowSelfSignUp"]["Default"] == "false"
    config = doc["Resources"]["UserPool"]["Properties"]["AdminCreateUserConfig"]
    assert config == {"AllowAdminCreateUserOnly": {"Fn::If": ["SelfSignUp", False, True]}}
    assert doc["Conditions"]["SelfSignUp"] == {"Fn::Equals": [{"Ref": "AllowSelfSignUp"}, "true"]}


def test_the_domain_events_log_keeps_the_stack_s_retention():
    doc = read_template(TEMPLATE)
    assert doc["Resources"]["DomainEventsLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
