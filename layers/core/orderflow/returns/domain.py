"""Returns (RMA) and exchanges: the return's models and its rules (pure).

A return (RMA) has its own id and lifecycle::

    REQUESTED → APPROVED | REJECTED → RECEIVED → RESTOCKED | SCRAPPED → REFUNDED

Requests are approved by policy when they are valid (delivered, inside the return window, no more
units than were delivered minus those already returned), so an invalid request is refused with a
4xx and stores nothing; ``REJECTED`` exists for a manual review step that policy does not need yet.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import Field

from orderflow.orders import Order, OrderStatus
from orderflow.returns.requests import (  # noqa: F401 (re-exported: the models' home before the split)
    ExchangeLineIn,
    ItemCondition,
    ReceiveIn,
    ReceiveLineIn,
    ReturnLineIn,
    ReturnRequestIn,
)
from orderflow.shared.errors import Conflict, Unprocessable
from orderflow.shared.types import Model, Money

if TYPE_CHECKING:
    pass


EXCHANGE_CHANNEL = "exchange"


# ------------------------------------------------------------------ statuses
class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RECEIVED = "RECEIVED"
    RESTOCKED = "RESTOCKED"
    SCRAPPED = "SCRAPPED"
    REFUNDED = "REFUNDED"


R = ReturnStatus
# A receipt has been recorded: a second receive is answered from what was stored.
RECEIVED_OR_LATER = frozenset({R.RECEIVED, R.RESTOCKED, R.SCRAPPED, R.REFUNDED})


class Disposition(StrEnum):
    RESTOCKED = "restocked"
    SCRAPPED = "scrapped"
    RESTOCKED_AND_SCRAPPED = "restocked_and_scrapped"  # some units of the line were damaged, some not


DISPOSITION_OF = {ItemCondition.RESELLABLE: Disposition.RESTOCKED, ItemCondition.DAMAGED: Disposition.SCRAPPED}


# ------------------------------------------------------------------ errors
class ReturnWindowClosed(Unprocessable):
    code = "RETURN_WINDOW_CLOSED"


class ReturnExceedsDelivered(Unprocessable):
    code = "RETURN_EXCEEDS_DELIVERED"


class ReceiptMismatch(Unprocessable):
    code = "RECEIPT_MISMATCH"


class ReturnLine(Model):
    sku: str
    name: str | None = None
    quantity: int
    reason: str
    unit_price: Money
    refund: Money
    # set when the warehouse receives the goods
    restocked: int | None = None
    scrapped: int | None = None
    disposition: Disposition | None = None


class ReceivedLine(Model):
    sku: str
    quantity: int
    condition: ItemCondition
    disposition: Disposition


class ExchangeLine(Model):
    sku: str
    quantity: int


class ReturnTimelineEntry(Model):
    status: ReturnStatus
    at: str
    reason: str | None = None
    by: str | None = None


class Return(Model):
    return_id: str
    order_id: str
    customer_id: str
    status: ReturnStatus
    lines: list[ReturnLine]
    refund_amount: Money
    exchange: list[ExchangeLine] = Field(default_factory=list)
    exchange_order_id: str | None = None
    received: list[ReceivedLine] = Field(default_factory=list)
    restocked: dict[str, int] = Field(default_factory=dict)
    scrapped: dict[str, int] = Field(default_factory=dict)
    created_at: str
    updated_at: str
    received_at: str | None = None
    refunded_at: str | None = None
    version: int = 0
    timeline: list[ReturnTimelineEntry] = Field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def summary(self) -> dict[str, Any]:
        """What ``GET /orders/{id}`` shows of each of the order's returns."""
        return {k: v for k, v in {
            "return_id": self.return_id, "status": self.status.value, "refund_amount": float(self.refund_amount),
            "lines": [{"sku": li.sku, "quantity": li.quantity} for li in self.lines],
            "created_at": self.created_at, "exchange_order_id": self.exchange_order_id,
        }.items() if v is not None}


# ------------------------------------------------------------------ rules (pure)
def return_id_for(order_id: str, idempotency_key: str | None) -> str:
    """Deterministic from the order and the client's Idempotency-Key, so a retry finds the return it stored."""
    if idempotency_key is None:
        return f"ret-{uuid.uuid4().hex[:20]}"
    digest = hashlib.sha256(f"{order_id}\n{idempotency_key}".encode()).hexdigest()
    return f"ret-{digest[:20]}"


def delivered_at(order: Order) -> str | None:
    if order.shipment and order.shipment.delivered_at:
        return order.shipment.delivered_at
    return next((e.at for e in reversed(order.timeline) if e.status == OrderStatus.DELIVERED), None)


def _parse(at: str) -> datetime:
    parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window_closes_at(delivered: str, days: int) -> datetime:
    """The return window runs from delivery for ``days`` days (0: no returns at all)."""
    return _parse(delivered) + timedelta(days=days)


