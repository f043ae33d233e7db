"""What the replenishment workflow's steps pass each other, and the demand-history rows they import."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field

from orderflow.replenishment.runs import RunCounts
from orderflow.shared.errors import OrderflowError
from orderflow.shared.types import MAIN_LOCATION, Identifier, Strict

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    pass



# ------------------------------------------------------------------ what the workflow passes around
class Batch(BaseModel):
    """One parallel-scan segment of the Products table."""

    segment: Annotated[int, Field(ge=0)]
    total_segments: Annotated[int, Field(ge=1)]


class BatchItem(BaseModel):
    """One item of the run's Map (a segment of StartRun's ``segments``, with the run), Decide's input."""

    run_id: str
    cycle: str
    batch: Batch


class Decided(BaseModel):
    """The Decide step's output: the drafts to send and what the batch decided."""

    po_ids: list[str] = []
    counts: RunCounts = RunCounts()


class BatchResult(BaseModel):
    """What one batch did, stored under the run by the Send step: FinishRun adds them up."""

    batch: Batch
    counts: RunCounts


class StartRunEvent(BaseModel):
    """StartRun's input: the execution's name, start time and input (``{"trigger", "note"?}``)."""

    run_id: str
    started_at: str
    input: dict[str, Any] = {}


class SendEvent(BaseModel):
    run_id: str
    batch: Batch
    decided: Decided


class FinishEvent(BaseModel):
    """FinishRun's input (``total_segments``), or RunFailed's (``error``, with the execution's start and
    input)."""

    run_id: str
    total_segments: Annotated[int, Field(ge=1)] | None = None
    error: Any = None
    started_at: str | None = None
    input: dict[str, Any] = {}


class BatchesFailed(OrderflowError):
    """Some batches of the run stored no result (their Map iteration failed): the run cannot complete."""

    http_status = 500
    code = "BATCHES_FAILED"


class HistoryRow(Strict):
    sku: Identifier
    day: date
    quantity: Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
    location_id: Identifier = Field(MAIN_LOCATION, description="where the demand shipped from (default: main)")

