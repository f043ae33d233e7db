"""Purchase orders table: the purchase order aggregate, its status transitions, timeline and the ids
of the supplier replies already applied to it (a string set, so a redelivered reply is refused by
the write's own condition)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, PurchaseOrderStatus
from orderflow.purchasing.lifecycle import PURCHASE_ORDER_LIFECYCLE
from orderflow.shared.errors import Unprocessable
from orderflow.shared.types import utc_now


class PurchaseOrdersRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, po_id: str) -> PurchaseOrder | None:
        item = dynamo.get(self.table, {"po_id": po_id})
        return PurchaseOrder.model_validate(item) if item else None

    def get_many(self, po_ids: list[str]) -> dict[str, PurchaseOrder]:
        """The purchase orders of ``po_ids`` that exist, by id: one strongly consistent BatchGetItem per
        100 ids (what ``get`` reads one at a time)."""
        found = dynamo.batch_get({self.table: [{"po_id": po_id} for po_id in dict.fromkeys(po_ids)]},
                                 consistent={self.table})[self.table]
        return {item["po_id"]: PurchaseOrder.model_validate(item) for item in found}

    def create(self, po: PurchaseOrder) -> Write:
        """The write that stores a new purchase order; its condition fails if ``po_id`` exists."""
        return Write("Put", self.table, item=po.model_dump(mode="python", exclude_none=True),
                     condition="attribute_not_exists(po_id)")

    def transition(self, po: PurchaseOrder, status: PurchaseOrderStatus, *, by: str, reason: str | None = None,
                   reply_id: str | None = None, lines: list[PurchaseOrderLine] | None = None,
                   fields: dict[str, Any] | None = None) -> tuple[Write, PurchaseOrder]:
        """The write that moves ``po`` to ``status`` (which may be its current one: a timeline entry only)
        iff the purchase order lifecycle allows it from the stored status, nobody changed it
        since it was read and, with ``reply_id``, that reply was not applied yet;
        and the purchase order as it will be once that write lands. ``fields`` sets other attributes of
        the purchase order in the same write (``total``, ``expected_by``, ``approval_expires_at``, ...)."""
        PURCHASE_ORDER_LIFECYCLE.check(po.status, status, f"purchase order {po.po_id}")
        allowed, sources = PURCHASE_ORDER_LIFECYCLE.condition(status)
        now = utc_now()
        entry = PurchaseOrderEvent(status=status, at=now, by=by, reason=reason, reply_id=reply_id)
        sets = ["#status = :target", "version = version + :one", "updated_at = :now",
                "timeline = list_append(if_not_exists(timeline, :empty), :entry)"]
        values: dict[str, Any] = {":target": status.value, ":one": 1, ":now": now, ":empty": [],
                                  ":entry": [entry.model_dump(mode="python", exclude_none=True)],
                                  ":current": po.status.value, ":version": po.version, **sources}
        condition = f"{allowed} AND #status = :current AND version = :version"
        names = {"#status": "status", **({"#lines": "lines"} if lines is not None else {})}
        if lines is not None:
            sets.append("#lines = :lines")
            values[":lines"] = [line.model_dump(mode="python", exclude_none=True) for line in lines]
        unknown = set(fields or {}) - set(PurchaseOrder.model_fields)
        if unknown:
            raise ValueError(f"a purchase order has no {sorted(unknown)}")
        changed = PurchaseOrder.model_validate({**po.model_dump(), **(fields or {})})
        for i, name in enumerate(sorted(fields or {})):
            sets.append(f"#f{i} = :f{i}")
            names[f"#f{i}"] = name
            values[f":f{i}"] = changed.model_dump(mode="python", include={name})[name]
        update = "SET " + ", ".join(sets)
        if reply_id:
            update += " ADD applied_replies :reply"
            condition += " AND NOT contains(applied_replies, :reply_id)"
            values.update({":reply": {reply_id}, ":reply_id": reply_id})
        write = Write("Update", self.table, key={"po_id": po.po_id}, update=update, condition=condition,
                      names=names, values=values)
        after = changed.model_copy(update={
            "status": status, "version": po.version + 1, "updated_at": now, "timeline": [*po.timeline, entry],
            "lines": lines if lines is not None else po.lines,
            "applied_replies": [*po.applied_replies, reply_id] if reply_id else po.applied_replies,
        })
        return write, after

    def list_by_status(self, status: PurchaseOrderStatus | Sequence[PurchaseOrderStatus], limit: int,
                       cursor: str | None) -> tuple[list[PurchaseOrder], str | None]:
        """Newest first within a status, one status after another (a Query of the ``by-status`` index per
        status, never a Scan). The cursor says which status and where in it the next page starts."""
        statuses = [PurchaseOrderStatus(s) for s in ([status] if isinstance(status, str) else status)]
        index, start = _decode(cursor, len(statuses))
        found: list[PurchaseOrder] = []
        while index < len(statuses) and len(found) < limit:
            kwargs: dict[str, Any] = {
                "IndexName": "by-status", "KeyConditionExpression": "#status = :s",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":s": statuses[index].value},
                "ScanIndexForward": False, "Limit": limit - len(found),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            items, start = dynamo.query(self.table, **kwargs)
            found += [PurchaseOrder.model_validate(i) for i in items]
            if not start:
                index += 1
        more = index < len(statuses)
        return found, _encode(index, start) if more else None


def _encode(index: int, start: dict[str, Any] | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"status": index, "start": start}).encode()).decode()


_CURSOR_KEYS = {"po_id", "status", "created_at"}  # the by-status index's key and the table's


def _decode(cursor: str | None, statuses: int) -> tuple[int, dict[str, Any] | None]:
    if not cursor:
        return 0, None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        index, start = decoded["status"], decoded["start"]
        if not (isinstance(index, int) and 0 <= index < statuses
                and (start is None or dynamo.is_start_key(start, _CURSOR_KEYS))):
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError) as exc:
        raise Unprocessable("cursor is not one this listing returned; start again without it",
                            {"cursor": cursor[:200]}) from exc
    return index, start
