"""The shipments table's stream → the demand history (docs/replenishment.md §2, "Demand per location").

Thin: ``orderflow.events.shipped`` says what each record sent; the whole batch is added in a few
transactions (one ADD per SKU and year, a marker per shipment), so a redelivered or retried batch adds
nothing twice. Any failure fails the batch: Lambda retries it (split in halves), and what was already
counted is recognised by its marker.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source

from orderflow import wiring
from orderflow.events import shipped
from orderflow.platform.lambda_support import count, observability

logger, tracer, metrics = observability("count_demand")
demand = wiring.demand_history()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: Any) -> dict:
    records = list(event.records)
    changes = [(s.key, s.day, s.location_id, s.units) for record in records
               if (s := shipped(record.dynamodb.old_image or None, record.dynamodb.new_image or None))]
    if not changes:  # most of the stream: released, picked, packed, delivered; nothing to count or log
        return {"shipments": 0, "added": 0}
    added = demand.count(changes)
    count(metrics, "ShipmentsCounted", added)
    logger.info("demand counted", extra={"records": len(records), "shipments": len(changes), "added": added})
    return {"shipments": len(changes), "added": added}
