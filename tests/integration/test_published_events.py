"""Domain events end to end: writes → DynamoDB Streams → PublishEventsFunction → bus → events log group.

Read back from the log group through the local AWS endpoint, as `orderflow events` and integrators see them.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from orderflow.platform import aws
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.main import app as cli

EVENTS = Path(__file__).resolve().parents[2] / "events"
SCHEMAS = EVENTS / "schemas"
LOG_GROUP = "/orderflow/dev/events"
PUBLISHER = "PublishEventsFunction"


def published(stack, **match) -> list[dict]:
    """The EventBridge events logged so far whose detail has every ``match`` field, in publish order,
    each checked against its detail-type's JSON Schema."""
    logs, kwargs, found = stack.boto3_client("logs"), {"logGroupName": LOG_GROUP, "interleaved": True}, []
    while True:
        page = logs.filter_log_events(**kwargs)
        found += [json.loads(e["message"]) for e in page["events"]]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    matching = [e for e in found if all(e["detail"].get(k) == v for k, v in match.items())]
    for event in matching:
        assert event["source"] == "orderflow"
        schema = json.loads((SCHEMAS / f"{event['detail-type']}.json").read_text())
        Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(event["detail"])
    return matching


def types(events: list[dict]) -> list[str]:
    return [e["detail-type"] for e in events]


def stock_table(stack) -> str:
    return next(t.name for t in stack.resources.tables if t.logical_id == "StockTable")


# This test runs first, while no workflow is running, so the injected fault meets its own write.
def test_a_failed_publish_is_retried_from_the_stream_and_nothing_is_lost(stack, api):
    sku = api.product()
    assert not stack.list_executions("OrderProcessingStateMachine", status="RUNNING")  # Express: read in-process

    stack.runtime.inject_fault(PUBLISHER, RuntimeError("EventBridge is down"))
    api.receive(sku, 3)
    assert published(stack, sku=sku) == []  # the write landed, its event is still on the stream
    api.receive(sku, 4)

    assert [(e["detail-type"], e["detail"]["quantity"]) for e in published(stack, sku=sku)] == [
        ("StockReceived", 3), ("StockReceived", 4)]


def test_an_orders_happy_path_publishes_created_reserved_shipped_delivered_in_order(stack, api):
    sku, customer = api.product(price=4, stock=10), api.customer()
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    api.wait_for(order_id, {"RESERVED"})
    assert api.http.post(f"/orders/{order_id}/ship", json={"carrier": "UPS", "tracking": "1Z9"}).is_success
    assert api.http.post(f"/orders/{order_id}/deliver", json={}).is_success

    everything = published(stack, order_id=order_id)
    events = [e for e in everything if e["detail-type"].startswith("Order")]
    assert types(events) == ["OrderCreated", "OrderReserved", "OrderShipped", "OrderDelivered"]
    created, _, shipped, _ = (e["detail"] for e in events)
    assert (created["customer_id"], created["total"], created["lines"]) == (
        customer, 8, [{"sku": sku, "quantity": 2, "unit_price": 4}])
    assert shipped["shipment"]["carrier"] == "UPS"
    assert len({e["detail"]["event_id"] for e in events}) == 4
    assert [e["detail"]["order_version"] for e in events] == sorted(e["detail"]["order_version"] for e in events)

    # its one shipment, in its own order: what the warehouse was told, then what it did
    shipment = [e for e in everything if e["detail-type"].startswith("Shipment")]
    assert types(shipment) == ["ShipmentReleased", "ShipmentShipped", "ShipmentDelivered"]
    released, sent, _ = (e["detail"] for e in shipment)
    assert (released["location_id"], released["lines"]) == ("main", [{"sku": sku, "quantity": 2}])
    assert released["address"]["country"] == "GB"
    assert (sent["carrier"], sent["shipped"]) == ("UPS", [{"sku": sku, "quantity": 2}])


def test_a_credit_denied_order_publishes_order_rejected_with_the_reason(stack, api):
    sku, customer = api.product(price=50, stock=5), api.customer(credit_limit=10)
    order_id = api.submit(customer, {sku: 1}).json()["order_id"]
    api.wait_for(order_id, {"REJECTED"})

    events = published(stack, order_id=order_id)
    assert types(events) == ["OrderCreated", "OrderRejected"]
    assert "credit" in events[1]["detail"]["reason"]


