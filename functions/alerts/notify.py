"""Domain events an alert rule matched (EventBridge → the alerts queue) → one readable message each on the
alerts topic, repeats throttled (docs/alerts.md).

Thin: Powertools parses each record's body as an EventBridge event and reports partial batch failures;
``AlertService.on_event`` formats, throttles and publishes. A record that fails (SNS unreachable) is
redelivered alone, and after ``maxReceiveCount`` moves to the alerts dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from orderflow import wiring
from orderflow.platform.bus_records import BusEventRecord
from orderflow.platform.lambda_support import count, observability
from orderflow.shared.settings import get_settings

logger, tracer, metrics = observability("alerts")
service = wiring.alert_service(get_settings())
processor = BatchProcessor(event_type=EventType.SQS, model=BusEventRecord)


@tracer.capture_method
def tell(record: BusEventRecord) -> str | None:
    event = record.body
    alert = service.on_event(event.detail_type, event.detail)
    if alert is None:
        logger.info("no alert (throttled or not alerted on)", extra={"detail_type": event.detail_type})
        return None
    logger.info("alert told", extra={"subject": alert.subject, "kind": alert.kind})
    count(metrics, "AlertsTold")
    return alert.alert_id


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    return process_partial_response(event=event, record_handler=tell, processor=processor, context=context)
