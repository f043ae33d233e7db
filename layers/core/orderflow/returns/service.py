"""Returns (RMA): ``ReturnService`` runs each step as one transaction.

The warehouse's receipt runs the rest in one transaction: every line is restocked (resellable) or
scrapped (damaged), the refund goes back to the customer's credit exposure, returned units leave
the day's demand history, and the order becomes ``RETURNED`` once none of its returns is open.

Plain handlers with conditional transitions, not a state machine: each step is one synchronous
API call whose work is a single transaction; nothing waits (docs/decisions.md, "Returns").
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime

from orderflow.inventory import Demand, InventoryService
from orderflow.orders import RETURNABLE, Order, OrderService
from orderflow.orders.requests import OrderLineIn, SubmitOrderIn
from orderflow.returns.domain import (
    EXCHANGE_CHANNEL,
    RECEIVED_OR_LATER,
    ExchangeLine,
    R,
    ReceiveIn,
    Return,
    ReturnRequestIn,
    ReturnTimelineEntry,
    _units,
    check_quantities,
    check_receipt,
    check_window,
    dispose,
    receipt_outcome,
    refund_amount,
    return_id_for,
    return_lines,
    same_receipt,
)
from orderflow.returns.ports import Credit, Locations, OrderReads, Restock, Returns
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, TransientError, Unprocessable
from orderflow.shared.ports import Store
from orderflow.shared.settings import Settings
from orderflow.shared.types import MAIN_LOCATION, utc_now

RACE_ATTEMPTS = 8


# ------------------------------------------------------------------ the service
class ReturnService:
    def __init__(self, settings: Settings, store: Store, returns: Returns, orders: OrderReads, stock: Restock,
                 customers: Credit, demand: Demand, order_service: OrderService, inventory: InventoryService,
                 locations: Locations):
        self.settings, self.store, self.locations = settings, store, locations
        self.returns, self.orders = returns, orders
        self.stock, self.customers, self.demand = stock, customers, demand
        self.order_service, self.inventory = order_service, inventory

    # ------------------------------------------------------------------ reads
    def get(self, return_id: str) -> Return:
        ret = self.returns.get(return_id)
        if ret is None:
            raise NotFound(f"return {return_id} not found")
        return ret

    def for_order(self, order: Order) -> list[Return]:
        """The order's returns (no query at all for an order that never had one)."""
        if not order.had_returns:
            return []
        return self.returns.list_by_order(order.order_id)

    # ------------------------------------------------------------------ request
    def request(self, order_id: str, request: ReturnRequestIn, idempotency_key: str | None = None,
                by: str = "customer") -> Return:
        """Validate and store an approved return, count its units on the order and store its exchange order
        (PENDING) in one transaction whose conditions keep every SKU within what was delivered; then start
        the exchange's workflow. An exchange that cannot be ordered is a 422 with nothing written."""
        return_id = return_id_for(order_id, idempotency_key)
        if idempotency_key is not None and (stored := self.returns.get(return_id)) is not None:
            return self._replayed(stored, order_id, request)
        for _ in range(RACE_ATTEMPTS):
            order = self._found_order(order_id)
            if order.status not in RETURNABLE:
                raise Conflict(f"order {order_id} is {order.status.value}; only a delivered order can be returned",
                               {"status": order.status.value})
            check_window(order, self.settings.return_window_days, datetime.now(UTC))
            check_quantities(order, request.lines)
            ret = self._approved(return_id, order, request, by)
            exchange = self._exchange_order(ret, order) if ret.exchange else None
            if exchange is not None:
                ret = ret.model_copy(update={"exchange_order_id": exchange.order_id})
            if not order.returned:
                self.returns.ensure_counters(order_id)
            writes = [self.returns.create(ret), self.returns.order_requested(order, ret)]
            try:
                self.store.commit([*writes, self.returns.create_exchange(exchange)] if exchange else writes)
            except TransientError:  # another transaction on the order at this instant: read and try again
                _pause()
                continue
            except ConditionFailed as failure:
                if failure.failed(0):  # the same key, racing itself
                    return self._replayed(self.get(return_id), order_id, request)
                if failure.failed(1):  # the order moved, or another return took the units: decide again
                    continue
                raise
            return self._start_exchange(ret, order) if exchange else ret
        raise TransientError(f"order {order_id} kept changing; try again")

    def _exchange_request(self, ret: Return, original: Order) -> SubmitOrderIn:
        if original.shipping_address is None:
            raise Unprocessable(f"order {original.order_id} has no shipping address to send an exchange to",
                                {"order_id": original.order_id})
        return SubmitOrderIn(customer_id=ret.customer_id, channel=EXCHANGE_CHANNEL,
                             shipping_address=original.shipping_address,
                             lines=[OrderLineIn(sku=li.sku, quantity=li.quantity) for li in ret.exchange])

    def _exchange_order(self, ret: Return, original: Order) -> Order:
        """The replacement goods as a new order (priced like any order; Unprocessable if they cannot be
        ordered), stored with the return and then run through the normal workflow (credit-checked there).
        Its key is derived from the return, so retries find it."""
        order = self.order_service.prepare(self._exchange_request(ret, original), f"exchange:{ret.return_id}")
        return order.model_copy(update={"exchange_for_return": ret.return_id})

    def _start_exchange(self, ret: Return, original: Order) -> Return:
        """Start the stored exchange order's workflow (``submit`` of the same request and key finds the order;
        a no-op past PENDING). A return stored before exchanges were stored with it gets its order here."""
        order = self.order_service.submit(self._exchange_request(ret, original), f"exchange:{ret.return_id}")
        if ret.exchange_order_id is None:
            self.returns.mark_exchange(order.order_id, ret.return_id)
            self.returns.link_exchange(ret.return_id, order.order_id)
        return ret.model_copy(update={"exchange_order_id": order.order_id})

    def _approved(self, return_id: str, order: Order, request: ReturnRequestIn, by: str) -> Return:
        now = utc_now()
        lines = return_lines(order, request.lines)
        amount = refund_amount(lines)
        reasons = "; ".join(f"{li.quantity} × {li.sku}: {li.reason}" for li in lines)
        return Return(
            return_id=return_id, order_id=order.order_id, customer_id=order.customer_id, status=R.APPROVED,
            lines=lines, refund_amount=amount, created_at=now, updated_at=now,
            exchange=[ExchangeLine(sku=li.sku, quantity=li.quantity) for li in request.exchange or []],
            timeline=[
                ReturnTimelineEntry(status=R.REQUESTED, at=now, reason=reasons, by=by),
                ReturnTimelineEntry(status=R.APPROVED, at=now, by="policy",
                                    reason=f"delivered, within the {self.settings.return_window_days}-day window; "
                                           f"refund {amount:.2f} on receipt"),
            ])

    def _replayed(self, stored: Return, order_id: str, request: ReturnRequestIn) -> Return:
        """A retried request (same Idempotency-Key): the stored return, its exchange's workflow started if a
        crash came after the transaction."""
        asked = [(li.sku, li.quantity) for li in request.lines]
        if stored.order_id != order_id or [(li.sku, li.quantity) for li in stored.lines] != asked:
            raise Conflict("this Idempotency-Key was already used for a different return",
                           {"return_id": stored.return_id})
        if stored.exchange:
            return self._start_exchange(stored, self._found_order(order_id))
        return stored

    def _found_order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

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
                    self.inventory.stock_arrived([li.sku for li in ret.lines if li.restocked])
                    return ret
                raise Conflict(f"return {return_id} was already received with other quantities",
                               {"status": ret.status.value,
                                "received": [li.model_dump(mode="json") for li in ret.received]})
            if ret.status != R.APPROVED:
                raise Conflict(f"return {return_id} is {ret.status.value}; only an APPROVED return can be received",
                               {"status": ret.status.value})
            check_receipt(ret, receipt.lines)
            if receipt.location_id != MAIN_LOCATION and self.locations.get(receipt.location_id) is None:
                raise Unprocessable(f"unknown location {receipt.location_id}: create it with PUT /locations/"
                                    f"{receipt.location_id}", {"location_id": receipt.location_id})
            order = self.orders.get(ret.order_id)
            if order is None:
                raise NotFound(f"order {ret.order_id} of return {return_id} not found")
            after, writes, restocked = self._receipt(ret, order, receipt)
            try:
                self.store.commit(writes)
            except TransientError:
                _pause()
                continue
            except ConditionFailed as failure:
                if failure.failed(0) or failure.failed(1):  # the return or its order moved: decide again
                    continue
                raise
            # restocked goods serve backorders like any receipt
            self.inventory.stock_arrived([sku for sku, quantity in restocked.items() if quantity])
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
                  *(self.stock.restock(sku, q, receipt.location_id) for sku, q in restocked.items() if q),
                  *(self.demand.record(line.sku, day, -line.quantity, receipt.location_id) for line in ret.lines)]
        return after, writes, restocked


def _pause() -> None:
    time.sleep(random.uniform(0.01, 0.05))


def _received_per_sku(receipt: ReceiveIn) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for line in receipt.lines:
        counted[line.sku] += line.quantity
    return dict(counted)
