"""Simulations table: per simulation one ``SIM`` item (request, status, totals, curve, skipped SKUs)
and one ``SIMSKU#<sku>`` item per simulated SKU (a result per item keeps each well under DynamoDB's
400 KB). Results are stored as JSON text: they are read whole and never queried inside."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write, batch_put
from orderflow.replenishment.lifecycle import RUN_LIFECYCLE
from orderflow.replenishment.runs import RunStatus
from orderflow.replenishment.simulation.models import Simulation
from orderflow.shared.errors import ConditionFailed

SIM = "SIM"
SKU = "SIMSKU#"


class SimulationsRepository:
    def __init__(self, table: str):
        self.table = table

    def start(self, simulation: Simulation) -> tuple[Simulation, bool]:
        """Record a new simulation; if its id exists (a retried request), the stored one and False."""
        try:
            dynamo.apply(Write("Put", self.table, item=self._item(simulation),
                               condition="attribute_not_exists(simulation_id)"))
        except ConditionFailed:
            stored = self.get_record(simulation.simulation_id)
            return (stored or simulation), False
        return simulation, True

    def get_record(self, simulation_id: str) -> Simulation | None:
        item = dynamo.get(self.table, {"simulation_id": simulation_id, "record": SIM})
        return self._simulation(item) if item else None

    def get(self, simulation_id: str) -> tuple[Simulation, list[dict[str, Any]]] | None:
        """The simulation and its per-SKU results (by SKU), all pages of its partition."""
        simulation, results, page = None, [], {}
        while True:
            items, last = dynamo.query(self.table, KeyConditionExpression="simulation_id = :s",
                                       ExpressionAttributeValues={":s": simulation_id}, ConsistentRead=True, **page)
            for item in items:
                if item["record"] == SIM:
                    simulation = self._simulation(item)
                else:
                    results.append(json.loads(item["result"]))
            if not last:
                return (simulation, results) if simulation else None
            page = {"ExclusiveStartKey": last}

    def finish(self, simulation_id: str, summary: dict[str, Any], results: dict[str, str],
               skipped: list[dict[str, str]], finished_at: str) -> Simulation | None:
        """Store the per-SKU results (``sku`` → JSON; a retry overwrites its own), then RUNNING →
        COMPLETED with the summary; None if the simulation is no longer RUNNING."""
        batch_put(self.table, [{"simulation_id": simulation_id, "record": f"{SKU}{sku}", "result": text}
                               for sku, text in results.items()])
        return self._close(simulation_id, RunStatus.COMPLETED,
                           "SET #status = :done, summary = :summary, skipped = :skipped, finished_at = :at",
                           {":done": RunStatus.COMPLETED.value, ":summary": json.dumps(summary),
                            ":skipped": skipped, ":at": finished_at})

    def fail(self, simulation_id: str, error: str, finished_at: str) -> Simulation | None:
        """RUNNING → FAILED with the error; None if it is no longer RUNNING."""
        return self._close(simulation_id, RunStatus.FAILED, "SET #status = :failed, #error = :error, finished_at = :at",
                           {":failed": RunStatus.FAILED.value, ":error": error, ":at": finished_at},
                           {"#error": "error"})

    def _close(self, simulation_id: str, target: RunStatus, update: str, values: dict[str, Any],
               names: dict[str, str] | None = None) -> Simulation | None:
        """The simulation moves to ``target`` iff the run lifecycle allows it from the stored status."""
        allowed, sources = RUN_LIFECYCLE.condition(target)
        write = Write("Update", self.table, key={"simulation_id": simulation_id, "record": SIM}, update=update,
                      condition=allowed, names={"#status": "status", **(names or {})},
                      values={**values, **sources})
        try:
            return self._simulation(dynamo.apply(write, return_new=True))
        except ConditionFailed:
            return None

    def _item(self, simulation: Simulation) -> dict[str, Any]:
        data = simulation.model_dump(mode="json", exclude_none=True)
        if "summary" in data:
            data["summary"] = json.dumps(data["summary"])
        return {"record": SIM, **data}

    @staticmethod
    def _simulation(item: dict[str, Any] | None) -> Simulation:
        assert item is not None
        data = dict(item)
        if isinstance(data.get("summary"), str):
            data["summary"] = json.loads(data["summary"])
        return Simulation.model_validate(_numbers(data))


def _numbers(value: Any) -> Any:
    """DynamoDB's Decimals back to ints and floats (the request's numbers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value
