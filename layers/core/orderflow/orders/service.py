"""Order lifecycle rules: what each API call and each workflow step does to orders, stock and credit.

Every change is one conditional write (or one transaction) whose first item is the order's own
transition, guarded by its status and version. A writer that loses a race re-reads and decides
again; a step that finds its work already done does nothing twice. Domain events are not sent
from here: they are derived from the committed changes (DynamoDB Streams, ``domain_events``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from orderflow.catalogue import Customer, Product
from orderflow.fulfilment import ShipmentStatus
from orderflow.orders.cancelling import Cancelling
from orderflow.orders.deadlines import Deadlines, deadline_in
from orderflow.orders.domain import (
    MAX_TRANSACTION_ITEMS,
    Order,
    OrderLine,
    OrderStatus,
    TimelineEntry,
    order_id_for,
    worst_case_reservation,
)
from orderflow.orders.lifecycle import (
    CANCELLABLE,
    COUNTS_AS_BACKORDERED,
    HOLDS_CREDIT,
    HOLDS_STOCK,
    ORDER_LIFECYCLE,
    TERMINAL,
)
from orderflow.orders.reserving import Reserving
from orderflow.orders.shipping import Shipping
from orderflow.shared.errors import (
    ConditionFailed,
    Conflict,
    CreditDenied,
    InvalidOrder,
    NotFound,
    OrderCancelled,
    OrderSettled,
    TransactionLimitExceeded,
    TransientError,
    Unprocessable,
)
from orderflow.shared.settings import Settings
from orderflow.shared.types import MAX_MONEY, utc_now

if TYPE_CHECKING:  # the ports name types only: loaded by checkers, not by every cold start
    from orderflow.inventory import Arrivals, Demand, Stock
    from orderflow.orders.ports import Customers, Locations, Orders, OrderWorkflow, Products, Shipments
    from orderflow.orders.requests import SubmitOrderIn
    from orderflow.shared.ports import Change, Store

S = OrderStatus
H = ShipmentStatus
T = TypeVar("T")
# How far along the happy path a status is; a step whose target is at or below it has nothing to do.
PROGRESS = {S.PENDING: 0, S.VALIDATED: 1, S.CREDIT_APPROVED: 2, S.BACKORDERED: 3, S.PARTIALLY_RESERVED: 3,
            S.RESERVED: 4, S.PARTIALLY_SHIPPED: 5, S.SHIPPED: 6, S.DELIVERED: 7, S.RETURN_REQUESTED: 8, S.RETURNED: 8}
RACE_ATTEMPTS = 8


class OrderService(Reserving, Shipping, Cancelling, Deadlines):
    def __init__(self, settings: Settings, store: Store, orders: Orders, workflow: OrderWorkflow, stock: Stock,
                 customers: Customers, products: Products, demand: Demand, arrivals: Arrivals, locations: Locations,
                 shipments: Shipments):
        self.settings, self.store, self.locations, self.shipments = settings, store, locations, shipments
        self.orders, self.workflow = orders, workflow
        self.stock, self.customers, self.products = stock, customers, products
        self.demand, self.arrivals = demand, arrivals

    # ------------------------------------------------------------------ orders: API side
    def submit(self, request: SubmitOrderIn, idempotency_key: str) -> Order:
        order = self.prepare(request, idempotency_key)
        if self.orders.create(order):
            self.workflow.start(order)
            return order
        stored = self._found(self.orders.get(order.order_id), "order")
        if ([(li.sku, li.quantity) for li in stored.lines] != [(li.sku, li.quantity) for li in order.lines]
                or stored.shipping_address != order.shipping_address
                or stored.fulfilment_policy != order.fulfilment_policy):
            raise Conflict("this Idempotency-Key was already used for a different order",
                           {"order_id": stored.order_id})
        if stored.status == S.PENDING:  # finishes a submit that crashed after storing the order
            self.workflow.start(stored)
        return stored

    def prepare(self, request: SubmitOrderIn, idempotency_key: str) -> Order:
        """The PENDING order ``submit`` stores, priced; Unprocessable (422) for what cannot be ordered. Another
        area may store it in a transaction of its own (an exchange with its return), then ``submit`` the same
        request and key to start its workflow."""
        products = self.orderable(request.customer_id, [line.sku for line in request.lines])
        now = utc_now()
        lines = [OrderLine(sku=li.sku, quantity=li.quantity, unit_price=products[li.sku].unit_price,
                           name=products[li.sku].name) for li in request.lines]
        total = sum((li.unit_price * li.quantity for li in lines), Decimal(0))
        if total > MAX_MONEY:  # refused before anything is written, not a 500 from the model
            raise Unprocessable(f"the order's total {total} is more than an order may hold ({MAX_MONEY})",
                                {"total": str(total), "max_total": str(MAX_MONEY)})
        self._fits_one_transaction([li.quantity for li in lines])
        return Order(
            order_id=order_id_for(request.customer_id, idempotency_key), customer_id=request.customer_id,
            status=S.PENDING, lines=lines, total=total, shipping_address=request.shipping_address,
            fulfilment_policy=request.fulfilment_policy,
            deadline=self._workflow_deadline(),
            channel=request.channel, created_at=now, updated_at=now,
            timeline=[TimelineEntry(status=S.PENDING, at=now, reason=f"received via {request.channel}",
                                    by="customer")],
        )

    def _fits_one_transaction(self, quantities: list[int]) -> None:
        """Refuse (422, nothing written) an order whose reservation could take more than one transaction's
        items however sourcing splits it over the active locations. The locations are read only when the
        bound over any number of locations is over the limit: most orders cost no extra call."""
        if worst_case_reservation(quantities) <= MAX_TRANSACTION_ITEMS:
            return
        locations = len(self.locations.active())
        items = worst_case_reservation(quantities, locations)
        if items > MAX_TRANSACTION_ITEMS:
            raise TransactionLimitExceeded(
                f"split over the {locations} active locations, this order could take {items} writes in one "
                f"reservation, more than DynamoDB's {MAX_TRANSACTION_ITEMS}: send fewer lines, or split it",
                {"worst_case_items": items, "max_items": MAX_TRANSACTION_ITEMS, "lines": len(quantities),
                 "active_locations": locations})

    def orderable(self, customer_id: str, skus: list[str]) -> dict[str, Product]:
        """The products of ``skus``; Unprocessable (422, nothing written) naming what cannot be ordered."""
        customer, products = self._customer_and_products(customer_id, skus)
        problems: dict[str, Any] = {}
        if customer is None:
            problems["unknown_customer"] = customer_id
        if unknown := [s for s in skus if s not in products]:
            problems["unknown_skus"] = unknown
        if inactive := [s for s in skus if s in products and not products[s].active]:
            problems["inactive_skus"] = inactive
        if problems:
            raise Unprocessable("the order refers to customers or products that cannot be ordered", problems)
        return products

    def get_order(self, order_id: str) -> Order:
        return self._found(self.orders.get(order_id), f"order {order_id}")

    def list_orders(self, customer_id: str, limit: int, cursor: str | None, status: S | None = None,
                    placed_from: str | None = None, placed_to: str | None = None) -> tuple[list[Order], str | None]:
        if placed_from and placed_to and placed_from > placed_to:
            raise Unprocessable(f"placed_from {placed_from} is after placed_to {placed_to}")
        return self.orders.list_by_customer(customer_id, limit, cursor, status, placed_from, placed_to)

    def cancel(self, order_id: str, reason: str, by: str = "customer") -> Order:
        def attempt(order: Order) -> Order:
            if order.status == S.CANCELLED:
                return order
            if order.status not in CANCELLABLE:
                raise Conflict(f"order {order_id} is {order.status.value} and can no longer be cancelled",
                               {"status": order.status.value})
            return self._give_back(order, S.CANCELLED, reason, by=by)

        return self._announce_released(self._race(order_id, attempt, missing=NotFound))

    # ------------------------------------------------------------------ orders: workflow steps
    def validate(self, order_id: str, known: Order | None = None) -> Order:
        """Check the order against the catalogue and the customer as they are now (a product can stop being
        sold between submit and this step, so what submit checked is not trusted; products as this container
        read them within ``PRODUCT_CACHE_SECONDS``: docs/scale.md, "Hot reads"), writing from the order the
        intake handed on (``known``) without reading it first."""

        def attempt(order: Order) -> Order:
            if order.status == S.REJECTED:
                raise InvalidOrder(_last_reason(order))
            if self._done(order, S.VALIDATED):
                return order
            customer, products = self._customer_and_products(order.customer_id, [li.sku for li in order.lines])
            problems = [f"unknown SKU {li.sku}" for li in order.lines if li.sku not in products]
            problems += [f"SKU {li.sku} is no longer sold" for li in order.lines
                         if li.sku in products and not products[li.sku].active]
            if customer is None:
                problems.append(f"unknown customer {order.customer_id}")
            if problems:
                self._reject(order, "; ".join(problems))
                raise InvalidOrder("; ".join(problems), {"problems": problems})
            write, after = self.orders.transition(order, S.VALIDATED)  # submit's deadline holds (IN_WORKFLOW)
            self.store.commit([write])
            return after

        return self._race(order_id, attempt, known=known)

    def check_credit(self, order_id: str, known: Order | None = None) -> Order:
        def attempt(order: Order) -> Order:
            if order.status == S.REJECTED:
                raise CreditDenied(_last_reason(order))
            if self._done(order, S.CREDIT_APPROVED):
                return order
            self._expect(order, S.VALIDATED)
            write, after = self.orders.transition(order, S.CREDIT_APPROVED, reason=f"{order.total:.2f} held on credit")
            try:
                self.store.commit([write, self.customers.hold_credit(order.customer_id, order.total)])
            except ConditionFailed as failure:
                if failure.failed(0):
                    raise
                customer = self._found(self.customers.get(order.customer_id), f"customer {order.customer_id}")
                reason = (f"credit limit exceeded: order total {order.total}, credit available "
                          f"{customer.credit_available} of {customer.credit_limit}")
                self._reject(order, reason)
                raise CreditDenied(reason) from None
            return after

        return self._race(order_id, attempt, known=known)

    def compensate(self, order_id: str, error: dict[str, Any] | None) -> Order:
        """Give back whatever the order holds and mark it FAILED. Shipped goods are not recalled. The
        timeline, which the customer sees, names the error only: Step Functions' ``Cause`` (an exception's
        text, perhaps a stack trace) goes to the logs (``workflow_step``), never onto the order."""
        name = str((error or {}).get("Error") or "an unexpected error")[:100]
        reason = f"a step failed ({name}); every hold was given back"

        def attempt(order: Order) -> Order:
            if order.status in TERMINAL or order.status in (S.SHIPPED, S.PARTIALLY_SHIPPED):
                return order
            return self._give_back(order, S.FAILED, reason, by="workflow")

        return self._announce_released(self._race(order_id, attempt))

    # ------------------------------------------------------------------ shared rules
    def _workflow_deadline(self) -> str:
        """By when the order workflow must have reserved or backordered an order it holds."""
        return deadline_in(self.settings.workflow_timeout_seconds)

    def _customer_and_products(self, customer_id: str, skus: list[str]) -> tuple[Customer | None, dict[str, Product]]:
        """The customer (None if unknown) and the products found of ``skus``, in one BatchGetItem."""
        customer, products = self.store.read_together(self.customers.read(customer_id), self.products.read_many(skus))
        return customer, products

    def _give_back(self, order: Order, target: OrderStatus, reason: str, by: str) -> Order:
        """One transaction: the order moves to ``target`` and every hold it has is released."""
        closed = [r.model_copy(update={"state": "cancelled"}) if r.open else r for r in order.shipments]
        write, after = self.orders.transition(
            order, target, reason=reason, by=by,
            extra={"shipments": order.packed_shipments(closed), "allocations": {}} if order.shipments else None)
        writes: list[Change] = [write]
        if order.status in HOLDS_CREDIT:
            writes.append(self.customers.release_credit(order.customer_id, order.total))
        if order.status in HOLDS_STOCK:
            writes += [self.stock.release(units, location) for location, units in order.held()]
            writes += [self.shipments.move(r.shipment_id, r.location_id, H.CANCELLED, by=by, reason=reason)
                       for r in order.open_shipments()]
        if order.status in COUNTS_AS_BACKORDERED:
            writes += [self.stock.unwait(line.sku, order.order_id, order.created_at) for line in order.lines]
        elif order.status == S.PARTIALLY_RESERVED:
            writes += [self.stock.unwait(sku, order.order_id, order.created_at) for sku in order.backordered]
        self.store.commit(writes)
        return after

    def _announce_released(self, order: Order) -> Order:
        """Stock that a cancelled or failed order gave back when it left RESERVED serves backorders like a
        receipt: its SKUs are announced (``stock_arrived``). Also when the give-back is replayed (a retried
        cancel or compensation finds it done), so a retry finishes an announcement that failed."""
        left = order.timeline[-2].status if len(order.timeline) >= 2 else None
        if order.status in (S.CANCELLED, S.FAILED) and left in HOLDS_STOCK:
            self.arrivals.announce(sorted({line.sku for line in order.lines}))
        return order

    def _reject(self, order: Order, reason: str) -> None:
        write, _ = self.orders.transition(order, S.REJECTED, reason=reason)
        self.store.commit([write])

    def _race(self, order_id: str, attempt: Callable[[Order], T], missing: type[Exception] = InvalidOrder,
              known: Order | None = None) -> T:
        """Run ``attempt`` on a fresh read of the order until its conditional writes land. ``known`` (the order
        as the previous workflow step left it) is tried first, saving the read; its writes are conditional on
        its version, so a stale copy only costs one failed write and a read."""
        if known is not None:
            try:
                return attempt(known)
            except ConditionFailed as failure:
                if not failure.failed(0):
                    raise
            except Conflict:
                pass  # decided on a stale copy: decide again on the stored order
        for _ in range(RACE_ATTEMPTS):
            order = self.orders.get(order_id)
            if order is None:
                raise missing(f"order {order_id} not found")
            try:
                return attempt(order)
            except ConditionFailed as failure:
                if not failure.failed(0):
                    raise
        raise TransientError(f"order {order_id} kept changing; try again")

    @staticmethod
    def _done(order: Order, target: OrderStatus) -> bool:
        """Whether the order is already at or past ``target`` on the happy path (the step has nothing to
        do). An order the step may no longer act on stops the run: OrderCancelled for a cancelled one,
        OrderSettled for one with no way out of its status (FAILED, REJECTED)."""
        if order.status == S.CANCELLED:
            raise OrderCancelled(f"order {order.order_id} was cancelled")
        if order.status in ORDER_LIFECYCLE.final:
            raise OrderSettled(f"order {order.order_id} is {order.status.value}; {target.value} can no longer "
                               "follow, so this step changed nothing", {"status": order.status.value})
        return order.status in PROGRESS and PROGRESS[order.status] >= PROGRESS[target]

    @staticmethod
    def _expect(order: Order, *allowed: OrderStatus) -> None:
        if order.status not in allowed:
            raise Conflict(f"order {order.order_id} is {order.status.value}, expected one of "
                           f"{', '.join(a.value for a in allowed)}")

    @staticmethod
    def _found(value: T | None, what: str) -> T:
        if value is None:
            raise NotFound(f"{what} not found")
        return value


def _last_reason(order: Order) -> str:
    return next((e.reason for e in reversed(order.timeline) if e.reason), order.status.value)
