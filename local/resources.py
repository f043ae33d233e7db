"""Create the resolved template's resources in moto through boto3."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from orderflow_local.template import Alarm, Queue, QueuePolicy, Rule, StateMachine, Table, Template, TemplateError

ClientFactory = Callable[[str], BaseClient]

_SUBSTITUTION = re.compile(r"\$\{([^}]+)\}")
_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
# AWS::CloudWatch::Alarm properties are PutMetricAlarm's parameters, with the same names.
_ALARM_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "Tags",
    "ThresholdMetricId",
)
_ALARM_NUMBERS = {"Period": int, "EvaluationPeriods": int, "DatapointsToAlarm": int, "Threshold": float}
_TARGET_KEYS = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "DeadLetterConfig", "RetryPolicy")


def render_definition(machine: StateMachine) -> dict[str, Any]:
    """The state machine's ASL with every ``${Name}`` replaced from its DefinitionSubstitutions.

    The file is substituted as text (numbers go in unquoted), so it need not be JSON before.
    """
    text = machine.definition_path.read_text(encoding="utf-8")
    missing = sorted({name for name in _SUBSTITUTION.findall(text) if name not in machine.substitutions})
    if missing:
        raise TemplateError(f"{machine.logical_id}: {machine.definition_path.name} uses undefined {missing}")
    rendered = _SUBSTITUTION.sub(lambda m: machine.substitutions[m.group(1)], text)
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{machine.logical_id}: definition is not JSON after substitution: {exc}") from exc


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "Code runs in-process through orderflow_local.runtime.\n")
    return buf.getvalue()


def _create_table(dynamodb: BaseClient, table: Table) -> None:
    spec = {key: table.properties[key] for key in _TABLE_KEYS if key in table.properties}
    sse = table.properties.get("SSESpecification")
    if sse:  # CloudFormation's SSEEnabled/SSEType/KMSMasterKeyId are CreateTable's Enabled/SSEType/KMSMasterKeyId
        spec["SSESpecification"] = {("Enabled" if k == "SSEEnabled" else k): v for k, v in sse.items()}
    stream = table.properties.get("StreamSpecification")
    if stream:
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    dynamodb.create_table(TableName=table.name, **spec)
    ttl = table.properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )


def _create_queues(sqs: BaseClient, queues: list[Queue]) -> None:
    # Every queue exists before any redrive policy names one as its dead-letter queue.
    for queue in queues:
        attributes = {k: _attr(queue.properties[k]) for k in _QUEUE_ATTRIBUTES if k in queue.properties}
        sqs.create_queue(QueueName=queue.name, Attributes=attributes)
    for queue in queues:
        policies = {
            k: json.dumps(queue.properties[k]) for k in ("RedrivePolicy", "RedriveAllowPolicy") if k in queue.properties
        }
        if policies:
            url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes=policies)


def _apply_queue_policy(sqs: BaseClient, policy: QueuePolicy) -> None:
    """Sets the policy on each queue (moto stores it; nothing enforces it offline)."""
    for template_url in policy.queue_urls:
        url = sqs.get_queue_url(QueueName=template_url.rsplit("/", 1)[1])["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy.policy)})


def _put_alarm(cloudwatch: BaseClient, alarm: Alarm) -> None:
    spec = copy.deepcopy({key: alarm.properties[key] for key in _ALARM_KEYS if key in alarm.properties})
    spec["AlarmName"] = alarm.name
    for key, kind in _ALARM_NUMBERS.items():
        if key in spec:
            spec[key] = kind(spec[key])
    for query in spec.get("Metrics", []):
        if "Period" in query:
            query["Period"] = int(query["Period"])
        if "Period" in query.get("MetricStat", {}):
            query["MetricStat"]["Period"] = int(query["MetricStat"]["Period"])
    cloudwatch.put_metric_alarm(**spec)


def _create_rule(events: BaseClient, rule: Rule) -> None:
    """An event-pattern rule and its targets (moto delivers matches to CloudWatch Logs and SQS)."""
    props = rule.properties
    bus = props.get("EventBusName", "default")
    spec = {k: props[k] for k in ("Description", "ScheduleExpression", "State") if k in props}
    if "EventPattern" in props:
        spec["EventPattern"] = json.dumps(props["EventPattern"])
    events.put_rule(Name=rule.name, EventBusName=bus, **spec)
    targets = [{k: v for k, v in target.items() if k in _TARGET_KEYS} for target in props.get("Targets", [])]
    for target in targets:
        if ":logs:" in target["Arn"]:  # CloudFormation's log group ARN ends in ":*"; the target's must not
            target["Arn"] = target["Arn"].removesuffix(":*")
    if targets:
        events.put_targets(Rule=rule.name, EventBusName=bus, Targets=targets)


def _attr(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def create_resources(template: Template, client: ClientFactory) -> None:
    """Create every resource of ``template`` in moto (one IAM role serves all functions and machines)."""
    role_arn = client("iam").create_role(
        RoleName=f"{template.stack_name}-local-execution-role",
        AssumeRolePolicyDocument=json.dumps(_TRUST_POLICY),
    )["Role"]["Arn"]

    dynamodb = client("dynamodb")
    for table in template.tables:
        _create_table(dynamodb, table)

    events = client("events")
    for bus in template.event_buses:
        if bus.name != "default":
            events.create_event_bus(Name=bus.name)

    sqs = client("sqs")
    _create_queues(sqs, template.queues)
    for policy in template.queue_policies:
        _apply_queue_policy(sqs, policy)

    logs = client("logs")
    for group in template.log_groups:
        logs.create_log_group(logGroupName=group.name)
        if "RetentionInDays" in group.properties:
            logs.put_retention_policy(logGroupName=group.name, retentionInDays=int(group.properties["RetentionInDays"]))
    for rule in template.rules:
        _create_rule(events, rule)

    sns = client("sns")
    for topic in template.topics:
        sns.create_topic(Name=topic.name)

    lambda_ = client("lambda")
    code = _dummy_zip()
    for fn in template.functions:
        lambda_.create_function(
            FunctionName=fn.name,
            Runtime=fn.runtime,
            Role=role_arn,
            Handler=fn.handler,
            Code={"ZipFile": code},
            Timeout=fn.timeout,
            MemorySize=fn.memory_size,
            Environment={"Variables": fn.environment},
        )
    for fn in template.functions:
        for event in fn.sqs_events:
            lambda_.create_event_source_mapping(
                EventSourceArn=event.queue_arn,
                FunctionName=fn.name,
                BatchSize=event.batch_size,
                MaximumBatchingWindowInSeconds=event.batching_window,
                FunctionResponseTypes=event.function_response_types,
                Enabled=event.enabled,
            )
        for stream in fn.stream_events:
            # moto invokes the function synchronously inside each write to the table, unless the stack
            # unhooks the mapping and polls the stream (local/streams.py).
            extra = {"DestinationConfig": {"OnFailure": {"Destination": stream.on_failure_arn}}} \
                if stream.on_failure_arn else {}
            if stream.filter_criteria:
                extra["FilterCriteria"] = stream.filter_criteria
            lambda_.create_event_source_mapping(
                EventSourceArn=dynamodb.describe_table(TableName=stream.table_name)["Table"]["LatestStreamArn"],
                FunctionName=fn.name,
                BatchSize=stream.batch_size,
                MaximumBatchingWindowInSeconds=stream.batching_window,
                StartingPosition=stream.starting_position,
                FunctionResponseTypes=stream.function_response_types,
                Enabled=stream.enabled,
                BisectBatchOnFunctionError=stream.bisect_on_error,
                MaximumRetryAttempts=stream.maximum_retry_attempts,
                **extra,
            )

    sfn = client("stepfunctions")
    for machine in template.state_machines:
        extra: dict[str, Any] = {}
        if machine.logging:  # CloudFormation's LoggingConfiguration in the API's camelCase
            extra["loggingConfiguration"] = _camel(machine.logging)
        if machine.tracing:  # SAM's Tracing: {Enabled: true} is the API's tracingConfiguration
            extra["tracingConfiguration"] = _camel(machine.tracing)
        sfn.create_state_machine(
            name=machine.name,
            definition=json.dumps(render_definition(machine)),
            roleArn=role_arn,
            type=machine.type,
            **extra,
        )

    # Stored, never evaluated: moto publishes no AWS metrics, so the alarms stay INSUFFICIENT_DATA.
    cloudwatch = client("cloudwatch")
    for alarm in template.alarms:
        _put_alarm(cloudwatch, alarm)
    for dashboard in template.dashboards:
        cloudwatch.put_dashboard(DashboardName=dashboard.name, DashboardBody=dashboard.body)


def _camel(value: Any) -> Any:
    """``{"Level": ..., "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": ...}}]}`` → camelCase keys."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value
