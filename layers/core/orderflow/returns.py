"""Returns (RMA) and exchanges: the return's models, its rules, and ``ReturnService``.

A return (RMA) has its own id and lifecycle::

    REQUESTED → APPROVED | REJECTED → RECEIVED → RESTOCKED | SCRAPPED → REFUNDED

Requests are approved by policy when they are valid (delivered, inside the return window, no more
units than were delivered minus those already returned), so an invalid request is refused with a
4xx and stores nothing; ``REJECTED`` exists for a manual review step that policy does not need yet.
The warehouse's receipt runs the rest in one transaction: every line is restocked (resellable) or
scrapped (damaged), the refund goes back to the customer's credit exposure, returned units leave
the day's demand history, and the order becomes ``RETURNED`` once none of its returns is open.

Plain handlers with conditional transitions, not a state machine: each step is one synchronous
API call whose work is a single transaction; nothing waits (docs/decisions.md, "Returns").
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator

from .adapters.dynamo import ConditionFailed, transact
from .errors import Conflict, NotFound, TransientError, Unprocessable
from .models import (
    MAX_ORDER_LINES,
    Identifier,
    Model,
    Money,
    Order,
    OrderStatus,
    Quantity,
    Strict,
    utc_now,
)
from .requests import OrderLineIn, SubmitOrderIn
from .service import RACE_ATTEMPTS
from .settings import Settings, get_settings
from .transitions import RETURNABLE

if TYPE_CHECKING:
    from .adapters.customers import CustomersRepository
    from .adapters.demand import DemandRepository
    from .adapters.orders import OrdersRepository
    from .adapters.products import ProductsRepository
    from .adapters.returns import ReturnsRepository
    from .adapters.stock import StockRepository
    from .adapters.workflow import StepFunctionsWorkflow
    from .service import OrderService

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


class ItemCondition(StrEnum):
    RESELLABLE = "resellable"
    DAMAGED = "damaged"


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


# ------------------------------------------------------------------ requests
Reason = Annotated[str, Field(min_length=1, max_length=200)]


def _unique(lines: list[Any], key: str = "sku") -> list[Any]:
    seen: set[Any] = set()
    for line in lines:
        value = tuple(getattr(line, k) for k in key.split(","))
        if value in seen:
            raise ValueError(f"{', '.join(map(str, value))} appears more than once; put the total on one line")
        seen.add(value)
    return lines


class ReturnLineIn(Strict):
    sku: Identifier
    quantity: Quantity
    reason: Reason


class ExchangeLineIn(Strict):
    sku: Identifier
    quantity: Quantity


class ReturnRequestIn(Strict):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    exchange: Annotated[list[ExchangeLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)] | None = None

    @field_validator("lines", "exchange")
    @classmethod
    def unique_skus(cls, lines: list[Any] | None) -> list[Any] | None:
        return _unique(lines) if lines else lines


class ReceiveLineIn(Strict):
    sku: Identifier
    quantity: Quantity
    condition: ItemCondition


class ReceiveIn(Strict):
    """What the warehouse found in the parcel. A SKU may appear twice, once per condition
    (e.g. 2 resellable and 1 damaged)."""

    lines: Annotated[list[ReceiveLineIn], Field(min_length=1, max_length=2 * MAX_ORDER_LINES)]

    @field_validator("lines")
    @classmethod
    def unique_sku_and_condition(cls, lines: list[ReceiveLineIn]) -> list[ReceiveLineIn]:
        return _unique(lines, "sku,condition")


# ------------------------------------------------------------------ the aggregate
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


# ------------------------------------------------------------------ the service
class ReturnService:
    def __init__(self, settings: Settings, returns: ReturnsRepository, orders: OrdersRepository,
                 products: ProductsRepository, stock: StockRepository, customers: CustomersRepository,
                 demand: DemandRepository, workflow: StepFunctionsWorkflow, order_service: OrderService):
        self.settings = settings
        self.returns, self.orders, self.products = returns, orders, products
        self.stock, self.customers, self.demand = stock, customers, demand
        self.workflow, self.order_service = workflow, order_service

    @classmethod
    def from_settings(cls, order_service: OrderService, settings: Settings | None = None) -> ReturnService:
        from .adapters.customers import CustomersRepository
        from .adapters.demand import DemandRepository
        from .adapters.orders import OrdersRepository
        from .adapters.products import ProductsRepository
        from .adapters.returns import ReturnsRepository
        from .adapters.stock import StockRepository
        from .adapters.workflow import StepFunctionsWorkflow

        s = settings or get_settings()
        return cls(s, ReturnsRepository(s.returns_table, s.orders_table), OrdersRepository(s.orders_table),
                   ProductsRepository(s.products_table), StockRepository(s.stock_table),
                   CustomersRepository(s.customers_table), DemandRepository(s.demand_table),
                   StepFunctionsWorkflow(s.order_state_machine_arn), order_service)

    # ------------------------------------------------------------------ reads
    def get(self, return_id: str) -> Return:
        ret = self.returns.get(return_id)
        if ret is None:
            raise NotFound(f"return {return_id} not found")
        return ret

    def for_order(self, order: Order) -> list[Return]:
        """The order's returns (no query at all for an order that never had one)."""
        if not order.returned and not order.open_returns and order.status not in (
                OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED):
            return []
        return self.returns.list_by_order(order.order_id)

    # ------------------------------------------------------------------ request
    def request(self, order_id: str, request: ReturnRequestIn, idempotency_key: str | None = None) -> Return:
        """Validate and store an approved return, count its units on the order (in one transaction
        whose conditions keep every SKU within what was delivered), then place the exchange order."""
        return_id = return_id_for(order_id, idempotency_key)
        if idempotency_key is not None and (stored := self.returns.get(return_id)) is not None:
            return self._replayed(stored, order_id, request)
        exchange_checked = False
        for _ in range(RACE_ATTEMPTS):
            order = self.orders.get(order_id)
            if order is None:
                raise NotFound(f"order {order_id} not found")
            if order.status not in RETURNABLE:
                raise Conflict(f"order {order_id} is {order.status.value}; only a delivered order can be returned",
                               {"status": order.status.value})
            check_window(order, self.settings.return_window_days, datetime.now(UTC))
            check_quantities(order, request.lines)
            if request.exchange and not exchange_checked:
                self.order_service.orderable(order.customer_id, [line.sku for line in request.exchange])
                exchange_checked = True
            ret = self._approved(return_id, order, request)
            if not order.returned:
                self.returns.ensure_counters(order_id)
            try:
                transact([self.returns.create(ret), self.returns.order_requested(order, ret)])
            except TransientError:  # another transaction on the order at this instant: read and try again
                _pause()
                continue
            except ConditionFailed as failure:
                if failure.failed(0):  # the same key, racing itself
                    return self._replayed(self.get(return_id), order_id, request)
                if failure.failed(1):  # the order moved, or another return took the units: decide again
                    continue
                raise
            return self._exchange(ret) if ret.exchange else ret
        raise TransientError(f"order {order_id} kept changing; try again")

    def _approved(self, return_id: str, order: Order, request: ReturnRequestIn) -> Return:
        now = utc_now()
        lines = return_lines(order, request.lines)
        amount = refund_amount(lines)
        reasons = "; ".join(f"{li.quantity} × {li.sku}: {li.reason}" for li in lines)
        return Return(
            return_id=return_id, order_id=order.order_id, customer_id=order.customer_id, status=R.APPROVED,
            lines=lines, refund_amount=amount, created_at=now, updated_at=now,
            exchange=[ExchangeLine(sku=li.sku, quantity=li.quantity) for li in request.exchange or []],
            timeline=[
                ReturnTimelineEntry(status=R.REQUESTED, at=now, reason=reasons, by="customer"),
                ReturnTimelineEntry(status=R.APPROVED, at=now, by="policy",
                                    reason=f"delivered, within the {self.settings.return_window_days}-day window; "
                                           f"refund {amount:.2f} on receipt"),
            ])

    def _replayed(self, stored: Return, order_id: str, request: ReturnRequestIn) -> Return:
        """A retried request (same Idempotency-Key): the stored return, with its exchange placed if a
        crash came between the two."""
        asked = [(li.sku, li.quantity) for li in request.lines]
        if stored.order_id != order_id or [(li.sku, li.quantity) for li in stored.lines] != asked:
            raise Conflict("this Idempotency-Key was already used for a different return",
                           {"return_id": stored.return_id})
        if stored.exchange and not stored.exchange_order_id:
            return self._exchange(stored)
        return stored

    def _exchange(self, ret: Return) -> Return:
        """The replacement goods as a new order through the normal workflow (priced and credit-checked
        like any order). Its key is derived from the return, so retries place one order."""
        order = self.order_service.submit(
            SubmitOrderIn(customer_id=ret.customer_id, channel=EXCHANGE_CHANNEL,
                          lines=[OrderLineIn(sku=li.sku, quantity=li.quantity) for li in ret.exchange]),
            idempotency_key=f"exchange:{ret.return_id}")
        self.returns.mark_exchange(order.order_id, ret.return_id)
        self.returns.link_exchange(ret.return_id, order.order_id)
        return ret.model_copy(update={"exchange_order_id": order.order_id})

    # ------------------------------------------------------------------ receive
    def receive(self, return_id: str, receipt: ReceiveIn) -> Return:
        """The warehouse received the goods: in one transaction the return is received, restocked or
        scrapped line by line, and refunded; stock, demand history, credit and the order follow."""
        for _ in range(RACE_ATTEMPTS):
            ret = self.get(return_id)
            if ret.status in RECEIVED_OR_LATER:
                if same_receipt(ret, receipt.lines):
                    # a retried receive: nothing happens twice, but the arrival is said again, in case
                    # saying it failed the first time
                    self.order_service.stock_arrived([li.sku for li in ret.lines if li.restocked])
                    return ret
                raise Conflict(f"return {return_id} was already received with other quantities",
                               {"status": ret.status.value,
                                "received": [li.model_dump(mode="json") for li in ret.received]})
            if ret.status != R.APPROVED:
                raise Conflict(f"return {return_id} is {ret.status.value}; only an APPROVED return can be received",
                               {"status": ret.status.value})
            check_receipt(ret, receipt.lines)
            order = self.orders.get(ret.order_id)
            if order is None:
                raise NotFound(f"order {ret.order_id} of return {return_id} not found")
            after, writes, restocked = self._receipt(ret, order, receipt)
            try:
                transact(writes)
            except TransientError:
                _pause()
                continue
            except ConditionFailed as failure:
                if failure.failed(0) or failure.failed(1):  # the return or its order moved: decide again
                    continue
                raise
            # restocked goods serve backorders like any receipt
            self.order_service.stock_arrived([sku for sku, quantity in restocked.items() if quantity])
            return after
        raise TransientError(f"return {return_id} kept changing; try again")

    def _receipt(self, ret: Return, order: Order, receipt: ReceiveIn) -> tuple[Return, list, dict[str, int]]:
        lines, received, restocked, scrapped = dispose(ret, receipt.lines)
        outcome = receipt_outcome(restocked)
        now = utc_now()
        entries = [ReturnTimelineEntry(status=R.RECEIVED, at=now, by="warehouse",
                                       reason=f"received {_units(_received_per_sku(receipt))}")]
        if outcome == R.RESTOCKED:
            reason = f"restocked {_units(restocked)}" + (f"; scrapped {_units(scrapped)}" if scrapped else "")
        else:
            reason = f"scrapped {_units(scrapped)} (damaged)"
        entries.append(ReturnTimelineEntry(status=outcome, at=now, by="warehouse", reason=reason))
        entries.append(ReturnTimelineEntry(status=R.REFUNDED, at=now, by="policy",
                                           reason=f"{ret.refund_amount:.2f} credited to customer {ret.customer_id}"))
        write, after = self.returns.advance(ret, entries, {
            "lines": [li.model_dump(mode="python", exclude_none=True) for li in lines],
            "received": [li.model_dump(mode="python") for li in received],
            "restocked": restocked, "scrapped": scrapped, "received_at": now, "refunded_at": now,
        })
        day = datetime.now(UTC).date().isoformat()
        writes = [write, self.returns.order_closed_one(order, ret),
                  self.customers.release_credit(ret.customer_id, ret.refund_amount),
                  *(self.stock.restock(sku, q) for sku, q in restocked.items() if q),
                  *(self.demand.record(line.sku, day, -line.quantity) for line in ret.lines)]
        return after, writes, restocked


def _pause() -> None:
    time.sleep(random.uniform(0.01, 0.05))


def _received_per_sku(receipt: ReceiveIn) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for line in receipt.lines:
        counted[line.sku] += line.quantity
    return dict(counted)