def test_cancelling_publishes_order_cancelled(stack, api):
    sku, customer = api.product(stock=5), api.customer()
    order_id = api.submit(customer, {sku: 1}).json()["order_id"]
    api.wait_for(order_id, {"RESERVED"})
    assert api.http.post(f"/orders/{order_id}/cancel", json={"reason": "changed my mind"}).is_success

    events = published(stack, order_id=order_id)
    orders = [e for e in events if e["detail-type"].startswith("Order")]
    assert types(orders) == ["OrderCreated", "OrderReserved", "OrderCancelled"]
    assert orders[-1]["detail"]["reason"] == "changed my mind"
    shipment = [e for e in events if e["detail-type"].startswith("Shipment")]
    assert types(shipment) == ["ShipmentReleased", "ShipmentCancelled"]  # the warehouse is told not to send it
    assert shipment[-1]["detail"]["reason"] == "changed my mind"


def test_stock_low_is_published_once_when_concurrent_orders_cross_the_threshold_and_cleared_by_a_receipt(stack, api):
    sku, customer = api.product(price=1, stock=25), api.customer()
    threshold = {"name": f"Product {sku}", "unit_price": 1, "low_stock_threshold": 10}
    assert api.http.put(f"/products/{sku}", json=threshold).is_success

    def order_one(_: int) -> str:
        with httpx.Client(base_url=stack.api_url, timeout=30, headers=api.http.headers) as http:
            response = http.post("/orders", json={"shipping_address": SAMPLE_ADDRESS,
                                                  "customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]},
                                 headers={"Idempotency-Key": uuid.uuid4().hex})
            assert response.status_code == 201, response.text
            return response.json()["order_id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        order_ids = list(pool.map(order_one, range(20)))
    for order_id in order_ids:
        api.wait_for(order_id, {"RESERVED"})
    assert api.stock(sku)["available"] == 5

    (low,) = [e["detail"] for e in published(stack, sku=sku) if e["detail-type"] == "StockLow"]
    assert (low["available"], low["threshold"]) == (10, 10)

    api.receive(sku, 10)
    events = published(stack, sku=sku)
    assert types(events) == ["StockReceived", "StockLow", "StockReceived", "StockRecovered"]
    assert (events[2]["detail"]["quantity"], events[3]["detail"]["available"]) == (10, 15)


def test_a_hot_skus_stock_low_and_recovered_are_published_from_its_buckets_summed(stack, api):
    """A bucketed level's items each hold a share; the low-stock crossing is the level's, summed (docs/scale.md)."""
    sku, customer = api.product(price=1, stock=25), api.customer()
    hot = {"name": f"Product {sku}", "unit_price": 1, "low_stock_threshold": 10, "stock_buckets": 4}
    assert api.http.put(f"/products/{sku}", json=hot).is_success
    for _ in range(20):
        api.wait_for(api.submit(customer, {sku: 1}).json()["order_id"], {"RESERVED"})
    assert api.stock(sku)["available"] == 5

    (low,) = [e["detail"] for e in published(stack, sku=sku) if e["detail-type"] == "StockLow"]
    assert (low["available"], low["reserved"], low["threshold"]) == (10, 15, 10)  # the level, not a bucket
    api.receive(sku, 10)
    crossings = [e for e in published(stack, sku=sku) if e["detail-type"] in ("StockLow", "StockRecovered")]
    assert [(e["detail-type"], e["detail"]["available"]) for e in crossings] == [("StockLow", 10),
                                                                                ("StockRecovered", 15)]


def test_a_cancelled_transaction_publishes_nothing_for_its_items(stack, api):
    """moto applies a transaction's items one by one; the local stack checks every condition first."""
    first, second = api.product(), api.product(stock=1)
    dynamodb, table = stack.boto3_client("dynamodb"), stock_table(stack)
    invocations = stack.runtime.invocations[PUBLISHER]

    def receive_first_if_second_has(units: int) -> None:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"sku": {"S": first}, "record": {"S": "LEVEL#main"}},
                        "UpdateExpression": "ADD on_hand :q, available :q", "ExpressionAttributeValues": {
                            ":q": {"N": "5"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"sku": {"S": second}, "record": {"S": "LEVEL#main"}},
                                "ConditionExpression": "available >= :n",
                                "ExpressionAttributeValues": {":n": {"N": str(units)}}}},
        ])

    with pytest.raises(ClientError) as cancelled:
        receive_first_if_second_has(2)
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert api.stock(first)["on_hand"] == 0
    assert published(stack, sku=first) == []
    assert stack.runtime.invocations[PUBLISHER] == invocations

    receive_first_if_second_has(1)
    assert [(e["detail-type"], e["detail"]["quantity"]) for e in published(stack, sku=first)] == [
        ("StockReceived", 5)]


