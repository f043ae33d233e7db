"""The order service's shipping side: a location ships its shipment (all or part) and the carrier delivers
it; the order's status follows from its shipments (docs/fulfilment.md, Shipments). Part of ``OrderService``
(its base class), in a module of its own: each use case here commits one transaction of the order, the
shipment and the stock, through the same ports and the same race-and-retry as the rest of the service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orderflow.fulfilment import ShipmentStatus
from orderflow.inventory import Units, by_sku
from orderflow.orders.domain import Order, OrderStatus, ShipmentRef, added, earliest_deadline, holds_of
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, Unprocessable
from orderflow.shared.types import utc_now

if TYPE_CHECKING:
    from orderflow.fulfilment import Shipment
    from orderflow.orders.requests import ShipIn

S, H = OrderStatus, ShipmentStatus
_SHIPPED_OR_PAST = frozenset({S.SHIPPED, S.DELIVERED, S.RETURN_REQUESTED, S.RETURNED})


class Shipping:
    """Ship and deliver, by shipment or by order (``OrderService`` provides the ports, ``_race``, ``_found``
    and ``_source_backordered``)."""

    def shipments_of(self, order: Order) -> list[Shipment]:
        """The order's shipments as stored (one BatchGetItem), oldest first."""
        if not order.shipments:
            return []
        (found,) = self.store.read_together(self.shipments.read_many([ref.shipment_id for ref in order.shipments]))
        return found

    def ship(self, order_id: str, request: ShipIn) -> Order:
        """``POST /orders/{id}/ship``: ships the order's one open shipment (409 naming its shipments when it
        has several, or none left to ship)."""
        order = self.get_order(order_id)
        if not order.shipments:
            return self._ship_whole(order_id, request)
        shipped = self._race(order_id, lambda o: self._ship_attempt(o, self._only_open(o, "ship"), request),
                             missing=NotFound, known=order)
        return self._resource_rest(shipped, order.open_shipments())

    def ship_shipment(self, shipment_id: str, request: ShipIn) -> tuple[Order, Shipment]:
        """The location sent the shipment (or part of it: ``request.lines``). In one transaction: the shipment
        is SHIPPED, its units leave that location's stock (the hold of what did not leave is released
        there), and the order's status follows from its shipments; the demand counter adds the units to the
        demand history of that location from the shipments stream.
        What did not leave is sourced again, elsewhere first, or waits for stock. A retry changes nothing
        twice."""
        shipment = self._shipment(shipment_id)
        order = self._race(shipment.order_id, lambda o: self._ship_attempt(o, shipment_id, request), missing=NotFound)
        return self._resource_rest(order, [shipment]), self._shipment(shipment_id)

    def _resource_rest(self, order: Order, sent: list[Any]) -> Order:
        """What a partial shipment left goes back to sourcing; also on a retry, which so finishes a
        re-sourcing that failed after the shipment landed."""
        if not order.backordered or order.status != S.PARTIALLY_SHIPPED:
            return order
        return self._source_backordered(order.order_id, avoid=sent[0].location_id if len(sent) == 1 else None)

    def _ship_attempt(self, order: Order, shipment_id: str | None, request: ShipIn) -> Order:
        if shipment_id is None:
            return order  # nothing open and everything shipped: a retried order-level ship
        ref = self._ref(order, shipment_id)
        if ref.state == "cancelled":
            raise Conflict(f"shipment {shipment_id} was cancelled ({order.status.value} order); it cannot ship",
                           {"shipment_id": shipment_id, "state": ref.state, "status": order.status.value})
        if not ref.open:
            return order  # it left already: a retry
        lines = {line.sku: line.quantity for line in request.lines} if request.lines is not None else dict(ref.lines)
        if problems := {sku: f"shipment {shipment_id} holds {ref.lines.get(sku, 0)}"
                        for sku, units in lines.items() if units > ref.lines.get(sku, 0)}:
            raise Unprocessable("a shipment can only send the units released to it", {"lines": problems})
        unshipped = {sku: units - lines.get(sku, 0) for sku, units in ref.lines.items() if units > lines.get(sku, 0)}
        partial = {sku: units for sku, units in lines.items() if units} if unshipped else None
        shipments = [r.model_copy(update={"state": "shipped", "shipped": partial}) if r.shipment_id == shipment_id
                     else r for r in order.shipments]
        shipped = added(order.shipped(), lines)
        complete = all(shipped.get(sku, 0) >= units for sku, units in order.owed().items())
        now = utc_now()
        reason = f"shipped from {ref.location_id}" + _carrier_text(request)
        if unshipped:
            units = sum(unshipped.values())
            reason += f"; {units} {'unit' if units == 1 else 'units'} not sent: back to sourcing"
        extra = {"shipments": order.packed_shipments(shipments), "allocations": holds_of(shipments),
                 "backordered": added(order.backordered, unshipped),
                 "shipment": {**request.model_dump(exclude_none=True, exclude={"lines"}), "shipped_at": now}}
        if not complete and (deadline := earliest_deadline(shipments, legacy=order.deadline)):
            extra["deadline"] = deadline  # the shipments still open keep theirs
        write, after = self.orders.transition(
            order, S.SHIPPED if complete else S.PARTIALLY_SHIPPED, by="warehouse", reason=reason, at=now, extra=extra)
        sent = {"shipped": [{"sku": sku, "quantity": units} for sku, units in lines.items() if units],
                **request.model_dump(exclude_none=True, exclude={"lines"})}
        # demand is counted from the shipments stream (functions/count_demand), not in this transaction: a
        # SKU's demand item would be written by every parcel of it
        self.store.commit([
            write,
            self.shipments.move(shipment_id, ref.location_id, H.SHIPPED, by="warehouse", reason=reason, extra=sent),
            *(self.stock.ship(Units(sku, lines.get(sku, 0)), ref.location_id, unshipped=unshipped.get(sku, 0))
              for sku in ref.lines)])
        return after

    def deliver(self, order_id: str) -> Order:
        """``POST /orders/{id}/deliver``: delivers the order's one shipment on its way (409 naming its
        shipments when it has several)."""
        order = self.get_order(order_id)
        if not order.shipments:
            return self._deliver_whole(order_id)
        return self._race(order_id, lambda o: self._deliver_attempt(o, self._only_on_the_way(o)), missing=NotFound,
                          known=order)

    def deliver_shipment(self, shipment_id: str) -> tuple[Order, Shipment]:
        """The carrier delivered the shipment: it is DELIVERED, and the order too once every unit is."""
        shipment = self._shipment(shipment_id)
        order = self._race(shipment.order_id, lambda o: self._deliver_attempt(o, shipment_id), missing=NotFound)
        return order, self._shipment(shipment_id)

    def _deliver_attempt(self, order: Order, shipment_id: str | None) -> Order:
        if shipment_id is None:
            return order
        ref = self._ref(order, shipment_id)
        if ref.state == "delivered":
            return order
        if ref.state != "shipped":
            raise Conflict(f"shipment {shipment_id} has not left its location ({ref.state}); only a shipped "
                           "shipment can be delivered", {"shipment_id": shipment_id, "state": ref.state})
        shipments = [r.model_copy(update={"state": "delivered"}) if r.shipment_id == shipment_id else r
                     for r in order.shipments]
        complete = order.status == S.SHIPPED and all(r.state in ("delivered", "cancelled") for r in shipments)
        now = utc_now()
        summary = {**(order.shipment.model_dump(exclude_none=True) if order.shipment else {}), "delivered_at": now}
        write, after = self.orders.transition(
            order, S.DELIVERED if complete else order.status, by="warehouse", at=now,
            reason=f"delivered from {ref.location_id}",
            extra={"shipments": order.packed_shipments(shipments), "shipment": summary,
                   **({"deadline": order.deadline} if order.deadline and not complete else {})})
        self.store.commit([write, self.shipments.move(shipment_id, ref.location_id, H.DELIVERED, by="warehouse")])
        return after

    def _only_open(self, order: Order, verb: str) -> str | None:
        """The one open shipment of the order; None when all have left and the order is SHIPPED or past it;
        Conflict (409, naming the shipments) otherwise."""
        open_ = order.open_shipments()
        if len(open_) == 1:
            return open_[0].shipment_id
        if not open_ and order.status in _SHIPPED_OR_PAST:
            return None
        raise Conflict(f"order {order.order_id} is {order.status.value} with {len(open_)} shipments to {verb}; "
                       f"{verb} each with "
                       f"POST /shipments/{{shipment_id}}/{verb}",
                       {"status": order.status.value, "shipments": _named(order)})

    @staticmethod
    def _only_on_the_way(order: Order) -> str | None:
        """The order's one shipment that left and is not delivered; None when the order is delivered;
        Conflict (409, naming its shipments) otherwise."""
        on_the_way = [r for r in order.shipments if r.state == "shipped"]
        if len(on_the_way) == 1 and order.status == S.SHIPPED:
            return on_the_way[0].shipment_id
        if not on_the_way and order.status in (S.DELIVERED, S.RETURN_REQUESTED, S.RETURNED):
            return None
        raise Conflict(f"order {order.order_id} is {order.status.value} with {len(on_the_way)} shipments on the "
                       "way; deliver each with POST /shipments/{shipment_id}/deliver",
                       {"status": order.status.value, "shipments": _named(order)})

    def _shipment(self, shipment_id: str) -> Shipment:
        return self._found(self.shipments.get(shipment_id), f"shipment {shipment_id}")

    @staticmethod
    def _ref(order: Order, shipment_id: str) -> ShipmentRef:
        ref = next((r for r in order.shipments if r.shipment_id == shipment_id), None)
        if ref is None:
            raise NotFound(f"shipment {shipment_id} not found on order {order.order_id}")
        return ref

    def _ship_whole(self, order_id: str, shipment: ShipIn) -> Order:
        """An order reserved before orders had shipments ships whole, as it did then."""

        def attempt(order: Order) -> Order:
            if order.status in (S.SHIPPED, S.DELIVERED):
                return order
            if order.status != S.RESERVED:
                raise Conflict(f"order {order_id} is {order.status.value}; only a RESERVED order can ship",
                               {"status": order.status.value})
            now = utc_now()
            write, after = self.orders.transition(
                order, S.SHIPPED, by="warehouse", reason=_shipment_reason(shipment),
                extra={"shipment": {**shipment.model_dump(exclude_none=True, exclude={"lines"}), "shipped_at": now}})
            day = datetime.now(UTC).date().isoformat()
            self.store.commit([write,
                      *(self.stock.ship(units, location) for location, units in order.held()),
                      *(self.demand.record_split(sku, day, shipped) for sku, shipped in by_sku(order.held()).items())])
            return after

        return self._race(order_id, attempt, missing=NotFound)

    def _deliver_whole(self, order_id: str) -> Order:
        """Delivered: the order is done; its value stays on the customer's exposure until paid.

        One UpdateItem conditional on SHIPPED, without reading the order first: delivery needs nothing
        of the order but its status. Only when that condition fails is the order read, to answer as
        before: already DELIVERED is returned unchanged, any other status is a Conflict (409)."""
        try:
            return self.orders.advance(order_id, S.SHIPPED, S.DELIVERED, by="warehouse", stamp="shipment.delivered_at")
        except ConditionFailed:
            pass

        def attempt(order: Order) -> Order:
            if order.status == S.DELIVERED:
                return order
            if order.status != S.SHIPPED:
                raise Conflict(f"order {order_id} is {order.status.value}; only a SHIPPED order can be delivered",
                               {"status": order.status.value})
            shipment = {**(order.shipment.model_dump(exclude_none=True) if order.shipment else {}),
                        "delivered_at": utc_now()}
            write, after = self.orders.transition(order, S.DELIVERED, by="warehouse", extra={"shipment": shipment})
            self.store.commit([write])
            return after

        return self._race(order_id, attempt, missing=NotFound)


def _named(order: Order) -> list[dict[str, str]]:
    """The order's shipments as a 409 names them."""
    return [{"shipment_id": r.shipment_id, "location_id": r.location_id, "state": r.state} for r in order.shipments]


def _carrier_text(request: ShipIn) -> str:
    parts = [p for p in (request.carrier, request.tracking) if p]
    return f" ({' '.join(parts)})" if parts else ""


def _shipment_reason(shipment: ShipIn) -> str | None:
    parts = [p for p in (shipment.carrier, shipment.tracking) if p]
    return "shipped " + " ".join(parts) if parts else None
