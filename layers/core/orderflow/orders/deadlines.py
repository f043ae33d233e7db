"""Deadlines: the sweep that acts on what is overdue (an order whose workflow was lost, a backorder no stock came
for, a shipment its location did not ship), giving back its holds (docs/fulfilment.md, "Cancelling, failing,
deadlines"). Part of ``OrderService`` (its base class), as ``Shipping`` is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderflow.orders.domain import Order, OrderStatus, added, cancel_shipments, overdue_shipments
from orderflow.orders.lifecycle import IN_WORKFLOW
from orderflow.shared.errors import NotFound
from orderflow.shared.types import utc_now

S = OrderStatus
_SHIPMENTS_DUE = frozenset({S.RESERVED, S.PARTIALLY_RESERVED, S.PARTIALLY_SHIPPED})  # their deadline is a shipment's


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
        for statuses, reason in overdue.items():
            while order_ids := self.orders.overdue(min(statuses), now):
                before = len(changed)
                for order_id in order_ids:

                    def attempt(order: Order, statuses: frozenset[OrderStatus] = statuses,
                                reason: str = reason) -> Order | None:
                        if order.status not in statuses or not order.deadline or order.deadline > now:
                            return None
                        return self._expire(order, now, reason)

                    if (expired := self._race(order_id, attempt, missing=NotFound)) is not None:
                        changed.append(self._announce_released(expired))
                if len(order_ids) < 100 or len(changed) == before:  # a short page, or one the index lags on
                    break
        return changed

    def _expire(self, order: Order, now: str, reason: str) -> Order | None:
        """Fail the overdue ``order``, or cancel only its late shipments when something else of it goes on."""
        if order.status not in _SHIPMENTS_DUE:
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


def duration(seconds: int) -> str:
    """A deadline as a person reads it on the timeline: whole days, else whole minutes, else seconds."""
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return f"{days} days"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} minutes" if minutes and not rest else f"{seconds} seconds"
