"""Pydantic models of the buying side: suppliers, purchase orders, the messages exchanged with
suppliers over SQS, and replenishment runs with their per-SKU decisions.

The two supplier messages are a public contract (``events/schemas/purchase-order.v1.json`` and
``supplier-reply.v1.json``): change them only by adding a new ``schema_version``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .models import Identifier, Money, Strict

SCHEMA_VERSION = "1"


# ------------------------------------------------------------------ suppliers
class SupplierIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    capacity_per_cycle: Annotated[int, Field(ge=0, le=100_000_000, strict=True)] | None = Field(
        None, description="units the supplier can take per replenishment cycle (a day); none = unlimited")
    active: bool = True


class Supplier(BaseModel):
    supplier_id: str
    name: str
    capacity_per_cycle: int | None = None
    active: bool = True
    queue_url: str = Field(description="the supplier's queue: purchase orders for it are sent here")
    reply_queue_url: str | None = Field(None, description="where the supplier sends its replies")


# ------------------------------------------------------------------ purchase orders
class PurchaseOrderStatus(StrEnum):
    DRAFT = "DRAFT"  # committed (on_order counted), not yet on the supplier's queue
    SENT = "SENT"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    PARTIALLY_CONFIRMED = "PARTIALLY_CONFIRMED"  # the supplier will deliver less than ordered
    SHIPPED = "SHIPPED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class PurchaseOrderLine(BaseModel):
    sku: str
    quantity: int = Field(description="units ordered")
    unit_cost: Money
    confirmed: int | None = Field(None, description="units the supplier confirmed, when less than ordered")
    received: int = 0

    @property
    def expected(self) -> int:
        """Units still to come in total: confirmed (or ordered) units."""
        return self.confirmed if self.confirmed is not None else self.quantity

    @property
    def open(self) -> int:
        """Units on order and not yet received."""
        return max(0, self.expected - self.received)


class PurchaseOrderEvent(BaseModel):
    """One entry of a purchase order's timeline."""

    status: PurchaseOrderStatus
    at: str
    by: str | None = None
    reason: str | None = None
    reply_id: str | None = None


class PurchaseOrder(BaseModel):
    po_id: str
    supplier_id: str
    cycle: str = Field(description="the replenishment cycle (UTC day, YYYY-MM-DD) it was decided in")
    run_id: str | None = None
    status: PurchaseOrderStatus
    lines: list[PurchaseOrderLine]
    total: Money
    expected_by: str | None = Field(None, description="day the goods are expected (cycle + mean lead time)")
    created_at: str
    updated_at: str
    version: int = 0
    timeline: list[PurchaseOrderEvent] = []
    applied_replies: list[str] = Field(default=[], exclude=True)

    def public(self) -> dict:
        return self.model_dump(mode="json")


# ------------------------------------------------------------------ messages on the queues
class PurchaseOrderMessageLine(BaseModel):
    sku: str
    quantity: int
    unit_cost: Money


