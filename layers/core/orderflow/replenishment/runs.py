"""A replenishment run, what its workflow passes between steps, and its per-SKU decisions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from orderflow.shared.types import MAIN_LOCATION, Money, Strict


# ------------------------------------------------------------------ replenishment runs
class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RunCounts(BaseModel):
    skus: int = 0
    ordered: int = 0  # SKUs for which a purchase order was drafted in this run
    not_needed: int = 0  # SKUs whose inventory position is above the reorder point (or quantity 0)
    already_ordered: int = 0  # a purchase order for this SKU and cycle existed already
    not_due: int = 0  # SKUs reviewed less than their review period ago: decided on a later cycle
    skipped: int = 0  # SKUs that could not be decided (missing parameters, bad history, ...)
    sent: int = 0  # purchase orders put on supplier queues
    awaiting_approval: int = 0  # purchase orders worth more than the approval threshold: PENDING_APPROVAL
    units_ordered: int = 0

    def __add__(self, other: RunCounts) -> RunCounts:
        return RunCounts(**{name: getattr(self, name) + getattr(other, name) for name in RunCounts.model_fields})


class RunIn(Strict):
    """``POST /replenishment/runs``: start a run now (the schedule starts the same workflow)."""

    note: Annotated[str, Field(max_length=200)] | None = None


class ReplenishmentRun(BaseModel):
    run_id: str
    cycle: str
    status: RunStatus
    trigger: str = "api"
    started_at: str
    finished_at: str | None = None
    counts: RunCounts = RunCounts()
    error: str | None = None
    note: str | None = None


class CappedDemand(BaseModel):
    """A day of demand history capped as an outlier before the forecast (orderflow.forecasting.robust)."""

    days_ago: int = Field(description="1 is the last day of the history the forecast read")
    value: float = Field(description="the recorded demand")
    capped_to: float = Field(description="what the forecast and its σ used instead")


class SupplierOrder(BaseModel):
    """One supplier's part of a SKU's order in a run."""

    supplier_id: str
    po_id: str
    quantity: int
    reason: str


class Decision(BaseModel):
    """What one run decided for one SKU, and why (``GET /replenishment/runs/{run_id}``)."""

    sku: str
    location_id: str = Field(MAIN_LOCATION, description="the location it was decided for; its purchase orders "
                                                        "deliver there")
    supplier_id: str | None = None
    outcome: Literal["ordered", "not_needed", "already_ordered", "not_due", "skipped"]
    reason: str
    demand_class: str | None = None
    method: str | None = None
    history_days: int = 0
    horizon_days: int | None = None
    forecast_daily: float | None = Field(None, description="mean forecast demand per day over the horizon")
    forecast: list[float] = Field(default=[], description="daily forecast over the horizon (for the report)")
    sigma_daily: float | None = Field(None, description="σ of the one-day-ahead forecast error")
    sigma_lead_time_demand: float | None = Field(
        None, description="σ of the forecast error of the demand total over the lead time (units)")
    sigma_review_demand: float | None = Field(
        None, description="σ of the forecast error of the demand total over one review period (units)")
    sigma_protection_demand: float | None = Field(
        None, description="σ of the forecast error of the demand total over lead time + one review period (units)")
    lead_time_days: float | None = Field(None, description="the mean lead time planned with, days")
    lead_time_sigma_days: float | None = Field(None, description="its standard deviation, days")
    lead_time_source: Literal["setting", "blended", "receipts"] | None = Field(
        None, description="where the lead time came from: the product's setting, the setting blended with "
                          "purchase-order receipts while they are few, or the receipts alone")
    lead_time_receipts: int = Field(0, description="purchase-order receipts (sent to received) read for it")
    outliers_capped: list[CappedDemand] = Field(
        default=[], description="history days capped as outliers before forecasting (docs/forecasting.md)")
    safety_stock: float | None = None
    reorder_point: float | None = None
    order_up_to: float | None = None
    eoq: float | None = None
    inventory_position: int | None = None
    quantity: int = 0
    capped: bool = False
    po_id: str | None = None
    unit_cost: Money | None = None
    supplier_choice: str | None = Field(None, description="which supplier and why, when the SKU has several")
    orders: list[SupplierOrder] = Field(default=[], description="each purchase order drafted, when the SKU's "
                                                               "quantity was split between suppliers")

    @property
    def key(self) -> str:
        """What names the decision under its run, and the (SKU, location) review: the SKU at the main
        location (as before locations), ``<sku>@<location_id>`` elsewhere."""
        return decision_key(self.sku, self.location_id)


def decision_key(sku: str, location_id: str = MAIN_LOCATION) -> str:
    return f"{sku}@{location_id}" if location_id != MAIN_LOCATION else sku


