"""Replenishment table: per run one ``RUN`` item (status, totals), one ``SKU#<key>`` item per decision and
one ``BATCH#<segment>`` item per batch (what it decided and sent); per (SKU, location) one ``REVIEW#<key>`` /
``LAST`` item with the cycle it was last reviewed in. The key is the SKU at the main location (as before
locations), ``<sku>@<location_id>`` elsewhere (``Decision.key``).

The ``RUN`` item carries ``run_kind = "RUN"`` and ``started_at`` so the ``runs`` index lists runs newest
first; decision and review items lack ``run_kind`` and stay out of that index.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write, batch_put
from orderflow.replenishment.lifecycle import RUN_LIFECYCLE
from orderflow.replenishment.runs import Decision, ReplenishmentRun, RunCounts, RunStatus, decision_key
from orderflow.shared.errors import ConditionFailed, Unprocessable
from orderflow.shared.types import MAIN_LOCATION

RUN = "RUN"
SKU = "SKU#"
BATCH = "BATCH#"
REVIEW = "REVIEW#"
LAST_REVIEW = "LAST"
_BATCH_READ = 100  # keys per BatchGetItem


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
            if not last:
                return (run, decisions) if run else None
            page = {"ExclusiveStartKey": last}

    def decisions_page(self, run_id: str, limit: int, cursor: str | None) -> tuple[list[Decision], str | None]:
        """Up to ``limit`` of the run's decisions in SKU order, from ``cursor`` (the ``next_cursor`` of the
        page before), and the cursor of the next page (None after the last)."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": "run_id = :r AND begins_with(#record, :s)",
                                  "ExpressionAttributeNames": {"#record": "record"},
                                  "ExpressionAttributeValues": {":r": run_id, ":s": SKU}, "ConsistentRead": True,
                                  "Limit": limit}
        if cursor:
            kwargs["ExclusiveStartKey"] = {"run_id": {"S": run_id}, "record": {"S": SKU + _decode_sku(cursor)}}
        items, last = dynamo.query(self.table, **kwargs)
        decisions = [Decision.model_validate(item) for item in items]
        return decisions, (_encode_sku(decisions[-1].key) if last and decisions else None)

    def get_decision(self, run_id: str, sku: str, location_id: str = MAIN_LOCATION) -> Decision | None:
        item = dynamo.get(self.table, {"run_id": run_id, "record": f"{SKU}{decision_key(sku, location_id)}"})
        return Decision.model_validate(item) if item else None

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

    def put_decisions(self, run_id: str, decisions: list[Decision], reviewed: dict[str, str] | None = None) -> None:
        """Store each decision under the run, and the cycle of each key in ``reviewed`` (decision key → cycle)
        as its last review; a retried batch overwrites its own items with the same values."""
        batch_put(self.table, [{"run_id": run_id, "record": f"{SKU}{d.key}", **d.model_dump(mode="python")}
                               for d in decisions]
                  + [{"run_id": f"{REVIEW}{key}", "record": LAST_REVIEW, "sku": key, "cycle": cycle}
                     for key, cycle in (reviewed or {}).items()])

    def put_batch_result(self, run_id: str, segment: int, counts: RunCounts) -> None:
        """What batch ``segment`` of the run did; a retried batch overwrites its own result."""
        dynamo.apply(Write("Put", self.table, item={"run_id": run_id, "record": f"{BATCH}{segment:06d}",
                                                    "segment": segment, "counts": counts.model_dump()}))

    def batch_results(self, run_id: str) -> dict[int, RunCounts]:
        """Every stored batch result of the run, by segment."""
        found: dict[int, RunCounts] = {}
        page: dict[str, Any] = {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression="run_id = :r AND begins_with(#record, :b)",
                                       ExpressionAttributeNames={"#record": "record"},
                                       ExpressionAttributeValues={":r": run_id, ":b": BATCH}, ConsistentRead=True,
                                       **page)
            found.update((int(item["segment"]), RunCounts.model_validate(item["counts"])) for item in items)
            if not last:
                return found
            page = {"ExclusiveStartKey": last}

    def last_reviews(self, skus: list[str]) -> dict[str, str]:
        """The cycle each of ``skus`` (decision keys: a SKU, or ``<sku>@<location_id>``) was last reviewed in
        (those never reviewed are left out)."""
        found: dict[str, str] = {}
        for start in range(0, len(skus), _BATCH_READ):
            keys = [{"run_id": f"{REVIEW}{sku}", "record": LAST_REVIEW} for sku in skus[start:start + _BATCH_READ]]
            found.update((item["sku"], item["cycle"]) for item in dynamo.batch_get({self.table: keys})[self.table])
        return found

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


def _encode_sku(sku: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": sku}).encode()).decode()


def _decode_sku(cursor: str) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"]
        if not isinstance(after, str) or not after:
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError) as exc:
        raise Unprocessable("cursor is not one this listing returned; start again without it",
                            {"cursor": cursor[:200]}) from exc
    return after
