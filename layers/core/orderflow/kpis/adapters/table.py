"""KPIs table: per UTC day and dimension the aggregates (``DAY#<day>``, ``all`` / ``location:<id>`` /
``supplier:<id>``: counters); per day, dimension and SKU a marker that the SKU was active (``seen``) or out
of stock (``out``) that day (``DAY#<day>``, ``<kind>#<dimension>#<sku>``); per event a mark
(``EVENT#<event_id>``) so a redelivered event adds nothing; per order or purchase order what later
events need of it (``MEMO#<key>``); and the open backorders (``BACKORDERS``, one item per order).
Marks and memories expire (``expires_at``).

SKU markers are written outside the event's transaction, before it, each with a conditional put: a marker is
the same item however often it is written, so a retried or redelivered event counts its SKU-day once. The day's
aggregate then holds counters only and stays small whatever the number of SKUs sold that day (each write of an
item is billed by its size; the string sets it held before grew with them: docs/kpis.md). Days stored with
those sets still read (``days`` merges them with the markers)."""

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
MARKERS = ("seen", "out")  # a SKU-day's marker kinds: active that day, out of stock that day
TRANSACTION_ITEMS = 100  # items in one TransactWriteItems
KNOWN_MARKERS = 100_000  # markers a container remembers as written (about 25 MB at most), then forgets


def _epoch(moment: str, days: int) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()) + days * 86400


