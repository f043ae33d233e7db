"""Reserving an order: sourcing its lines over the locations and holding the plan in one transaction, with a
shipment released per location; backordering what no location has, and sourcing it again when stock comes or
a partial shipment leaves units behind (docs/fulfilment.md, Sourcing and The reservation). Part of
``OrderService`` (its base class), as ``Shipping`` and ``Cancelling`` are: the same ports and race-and-retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderflow.fulfilment import FulfilmentPolicy, ShipmentStatus
from orderflow.inventory import Units
from orderflow.orders.deadlines import deadline_in
from orderflow.orders.domain import (
    MAX_TRANSACTION_ITEMS,
    Order,
    OrderStatus,
    ShipmentRef,
    earliest_deadline,
    holds_of,
    released,
)
from orderflow.shared.errors import ConditionFailed, OutOfStock, TransientError, Unprocessable
from orderflow.shared.types import utc_now

if TYPE_CHECKING:
    from orderflow.fulfilment import Candidate, Plan
    from orderflow.shared.ports import Change

S, H = OrderStatus, ShipmentStatus
SOURCING_ATTEMPTS = 3  # plans made again when another order took a location's stock first
BUCKET_ATTEMPTS = 8  # reservations tried again on another bucket of a hot SKU (docs/scale.md)


class Reserving:
    """``reserve`` and ``await_stock``, the workflow's stock steps (``OrderService`` provides the ports, ``_race``,
    ``_done`` and ``_expect``)."""

    def reserve(self, order_id: str, known: Order | None = None) -> Order:
        """Reserve every line in one transaction, or none (then OutOfStock sends the order to backorder), and
        release one shipment per location to it in the same transaction. Where from is sourcing's choice
        (``orderflow.fulfilment.sourcing``); a plan that loses a race for a location's stock is made again on
        fresh levels, a few times. A ship_available order takes what is in stock when some is (PARTIALLY_RESERVED,
        the rest waits for stock). Woken for a partially reserved or shipped order, it sources what is left."""

        def attempt(order: Order) -> Order:
            if order.status in (S.PARTIALLY_SHIPPED, S.PARTIALLY_RESERVED) and order.backordered:
                return self._source_backordered(order.order_id, known=order)
            if self._done(order, S.RESERVED):
                return order
            self._expect(order, S.CREDIT_APPROVED, S.BACKORDERED)
            locations = self.locations.active()
            tries = bucket_tries = 0
            while tries < SOURCING_ATTEMPTS:
                sourced = self._source(order, locations)
                if not sourced.allocations:
                    short = sorted(sourced.backordered)
                    raise OutOfStock(f"not enough stock for {', '.join(short)}", {"skus": short})
                deadline = deadline_in(self.settings.fulfilment_timeout_seconds)
                refs = released(order, sourced.allocations, deadline)
                write, after = self.orders.transition(
                    order, S.RESERVED if sourced.complete else S.PARTIALLY_RESERVED,
                    reason=sourced.why if len(sourced.allocations) > 1 or not sourced.complete else None,
                    extra={"deadline": deadline,
                           "allocations": sourced.allocations, "shipments": order.packed_shipments(refs),
                           "backordered": dict(sourced.backordered)})
                holds, writes = self._holding(order, refs)
                writes.insert(0, write)
                writes += self._waits(order, sourced.backordered,
                                      waiting=[li.sku for li in order.lines] if order.status == S.BACKORDERED else [])
                try:
                    self._commit_bounded(writes, order)
                except ConditionFailed as failure:
                    if failure.failed(0):
                        raise
                    failed = _failed_holds(failure, holds)
                    if bucket_tries < BUCKET_ATTEMPTS and self.stock.retry_buckets(failed):
                        bucket_tries += 1
                        continue  # a hot SKU's bucket was short or unknown: another bucket (docs/scale.md)
                    short = sorted({sku for sku, *_ in failed})
                    if not self._reads_levels(order, locations):
                        raise OutOfStock(f"not enough stock for {', '.join(short)}", {"skus": short}) from None
                    tries += 1
                    continue  # another order took stock a location had: source again on fresh levels
                return after
            raise OutOfStock("the stock this order could be sourced from kept being taken by other orders")

        return self._race(order_id, attempt, known=known)

    def _waits(self, order: Order, short: dict[str, int], waiting: list[str]) -> list[Change]:
        """The writes that leave the order waiting for ``short`` (SKU → units) and no longer for the other
        SKUs it was ``waiting`` on."""
        writes = [self.stock.wait(Units(sku, units), order.order_id, order.created_at) for sku, units in short.items()]
        return writes + [self.stock.unwait(sku, order.order_id, order.created_at) for sku in waiting
                         if sku not in short]

    def _backorder_waits(self, order: Order, owed: dict[str, int]) -> list[Change]:
        """The waits of an order backordered whole, one per SKU still ``owed``. A ship_complete order is reserved
        whole or not at all, so each wait names the other SKUs it needs with it (``together``), and an arrival
        wakes it only when those are in stock too; a ship_available order takes what there is: any arrival helps."""
        owed = {sku: units for sku, units in owed.items() if units}
        whole = order.fulfilment_policy != FulfilmentPolicy.SHIP_AVAILABLE
        return [self.stock.wait(Units(sku, units), order.order_id, order.created_at,
                                together={other: n for other, n in owed.items() if other != sku} if whole else None)
                for sku, units in owed.items()]

    def _holding(self, order: Order, refs: list[ShipmentRef]) -> tuple[list[tuple[str, Units]], list[Change]]:
        """The holds of new shipments ``refs`` (location, units), and the writes that take them and release
        the shipments to their locations (the holds first, in that order)."""
        from orderflow.fulfilment import Shipment, ShipmentLine  # loaded by the first reservation, not at init

        now = utc_now()
        holds = [(ref.location_id, Units(sku, units)) for ref in refs for sku, units in ref.lines.items()]
        writes: list[Change] = [self.stock.reserve(units, location) for location, units in holds]
        writes += [self.shipments.release(Shipment(
            shipment_id=ref.shipment_id, order_id=order.order_id, customer_id=order.customer_id,
            location_id=ref.location_id, lines=[ShipmentLine(sku=sku, quantity=q) for sku, q in ref.lines.items()],
            status=H.RELEASED, address=order.shipping_address, ship_by=ref.deadline, created_at=now, updated_at=now,
            timeline=[{"status": H.RELEASED, "at": now, "by": "workflow",
                       "reason": f"allocated to {ref.location_id} for order {order.order_id}"}])) for ref in refs]
        return holds, writes

    def _commit_bounded(self, writes: list[Change], order: Order) -> None:
        """Commit, or refuse a plan DynamoDB could not take in one transaction (Unprocessable: the step
        fails and the order is FAILED with the reason, nothing held)."""
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise Unprocessable(f"order {order.order_id}: this split would take {len(writes)} writes in one "
                                f"transaction, more than DynamoDB's {MAX_TRANSACTION_ITEMS}",
                                {"writes": len(writes), "max": MAX_TRANSACTION_ITEMS})
        self.store.commit(writes)

    def _source_backordered(self, order_id: str, avoid: str | None = None, known: Order | None = None) -> Order:
        """Source the units a partial shipment left (``order.backordered``) again: from other locations first
        (``avoid``, the one that shipped short, ranks last), what none has waits for stock (a ``WAIT`` per
        SKU, where a receipt finds it and wakes the order at Reserve). One transaction: the order, the holds,
        the new shipments, and the waits. A partially reserved order is RESERVED once nothing waits."""

        from orderflow.fulfilment import plan

        def attempt(order: Order) -> Order:
            if order.status not in (S.PARTIALLY_SHIPPED, S.PARTIALLY_RESERVED) or not order.backordered:
                return order
            locations = [c._replace(priority=10**6) if c.location_id == avoid else c for c in self.locations.active()]
            levels = self.stock.levels(list(order.backordered), [c.location_id for c in locations])
            sourced = plan(order.backordered, locations, {key: level.available for key, level in levels.items()},
                           ship_to=order.shipping_address.country if order.shipping_address else None,
                           policy=FulfilmentPolicy.SHIP_AVAILABLE)
            waits = self._waits(order, sourced.backordered, waiting=list(order.backordered))
            if not sourced.allocations:
                self.store.commit(waits)  # nothing to take now: the waits alone (a repeat rewrites the same)
                return order
            refs = released(order, sourced.allocations, deadline_in(self.settings.fulfilment_timeout_seconds))
            shipments = [*order.shipments, *refs]
            # The new shipments have the usual time to ship; the order's deadline is its earliest open shipment's.
            extra: dict[str, Any] = {"shipments": order.packed_shipments(shipments),
                                     "allocations": holds_of(shipments), "backordered": dict(sourced.backordered),
                                     "deadline": earliest_deadline(shipments, legacy=order.deadline)}
            if order.status == S.PARTIALLY_SHIPPED:
                target, reason = S.PARTIALLY_SHIPPED, f"the units not sent were sourced again: {sourced.why}"
            else:
                target = S.PARTIALLY_RESERVED if sourced.backordered else S.RESERVED
                reason = f"stock came for the backordered units: {sourced.why}"
            write, after = self.orders.transition(order, target, reason=reason, extra=extra)
            for _ in range(BUCKET_ATTEMPTS):
                holds, writes = self._holding(order, refs)
                try:
                    self._commit_bounded([write, *writes, *waits], order)
                except ConditionFailed as failure:  # a hot SKU's bucket short or unknown: another (docs/scale.md)
                    if failure.failed(0) or not self.stock.retry_buckets(_failed_holds(failure, holds)):
                        raise
                    continue
                return after
            raise TransientError(f"order {order.order_id}: the buckets of its SKUs kept changing; try again")

        return self._race(order_id, attempt, known=known)

    def _source(self, order: Order, locations: list[Candidate]) -> Plan:
        """The sourcing plan. With one location and ship_complete there is nothing to choose: the reservation's
        conditions check its stock, and no read is spent on it. ship_available reads the levels to know
        what part it can take."""
        from orderflow.fulfilment import Plan, plan

        lines = {sku: units for sku, units in order.owed().items() if units}  # less what was cancelled
        if not self._reads_levels(order, locations):
            return Plan({locations[0].location_id: lines}, {}, why=f"the only location: {locations[0].location_id}")
        levels = self.stock.levels(list(lines), [c.location_id for c in locations])
        available = {key: level.available for key, level in levels.items()}
        ship_to = order.shipping_address.country if order.shipping_address else None
        return plan(lines, locations, available, ship_to=ship_to, policy=order.fulfilment_policy)

    @staticmethod
    def _reads_levels(order: Order, locations: list[Candidate]) -> bool:
        return len(locations) > 1 or order.fulfilment_policy == FulfilmentPolicy.SHIP_AVAILABLE

    def await_stock(self, order_id: str, known: Order | None = None) -> Order:
        """Backorder the order: count its lines as backordered and register it as waiting on each SKU,
        where the receipt that covers it will find it. If stock came in meanwhile (or Reserve gave up on
        contention), reserve now; if that is contended too, wake the order as a receipt would, in a new
        execution (with fresh retries), rather than leave it waiting beside the stock."""

        def attempt(order: Order) -> Order:
            if self._done(order, S.RESERVED) or order.status == S.PARTIALLY_RESERVED:
                return order  # reserved (in part) meanwhile by another execution
            self._expect(order, S.CREDIT_APPROVED, S.BACKORDERED)
            if order.status == S.BACKORDERED:  # a retry, or a wake-up that found stock short again
                return order
            write, after = self.orders.transition(
                order, S.BACKORDERED, reason="waiting for stock",
                extra={"deadline": deadline_in(self.settings.backorder_timeout_seconds)})
            self.store.commit([write, *self._backorder_waits(order, order.owed())])
            return after

        backordered = self._race(order_id, attempt, known=known)
        if backordered.status != S.BACKORDERED:
            return backordered
        owed = {sku: units for sku, units in backordered.owed().items() if units}
        available = self.stock.available(list(owed))  # strongly consistent: a receipt stored before the waits
        if all(available[sku] >= units for sku, units in owed.items()):
            try:
                return self.reserve(order_id)
            except OutOfStock:
                pass  # another order took it first; the next receipt wakes this one
            except TransientError:  # other orders are at the stock now: try this one again in a new execution
                self.workflow.wake(order_id, next(iter(owed)))
        return backordered


def _failed_holds(failure: ConditionFailed, holds: list[tuple[str, Units]]) -> list[tuple[str, str, int, Any]]:
    """(sku, location, units, the item as it was) of each hold whose condition failed; the holds follow the
    order's own write in the transaction."""
    return [(units.sku, location, units.quantity, failure.items.get(i))
            for i, (location, units) in enumerate(holds, start=1) if failure.failed(i)]
