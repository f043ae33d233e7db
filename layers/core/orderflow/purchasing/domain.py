"""Suppliers and purchase orders, and the messages exchanged with suppliers over SQS.

The supplier messages are a public contract (``events/schemas/purchase-order.v1.json``,
``purchase-order.v2.json`` (v1 plus the cancellation) and ``supplier-reply.v1.json``): change them only
by adding a new ``schema_version``.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, model_validator

from orderflow.shared.types import MAIN_LOCATION, Identifier, Money, Strict

SCHEMA_VERSION = "1"
# A unit cost may have up to 4 decimals (a price list's fractions of a cent); totals are in cents.
UnitCost = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4),
                     PlainSerializer(float, return_type=float, when_used="json")]
CANCELLATION_SCHEMA_VERSION = "2"  # purchase-order.v2.json: v1's purchase order, plus its cancellation


# ------------------------------------------------------------------ suppliers
class SupplierIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    capacity_per_cycle: Annotated[int, Field(ge=0, le=100_000_000, strict=True)] | None = Field(
        None, description="units the supplier can take per replenishment cycle (a day); none = unlimited")
    active: bool = True
    approval_threshold: Money | None = Field(
        None, description="a purchase order worth more than this waits for approval; none = the stack's default "
                          "(template parameter PurchaseApprovalThreshold)")
    reply_principal: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{16,128}$")] | None = Field(
        None, description="the AWS principal the supplier sends its replies as: the UserId that "
                          "`aws sts get-caller-identity` shows for its credentials (an IAM user's id, AIDA..., or a "
                          "role's id, AROA..., without the ':session' part). Replies from any other sender, or for a "
                          "supplier without one, are refused (docs/security.md)")


class Supplier(BaseModel):
    supplier_id: str
    name: str
    capacity_per_cycle: int | None = None
    active: bool = True
    approval_threshold: Money | None = None
    reply_principal: str | None = None
    queue_url: str = Field(description="the supplier's queue: purchase orders for it are sent here")
    reply_queue_url: str | None = Field(None, description="where the supplier sends its replies")


# ------------------------------------------------------------------ purchase orders
class PurchaseOrderStatus(StrEnum):
    DRAFT = "DRAFT"  # committed (on_order counted), not yet on the supplier's queue
    PENDING_APPROVAL = "PENDING_APPROVAL"  # worth more than the approval threshold: waits for a buyer
    APPROVED = "APPROVED"  # approved, being put on the supplier's queue
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
    unit_cost: UnitCost
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


class ManualLine(BaseModel):
    """A line a buyer asks for: a SKU, how many, and the price if not the product's own."""

    sku: str
    quantity: int
    unit_cost: Decimal | None = None


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
    run_id: str | None = Field(None, description="the run that decided it; none for a purchase order made by hand")
    created_by: str | None = Field(None, description="who made it by hand (the token's subject)")
    deliver_to: str = Field(MAIN_LOCATION, description="the location the goods go to: its on_order counts them, and "
                                                       "the supplier's receipt lands there")
    note: str | None = None
    approval_expires_at: str | None = Field(None, description="while PENDING_APPROVAL: when it is cancelled "
                                                              "unless approved")
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
    unit_cost: UnitCost


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
    deliver_to: str = Field(MAIN_LOCATION, description="the location the goods go to")
    note: str | None = None
    sent_at: str


class PurchaseOrderCancellation(BaseModel):
    """What a supplier receives on its queue when a purchase order it was sent is cancelled (schema v2).
    Sent at least once, like the purchase order: deduplicate on ``po_id`` and ``type``."""

    schema_version: Literal["2"] = CANCELLATION_SCHEMA_VERSION
    type: Literal["PurchaseOrderCancellation"] = "PurchaseOrderCancellation"
    po_id: str
    supplier_id: str
    reason: str
    cancelled_by: str | None = None
    cancelled_at: str


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


def order_value(lines: list[PurchaseOrderLine]) -> Decimal:
    """What the purchase order is worth: quantity × unit cost summed, to the cent (half up)."""
    total = sum((line.unit_cost * line.quantity for line in lines), Decimal(0))
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def manual_purchase_order_id(who: str | None, idempotency_key: str) -> str:
    """A purchase order made by hand is named after its caller and Idempotency-Key: a retried request
    (also one whose first attempt failed half way) finds the same purchase order instead of making another."""
    digest = hashlib.sha256(f"{who or ''}\n{idempotency_key}".encode()).hexdigest()[:16]
    return f"po-m-{digest}"


def purchase_order_id(cycle: str, sku: str, supplier_id: str | None = None, location_id: str = MAIN_LOCATION) -> str:
    """Deterministic: a second run of the same cycle, a retried batch or a duplicate schedule finds
    the purchase order already there instead of creating another. The first purchase order of a SKU in
    a cycle is ``po-<cycle>-<sku>``; one from another supplier in the same cycle (what the first could
    not supply, or a fallback after it rejected) is ``po-<cycle>-<sku>--<supplier_id>``. One delivered to
    a location other than main has ``@<location_id>`` after the SKU (``@`` is in no SKU or location id)."""
    at = f"{sku}@{location_id}" if location_id != MAIN_LOCATION else sku
    return f"po-{cycle}-{at}--{supplier_id}" if supplier_id else f"po-{cycle}-{at}"




def run_order_id(cycle: str, supplier_id: str, location_id: str, segment: int, first_sku: str) -> str:
    """A purchase order of the nightly run, with the lines one batch (``segment``) orders from a supplier for
    a location: ``po-<cycle>--<supplier_id>-b<segment>-<first SKU>`` (``@<location_id>`` after it, as in
    :func:`purchase_order_id`). A chunk is named after its first SKU, which the order's transaction marks as
    ordered this cycle: a retried batch writes the same id for the same lines, and its lines left to order
    (fewer, the first ones marked) never take an id written before."""
    at = f"{first_sku}@{location_id}" if location_id != MAIN_LOCATION else first_sku
    return f"po-{cycle}--{supplier_id}-b{segment}-{at}"
