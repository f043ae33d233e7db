"""Stock arrived (SQS: receipts, returns put back on the shelf, suppliers' deliveries) → backorders woken.

Thin: Powertools parses each record's body as a ``StockArrival`` and reports partial batch failures;
``InventoryService.wake_backorders`` starts, oldest first, the workflow of each backordered order the SKU's
available stock can now serve and that is not still short of another SKU it must have with it. A record
that fails (Step Functions throttled) is received again, and after ``maxReceiveCount`` receives moved to the
dead-letter queue; an arrival seen twice wakes orders whose workflow then finds them reserved already, which
changes nothing.
"""

from __future__ import annotations

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from orderflow import wiring
from orderflow.inventory.domain import StockArrival
from orderflow.platform.lambda_support import count, observability


class StockArrivalRecord(SqsRecordModel):
    body: Json[StockArrival]  # type: ignore[assignment]


logger, tracer, metrics = observability("wake_backorders")
service = wiring.inventory_service()
processor = BatchProcessor(event_type=EventType.SQS, model=StockArrivalRecord)


@tracer.capture_method
def wake(record: StockArrivalRecord) -> int:
    sku = record.body.sku
    woken = service.wake_backorders(sku)
    logger.info("backorders woken", extra={"sku": sku, "woken": woken})
    count(metrics, "BackordersWoken", woken)
    return woken


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    return process_partial_response(event=event, record_handler=wake, processor=processor, context=context)


init_phase.ready()
