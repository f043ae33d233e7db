"""KPIs table: per UTC day and dimension the aggregates (``DAY#<day>``, ``all`` / ``location:<id>`` /
``supplier:<id>``: counters, and the string sets ``seen`` and ``out`` of SKUs); per event a mark
(``EVENT#<event_id>``) so a redelivered event adds nothing; per order or purchase order what later
events need of it (``MEMO#<key>``); and the open backorders (``BACKORDERS``, one item per order).
Marks and memories expire (``expires_at``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from orderflow.kpis.domain import Measured
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.shared.errors import ConditionFailed

MARK_DAYS = 30
MEMORY_DAYS = 120
FIRST = "first_event"  # in a memory: the event that began it, and whose mark it is


def _epoch(moment: str, days: int) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()) + days * 86400


class KpisTable:
    def __init__(self, table: str):
        self.table = table

    def remembered(self, key: str) -> dict[str, Any] | None:
        item = dynamo.get(self.table, {"pk": f"MEMO#{key}", "sk": "-"})
        return {k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")} if item else None

    def apply(self, event_id: str, measured: Measured, key: str | None, at: str, first: bool = False) -> bool:
        """One transaction: the event's mark (only if new), its aggregates, its memory, its backorder.

        ``first``: nothing is remembered of ``key`` yet. Then the memory this event begins is its mark: it is
        put only if it is still not there, and names the event (``FIRST``, which ``remembered`` answers and
        every later memory of ``key`` carries on), one item less than a mark of its own."""
        begins = first and key is not None and measured.remember is not None
        memo = {"pk": f"MEMO#{key}", "sk": "-"}
        writes = [Write("Put", self.table, item={**memo, **(measured.remember or {}), FIRST: event_id,
                                                 "expires_at": _epoch(at, MEMORY_DAYS)},
                        condition="attribute_not_exists(pk)") if begins else
                  Write("Put", self.table, item={"pk": f"EVENT#{event_id}", "sk": "-",
                                                 "expires_at": _epoch(at, MARK_DAYS)},
                        condition="attribute_not_exists(pk)")]
        for effect in measured.effects:
            parts, values = [], {}
            for i, (_, amount) in enumerate(sorted(effect.add.items())):
                parts.append(f"#c{i} :c{i}")
                values[f":c{i}"] = amount
            for name, skus in (("seen", effect.seen), ("out", effect.out)):
                if skus:
                    parts.append(f"#{name} :{name}")
                    values[f":{name}"] = set(skus)
            if not parts:
                continue
            names = {f"#c{i}": name for i, name in enumerate(sorted(effect.add))}
            names.update({f"#{n}": n for n, skus in (("seen", effect.seen), ("out", effect.out)) if skus})
            writes.append(Write("Update", self.table, key={"pk": f"DAY#{effect.day}", "sk": effect.dimension},
                                update="ADD " + ", ".join(parts), names=names, values=values))
        if key and measured.remember is not None and not begins:
            writes.append(Write("Put", self.table, item={**memo, **measured.remember,
                                                         "expires_at": _epoch(at, MEMORY_DAYS)}))
        if key and measured.open_backorder:
            writes.append(Write("Put", self.table, item={"pk": "BACKORDERS", "sk": key,
                                                         "opened_at": measured.open_backorder}))
        elif key and measured.close_backorder:
            writes.append(Write("Delete", self.table, key={"pk": "BACKORDERS", "sk": key}))
        try:
            dynamo.transact(writes)
        except ConditionFailed as failure:
            if not failure.failed(0):
                raise
            if begins and (self.remembered(str(key)) or {}).get(FIRST) != event_id:
                raise  # another event of ``key`` began its memory meanwhile: retried, this one is not added yet
            return False
        return True

    def days(self, first: str, last: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Day → dimension → aggregate for the days ``first`` to ``last``: a Query per day."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day <= end:
            items, start = [], None
            while True:
                kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk",
                                          "ExpressionAttributeValues": {":pk": f"DAY#{day.isoformat()}"}}
                if start:
                    kwargs["ExclusiveStartKey"] = start
                page, start = dynamo.query(self.table, **kwargs)
                items += page
                if not start:
                    break
            if items:
                found[day.isoformat()] = {item["sk"]: {k: int(v) if isinstance(v, Decimal) else v
                                                       for k, v in item.items() if k not in ("pk", "sk")}
                                          for item in items}
            day += timedelta(days=1)
        return found

    def open_backorders(self) -> list[str]:
        """When each backorder still open was opened."""
        opened, start = [], None
        while True:
            kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk",
                                      "ExpressionAttributeValues": {":pk": "BACKORDERS"}}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page, start = dynamo.query(self.table, **kwargs)
            opened += [str(item["opened_at"]) for item in page]
            if not start:
                return opened
