"""A run's decisions as stored: one compressed item per batch (up to 200 decisions a part), read back whole,
page by page and per batch; runs stored one decision per item still read (against template.yaml's table in
moto)."""

from __future__ import annotations

import uuid

import pytest

from orderflow.replenishment.runs import Decision
from orderflow.shared.errors import Unprocessable


@pytest.fixture(scope="module")
def runs(stack):
    from orderflow.replenishment.adapters.runs import ReplenishmentRunsRepository
    from orderflow.replenishment.runs import ReplenishmentRun, RunStatus
    from orderflow.shared.settings import get_settings

    repository = ReplenishmentRunsRepository(get_settings().replenishment_table)
    repository.start_run = lambda run_id: repository.start(ReplenishmentRun(  # type: ignore[attr-defined]
        run_id=run_id, cycle="2026-12-06", status=RunStatus.RUNNING, trigger="api",
        started_at="2026-12-06T01:00:00Z"))
    return repository


def decisions(prefix: str, n: int) -> list[Decision]:
    return [Decision(sku=f"{prefix}-{i:05d}", outcome="not_due", reason=f"next review in {i % 7} days",
                     forecast=[1.5] * 14) for i in range(n)]


def every_page(runs, run_id: str, limit: int) -> list[Decision]:
    found, cursor = [], None
    while True:
        page, cursor = runs.decisions_page(run_id, limit, cursor)
        assert len(page) <= limit
        found += page
        if cursor is None:
            return found


def test_a_runs_decisions_are_stored_per_batch_and_read_back_in_pages(runs):
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    runs.start_run(run_id)
    first, second = decisions("B", 503), decisions("A", 3)
    runs.put_decisions(run_id, 0, list(reversed(first)))
    runs.put_decisions(run_id, 1, second)
    runs.put_decisions(run_id, 0, first)  # a retried batch overwrites its own

    _, stored = runs.get(run_id)
    assert stored == sorted(first + second, key=lambda d: d.key)
    for limit in (7, 150, 200, 1_000):
        assert every_page(runs, run_id, limit) == first + second  # batch after batch, each in key order
    assert runs.batch_decisions(run_id, 1) == {d.key: d for d in second}
    assert runs.get_decision(run_id, "B-00450") == first[450]
    with pytest.raises(Unprocessable):
        runs.decisions_page(run_id, 10, "bm90IGEgY3Vyc29y")


def test_a_run_stored_one_decision_per_item_still_reads(runs):
    from orderflow.platform.dynamo import batch_put

    run_id = f"run-{uuid.uuid4().hex[:8]}"
    runs.start_run(run_id)
    old = decisions("C", 7)
    batch_put(runs.table, [{"run_id": run_id, "record": f"SKU#{d.key}", **d.model_dump(mode="python")} for d in old])

    assert runs.get(run_id)[1] == old
    assert every_page(runs, run_id, 3) == old
    assert runs.get_decision(run_id, "C-00004") == old[4]
