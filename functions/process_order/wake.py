"""Stock arrived (SQS: receipts, returns put back on the shelf, suppliers' deliveries) → backorders woken.

Thin: Powertools' batch processing hands over each SQS record and reports partial batch failures; the
record's body is read as a ``StockArrival`` (pydantic) before anything else, so one that is not fails alone;
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
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from orderflow import wiring
from orderflow.inventory.domain import StockArrival
from orderflow.platform.lambda_support import count, observability

logger, tracer, metrics = observability("wake_backorders")
service = wiring.inventory_service()
# Records as Powertools' SQS data class, not a parser model: the parser package and the two parser models'
# validators, built at import, were about 10 ms of this function's init for the one body read below
# (docs/decisions.md, "Cold start").
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def wake(record: SQSRecord) -> int:
    sku = StockArrival.model_validate_json(record.body).sku
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
