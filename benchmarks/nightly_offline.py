"""The real replenishment workflow offline over a seeded catalogue: ``python -m benchmarks.nightly_offline
[SKUS] [DAYS]`` (defaults 20,000 SKUs, 28 days of history).

The local stack (moto, the real ASL and handlers; it serialises every DynamoDB request, so this measures the
emulator more than AWS: BENCHMARKS.md §11 models AWS). Seeds SKUs with a supplier, stock and ``DAYS`` days of
weekly-patterned demand (written straight into the demand table's month items, not through the API, to keep
seeding short: each item as the demand counter's ADD of those days would create it, put 25 at a time), then
times one execution of ``ReplenishmentStateMachine`` from start to end and reports the run's counts.
Stores the figures in benchmarks/results/nightly_offline.json (BENCHMARKS.md §11 shows them); nothing is
asserted. Besides the wall time it records the process's CPU time over the run (every thread of the stack
is in this process): on a shared machine the wall time depends on what else runs, the CPU time much less.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .common import log, save


def main(skus: int = 20_000, days: int = 28) -> dict:
    from orderflow import wiring
    from orderflow.catalogue.requests import ProductIn, ReplenishmentIn
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.platform import dynamo
    from orderflow.purchasing.domain import SupplierIn
    from orderflow.shared.settings import get_settings
    from orderflow.shared.types import MAIN_LOCATION
    from orderflow_local.stack import LocalStack

    stack = LocalStack(simulate_suppliers=False)
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
        started, cpu = time.perf_counter(), time.process_time()
        described = stack.wait_for_execution(stack.start_execution("ReplenishmentStateMachine", name, {}),
                                             timeout=6 * 3600)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        run, _ = wiring.replenishment_service().get_run(name)
        return {"skus": skus, "history_days": days, "seed_seconds": round(seeded, 1),
                "status": described["status"], "run_seconds": round(took, 1), "run_cpu_seconds": round(cpu, 1),
                "load_average": os.getloadavg()[0], "cores": os.cpu_count(),
                "counts": run.counts.model_dump() if run.counts else None}
    finally:
        stack.stop()


SEED_BATCH = 100  # demand month items put together (BatchWriteItem, 25 a call)


def _created_by(write: Any) -> dict[str, Any]:
    """The item an ADD-only ``Update`` of an item not stored yet creates: its key and the added values."""
    assert write.kind == "Update" and write.update.startswith("ADD "), write
    item = dict(write.key)
    for clause in write.update.removeprefix("ADD ").split(", "):
        name, value = clause.split(" ")
        item[write.names.get(name, name)] = write.values[value]
    return item


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    began = time.perf_counter()
    result = main(*args)
    save("nightly_offline", " ".join(["python -m benchmarks.nightly_offline", *sys.argv[1:3]]), result,
         time.perf_counter() - began)
    print(result)