def delivered(stack, sku: str) -> list[str]:
    """The sort keys of ``sku``'s stock records the publisher was invoked with, in order (the runtime's journal)."""
    return [record["dynamodb"]["Keys"]["record"]["S"] for invocation in list(stack.runtime.journal)
            if invocation.logical_id == PUBLISHER for record in (invocation.event or {}).get("Records", [])
            if record["dynamodb"]["Keys"].get("sku", {}).get("S") == sku]


def test_a_review_mark_invokes_no_publisher_and_a_stock_change_still_publishes(stack, api):
    """The Stock stream's FilterCriteria (template.yaml) passes levels only: the nightly run's review mark, which
    no event comes from, is dropped before invoking (unbilled on AWS; the local stack filters as Lambda does)."""
    from orderflow.inventory.adapters.stock import StockRepository

    sku, stock = api.product(), StockRepository(stock_table(stack))
    before = delivered(stack, sku)  # the product's level, made with it
    stock.mark_reviewed(sku, "main", "2026-12-08")
    assert stock.get_many([sku])[sku].last_review("main") == "2026-12-08"
    assert delivered(stack, sku) == before

    api.receive(sku, 3)
    stock.mark_reviewed(sku, "main", "2026-12-15")  # after a receipt: nothing but the receipt delivered
    assert delivered(stack, sku) == [*before, "LEVEL#main"]
    assert [(e["detail-type"], e["detail"]["quantity"]) for e in published(stack, sku=sku)] == [("StockReceived", 3)]


def stream_record(stack, sequence: str, sku: str) -> dict:
    """A stream record of a new stock level of ``sku`` holding 2 units."""
    arn = stack.boto3_client("dynamodb").describe_table(TableName=stock_table(stack))["Table"]["LatestStreamArn"]
    level = {"sku": {"S": sku}, "record": {"S": "LEVEL#main"}, "on_hand": {"N": "2"}, "available": {"N": "2"}}
    return {"eventID": sequence, "eventName": "INSERT", "eventSource": "aws:dynamodb", "eventSourceARN": arn,
            "dynamodb": {"SequenceNumber": sequence, "ApproximateCreationDateTime": 1_900_000_000,
                         "Keys": {"sku": level["sku"], "record": level["record"]}, "NewImage": level,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def test_a_refused_record_fails_with_every_record_after_it_so_each_items_events_keep_their_order(stack, monkeypatch):
    skus = [f"SKU-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    bus = stack.boto3_client("events")

    class RefusingSecondSku:
        def put_events(self, Entries: list[dict]) -> dict:
            if any(skus[1] in entry["Detail"] for entry in Entries):
                return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}
            return bus.put_events(Entries=Entries)

    monkeypatch.setitem(aws._clients, "events", RefusingSecondSku())
    batch = {"Records": [stream_record(stack, str(900 + i), sku) for i, sku in enumerate(skus)]}
    response = stack.runtime.invoke(PUBLISHER, batch)

    assert response == {"batchItemFailures": [{"itemIdentifier": "901"}, {"itemIdentifier": "902"}]}
    assert [types(published(stack, sku=sku)) for sku in skus] == [["StockReceived"], [], []]


def test_the_publisher_sample_event_publishes_stock_low(stack):
    sample = json.loads((EVENTS / "samples" / "publish_events_stock_low.json").read_text())
    assert stack.runtime.invoke(PUBLISHER, sample) == {"batchItemFailures": []}
    (event,) = published(stack, sku="SAMPLE-SKU")
    assert (event["detail-type"], event["detail"]["available"]) == ("StockLow", 10)


def test_the_events_command_shows_what_was_published(stack, api):
    sku, customer = api.product(stock=3), api.customer()
    order_id = api.submit(customer, {sku: 1}).json()["order_id"]
    api.wait_for(order_id, {"RESERVED"})

    def run(*args: str) -> list[str]:
        result = CliRunner().invoke(cli, ["events", "--aws-endpoint", stack.aws_endpoint, "--since", "5", *args])
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    lines = [line for line in run("--type", "OrderReserved") if order_id in line]
    assert len(lines) == 1 and "OrderReserved" in lines[0] and f"lines={sku}×1" in lines[0]
    raw = [json.loads(line) for line in run("--json", "--type", "OrderCreated", "-t", "OrderReserved")]
    assert {e["detail-type"] for e in raw} == {"OrderCreated", "OrderReserved"}
    assert order_id in {e["detail"]["order_id"] for e in raw}
