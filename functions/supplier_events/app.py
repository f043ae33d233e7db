"""Supplier replies (SQS) → purchase orders and stock.

Thin: Powertools parses each record's body as a ``SupplierReply`` and reports partial batch failures;
``PurchasingService.authenticate_reply`` checks that SQS's ``SenderId`` is the supplier's registered
principal, then ``apply_reply`` does the work. A record that is forged (counted as
``SupplierRepliesForged``, which raises an alarm), malformed, names an unknown purchase order or another
supplier's, or is out of order fails alone: SQS redelivers it (and after
``maxReceiveCount`` moves it to the dead-letter queue) while the rest of the batch is applied. A reply
applied once is a no-op when it comes again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from orderflow import wiring
from orderflow.platform.lambda_support import count, observability
from orderflow.purchasing.domain import SupplierReply
from orderflow.purchasing.rules import ReplyForged, ReplyRejected
from orderflow.shared.settings import get_settings


class SupplierReplyRecord(SqsRecordModel):
    body: Json[SupplierReply]  # type: ignore[assignment]


logger, tracer, metrics = observability("supplier_events")
service = wiring.purchasing_service(get_settings())
processor = BatchProcessor(event_type=EventType.SQS, model=SupplierReplyRecord)


@tracer.capture_method
def apply(record: SupplierReplyRecord) -> str:
    reply = record.body
    try:
        service.authenticate_reply(reply, record.attributes.SenderId)
        po = service.apply_reply(reply)
    except ReplyForged as forged:
        logger.warning("forged reply refused", extra={"reason": forged.message, **forged.details})
        count(metrics, "SupplierRepliesForged")
        raise
    except ReplyRejected as rejected:
        logger.warning("reply rejected", extra={"reason": rejected.message, **rejected.details})
        count(metrics, "SupplierRepliesRejected")
        raise
    logger.info("reply applied", extra={"po_id": po.po_id, "reply_id": reply.reply_id, "type": reply.type.value,
                                        "status": po.status.value})
    count(metrics, "SupplierRepliesApplied")
    return po.status.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict:
    return process_partial_response(event=event, record_handler=apply, processor=processor, context=context)
