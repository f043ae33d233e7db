"""The template's event plumbing as the local stack reads it: streams, log groups, rules, the AWS port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderflow_local.__main__ import _parse_args
from orderflow_local.template import TemplateError, load_template, read_template, resolve_template

ROOT = Path(__file__).resolve().parents[2]


def test_stream_events_log_groups_and_rules_resolve() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "ci"})
    publisher = template.function("PublishEventsFunction")
    assert {(s.table_name, s.batch_size, tuple(s.function_response_types)) for s in publisher.stream_events} == {
        (f"orderflow-{name}Table", 100, ("ReportBatchItemFailures",))
        for name in ("Orders", "Stock", "Returns", "PurchaseOrders", "Shipments")}
    (group,) = [g for g in template.log_groups if g.logical_id == "DomainEventsLogGroup"]
    assert (group.name, group.properties["RetentionInDays"]) == ("/orderflow/ci/events", "30")
    (rule,) = [r for r in template.rules if r.logical_id == "DomainEventsToLogsRule"]
    assert rule.properties["EventBusName"] == "orderflow-ci"
    (target,) = rule.properties["Targets"]
    assert target["Arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/orderflow/ci/events:*"
    assert target["DeadLetterConfig"]["Arn"] == "arn:aws:sqs:us-east-1:123456789012:orderflow-ci-domain-events-log-dlq"
    (policy,) = [p for p in template.queue_policies if p.logical_id == "DomainEventsLogDLQPolicy"]
    (statement,) = policy.policy["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == (
        "arn:aws:events:us-east-1:123456789012:rule/orderflow-ci/orderflow-DomainEventsToLogsRule")


def test_functions_and_state_machines_log_to_their_own_groups() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "ci", "LogRetentionDays": "7"})
    groups = {g.name: g.properties for g in template.log_groups}
    for fn in template.functions:
        assert fn.log_group == f"/orderflow/ci/lambda/{fn.logical_id}"
        assert groups[fn.log_group]["RetentionInDays"] == "7"
    for machine in template.state_machines:
        (destination,) = machine.logging["Destinations"]
        arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
        assert arn == f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/{machine.name}:*"
        assert groups[f"/aws/vendedlogs/states/{machine.name}"]["RetentionInDays"] == "7"


def test_alarms_and_the_dashboard_resolve_to_the_stacks_resources() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "ci"})
    alarms = {a.logical_id: a for a in template.alarms}
    assert all("AlarmActions" not in a.properties for a in alarms.values())  # no AlarmTopicArn
    dlq = alarms["ReplenishmentScheduleDLQAlarm"].properties
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "orderflow-ci-replenishment-schedule-dlq"}]
    failed = alarms["OrderProcessingStateMachineFailedAlarm"].properties
    assert failed["Dimensions"][0]["Value"] == template.state_machine("OrderProcessingStateMachine").arn
    (dashboard,) = template.dashboards
    body = json.loads(dashboard.body)
    assert dashboard.name == "orderflow-ci" and "${" not in dashboard.body
    rows = [row for widget in body["widgets"] for row in widget["properties"]["metrics"]]
    assert ["AWS/Lambda", "Errors", "FunctionName", "orderflow-OrderIntakeFunction", {"label": "OrderIntake"}] in rows

    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    paged = load_template(ROOT / "template.yaml", {"Stage": "ci", "AlarmTopicArn": topic})
    assert all(a.properties["AlarmActions"] == [topic] for a in paged.alarms)


def test_the_replenishment_schedule_is_read_from_the_state_machine() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "ci", "ReplenishmentSchedule": "rate(1 hour)"})
    (nightly,) = template.state_machine("ReplenishmentStateMachine").schedules
    assert (nightly.event_name, nightly.expression, nightly.enabled) == ("Nightly", "rate(1 hour)", True)
    assert nightly.input is not None and json.loads(nightly.input) == {"trigger": "schedule"}
    (replies,) = template.function("SupplierEventsFunction").sqs_events
    assert replies.queue_arn.endswith(":orderflow-ci-supplier-replies")
    assert replies.function_response_types == ["ReportBatchItemFailures"]


def test_a_stream_that_is_not_a_template_tables_is_refused() -> None:
    doc = read_template(ROOT / "template.yaml")
    doc["Resources"]["PublishEventsFunction"]["Properties"]["Events"]["OrderChanges"]["Properties"]["Stream"] = (
        "arn:aws:kinesis:us-east-1:123456789012:stream/elsewhere")
    with pytest.raises(TemplateError, match="OrderChanges"):
        resolve_template(doc, ROOT / "template.yaml")


@pytest.mark.parametrize(("argv", "aws_port"), [
    (["up", "--port", "3000"], 3001),
    (["up", "--port", "0"], 0),
    (["up", "--port", "3000", "--aws-port", "4566"], 4566),
])
def test_up_puts_the_aws_endpoint_next_to_the_api(argv, aws_port) -> None:
    assert _parse_args(argv).aws_port == aws_port


def test_an_sns_topic_resolves_to_its_arn_and_the_rules_feed_the_alert_and_kpi_queues() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "ci"})
    (topic,) = template.topics
    assert (topic.name, topic.arn) == ("orderflow-ci-alerts", "arn:aws:sns:us-east-1:123456789012:orderflow-ci-alerts")
    assert template.function("AlertsFunction").environment["ALERTS_TOPIC_ARN"] == topic.arn  # Ref is the ARN
    targets = {r.logical_id: [t["Arn"] for t in r.properties["Targets"]] for r in template.rules}
    assert targets["AlertRule"] == ["arn:aws:sqs:us-east-1:123456789012:orderflow-ci-alerts"]
    assert targets["KpiRule"] == ["arn:aws:sqs:us-east-1:123456789012:orderflow-ci-kpis"]


def test_a_stream_filter_delivers_only_the_records_it_matches() -> None:
    """CountDemandFunction's FilterCriteria (template.yaml): of a shipment's changes, only the one to SHIPPED is
    delivered; the local pollers drop the others unseen, as Lambda does."""
    from orderflow_local.fidelity import matching

    (stream,) = load_template(ROOT / "template.yaml", {"Stage": "ci"}).function("CountDemandFunction").stream_events

    def change(old: str | None, new: str | None) -> dict:
        image = {"status": {"S": new}, "shipment_id": {"S": "shp-1"}} if new else None
        return {"eventName": "REMOVE" if new is None else "MODIFY" if old else "INSERT",
                "dynamodb": {k: v for k, v in (("OldImage", old and {"status": {"S": old}}), ("NewImage", image)) if v}}

    records = [change(None, "RELEASED"), change("RELEASED", "PICKED"), change("PACKED", "SHIPPED"),
               change("SHIPPED", "DELIVERED"), change("DELIVERED", None)]
    assert matching(records, stream.filter_criteria) == [records[2]]
    assert matching(records, None) == records  # no criteria: every record


def test_the_stock_stream_delivers_levels_and_buckets_and_drops_waits_and_review_marks() -> None:
    """PublishEventsFunction's FilterCriteria on the Stock stream (template.yaml): what it reads is a level's
    record (a bucket's too), never a backorder's wait or the nightly run's review mark."""
    from orderflow_local.fidelity import matching

    streams = load_template(ROOT / "template.yaml", {"Stage": "ci"}).function("PublishEventsFunction").stream_events
    (stock,) = [s for s in streams if s.event_name == "StockChanges"]

    def record(sku: str, key: str, event: str = "MODIFY") -> dict:
        keys = {"sku": {"S": sku}, "record": {"S": key}}
        return {"eventName": event, "dynamodb": {"Keys": keys, "NewImage": {**keys, "on_hand": {"N": "1"}}}}

    levels = [record("A", "LEVEL#main"), record("A#3", "LEVEL#main"), record("A", "LEVEL#store-1", "INSERT"),
              record("A#2", "LEVEL#main", "REMOVE")]
    dropped = [record("A", "WAIT#2026-12-07T10:00:00Z#o-1", "INSERT"), record("A", "WAIT#2026-12-07T10:00:00Z#o-1",
                                                                             "REMOVE"), record("A", "REVIEW#main")]
    assert matching(levels + dropped, stock.filter_criteria) == levels

