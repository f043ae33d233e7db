"""Orders table: the order aggregate, its status transitions and timeline.

An order that waits on something carries a ``deadline`` and, beside it, ``due``: ``<status>#<shard>``, the
partition key of the sparse ``by-deadline`` index, its shard (0 to ``DEADLINE_SHARDS - 1``) from the order id.
Keyed by the status alone, every RESERVED order would write the same index partition (one partition takes
about 1,000 writes a second); the expiry reads the shards of a status and merges them (docs/decisions.md).
The workflow's statuses (``IN_WORKFLOW``) share one partition, ``WORKFLOW#<shard>``, and the deadline submit
set: the steps between them write no index entry. An order whose deadline is its shipments' (``SHIPMENTS_DUE``)
keeps ``deadline`` without ``due``: the sweep finds its late shipments in the pick list's index (``indexed``).
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any

from orderflow.orders.domain import OMITTED_WHILE_EMPTY, Order, OrderStatus, TimelineEntry
from orderflow.orders.lifecycle import IN_WORKFLOW, ORDER_LIFECYCLE, SHIPMENTS_DUE
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.types import utc_now


class OrdersRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, order_id: str) -> Order | None:
        item = dynamo.get(self.table, {"order_id": order_id})
        return Order.model_validate(item) if item else None

    def create(self, order: Order) -> bool:
        """Store a new order; False when an order with this id already exists (a retried submit)."""
        item = order.as_item()
        if order.deadline:
            item["due"] = due(order.status, order.order_id)
        try:
            dynamo.apply(Write("Put", self.table, item=item, condition="attribute_not_exists(order_id)"))
        except dynamo.ConditionFailed:
            return False
        return True

    def transition(
        self,
        order: Order,
        target: OrderStatus,
        reason: str | None = None,
        by: str = "workflow",
        extra: dict[str, Any] | None = None,
        at: str | None = None,
    ) -> tuple[Write, Order]:
        """The write that moves ``order`` to ``target`` iff the order lifecycle allows it from the stored status
        and nobody changed the order since it was read, and the order as it will be once that write lands
        (``at``: the time it records, when a stamp in ``extra`` must show the same).
        ``ForbiddenTransition`` (nothing written) when the table does not allow it from ``order.status``."""
        ORDER_LIFECYCLE.check(order.status, target, f"order {order.order_id}")
        now, entry, sets, values = _moved(target, reason, by, at)
        allowed, sources = ORDER_LIFECYCLE.condition(target)
        values.update({":current": order.status.value, ":version": order.version, **sources})
        names = {"#status": "status"}
        keeps_deadline = "deadline" not in (extra or {}) and {order.status, target} <= IN_WORKFLOW
        after = Order.model_validate({
            **order.model_dump(), **(extra or {}),
            "status": target, "version": order.version + 1, "updated_at": now,
            "deadline": order.deadline if keeps_deadline else (extra or {}).get("deadline"),
            "timeline": [*order.timeline, entry],
        })
        if (extra or {}).get("deadline") and indexed(after):
            sets.append("due = :due")
            values[":due"] = due(target, order.order_id)
            removes = []
        elif (extra or {}).get("deadline"):
            removes = ["due"]  # the deadline stays on the order; the sweep finds it from its late shipments
        else:
            removes = [] if keeps_deadline else ["deadline", "due"]
        for index, (name, value) in enumerate((extra or {}).items()):  # by #name: some are reserved words (total)
            names[f"#x{index}"] = name
            if name == "deadline" and not value:  # removed above, with its index key
                continue
            if name in OMITTED_WHILE_EMPTY and not value:  # stored only while it holds something
                removes.append(f"#x{index}")
                continue
            sets.append(f"#x{index} = :x{index}")
            values[f":x{index}"] = value
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        write = Write("Update", self.table, key={"order_id": order.order_id}, update=update,
                      condition=f"{allowed} AND #status = :current AND version = :version",
                      names=names, values=values)
        return write, after

    def advance(self, order_id: str, current: OrderStatus, target: OrderStatus, by: str = "workflow",
                reason: str | None = None, stamp: str | None = None) -> Order:
        """Move the order from ``current`` to ``target`` in one UpdateItem, without reading it first, and
        return it as stored after. Only for a transition whose one precondition is the status and whose
        changes (timeline entry, version, ``updated_at``, the time ``stamp`` names, as ``map.field`` of a
        map the order has) depend on nothing else the order holds, so a writer that did not read the order
        cannot undo another's write. ConditionFailed when the order is not in ``current`` (or not there)."""
        ORDER_LIFECYCLE.check(current, target, f"order {order_id}")
        _, _, sets, values = _moved(target, reason, by)
        allowed, sources = ORDER_LIFECYCLE.condition(target)
        values.update({":current": current.value, **sources})
        names = {"#status": "status"}
        condition = f"{allowed} AND #status = :current"
        if stamp:
            parent, child = stamp.split(".")
            names.update({"#stamp_map": parent, "#stamp_field": child})
            sets.append("#stamp_map.#stamp_field = :now")
            condition += " AND attribute_exists(#stamp_map)"
        item = dynamo.apply(Write("Update", self.table, key={"order_id": order_id},
                                  update="SET " + ", ".join(sets) + " REMOVE deadline, due", condition=condition,
                                  names=names, values=values), return_new=True)
        return Order.model_validate(item)

    def overdue(self, status: OrderStatus, now: str, limit: int = 100) -> list[str]:
        """Ids of up to ``limit`` orders in ``status`` (any of ``IN_WORKFLOW`` for one of them) whose deadline is
        at or before ``now``, oldest first: a Query per shard of the status (each oldest first, at most
        ``limit``), merged."""
        shards = []
        for shard in range(DEADLINE_SHARDS):
            items, _ = dynamo.query(self.table, IndexName="by-deadline",
                                    KeyConditionExpression="due = :due AND deadline <= :now",
                                    ExpressionAttributeValues={":due": f"{_waiting(status)}#{shard}", ":now": now},
                                    Limit=limit)
            shards.append([(item["deadline"], item["order_id"]) for item in items])
        return [order_id for _, order_id in heapq.merge(*shards)][:limit]

    def list_by_customer(self, customer_id: str, limit: int, cursor: str | None, status: OrderStatus | None = None,
                         placed_from: str | None = None, placed_to: str | None = None
                         ) -> tuple[list[Order], str | None]:
        """A page of the customer's orders, newest first. The days (``YYYY-MM-DD``, both included) narrow the
        index Query itself; ``status`` is checked on the page read (the index holds keys only), so a page may
        hold fewer than ``limit`` orders while ``next_cursor`` still leads on."""
        kwargs: dict[str, Any] = {
            "IndexName": "by-customer",
            "KeyConditionExpression": "customer_id = :c AND created_at BETWEEN :from AND :to",
            "ExpressionAttributeValues": {":c": customer_id, ":from": placed_from or "0",
                                          ":to": f"{placed_to}T\uffff" if placed_to else "\uffff"},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = dynamo.start_key_of(cursor, _CURSOR_KEYS, ("customer_id", customer_id))
        keys, last = dynamo.query(self.table, **kwargs)
        # The index projects the keys only (an order is written ~6 times, listed far less: an ALL copy was
        # rewritten at every write); the page's orders are one BatchGetItem, put back in the index's order.
        ids = [k["order_id"] for k in keys]
        items = dynamo.batch_get({self.table: [{"order_id": i} for i in ids]}, consistent={self.table}) if ids else {}
        found = {item["order_id"]: item for item in items.get(self.table, [])}
        next_cursor = dynamo.cursor_of(last)
        orders = [Order.model_validate(found[i]) for i in ids if i in found]
        return [o for o in orders if status is None or o.status == status], next_cursor


DEADLINE_SHARDS = 8  # partitions of the by-deadline index per status: ~8,000 index writes a second


def indexed(order: Order) -> bool:
    """Whether the order's deadline goes in the by-deadline index. Not when it is its open shipments' (RESERVED,
    PARTIALLY_RESERVED, PARTIALLY_SHIPPED), each of which carries its own: the sweep finds the late ones in the
    pick list's index (``ShipmentsRepository.late``), and an order moved into the index at its reservation and out
    of it at its shipment wrote three index entries for a deadline its shipment already holds. A shipment released
    before shipments had deadlines has only the order's (an order reserved before shipments, none): such an order
    stays indexed."""
    return (order.status not in SHIPMENTS_DUE or not order.shipments
            or any(ref.open and not ref.deadline for ref in order.shipments))


def due(status: OrderStatus, order_id: str) -> str:
    """The ``by-deadline`` partition of an order waiting in ``status``: the status and a stable shard."""
    shard = int.from_bytes(hashlib.blake2b(order_id.encode(), digest_size=4).digest(), "big") % DEADLINE_SHARDS
    return f"{_waiting(status)}#{shard}"


def _waiting(status: OrderStatus) -> str:
    return "WORKFLOW" if status in IN_WORKFLOW else status.value


def _moved(target: OrderStatus, reason: str | None, by: str, at: str | None = None
           ) -> tuple[str, TimelineEntry, list[str], dict[str, Any]]:
    """What every transition sets (status, version + 1, ``updated_at``, a timeline entry): the time, the
    entry, the SET clauses and their values."""
    now = at or utc_now()
    entry = TimelineEntry(status=target, at=now, reason=reason, by=by)
    sets = ["#status = :target", "version = version + :one", "updated_at = :now",
            "timeline = list_append(timeline, :entry)"]
    return now, entry, sets, {":target": target.value, ":one": 1, ":now": now, ":entry": [entry.packed()]}


_CURSOR_KEYS = {"order_id", "customer_id", "created_at"}  # the by-customer index's key and the table's

