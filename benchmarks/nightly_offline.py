"""The real replenishment workflow offline over a seeded catalogue: ``python -m benchmarks.nightly_offline
[SKUS] [DAYS] [CONCURRENCY]`` (defaults 20,000 SKUs, 28 days of history, the template's Map concurrency).

CONCURRENCY overrides ``ReplenishmentConcurrency``, the batches the Map runs at once. Offline every function
runs in this one Python process, on the machine's cores and under one interpreter lock: 40 batches at once
share what one batch has on AWS (a vCPU each), so past a few thousand SKUs each batch outlives its Decide
function's timeout (300 s), and the local runtime stops it there as Lambda would. A small concurrency keeps
each batch's time what it is alone.

The local stack (moto, the real ASL and handlers; it serialises every DynamoDB request, so this measures the
emulator more than AWS: BENCHMARKS.md §11 models AWS). Seeds SKUs with a supplier, stock and ``DAYS`` days of
weekly-patterned demand (written straight into the demand table's month items, not through the API, to keep
seeding short: each item as the demand counter's ADD of those days would create it, put 25 at a time), then
times one execution of ``ReplenishmentStateMachine`` from start to end and reports the run's counts.
Stores the figures in benchmarks/results/nightly_offline.json, with the latest stored run of each other size
(BENCHMARKS.md §11 shows them: :func:`render`); nothing is asserted. Besides the wall time it records the
process's CPU time over the run (every thread of the stack is in this process): on a shared machine the wall
time depends on what else runs, the CPU time much less.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .common import load, log, save


def main(skus: int = 20_000, days: int = 28, concurrency: int | None = None) -> dict:
    from orderflow import wiring
    from orderflow.catalogue.requests import ProductIn, ReplenishmentIn
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.platform import dynamo
    from orderflow.purchasing.domain import SupplierIn
    from orderflow.shared.settings import get_settings
    from orderflow.shared.types import MAIN_LOCATION
    from orderflow_local.stack import LocalStack

    overrides = {"ReplenishmentConcurrency": str(concurrency)} if concurrency else {}
    stack = LocalStack(simulate_suppliers=False, parameter_overrides=overrides)
    stack.start()
    try:
        settings = get_settings()
        wiring.purchasing_service().put_supplier("acme", SupplierIn(name="Acme"))
        catalogue = wiring.catalogue_service()
        demand = DemandRepository(settings.demand_table)
        terms = ReplenishmentIn(unit_cost=Decimal("4.00"), ordering_cost=Decimal("20"), holding_cost_rate=0.25,
                                lead_time_days=5, review_period_days=1)
        today = datetime.now(UTC).date()
        week = [8, 10, 10, 11, 12, 14, 5]
        began, history_items = time.perf_counter(), []
        for n in range(skus):
            sku = f"SKU-{n:07d}"
            catalogue.put_product(sku, ProductIn(name=sku, unit_price=Decimal("9.90"), supplier_id="acme",
                                                 replenishment=terms))
            months: dict[str, dict[str, dict[str, int]]] = {}
            for d in range(1, days + 1):
                day = (today - timedelta(days=d)).isoformat()
                months.setdefault(day[:7], {})[day] = {MAIN_LOCATION: week[(n + d) % 7]}
            history_items += [_created_by(demand.add_days(sku, month, history)) for month, history in months.items()]
            if len(history_items) >= SEED_BATCH or n == skus - 1:
                dynamo.batch_put(settings.demand_table, history_items)
                history_items = []
            if n % 1000 == 999:
                log(f"    seeded {n + 1} SKUs in {time.perf_counter() - began:.0f} s")
        seeded = time.perf_counter() - began
        name = f"run-offline-{uuid.uuid4().hex[:8]}"
        over_timeout = _OverTimeout()
        logging.getLogger("orderflow_local.runtime").addHandler(over_timeout)
        started, cpu = time.perf_counter(), time.process_time()
        described = stack.wait_for_execution(stack.start_execution("ReplenishmentStateMachine", name, {}),
                                             timeout=6 * 3600)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        logging.getLogger("orderflow_local.runtime").removeHandler(over_timeout)
        run, _ = wiring.replenishment_service().get_run(name)
        return {"skus": skus, "history_days": days, "concurrency": int(stack.resources.parameters[
                    "ReplenishmentConcurrency"]), "seed_seconds": round(seeded, 1),
                "status": described["status"], "run_seconds": round(took, 1), "run_cpu_seconds": round(cpu, 1),
                "load_average": os.getloadavg()[0], "cores": os.cpu_count(), "over_timeout": over_timeout.functions,
                "timeouts_enforced": True, "batch_size": int(stack.resources.parameters["ReplenishmentBatchSize"]),
                "counts": run.counts.model_dump() if run.counts else None}
    finally:
        stack.stop()


class _OverTimeout(logging.Handler):
    """Counts, by function, the invocations the local runtime reports as longer than their Timeout (it stops
    them, as AWS does; before 2026-12-07 it let them finish)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.functions: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "longer than its Timeout" in message:
            function = message.split(" ", 1)[0]
            self.functions[function] = self.functions.get(function, 0) + 1


