"""Deadlines: the sweep that acts on what is overdue (an order whose workflow was lost, a backorder no stock came
for, a shipment its location did not ship), giving back its holds (docs/fulfilment.md, "Cancelling, failing,
deadlines"). Part of ``OrderService`` (its base class), as ``Shipping`` is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderflow.orders.domain import Order, OrderStatus, added, cancel_shipments, overdue_shipments
from orderflow.orders.lifecycle import IN_WORKFLOW, SHIPMENTS_DUE
from orderflow.shared.errors import NotFound
from orderflow.shared.types import utc_now

S = OrderStatus


class Deadlines:
    """``expire_overdue`` (``OrderService`` provides the ports, ``_race``, ``_give_back``, ``_cancel_some`` and
    ``_announce_released``)."""

    def expire_overdue(self, now: str | None = None) -> list[Order]:
        """Act on every order past its deadline, giving back what it holds, and answer the orders changed. An
        order whose workflow execution was lost before it reserved or backordered it (an Express execution lives
        at most five minutes; the deadline is longer), or a backorder no stock came for, fails. A shipment its
        location did not ship in time is cancelled, and its units with it (holds back where they were, credit
        back in proportion), while the rest of the order goes on; an order with nothing left to go on (nothing
        shipped, every open shipment late) fails whole. An order that moved on meanwhile is left alone."""
        now = now or utc_now()
        lost = f"its workflow did not finish within {duration(self.settings.workflow_timeout_seconds)}"
        unshipped = f"not shipped within {duration(self.settings.fulfilment_timeout_seconds)}"
        # The workflow's statuses share one deadline and one query (IN_WORKFLOW).
        no_stock = f"no stock came within {duration(self.settings.backorder_timeout_seconds)}"
        overdue = {IN_WORKFLOW: lost, frozenset({S.BACKORDERED}): no_stock,
                   frozenset({S.RESERVED}): unshipped, frozenset({S.PARTIALLY_RESERVED}): unshipped,
                   frozenset({S.PARTIALLY_SHIPPED}): unshipped}
        changed: list[Order] = []
        for statuses, reason in overdue.items():  # the shipments' statuses for orders indexed before (``indexed``)
            while order_ids := self.orders.overdue(min(statuses), now):
                before = len(changed)
                changed += self._expire_each(order_ids, statuses, reason, now)
                if len(order_ids) < 100 or len(changed) == before:  # a short page, or one the index lags on
                    break
        # An order whose deadline is its shipments' is found from its late shipments, at every location (an
        # inactive one may still hold open shipments). A shipment is due its fulfilment timeout after its release:
        # the ones released since then are not read (an hour's margin for the clock between the two stamps).
        released_before = shifted(now, hours=1, seconds=-self.settings.fulfilment_timeout_seconds)
        late = dict.fromkeys(order_id for location_id in self.locations.ids()
                             for order_id in self.shipments.late(location_id, now, released_before))
        done = {o.order_id for o in changed}
        return changed + self._expire_each([i for i in late if i not in done], SHIPMENTS_DUE, unshipped, now)

    def _expire_each(self, order_ids: list[str], statuses: frozenset[OrderStatus], reason: str, now: str
                     ) -> list[Order]:
        """Expire each of ``order_ids`` still in one of ``statuses`` and past its deadline at ``now``."""

        def attempt(order: Order) -> Order | None:
            if order.status not in statuses or not order.deadline or order.deadline > now:
                return None
            return self._expire(order, now, reason)

        return [self._announce_released(expired) for order_id in order_ids
                if (expired := self._race(order_id, attempt, missing=NotFound)) is not None]

    def _expire(self, order: Order, now: str, reason: str) -> Order | None:
        """Fail the overdue ``order``, or cancel only its late shipments when something else of it goes on."""
        if order.status not in SHIPMENTS_DUE:
            return self._give_back(order, S.FAILED, reason, by="deadline")
        late = overdue_shipments(order, now)
        if not order.shipped() and len(late) == len(order.open_shipments()):
            return self._give_back(order, S.FAILED, reason, by="deadline")  # as an order nothing of which went on
        if not late:
            return None
        units: dict[str, int] = {}
        for ref in late:
            units = added(units, ref.lines)
        why = f"{', '.join(ref.shipment_id for ref in late)} {reason}"
        return self._cancel_some(order, cancel_shipments(order, {ref.shipment_id for ref in late}), units, why,
                                 key=None, by="deadline")


def deadline_in(seconds: int) -> str:
    """The timestamp ``seconds`` from now, in the orders' own format (so deadlines sort as strings)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shifted(at: str, **delta: float) -> str:
    """The timestamp ``at`` (the orders' format) moved by ``delta`` (``timedelta``'s arguments), in that format."""
    try:
        moved = datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(**delta)
    except OverflowError:  # past year 9999 (a test's "the end of time")
        return "9999-12-31T23:59:59.999Z"
    return moved.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(seconds: int) -> str:
    """A deadline as a person reads it on the timeline: whole days, else whole minutes, else seconds."""
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return f"{days} days"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} minutes" if minutes and not rest else f"{seconds} seconds"
