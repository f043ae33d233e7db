"""DynamoDB Streams of the orders, stock, returns, purchase orders and shipments tables → domain events on the
EventBridge bus.

Thin: ``orderflow.domain_events`` decides which events a change causes; this puts them on the bus.
A record whose events are not all accepted fails (partial batch response), and so does every record
after it, so Lambda retries from there and each item's events keep their order.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from orderflow import wiring
from orderflow.events.derive import SOURCE, DomainEvent, Table, events_for
from orderflow.platform.aws import client
from orderflow.platform.lambda_support import observability
from orderflow.shared.settings import get_settings

PUT_EVENTS_MAX = 10
settings = get_settings()
logger, tracer, metrics = observability("publish_events")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
TABLES = {settings.orders_table: Table.ORDERS, settings.stock_table: Table.STOCK,
          settings.returns_table: Table.RETURNS, settings.purchase_orders_table: Table.PURCHASE_ORDERS,
          settings.shipments_table: Table.SHIPMENTS}


class PublishFailed(RuntimeError):
    """EventBridge refused some entries; the record is retried."""


def table_of(event_source_arn: str) -> Table:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`` → which table it is."""
    return TABLES[event_source_arn.split(":table/", 1)[1].split("/", 1)[0]]


@tracer.capture_method
def publish_record(record: DynamoDBRecord) -> int:
    if processor.fail_messages:
        raise PublishFailed("an earlier record of this batch failed; retried after it, in order")
    stream = record.dynamodb
    events = events_for(table_of(record.event_source_arn or ""), stream.old_image or None, stream.new_image or None,
                        sequence=stream.sequence_number or "", approximate_time=stream.approximate_creation_date_time)
    for start in range(0, len(events), PUT_EVENTS_MAX):
        put(events[start:start + PUT_EVENTS_MAX])
    for event in events:
        # DEBUG: each event is logged once already, whole, in the events log group. No metric per detail type:
        # no alarm or widget reads one, and each was a log line (EMF) per invocation and a custom metric a month;
        # the events log group counts them (Logs Insights), EventBridge's own metrics count the rules' matches.
        logger.debug("published", extra={"detail_type": event.detail_type, "event_id": event.detail["event_id"]})
    return len(events)


def put(events: list[DomainEvent]) -> None:
    response = client("events").put_events(Entries=[
        {"Source": SOURCE, "DetailType": e.detail_type, "Detail": json.dumps(e.detail),
         "EventBusName": settings.event_bus_name} for e in events])
    if response.get("FailedEntryCount"):
        raise PublishFailed(f"EventBridge refused {response['FailedEntryCount']} of {len(events)} events: "
                            f"{response['Entries']}")


def follow_stock(records: list[dict[str, Any]]) -> None:
    """Split the SKUs whose reservations this batch of the Stock table's stream shows hot, join the cool ones,
    and flag the bucketed levels that crossed their low-stock threshold (docs/scale.md). Best effort: a failure
    is logged and the next batch looks again."""
    changes = []
    for raw in records:
        record = DynamoDBRecord(raw)
        if table_of(record.event_source_arn or "") is Table.STOCK:
            stream = record.dynamodb
            changes.append((stream.old_image or None, stream.new_image or None,
                            float(stream.approximate_creation_date_time or 0)))
    if not changes:
        return
    inventory = wiring.inventory_service(settings)
    try:
        for sku, count in inventory.follow_heat(changes).items():
            logger.info("stock buckets set by the measured reservation rate", extra={"sku": sku, "buckets": count})
    except Exception:
        logger.exception("the hot-SKU check failed; the next batch measures again")
    try:
        inventory.follow_bucketed_lows(changes)
    except Exception:
        logger.exception("the low-stock check of bucketed levels failed; the next batch looks again")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    response = process_partial_response(event=event, record_handler=publish_record, processor=processor,
                                        context=context)
    follow_stock(event.get("Records") or [])
    return response
