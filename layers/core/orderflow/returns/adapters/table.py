"""Returns table: one item per return (RMA), plus the writes a return makes on its order.

The order side of a return lives on the order item: ``returned`` (units returned per SKU, across
all of the order's returns) and ``open_returns`` (returns requested and not yet refunded). Both
are moved in the same transaction as the return item, under conditions that keep them true when
requests race: a return lands only if every SKU's new ``returned`` count stays within what was
delivered.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

from orderflow.orders import ORDER_LIFECYCLE, Order, OrderStatus, TimelineEntry
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.returns.domain import Return, ReturnStatus, ReturnTimelineEntry
from orderflow.returns.lifecycle import RETURN_LIFECYCLE
from orderflow.shared.errors import ConditionFailed
from orderflow.shared.types import utc_now

S = OrderStatus


class ReturnsRepository:
    def __init__(self, table: str, orders_table: str):
        self.table = table
        self.orders_table = orders_table

    # ------------------------------------------------------------------ the return item
    def get(self, return_id: str) -> Return | None:
        item = dynamo.get(self.table, {"return_id": return_id})
        return Return.model_validate(item) if item else None

    def list_by_order(self, order_id: str) -> list[Return]:
        """Every return of an order, oldest first (a Query on the ``by-order`` index, never a Scan)."""
        found: list[Return] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"IndexName": "by-order", "KeyConditionExpression": "order_id = :o",
                                      "ExpressionAttributeValues": {":o": order_id}}
            if start:
                kwargs["ExclusiveStartKey"] = start
            items, start = dynamo.query(self.table, **kwargs)
            found += [Return.model_validate(i) for i in items]
            if not start:
                return found

    def create(self, ret: Return) -> Write:
        """Store a new return; fails (item 0 of its transaction) if one with this id exists already. Its
        timeline (requested, then approved or rejected) must follow the return lifecycle."""
        passed = [entry.status for entry in ret.timeline]
        for current, following in itertools.pairwise(passed):
            RETURN_LIFECYCLE.check(current, following, f"return {ret.return_id}")
        return Write("Put", self.table, item=ret.model_dump(mode="python", exclude_none=True),
                     condition="attribute_not_exists(return_id)")

    def advance(self, ret: Return, entries: list[ReturnTimelineEntry], changes: dict[str, Any]) -> tuple[Write, Return]:
        """The write that moves ``ret`` through ``entries`` (its last status is the new one) iff nobody
        changed it since it was read, and the return as it will be once that write lands."""
        passed = [ret.status, *(e.status for e in entries)]
        for current, following in itertools.pairwise(passed):
            RETURN_LIFECYCLE.check(current, following, f"return {ret.return_id}")
        allowed, sources = RETURN_LIFECYCLE.condition(entries[0].status)
        now = utc_now()
        target = entries[-1].status
        timeline = [e.model_dump(mode="python", exclude_none=True) for e in entries]
        sets = ["#status = :target", "version = version + :one", "updated_at = :now",
                "timeline = list_append(timeline, :entries)"]
        values: dict[str, Any] = {":target": target.value, ":one": 1, ":now": now, ":entries": timeline,
                                  ":current": ret.status.value, ":version": ret.version, **sources}
        names = {"#status": "status"}
        for index, (name, value) in enumerate(changes.items()):
            names[f"#x{index}"] = name
            sets.append(f"#x{index} = :x{index}")
            values[f":x{index}"] = value
        write = Write("Update", self.table, key={"return_id": ret.return_id}, update="SET " + ", ".join(sets),
                      condition=f"{allowed} AND #status = :current AND version = :version", names=names,
                      values=values)
        after = Return.model_validate({**ret.model_dump(), **changes, "status": target, "version": ret.version + 1,
                                       "updated_at": now, "timeline": [*ret.model_dump()["timeline"], *timeline]})
        return write, after

    def link_exchange(self, return_id: str, exchange_order_id: str) -> None:
        """Remember the replacement order on the return (once; the same id again is a no-op)."""
        try:
            dynamo.apply(Write(
                "Update", self.table, key={"return_id": return_id}, update="SET exchange_order_id = :e",
                condition="attribute_exists(return_id) AND "
                          "(attribute_not_exists(exchange_order_id) OR exchange_order_id = :e)",
                values={":e": exchange_order_id}))
        except ConditionFailed:
            raise RuntimeError(f"return {return_id} is already linked to another exchange order") from None

    # ------------------------------------------------------------------ the order item
    def ensure_counters(self, order_id: str) -> None:
        """Give an order the empty ``returned`` map its per-SKU counters live in (DynamoDB cannot
        update ``returned.SKU`` under a missing map). Orders stored since returns exist have it."""
        with contextlib.suppress(ConditionFailed):
            dynamo.apply(Write("Update", self.orders_table, key={"order_id": order_id},
                               update="SET returned = :empty",
                               condition="attribute_exists(order_id) AND attribute_not_exists(returned)",
                               values={":empty": {}}))

    def order_requested(self, order: Order, ret: Return) -> Write:
        """The order side of a new return: its units are counted as returned, one more return is open,
        and the order is RETURN_REQUESTED — iff, for every SKU, the units returned so far by *any*
        return plus these stay within what was delivered (checked by DynamoDB, not by our read)."""
        delivered = {line.sku: line.quantity for line in order.lines}
        requested_by = next((e.by for e in ret.timeline if e.status == ReturnStatus.REQUESTED and e.by), "customer")
        entry = _entry(S.RETURN_REQUESTED, requested_by,  # customer service may start it for the customer
                       f"return {ret.return_id}: " + ", ".join(f"{li.quantity} × {li.sku}" for li in ret.lines))
        sets = ["#status = :requested", "version = version + :one", "updated_at = :now",
                "timeline = list_append(timeline, :entry)"]
        allowed, sources = ORDER_LIFECYCLE.condition(S.RETURN_REQUESTED)
        conditions = [allowed]
        names = {"#status": "status"}
        values: dict[str, Any] = {":requested": S.RETURN_REQUESTED.value, ":one": 1, ":zero": 0,
                                  ":now": entry.at, ":entry": [entry.packed()], **sources}
        for index, line in enumerate(ret.lines):
            names[f"#s{index}"] = line.sku
            values[f":q{index}"] = line.quantity
            values[f":limit{index}"] = delivered[line.sku] - line.quantity
            sets.append(f"returned.#s{index} = if_not_exists(returned.#s{index}, :zero) + :q{index}")
            conditions.append(f"(attribute_not_exists(returned.#s{index}) OR returned.#s{index} <= :limit{index})")
        return Write("Update", self.orders_table, key={"order_id": order.order_id},
                     update="SET " + ", ".join(sets) + " ADD open_returns :one",
                     condition=" AND ".join(conditions), names=names, values=values)

    def order_closed_one(self, order: Order, ret: Return) -> Write:
        """The order side of a refunded return: one open return fewer; the order is RETURNED when it
        was the last one. Conditional on the open count we read, so a racing request or receipt
        makes us read again rather than leave the order in the wrong status."""
        values: dict[str, Any] = {":one": 1, ":seen": order.open_returns, ":requested": S.RETURN_REQUESTED.value,
                                  ":now": utc_now()}
        sets = ["version = version + :one", "updated_at = :now"]
        condition = "#status = :requested AND open_returns = :seen"
        if order.open_returns <= 1:
            entry = _entry(S.RETURNED, "warehouse", f"return {ret.return_id} refunded {ret.refund_amount:.2f}")
            sets += ["#status = :returned", "timeline = list_append(timeline, :entry)"]
            allowed, sources = ORDER_LIFECYCLE.condition(S.RETURNED)
            values.update({":returned": S.RETURNED.value, ":entry": [entry.packed()], **sources})
            condition = f"{allowed} AND {condition}"
        return Write("Update", self.orders_table, key={"order_id": order.order_id},
                     update="SET " + ", ".join(sets) + " ADD open_returns :minus",
                     condition=condition, names={"#status": "status"},
                     values={**values, ":minus": -1})

    def create_exchange(self, order: Order) -> Write:
        """Store a new (PENDING) exchange order, in its return's transaction; fails if the id exists already."""
        return Write("Put", self.orders_table, item=order.as_item(),
                     condition="attribute_not_exists(order_id)")

    def mark_exchange(self, exchange_order_id: str, return_id: str) -> None:
        """Show on the replacement order which return it is for (no version bump: the order's own
        workflow is not disturbed)."""
        dynamo.apply(Write("Update", self.orders_table, key={"order_id": exchange_order_id},
                           update="SET exchange_for_return = :r", condition="attribute_exists(order_id)",
                           values={":r": return_id}))


def _entry(status: OrderStatus, by: str, reason: str) -> TimelineEntry:
    return TimelineEntry(status=status, at=utc_now(), reason=reason, by=by)

