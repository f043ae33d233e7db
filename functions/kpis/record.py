"""Domain events (EventBridge → the KPI queue) → the daily aggregates of the live KPIs (docs/kpis.md).

Thin: Powertools parses each record and reports partial batch failures. Each event is added once (a
redelivered one is marked already and adds nothing); the events that only add to counters are written
together once the batch is read (``KpiBatch``): one write per day's aggregate per batch, not per event. A
record whose write failed is reported failed, and comes back.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from orderflow import wiring
from orderflow.kpis.domain import Measured
from orderflow.platform.bus_records import BusEventRecord
from orderflow.platform.lambda_support import count, observability
from orderflow.shared.settings import get_settings

logger, tracer, metrics = observability("kpis")
service = wiring.kpi_service(get_settings())
processor = BatchProcessor(event_type=EventType.SQS, model=BusEventRecord)


def emit(added: list[Measured]) -> None:
    """The counters the dashboard plots, as metrics, for the events added."""
    totals: dict[str, int] = {}
    for measured in added:
        for effect in measured.effects:
            if effect.dimension == "all":
                for name, amount in effect.add.items():
                    totals[name] = totals.get(name, 0) + amount
                totals["stock_out_skus"] = totals.get("stock_out_skus", 0) + len(effect.out)
    count(metrics, "OrdersShipped", totals.get("orders_shipped", 0))
    count(metrics, "OrdersShippedComplete", totals.get("orders_shipped_complete", 0))
    count(metrics, "ShipmentsPromised", totals.get("shipments_promised", 0))
    count(metrics, "ShipmentsOnTime", totals.get("shipments_on_time", 0))
    count(metrics, "BackordersOpened", totals.get("backorders_opened", 0))
    count(metrics, "StockOutsSeen", totals.get("stock_out_skus", 0))


def details(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The events' details, read ahead so the batch reads its memories together (a record that is not an event
    is left to the processor, which reports it failed)."""
    found = []
    for record in event.get("Records") or []:
        try:
            detail = json.loads(record["body"])["detail"]
        except (KeyError, TypeError, ValueError):
            continue
        if isinstance(detail, dict):
            found.append(detail)
    return found


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    batch = service.batch()
    batch.prefetch(details(event))
    added: list[Measured] = []

    def add(record: BusEventRecord) -> None:
        measured = batch.record(record.messageId, record.body.detail_type, record.body.detail)
        if measured is not None:
            added.append(measured)

    response = process_partial_response(event=event, record_handler=add, processor=processor, context=context)
    counted, failed = batch.flush()
    for ref, error in failed.items():
        logger.warning("KPI counters not written; the record comes back", extra={"record": ref, "error": str(error)})
    emit(added + counted)
    return {"batchItemFailures": [*response.get("batchItemFailures", []),
                                  *({"itemIdentifier": ref} for ref in failed)]}