class PurchaseOrderMessage(BaseModel):
    """What a supplier receives on its queue for each purchase order (schema v1)."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    type: Literal["PurchaseOrder"] = "PurchaseOrder"
    po_id: str
    supplier_id: str
    cycle: str
    lines: list[PurchaseOrderMessageLine]
    total: Money
    expected_by: str | None = None
    reply_to: str | None = Field(None, description="queue URL for the supplier's replies")
    sent_at: str


class ReplyType(StrEnum):
    ACKNOWLEDGED = "ACKNOWLEDGED"
    REJECTED = "REJECTED"
    PARTIALLY_CONFIRMED = "PARTIALLY_CONFIRMED"
    SHIPPED = "SHIPPED"
    RECEIVED = "RECEIVED"


class ReplyLine(Strict):
    sku: Identifier
    quantity: Annotated[int, Field(ge=0, le=1_000_000, strict=True)]


class SupplierReply(Strict):
    """What a supplier sends back on the replies queue (schema v1). ``reply_id`` is unique per reply:
    a reply delivered twice is applied once. ``lines`` carry the confirmed units of a
    PARTIALLY_CONFIRMED reply and the units delivered by a RECEIVED reply (several RECEIVED replies
    may each deliver part of the order)."""

    schema_version: Literal["1"]
    reply_id: Annotated[str, Field(min_length=1, max_length=128)]
    po_id: Annotated[str, Field(min_length=1, max_length=200)]
    supplier_id: Identifier
    type: ReplyType
    lines: list[ReplyLine] = Field(default_factory=list, max_length=100)
    reason: Annotated[str, Field(max_length=500)] | None = None
    sent_at: Annotated[str, Field(max_length=40)] | None = None

    @model_validator(mode="after")
    def _quantities_where_needed(self) -> SupplierReply:
        if self.type in (ReplyType.PARTIALLY_CONFIRMED, ReplyType.RECEIVED) and not self.lines:
            raise ValueError(f"a {self.type.value} reply needs lines with quantities")
        return self


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


class Decision(BaseModel):
    """What one run decided for one SKU, and why (``GET /replenishment/runs/{run_id}``)."""

    sku: str
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


# ------------------------------------------------------------------ policy simulations (docs/simulation.md)
SimulationPolicy = Literal["orderflow", "minmax", "rq"]
DEFAULT_SIMULATION_TARGETS = (0.80, 0.90, 0.95, 0.98, 0.99)  # target cycle service levels of the trade-off curve
DEFAULT_REFIT_EVERY = 26  # reviews between full forecast refits (26 weekly reviews: half a year)
MAX_SIMULATION_SKUS = 1000


class SimulationParameters(BaseModel):
    """What a simulation replays and compares (``orderflow.simulation.SimulationConfig``, which adds
    the check that the environment can run each policy; this one is numpy-free, for the API)."""

    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Field(ge=7, le=3650, description="days replayed: the last `days` of every history")]
    seed: int = 0
    policies: list[SimulationPolicy] = Field(default_factory=lambda: ["orderflow", "minmax", "rq"], min_length=1)
    targets: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: list(DEFAULT_SIMULATION_TARGETS),
        description="target cycle service levels of the trade-off curve (empty: no curve)")
    refit_every: Annotated[int, Field(ge=1, le=520)] = Field(
        DEFAULT_REFIT_EVERY, description="reviews between full forecast refits; 1 refits on every review "
                                         "(exactly the scheduled run, slowest)")


class SimulationIn(SimulationParameters):
    """``POST /replenishment/simulations``: the replay's parameters and, optionally, the SKUs (default:
    every active product with replenishment parameters). ``rq`` needs stockpyl where it runs."""

    policies: list[SimulationPolicy] = Field(default_factory=lambda: ["orderflow", "minmax"], min_length=1)
    skus: list[Identifier] | None = Field(None, min_length=1, max_length=MAX_SIMULATION_SKUS)

    def parameters(self) -> SimulationParameters:
        return SimulationParameters.model_validate(self.model_dump(exclude={"skus"}))


class Simulation(BaseModel):
    """The ``SIM`` record of a simulation (``GET /replenishment/simulations/{id}``, without the per-SKU
    results, which are items of their own)."""

    simulation_id: str
    status: RunStatus
    requested_at: str
    finished_at: str | None = None
    config: SimulationIn
    history_end: str = Field(description="the last day of demand replayed (the day before the request)")
    summary: dict[str, Any] | None = Field(None, description="COMPLETED: totals, by_class and curve")
    skipped: list[dict[str, str]] = []
    error: str | None = None


def purchase_order_id(cycle: str, sku: str) -> str:
    """Deterministic: a second run of the same cycle, a retried batch or a duplicate schedule finds
    the purchase order already there instead of creating another."""
    return f"po-{cycle}-{sku}"


__all__ = [
    "SCHEMA_VERSION", "Decision", "PurchaseOrder", "PurchaseOrderEvent", "PurchaseOrderLine",
    "PurchaseOrderMessage", "PurchaseOrderMessageLine", "PurchaseOrderStatus",
    "ReplenishmentRun", "ReplyLine", "ReplyType", "RunCounts", "RunIn", "RunStatus", "Simulation",
    "SimulationIn", "SimulationParameters", "Supplier", "SupplierIn", "SupplierReply", "purchase_order_id",
]
