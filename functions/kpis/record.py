"""Domain events (EventBridge → the KPI queue) → the daily aggregates of the live KPIs (docs/kpis.md).

Thin: Powertools parses each record and reports partial batch failures; ``KpiService.record`` adds the
event once (a redelivered one is marked already and adds nothing).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from orderflow import wiring
from orderflow.platform.bus_records import BusEventRecord
from orderflow.platform.lambda_support import count, observability
from orderflow.shared.settings import get_settings

logger, tracer, metrics = observability("kpis")
service = wiring.kpi_service(get_settings())
processor = BatchProcessor(event_type=EventType.SQS, model=BusEventRecord)


@tracer.capture_method
def add(record: BusEventRecord) -> bool:
    """Add the event; the counters the dashboard plots are also emitted as metrics."""
    added = service.record(record.body.detail_type, record.body.detail)
    if added is None:
        return False
    totals: dict[str, int] = {}
    for effect in added.effects:
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
    return True


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    return process_partial_response(event=event, record_handler=add, processor=processor, context=context)