SEED_BATCH = 100  # demand month items put together (BatchWriteItem, 25 a call)


def _created_by(write: Any) -> dict[str, Any]:
    """The item an ADD-only ``Update`` of an item not stored yet creates: its key and the added values."""
    assert write.kind == "Update" and write.update.startswith("ADD "), write
    item = dict(write.key)
    for clause in write.update.removeprefix("ADD ").split(", "):
        name, value = clause.split(" ")
        item[write.names.get(name, name)] = write.values[value]
    return item


def with_earlier(result: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """``result`` with the stored runs of other catalogue sizes (``earlier``, by SKUs, the latest of each
    size, with their command and date), so BENCHMARKS.md can show how the time per SKU changes with the
    catalogue."""
    earlier: dict[str, Any] = {}
    if stored:
        before = stored["data"]
        earlier = dict(before.get("earlier") or {})
        earlier[str(before["skus"])] = {**{k: v for k, v in before.items() if k != "earlier"},
                                        "command": stored["command"], "date": stored["date"]}
    earlier.pop(str(result["skus"]), None)
    return {**result, "earlier": dict(sorted(earlier.items(), key=lambda kv: int(kv[0])))}


def render(record: dict[str, Any] | None) -> str:
    """BENCHMARKS.md §11's paragraph on the offline runs: the largest catalogue's, then every size's in a table."""
    if not record:
        return "**Offline, the real workflow**: not run yet (`python -m benchmarks.nightly_offline SKUS DAYS`).\n"
    runs = sorted([*(record["data"].get("earlier") or {}).values(),
                   {**record["data"], "command": record["command"], "date": record["date"]}],
                  key=lambda r: r["skus"])
    o = runs[-1]
    text = (f"**Offline, the real workflow** (`{o['command']}`, {o['date']}, local stack: moto, the real "
            f"ASL and handlers): {o['skus']:,} SKUs with {o['history_days']} days of history, run {o['status']} in "
            f"{o['run_seconds']:.0f} s with the Map's concurrency at {o['concurrency']} "
            f"({o['run_seconds'] / o['skus'] * 1000:.0f} ms a SKU; seeding took "
            f"{o['seed_seconds']:.0f} s), {o['run_cpu_seconds']:.0f} s of the process's CPU "
            f"({o['run_cpu_seconds'] / o['skus'] * 1000:.0f} ms a SKU; the machine's {o['cores']} cores were shared "
            f"with other work, load average {o['load_average']:.0f} at its end). The emulator serialises every "
            "DynamoDB request, so this measures moto, not AWS.")
    if o.get("batch_size"):
        text += f" Batches of {o['batch_size']:,} SKUs (`ReplenishmentBatchSize`)."
    counts = o.get("counts") or {}
    if counts.get("ordered"):
        orders = counts.get("sent", 0) + counts.get("awaiting_approval", 0)
        text += (f" It ordered {counts['ordered']:,} SKUs on {orders:,} purchase orders: {counts.get('sent', 0):,} "
                 f"sent, {counts.get('awaiting_approval', 0):,} waiting for a buyer's approval (worth more than the "
                 "approval threshold).")
    if len(o["command"].split()) > 5:  # ReplenishmentConcurrency set on the command line
        text += (" Every function runs in the one Python process, under one interpreter lock: with the template's "
                 "40 batches at a time each has a fortieth of what it has on AWS, and over 20,000 SKUs Decide "
                 f"batches pass their Timeout within minutes, hence {o['concurrency']} at a time here")
        late = o.get("over_timeout") or {}
        stopped = o.get("timeouts_enforced", False)  # before 2026-12-07 the local runtime let them run on
        verb = "were stopped at" if stopped else "ran past"
        text += (f"; even so, on this loaded machine, {sum(late.values())} invocations {verb} their Timeout ("
                 + ", ".join(f"{function} {n}" for function, n in sorted(late.items())) + ")" if late
                 else "; no invocation reached its Timeout")
        text += (" (the local runtime stops a function at its Timeout, as Lambda does: docs/offline-stack.md)."
                 if stopped else " (when this run was measured the local runtime let a function run past its "
                 "Timeout and logged it; it now stops it, as Lambda does: docs/offline-stack.md).")
    if len(runs) > 1:
        text += ("\n\n| SKUs | measured | batch size | Map concurrency | run | a SKU | CPU a SKU | seeding | "
                 "load average |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
        text += "\n".join(f"| {r['skus']:,} | {r['date']} | {r.get('batch_size') or EARLIER_BATCH_SIZE:,} | "
                          f"{r['concurrency']} | {r['run_seconds']:.0f} s | "
                          f"{r['run_seconds'] / r['skus'] * 1000:.0f} ms | "
                          f"{r['run_cpu_seconds'] / r['skus'] * 1000:.0f} ms | {r['seed_seconds']:.0f} s | "
                          f"{r['load_average']:.0f} |" for r in runs)
        text += ("\n\nCPU a SKU: " + ", ".join(f"{r['run_cpu_seconds'] / r['skus'] * 1000:.0f} ms over {r['skus']:,}"
                                               for r in runs)
                 + " SKUs (each at its own load and batch size: runs before 2026-12-07 decided batches of "
                 f"{EARLIER_BATCH_SIZE}, the default then, and sent one purchase order per SKU); before the changes "
                 "below it doubled from 2,000 to 5,000. Larger batches mean fewer of them, each with its own setup "
                 "(the scan of its segment, the global model's training in a new container, the supplier's reads) "
                 "and fewer, larger purchase orders. An index Query or a scan segment still looks at every item of "
                 "its table offline (a walk of a dict, no longer a sort).")
    return text + "\n\n" + HISTORY + "\n"


EARLIER_BATCH_SIZE = 200  # ReplenishmentBatchSize when the runs that did not record it were measured

HISTORY = (
    "What the offline run's time grew with, found with py-spy and removed from the local stack "
    "(local/fidelity.py; each change keeps moto's answers, which tests/local/test_local_fidelity.py compares "
    "with moto's own code): moto answered every Query of a table by sorting all its items (1,000 SKUs took 497 s; "
    "the run grew with the square of the catalogue), every Query of an index and every parallel-scan segment "
    "the same way, and counted every message of a queue, three passes over it, for each message sent and "
    "received, while the purchase orders pile up on the supplier's queue (nothing reads it offline). A table's "
    "Query now reads its partition by key, an index's Query and a segment only their items, and SendMessage "
    "and ReceiveMessage leave the counts out. Before the last three changes the same command took 75 ms of CPU "
    "a SKU over 2,000 SKUs and 142 ms over 5,000 (1,103 s). The demand history is now seeded with "
    "BatchWriteItem, each month item as the counter's ADD would create it (moto validates a 30-attribute ADD "
    "slowly): 5,000 SKUs took 404 s to seed before.")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    began = time.perf_counter()
    result = with_earlier(main(*args), load("nightly_offline"))
    save("nightly_offline", " ".join(["python -m benchmarks.nightly_offline", *sys.argv[1:4]]), result,
         time.perf_counter() - began)
    print(result)