class KpisTable:
    def __init__(self, table: str):
        self.table = table
        self.known: set[tuple[str, str, str, str]] = set()  # (day, kind, dimension, SKU) markers in the table

    def _mark_skus(self, measured: Measured) -> int:
        """Put the SKU-day markers of ``measured`` that this container has not seen written: a conditional put
        each (one write unit; a marker already there is left as it is). Returns how many were new."""
        new = 0
        for effect in measured.effects:
            for kind, skus in (("seen", effect.seen), ("out", effect.out)):
                for sku in sorted(skus):
                    marker = (effect.day, kind, effect.dimension, sku)
                    if marker in self.known:
                        continue
                    try:
                        dynamo.apply(Write("Put", self.table, item={"pk": f"DAY#{effect.day}",
                                                                    "sk": f"{kind}#{effect.dimension}#{sku}"},
                                           condition="attribute_not_exists(pk)"))
                        new += 1
                    except ConditionFailed:
                        pass  # written before: by another container, or by this event's earlier attempt
                    if len(self.known) >= KNOWN_MARKERS:
                        self.known.clear()
                    self.known.add(marker)
        return new

    def remembered(self, key: str) -> dict[str, Any] | None:
        return _memory(dynamo.get(self.table, {"pk": f"MEMO#{key}", "sk": "-"}))

    def remembered_many(self, keys: list[str]) -> dict[str, dict[str, Any] | None]:
        """``remembered`` of each key, read together (strongly consistent, 100 keys a call)."""
        found = dynamo.batch_get({self.table: [{"pk": f"MEMO#{key}", "sk": "-"} for key in keys]},
                                 consistent={self.table})[self.table]
        items = {str(item["pk"]).removeprefix("MEMO#"): item for item in found}
        return {key: _memory(items.get(key)) for key in keys}

    def apply(self, event_id: str, measured: Measured, key: str | None, at: str, first: bool = False) -> bool:
        """One transaction: the event's mark (only if new), its aggregates, its memory, its backorder.

        ``first``: nothing is remembered of ``key`` yet. Then the memory this event begins is its mark: it is
        put only if it is still not there, and names the event (``FIRST``, which ``remembered`` answers and
        every later memory of ``key`` carries on), one item less than a mark of its own.

        The SKU-day markers go first, outside the transaction (``_mark_skus``). An event that adds markers only
        (a stock event) needs no mark: the markers count once by themselves; it is added when one was new."""
        new_markers = self._mark_skus(measured)
        if not any(effect.add for effect in measured.effects) and measured.remember is None \
                and not measured.open_backorder and not measured.close_backorder:
            return new_markers > 0
        begins = first and key is not None and measured.remember is not None
        memo = {"pk": f"MEMO#{key}", "sk": "-"}
        writes = [Write("Put", self.table, item={**memo, **(measured.remember or {}), FIRST: event_id,
                                                 "expires_at": _epoch(at, MEMORY_DAYS)},
                        condition="attribute_not_exists(pk)") if begins else
                  Write("Put", self.table, item={"pk": f"EVENT#{event_id}", "sk": "-",
                                                 "expires_at": _epoch(at, MARK_DAYS)},
                        condition="attribute_not_exists(pk)")]
        writes += [self._add(effect.day, effect.dimension, effect.add) for effect in measured.effects if effect.add]
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

    def _add(self, day: str, dimension: str, add: dict[str, int]) -> Write:
        """One atomic ADD of ``add``'s counters to the aggregate of ``day`` and ``dimension``."""
        counters = sorted(add.items())
        return Write("Update", self.table, key={"pk": f"DAY#{day}", "sk": dimension},
                     update="ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters))),
                     names={f"#c{i}": name for i, (name, _) in enumerate(counters)},
                     values={f":c{i}": amount for i, (_, amount) in enumerate(counters)})

    def apply_counters(self, events: list[tuple[str, Measured, str]]) -> list[bool | Exception]:
        """Events (``(event_id, measured, at)``) that only add to counters, no memory and no backorder: what
        ``KpiService.record`` holds back from a batch. Written together, per transaction a mark per event (only
        if new) and one ADD per day and dimension of their counters summed, so a batch of shipped orders writes
        each day's aggregate once, not once per order. An event marked already (a redelivery) makes its
        transaction cancel: it is dropped and the rest written again. Per event, in order: True added now,
        False added before (or twice in ``events``), or the error that kept its transaction from landing (its
        record is to be retried; the other transactions stand)."""
        for _, measured, _ in events:
            self._mark_skus(measured)
        status: dict[str, bool | Exception] = {}
        pending, ids = [], set()
        for event in events:  # the first of each event id, in order
            if event[0] not in ids:
                ids.add(event[0])
                pending.append(event)
        while pending:
            chunk, items = [], set()
            while pending:
                more = items | {(e.day, e.dimension) for e in pending[0][1].effects if e.add}
                if chunk and len(chunk) + 1 + len(more) > TRANSACTION_ITEMS:
                    break
                chunk.append(pending.pop(0))
                items = more
            try:
                status.update(self._counters_once(chunk))
            except Exception as error:  # reported per event: its record is retried
                status.update((event_id, error) for event_id, *_ in chunk)
        seen: set[str] = set()
        answer: list[bool | Exception] = []
        for event_id, *_ in events:
            answer.append(False if event_id in seen else status[event_id])
            seen.add(event_id)
        return answer

    def _counters_once(self, chunk: list[tuple[str, Measured, str]]) -> dict[str, bool]:
        done: dict[str, bool] = {}
        while chunk:
            totals: dict[tuple[str, str], dict[str, int]] = {}
            for _, measured, _ in chunk:
                for effect in measured.effects:
                    total = totals.setdefault((effect.day, effect.dimension), {})
                    for name, amount in effect.add.items():
                        total[name] = total.get(name, 0) + amount
            marks = [Write("Put", self.table, item={"pk": f"EVENT#{event_id}", "sk": "-",
                                                    "expires_at": _epoch(at, MARK_DAYS)},
                           condition="attribute_not_exists(pk)") for event_id, _, at in chunk]
            try:
                dynamo.transact([*marks, *(self._add(day, dimension, add)
                                           for (day, dimension), add in totals.items() if add)])
                return {**done, **{event_id: True for event_id, *_ in chunk}}
            except ConditionFailed as failure:
                seen = {i for i in range(len(chunk)) if failure.failed(i)}
                if not seen:
                    raise
                done.update((chunk[i][0], False) for i in seen)
                chunk = [event for i, event in enumerate(chunk) if i not in seen]
        return done

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
                found[day.isoformat()] = _day(items)
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


def _memory(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")} if item else None


def _day(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One day's items → dimension → aggregate: its counters, and its SKU-day markers as the sets ``seen`` and
    ``out`` (merged with the sets a day item stored before the markers holds)."""
    day: dict[str, dict[str, Any]] = {}
    for item in items:
        kind, _, rest = str(item["sk"]).partition("#")
        if kind in MARKERS and rest:
            dimension, _, sku = rest.partition("#")  # a dimension has no "#" (identifiers do not)
            day.setdefault(dimension, {}).setdefault(kind, set()).add(sku)
            continue
        aggregate = day.setdefault(str(item["sk"]), {})
        for name, value in item.items():
            if name in MARKERS:
                aggregate.setdefault(name, set()).update(value)
            elif name not in ("pk", "sk"):
                aggregate[name] = int(value) if isinstance(value, Decimal) else value
    return day
