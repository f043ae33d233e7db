"""A domain event from the bus, as an SQS record: what an EventBridge rule's queue target delivers.

Only the fields the consumers read are required (moto's events have no ``account``, AWS's do).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json


class BusEvent(BaseModel):
    detail_type: str = Field(alias="detail-type")
    source: str
    detail: dict[str, Any]


class BusEventRecord(SqsRecordModel):
    body: Json[BusEvent]  # type: ignore[assignment]
