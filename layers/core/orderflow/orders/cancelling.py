"""Cancelling some units of an order before they ship (``POST /orders/{id}/cancel`` with ``lines``): their holds
go back at the locations that held them, the shipments that held them shrink or are cancelled, what waited for
stock no longer waits, and the customer's credit gets back their value. Part of ``OrderService`` (its base
class), as ``Shipping`` is: one transaction, through the same ports and race-and-retry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orderflow.fulfilment import ShipmentStatus
from orderflow.inventory import Units
from orderflow.orders.domain import (
    BEFORE_RESERVATION,
    LinesCancelled,
    Order,
    OrderStatus,
    added,
    cancel_units,
    cancellable,
    earliest_deadline,
    holds_of,
)
from orderflow.orders.lifecycle import HOLDS_CREDIT
from orderflow.shared.errors import Conflict, NotFound, Unprocessable

if TYPE_CHECKING:
    from orderflow.shared.ports import Change

S, H = OrderStatus, ShipmentStatus
# Where some units can be cancelled and the rest go on: every order whose units have not all shipped. Before the
# reservation (and while backordered whole) nothing is held for them: what is owed shrinks, and the reservation
# that follows (a version-conditioned write, as the cancel is) holds only what is still owed.
IN_PART = frozenset({S.RESERVED, S.PARTIALLY_RESERVED, S.PARTIALLY_SHIPPED}) | BEFORE_RESERVATION
MAX_CANCEL_KEYS = 20  # retried part-cancels an order remembers (a request's key is checked against them)


class Cancelling:
    """``cancel_lines`` (``OrderService`` provides the ports, ``_race``, ``cancel``, ``_announce_released`` and
    ``_backorder_waits``)."""

    def cancel_lines(self, order_id: str, units: dict[str, int], reason: str, key: str, by: str = "customer"
                     ) -> Order:
        """Cancel ``units`` (SKU → units) of the order. Unknown SKUs are a 422, more than can be cancelled (or an
        order that cannot be cancelled in part now) a 409, and nothing changes; a retry with the same ``key``
        changes nothing twice. Cancelling everything not shipped of an order none of which shipped cancels it."""

        def attempt(order: Order) -> Order:
            if key in order.cancel_keys or order.status == S.CANCELLED:
                return order  # a retry (of a request that cancelled what was left, too): done already
            if unknown := sorted(set(units) - {li.sku for li in order.lines}):
                raise Unprocessable("these SKUs are not on the order", {"unknown_skus": unknown})
            if order.status not in IN_PART:
                raise Conflict(f"order {order_id} is {order.status.value}: its units have all shipped, or it is "
                               "closed; nothing of it can be cancelled", {"status": order.status.value})
            open_ = cancellable(order)
            if too_many := {sku: open_.get(sku, 0) for sku, n in units.items() if n > open_.get(sku, 0)}:
                raise Conflict("more units than can still be cancelled (not shipped, not cancelled)",
                               {"cancellable": too_many})
            if not order.shipped() and open_ == {sku: n for sku, n in units.items() if n}:
                return self._give_back(order, S.CANCELLED, reason, by=by)  # nothing would be left
            change = cancel_units(order, units) if order.shipments else LinesCancelled({}, [], [], [])
            return self._cancel_some(order, change, units, reason, key, by=by)

        return self._announce_released(self._race(order_id, attempt, missing=NotFound))

    def _cancel_some(self, order: Order, change: LinesCancelled, units: dict[str, int], reason: str, key: str | None,
                     by: str = "customer") -> Order:
        """Commit ``change``, the cancelling of ``units`` (SKU → units) of the order: one transaction of the order,
        the customer's credit, the holds released, the shipments that shrink or go, and the waits touched."""
        value = sum((li.unit_price * units.get(li.sku, 0) for li in order.lines), Decimal(0))
        cancelled = added(order.cancelled, units)
        owed = {li.sku: li.quantity - cancelled.get(li.sku, 0) for li in order.lines}
        shipped = order.shipped()
        after_shipments = change.shipments
        if shipped:
            left = any(shipped.get(sku, 0) < n for sku, n in owed.items())
            delivered = all(r.state in ("delivered", "cancelled") for r in after_shipments)
            target = S.PARTIALLY_SHIPPED if left else S.DELIVERED if delivered else S.SHIPPED
        elif order.status in BEFORE_RESERVATION:
            target = order.status  # what is owed shrinks; the workflow goes on with the rest
        else:
            target = S.PARTIALLY_RESERVED if change.backordered else S.RESERVED
        text = ", ".join(f"{n} × {sku}" for sku, n in units.items() if n)
        extra: dict[str, Any] = {
            "shipments": order.packed_shipments(after_shipments), "allocations": holds_of(after_shipments),
            "backordered": change.backordered, "cancelled": cancelled, "total": order.total - value}
        if key is not None:
            extra["cancel_keys"] = [*order.cancel_keys, key][-MAX_CANCEL_KEYS:]
        deadline = earliest_deadline(after_shipments, legacy=order.deadline)
        if deadline is None and target in {S.RESERVED, S.PARTIALLY_RESERVED, *BEFORE_RESERVATION}:
            deadline = order.deadline  # nothing open: the workflow's, or the wait for stock's, deadline stays
        if deadline:
            extra["deadline"] = deadline
        write, after = self.orders.transition(order, target, reason=f"cancelled {text}: {reason}", by=by,
                                              extra=extra)
        writes: list[Change] = [write]
        if order.status in HOLDS_CREDIT:  # before the credit check, the smaller total is what it will hold
            writes.append(self.customers.release_credit(order.customer_id, value))
        writes += [self.stock.release(held, location) for location, held in change.released]
        before = {r.shipment_id: r for r in order.shipments}
        for ref in change.changed:
            if ref.state == "cancelled":
                writes.append(self.shipments.move(ref.shipment_id, ref.location_id, H.CANCELLED, by=by,
                                                  reason=f"its units were cancelled: {reason}"))
            else:
                gone = {sku: n - ref.lines.get(sku, 0) for sku, n in before[ref.shipment_id].lines.items()
                        if n > ref.lines.get(sku, 0)}
                writes.append(self.shipments.shrink(ref.shipment_id, ref.lines, gone))
        if order.status == S.BACKORDERED:  # it waits for every unit still owed, each wait naming the others
            writes += self._backorder_waits(order, owed)
            writes += [self.stock.unwait(sku, order.order_id, order.created_at) for sku in units
                       if units[sku] and not owed[sku]]
        for sku in units:
            if sku in order.backordered and change.backordered.get(sku, 0) != order.backordered[sku]:
                writes.append(self.stock.wait(Units(sku, change.backordered[sku]), order.order_id, order.created_at)
                              if change.backordered.get(sku) else
                              self.stock.unwait(sku, order.order_id, order.created_at))
        self.store.commit(writes)
        self.arrivals.announce(sorted({held.sku for _, held in change.released}))  # freed stock serves backorders
        return after