def check_window(order: Order, days: int, now: datetime) -> None:
    delivered = delivered_at(order)
    if delivered is None:
        raise Conflict(f"order {order.order_id} has no delivery date", {"status": order.status.value})
    closes = window_closes_at(delivered, days)
    if now >= closes:
        raise ReturnWindowClosed(
            f"the {days}-day return window of order {order.order_id} closed at {_iso(closes)}",
            {"delivered_at": delivered, "window_days": days, "closed_at": _iso(closes)})


def returnable(order: Order) -> dict[str, int]:
    """Units of each SKU that may still be returned: delivered minus returned by every return so far."""
    return {line.sku: line.quantity - int(order.returned.get(line.sku, 0)) for line in order.lines}


def check_quantities(order: Order, lines: list[ReturnLineIn]) -> None:
    delivered = {line.sku: line.quantity for line in order.lines}
    left = returnable(order)
    problems = []
    for line in lines:
        if line.sku not in delivered:
            problems.append({"sku": line.sku, "requested": line.quantity, "delivered": 0, "already_returned": 0,
                             "returnable": 0, "problem": "not on this order"})
        elif line.quantity > left[line.sku]:
            problems.append({"sku": line.sku, "requested": line.quantity, "delivered": delivered[line.sku],
                             "already_returned": delivered[line.sku] - left[line.sku], "returnable": left[line.sku],
                             "problem": "more than was delivered and not yet returned"})
    if problems:
        raise ReturnExceedsDelivered(
            "the return asks for more than was delivered: " + ", ".join(
                f"{p['sku']} ({p['requested']} asked, {p['returnable']} returnable)" for p in problems),
            {"lines": problems})


def return_lines(order: Order, lines: list[ReturnLineIn]) -> list[ReturnLine]:
    """The return's lines, each priced at what the customer paid for it on the order."""
    ordered = {line.sku: line for line in order.lines}
    return [ReturnLine(sku=li.sku, name=ordered[li.sku].name, quantity=li.quantity, reason=li.reason,
                       unit_price=ordered[li.sku].unit_price, refund=ordered[li.sku].unit_price * li.quantity)
            for li in lines]


def refund_amount(lines: list[ReturnLine]) -> Decimal:
    """Every returned unit is refunded at its order price, resellable or damaged alike."""
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))


def _received(lines: list[ReceiveLineIn]) -> Counter[tuple[str, ItemCondition]]:
    counted: Counter[tuple[str, ItemCondition]] = Counter()
    for line in lines:
        counted[(line.sku, line.condition)] += line.quantity
    return counted


def check_receipt(ret: Return, lines: list[ReceiveLineIn]) -> None:
    """The warehouse must receive exactly what was approved, SKU by SKU."""
    approved = {line.sku: line.quantity for line in ret.lines}
    received: Counter[str] = Counter()
    for line in lines:
        received[line.sku] += line.quantity
    problems = [{"sku": sku, "approved": approved.get(sku, 0), "received": received.get(sku, 0)}
                for sku in sorted(set(approved) | set(received)) if approved.get(sku, 0) != received.get(sku, 0)]
    if problems:
        raise ReceiptMismatch("the received quantities do not match the approved return: " + ", ".join(
            f"{p['sku']} ({p['approved']} approved, {p['received']} received)" for p in problems),
            {"lines": problems})


def same_receipt(ret: Return, lines: list[ReceiveLineIn]) -> bool:
    stored = Counter({(li.sku, li.condition): li.quantity for li in ret.received})
    return stored == _received(lines)


def dispose(ret: Return, lines: list[ReceiveLineIn]) -> tuple[list[ReturnLine], list[ReceivedLine],
                                                                 dict[str, int], dict[str, int]]:
    """Per line: resellable units are restocked, damaged ones scrapped. Returns the return's lines
    with their disposition, the received lines, and the restocked and scrapped units per SKU."""
    counted = _received(lines)
    restocked = {sku: q for (sku, c), q in counted.items() if c == ItemCondition.RESELLABLE}
    scrapped = {sku: q for (sku, c), q in counted.items() if c == ItemCondition.DAMAGED}
    disposed = []
    for line in ret.lines:
        kept, lost = restocked.get(line.sku, 0), scrapped.get(line.sku, 0)
        disposition = (Disposition.RESTOCKED_AND_SCRAPPED if kept and lost else
                       Disposition.RESTOCKED if kept else Disposition.SCRAPPED)
        disposed.append(line.model_copy(update={"restocked": kept, "scrapped": lost, "disposition": disposition}))
    received = [ReceivedLine(sku=li.sku, quantity=li.quantity, condition=li.condition,
                             disposition=DISPOSITION_OF[li.condition]) for li in lines]
    return disposed, received, restocked, scrapped


def receipt_outcome(restocked: dict[str, int]) -> ReturnStatus:
    """RESTOCKED if anything went back on the shelf, SCRAPPED if every unit was damaged."""
    return R.RESTOCKED if any(restocked.values()) else R.SCRAPPED


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _units(counts: dict[str, int]) -> str:
    return ", ".join(f"{q} × {sku}" for sku, q in counts.items())


