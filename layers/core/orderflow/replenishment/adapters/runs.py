"""Replenishment table: per run one ``RUN`` item (status, totals), per batch its decisions as
``DECISIONS#<segment>#<part>`` items (up to 200 decisions each, in key order, gzip-compressed JSON: 200
decisions are one item of a few tens of KB, written with the batch's others in one request, instead of 200
items of about 1 KB, each rounded up to whole write units) and one ``BATCH#<segment>`` item (what it decided
and sent). A decision's key is the SKU at the main location (as before locations), ``<sku>@<location_id>``
elsewhere (``Decision.key``).
A SKU's last review is on its stock item (docs/replenishment.md, "Review period"): the ``REVIEW#<key>`` items
of earlier versions are no longer read.

Runs stored before decisions were batched hold one ``SKU#<key>`` item per decision; they still read.

The ``RUN`` item carries ``run_kind = "RUN"`` and ``started_at`` so the ``runs`` index lists runs newest
first; decision items lack ``run_kind`` and stay out of that index.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write, batch_put
from orderflow.replenishment.lifecycle import RUN_LIFECYCLE
from orderflow.replenishment.runs import Decision, ReplenishmentRun, RunCounts, RunStatus, decision_key
from orderflow.shared.errors import ConditionFailed, Unprocessable
from orderflow.shared.types import MAIN_LOCATION

RUN = "RUN"
SKU = "SKU#"  # one decision per item: runs stored before decisions were batched
DECISIONS = "DECISIONS#"  # + segment + part: a batch's decisions, compressed
PART = 200  # decisions per DECISIONS item: a batch of 200 SKUs at one location is one item; even 200 decisions
# with long, noisy forecasts (3 KB of JSON each) compress far below the 400 KB item limit
BATCH = "BATCH#"


class ReplenishmentRunsRepository:
    def __init__(self, table: str):
        self.table = table

    def start(self, run: ReplenishmentRun) -> ReplenishmentRun:
        """Store a new run; if it exists (a retried StartRun), keep and return the first."""
        item = {"record": RUN, "run_kind": RUN, **run.model_dump(mode="python", exclude_none=True)}
        try:
            dynamo.apply(Write("Put", self.table, item=item, condition="attribute_not_exists(run_id)"))
        except ConditionFailed:
            return self.get_run(run.run_id) or run
        return run

    def get_run(self, run_id: str) -> ReplenishmentRun | None:
        item = dynamo.get(self.table, {"run_id": run_id, "record": RUN})
        return ReplenishmentRun.model_validate(item) if item else None

    def get(self, run_id: str) -> tuple[ReplenishmentRun, list[Decision]] | None:
        """The run and its decisions (ordered by SKU), all pages of its partition."""
        run, decisions, page = None, [], {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression="run_id = :r",
                                       ExpressionAttributeValues={":r": run_id}, ConsistentRead=True, **page)
            for item in items:
                if item["record"] == RUN:
                    run = ReplenishmentRun.model_validate(item)
                elif item["record"].startswith(SKU):
                    decisions.append(Decision.model_validate(item))
                elif item["record"].startswith(DECISIONS):
                    decisions += _unpacked(item)
            if not last:
                return (run, sorted(decisions, key=lambda d: d.key)) if run else None
            page = {"ExclusiveStartKey": last}

    def decisions_page(self, run_id: str, limit: int, cursor: str | None) -> tuple[list[Decision], str | None]:
        """Up to ``limit`` of the run's decisions, batch after batch (each batch's in key order), from
        ``cursor`` (the ``next_cursor`` of the page before), and the cursor of the next page (None after the
        last). A run stored one decision per item pages those, in key order."""
        at = _decode_cursor(cursor) if cursor else None
        if at is None or "after" not in at:
            found = self._decisions_from(run_id, limit, at)
            if found is not None:
                return found
        kwargs: dict[str, Any] = {"KeyConditionExpression": "run_id = :r AND begins_with(#record, :s)",
                                  "ExpressionAttributeNames": {"#record": "record"},
                                  "ExpressionAttributeValues": {":r": run_id, ":s": SKU}, "ConsistentRead": True,
                                  "Limit": limit}
        if at:
            kwargs["ExclusiveStartKey"] = {"run_id": {"S": run_id}, "record": {"S": SKU + at["after"]}}
        items, last = dynamo.query(self.table, **kwargs)
        decisions = [Decision.model_validate(item) for item in items]
        return decisions, (_encode_cursor({"after": decisions[-1].key}) if last and decisions else None)

    def _decisions_from(self, run_id: str, limit: int, at: dict[str, Any] | None
                        ) -> tuple[list[Decision], str | None] | None:
        """A page of the batched decisions from ``at`` (a part's record and how many of it were given), or
        None when the run has none (stored before they were batched)."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": "run_id = :r AND begins_with(#record, :d)",
                                  "ExpressionAttributeNames": {"#record": "record"},
                                  "ExpressionAttributeValues": {":r": run_id, ":d": DECISIONS},
                                  "ConsistentRead": True, "Limit": 1 + limit // PART}
        page: list[Decision] = []
        if at:
            item = dynamo.get(self.table, {"run_id": run_id, "record": at["part"]})
            rest = _unpacked(item)[at["given"]:] if item else []
            page = rest[:limit]
            if len(page) == limit:
                return page, _encode_cursor({"part": at["part"], "given": at["given"] + limit})
            kwargs["ExclusiveStartKey"] = {"run_id": {"S": run_id}, "record": {"S": at["part"]}}
        while True:
            items, last = dynamo.query(self.table, **kwargs)
            if at is None and not items and not last and not page:
                return None
            for item in items:
                taken = _unpacked(item)[:limit - len(page)]
                page += taken
                if len(page) == limit:
                    return page, _encode_cursor({"part": item["record"], "given": len(taken)})
            if not last:
                return page, None
            kwargs["ExclusiveStartKey"] = last

    def get_decision(self, run_id: str, sku: str, location_id: str = MAIN_LOCATION) -> Decision | None:
        key = decision_key(sku, location_id)
        item = dynamo.get(self.table, {"run_id": run_id, "record": f"{SKU}{key}"})
        if item:
            return Decision.model_validate(item)
        return self._batched(run_id, DECISIONS).get(key)  # reads every batch's: for tests and support

    def batch_decisions(self, run_id: str, segment: int) -> dict[str, Decision]:
        """The decisions batch ``segment`` of the run stored (by key): a retried batch's earlier attempt."""
        return self._batched(run_id, f"{DECISIONS}{segment:06d}#")

    def _batched(self, run_id: str, prefix: str) -> dict[str, Decision]:
        return {d.key: d for item in self._records(run_id, prefix) for d in _unpacked(item)}

    def _records(self, run_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        """The run's items whose record begins with ``prefix``, every page."""
        page: dict[str, Any] = {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression="run_id = :r AND begins_with(#record, :p)",
                                       ExpressionAttributeNames={"#record": "record"},
                                       ExpressionAttributeValues={":r": run_id, ":p": prefix}, ConsistentRead=True,
                                       **page)
            yield from items
            if not last:
                return
            page = {"ExclusiveStartKey": last}

    def list(self, limit: int) -> list[ReplenishmentRun]:
        """The latest runs, newest first."""
        items, _ = dynamo.query(self.table, IndexName="runs", KeyConditionExpression="run_kind = :k",
                                ExpressionAttributeValues={":k": RUN}, ScanIndexForward=False, Limit=limit)
        return [ReplenishmentRun.model_validate(item) for item in items]

    def running_since(self, cutoff: str) -> list[ReplenishmentRun]:
        """The runs still RUNNING that started at or before ``cutoff`` (the ``runs`` index, oldest first)."""
        found, page = [], {}
        while True:
            items, last = dynamo.query(self.table, IndexName="runs",
                                       KeyConditionExpression="run_kind = :k AND started_at <= :cutoff",
                                       FilterExpression="#status = :running",
                                       ExpressionAttributeNames={"#status": "status"},
                                       ExpressionAttributeValues={":k": RUN, ":cutoff": cutoff,
                                                                  ":running": RunStatus.RUNNING.value}, **page)
            found += [ReplenishmentRun.model_validate(item) for item in items]
            if not last:
                return found
            page = {"ExclusiveStartKey": last}

    def put_decisions(self, run_id: str, segment: int, decisions: list[Decision]) -> None:
        """Store batch ``segment``'s decisions under the run (compressed, up to 200 an item); a retried batch
        overwrites its own items with the same values."""
        ordered = sorted(decisions, key=lambda d: d.key)
        batch_put(self.table, [{"run_id": run_id, "record": f"{DECISIONS}{segment:06d}#{start // PART:04d}",
                                "count": len(ordered[start:start + PART]),
                                "decisions": packed(ordered[start:start + PART])}
                               for start in range(0, len(ordered), PART)])

    def put_batch_result(self, run_id: str, segment: int, counts: RunCounts) -> None:
        """What batch ``segment`` of the run did; a retried batch overwrites its own result."""
        dynamo.apply(Write("Put", self.table, item={"run_id": run_id, "record": f"{BATCH}{segment:06d}",
                                                    "segment": segment, "counts": counts.model_dump()}))

    def batch_results(self, run_id: str) -> dict[int, RunCounts]:
        """Every stored batch result of the run, by segment."""
        return {int(item["segment"]): RunCounts.model_validate(item["counts"])
                for item in self._records(run_id, BATCH)}

    def finish(self, run_id: str, counts: RunCounts, finished_at: str) -> ReplenishmentRun | None:
        """RUNNING → COMPLETED with the totals; None if the run is not RUNNING (already closed)."""
        return self._close(run_id, RunStatus.COMPLETED, "SET #status = :done, counts = :counts, finished_at = :at",
                           {":done": RunStatus.COMPLETED.value, ":counts": counts.model_dump(), ":at": finished_at})

    def fail(self, run: ReplenishmentRun, error: str) -> ReplenishmentRun | None:
        """RUNNING (or never recorded, when StartRun itself failed) → FAILED with the error."""
        return self._close(
            run.run_id, RunStatus.FAILED,
            "SET #status = :failed, #error = :error, finished_at = :at, run_kind = :kind, "
            "#cycle = if_not_exists(#cycle, :cycle), started_at = if_not_exists(started_at, :started), "
            "#trigger = if_not_exists(#trigger, :trigger), counts = if_not_exists(counts, :counts)",
            {":failed": RunStatus.FAILED.value, ":error": error, ":at": run.finished_at, ":kind": RUN,
             ":cycle": run.cycle, ":started": run.started_at, ":trigger": run.trigger,
             ":counts": RunCounts().model_dump()},
            condition_extra="attribute_not_exists(run_id) OR ",
            names={"#error": "error", "#trigger": "trigger", "#cycle": "cycle"})

    def _close(self, run_id: str, target: RunStatus, update: str, values: dict[str, Any], condition_extra: str = "",
               names: dict[str, str] | None = None) -> ReplenishmentRun | None:
        """The run moves to ``target`` iff the run lifecycle allows it from the stored status."""
        allowed, sources = RUN_LIFECYCLE.condition(target)
        write = Write("Update", self.table, key={"run_id": run_id, "record": RUN}, update=update,
                      condition=f"{condition_extra}{allowed}",
                      names={"#status": "status", **(names or {})},
                      values={**values, **sources})
        try:
            return ReplenishmentRun.model_validate(dynamo.apply(write, return_new=True))
        except ConditionFailed:
            return None


def packed(decisions: list[Decision]) -> bytes:
    """Decisions as stored in one DECISIONS item: gzip-compressed JSON."""
    return gzip.compress(json.dumps([d.model_dump(mode="json") for d in decisions],
                                    separators=(",", ":")).encode(), compresslevel=6)


def _unpacked(item: dict[str, Any]) -> list[Decision]:
    raw = item["decisions"]
    return [Decision.model_validate(d) for d in json.loads(gzip.decompress(bytes(raw.value if hasattr(raw, "value")
                                                                                  else raw)))]


def _encode_cursor(at: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(at).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        at = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(at.get("after"), str) and at["after"]) and not (
                isinstance(at.get("part"), str) and at["part"].startswith(DECISIONS)
                and isinstance(at.get("given"), int) and at["given"] >= 0):
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Unprocessable("cursor is not one this listing returned; start again without it",
                            {"cursor": cursor[:200]}) from exc
    return at
