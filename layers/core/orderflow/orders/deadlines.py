"""Deadlines: the sweep that fails what is overdue (an order whose workflow was lost, a backorder no stock came
for, a reservation the warehouse did not ship), giving back its holds (docs/fulfilment.md, Deadlines). Part of
``OrderService`` (its base class), as ``Shipping`` is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderflow.orders.domain import Order, OrderStatus
from orderflow.shared.errors import NotFound
from orderflow.shared.types import utc_now

S = OrderStatus


class Deadlines:
    """``expire_overdue`` (``OrderService`` provides the ports, ``_race``, ``_give_back``, ``_announce_released``)."""

    def expire_overdue(self, now: str | None = None) -> list[Order]:
        """Fail every order past its deadline, giving back its holds: orders whose workflow execution was
        lost before it reserved or backordered them (an Express execution lives at most five minutes; the
        deadline is longer), backorders no stock came for, and reservations the warehouse did not ship. An
        order that moved on meanwhile is left alone."""
        now = now or utc_now()
        lost = f"its workflow did not finish within {duration(self.settings.workflow_timeout_seconds)}"
        overdue = {S.PENDING: lost, S.VALIDATED: lost, S.CREDIT_APPROVED: lost,
                   S.BACKORDERED: f"no stock came within {duration(self.settings.backorder_timeout_seconds)}",
                   S.RESERVED: f"not shipped within {duration(self.settings.fulfilment_timeout_seconds)}",
                   S.PARTIALLY_RESERVED: f"not shipped within {duration(self.settings.fulfilment_timeout_seconds)}"}
        failed: list[Order] = []
        for status, reason in overdue.items():
            while order_ids := self.orders.overdue(status, now):
                before = len(failed)
                for order_id in order_ids:

                    def attempt(order: Order, status: OrderStatus = status, reason: str = reason) -> Order | None:
                        if order.status != status or not order.deadline or order.deadline > now:
                            return None
                        return self._give_back(order, S.FAILED, reason, by="deadline")

                    if (expired := self._race(order_id, attempt, missing=NotFound)) is not None:
                        failed.append(self._announce_released(expired))
                if len(order_ids) < 100 or len(failed) == before:  # a short page, or one the index lags on
                    break
        return failed


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
