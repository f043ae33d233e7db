"""Alerts to people through the local stack: domain events → the alert rule → the alerts queue →
AlertsFunction → the alerts topic (read here through an SQS subscription) and GET /alerts; the periodic
check for overdue purchase orders and dead letters; one alert per subject per hour."""

from __future__ import annotations

import time
import uuid

import pytest
from sqs_support import drain
from typer.testing import CliRunner

from orderflow_cli.main import app as cli


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def inbox(stack) -> str:
    """An SQS queue subscribed to the alerts topic: what a subscriber (an email address) would receive."""
    sqs, sns = stack.boto3_client("sqs"), stack.boto3_client("sns")
    url = sqs.create_queue(QueueName=unique("alerts-inbox-"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (topic,) = [t.arn for t in stack.resources.topics if t.logical_id == "AlertsTopic"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "false"})
    return url


def received(stack, inbox: str) -> list[dict]:
    """The notifications delivered to the inbox so far (read and deleted)."""
    return drain(stack.boto3_client("sqs"), inbox)


def alerts_about(api, subject: str, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        response = api.http.get("/alerts")
        assert response.status_code == 200, response.text
        found = [a for a in response.json()["alerts"] if a["subject"] == subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_stock_low_is_one_readable_alert_and_a_repeat_within_the_hour_is_not_sent(api, stack, inbox):
    received(stack, inbox)
    sku = unique("SKU-")
    assert api.http.put(f"/products/{sku}", json={"name": sku, "unit_price": 1, "low_stock_threshold": 10}).is_success
    api.receive(sku, 4)

    (alert,) = alerts_about(api, f"stock-low:{sku}@main")
    assert alert["kind"] == "stock_low" and alert["title"] == f"Stock low: {sku} at main"
    assert "4 available (threshold 10" in alert["what"] and "POST /purchase-orders" in alert["action"]
    told = [n for n in received(stack, inbox) if n.get("Subject") == alert["title"]]
    assert len(told) == 1
    assert told[0]["Message"].startswith(f"Stock low: {sku} at main\n\n{sku} at main has 4 available")
    assert "What to do: " in told[0]["Message"]

    api.receive(sku, 20)  # recovered
    api.http.post(f"/stock/{sku}/adjustments", json={"quantity": -20, "reason": "count"})  # low again
    time.sleep(2)
    assert len(alerts_about(api, f"stock-low:{sku}@main", timeout=0)) == 1
    assert [n for n in received(stack, inbox) if n.get("Subject") == alert["title"]] == []


def test_a_purchase_order_waiting_for_approval_tells_a_buyer_what_to_do(api, stack, inbox):
    supplier_id = unique("manual-")
    assert api.http.put(f"/suppliers/{supplier_id}", json={"name": "Acme", "approval_threshold": 1}).is_success
    sku = unique("SKU-")
    assert api.http.put(f"/products/{sku}", json={"name": sku, "unit_price": 5, "supplier_id": supplier_id}).is_success
    po = api.http.post("/purchase-orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                       json={"supplier_id": supplier_id, "lines": [{"sku": sku, "quantity": 4, "unit_cost": 2}]})
    assert po.status_code == 201 and po.json()["status"] == "PENDING_APPROVAL", po.text
    po_id = po.json()["po_id"]

    (alert,) = alerts_about(api, f"po-approval:{po_id}")
    assert alert["title"] == f"Purchase order {po_id} waits for approval"
    assert f"4 × {sku}" in alert["what"] and f"POST /purchase-orders/{po_id}/approve" in alert["action"]


def test_the_check_alerts_on_overdue_purchase_orders_and_dead_letters(api, stack, inbox):
    supplier_id = unique("manual-")
    assert api.http.put(f"/suppliers/{supplier_id}", json={"name": "Acme"}).is_success
    sku = unique("SKU-")
    assert api.http.put(f"/products/{sku}", json={"name": sku, "unit_price": 5, "supplier_id": supplier_id}).is_success
    late = api.http.post("/purchase-orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={"supplier_id": supplier_id, "expected_by": "2020-01-31",
                               "lines": [{"sku": sku, "quantity": 4, "unit_cost": 2}]}).json()
    assert late["status"] == "SENT"
    (dlq,) = [q for q in stack.resources.queues if q.logical_id == "AlertRuleDLQ"]
    stack.boto3_client("sqs").send_message(QueueUrl=dlq.url, MessageBody="{}")

    first = stack.runtime.invoke("AlertsCheckFunction", {})
    assert f"po-overdue:{late['po_id']}" in first["told"] and f"dead-letters:{dlq.name}" in first["told"]
    (overdue,) = alerts_about(api, f"po-overdue:{late['po_id']}")
    assert "was expected by 2020-01-31 and is SENT" in overdue["what"]
    assert f"{dlq.name} holds 1 message" in alerts_about(api, f"dead-letters:{dlq.name}")[0]["what"]

    again = stack.runtime.invoke("AlertsCheckFunction", {})
    assert f"po-overdue:{late['po_id']}" not in again["told"]  # told within the hour already


def test_orderflow_alerts_prints_what_was_told(api, stack):
    sku = unique("SKU-")
    assert api.http.put(f"/products/{sku}", json={"name": sku, "unit_price": 1, "low_stock_threshold": 3}).is_success
    api.receive(sku, 1)
    assert alerts_about(api, f"stock-low:{sku}@main")
    result = CliRunner().invoke(cli, ["--api", stack.api_url, "--token", stack.token("admin"),
                                      "alerts", "--since", "1h"])
    assert result.exit_code == 0, result.output
    assert f"Stock low: {sku} at main" in result.output and "What to do:" in result.output
