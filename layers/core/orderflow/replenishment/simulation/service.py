"""Policy simulations over the API (docs/simulation.md, "Over the API"): record the request, start
its workflow, run the replay on the stored demand history and products, read the result back.

Numpy-free at import: the purchasing API function records and reads simulations; only
:meth:`SimulationsService.run` (the simulate function, with the forecasting layer) imports the
engine, ``orderflow.replenishment.simulation.engine``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from orderflow.catalogue import Product
from orderflow.replenishment.decisions import MAX_HISTORY_DAYS, _problem, daily_series, timestamp
from orderflow.replenishment.ports import Catalogue, DemandHistory, Workflow
from orderflow.replenishment.runs import RunStatus
from orderflow.replenishment.simulation.models import Simulation, SimulationIn
from orderflow.replenishment.simulation.ports import Simulations
from orderflow.shared.errors import NotFound, Unprocessable


class IdempotencyKeyReused(Unprocessable):
    """As the order intake's: the same key with a different body."""

    code = "IDEMPOTENCY_KEY_REUSED"


def simulation_id(idempotency_key: str | None, now: datetime) -> str:
    """The same Idempotency-Key always names the same simulation; without one, a new id that sorts by time."""
    if idempotency_key:
        return "sim-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    return f"sim-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


class SimulationsService:
    def __init__(self, simulations: Simulations, products: Catalogue, demand: DemandHistory, workflow: Workflow):
        self.simulations, self.products, self.demand, self.workflow = simulations, products, demand, workflow

    def request(self, request: SimulationIn, idempotency_key: str | None = None) -> Simulation:
        """Record the simulation (RUNNING) and start its workflow, named after it. A retry with the
        same Idempotency-Key returns the first one (and starts nothing twice); the same key with a
        different request is refused (422)."""
        now = datetime.now(UTC)
        new = Simulation(simulation_id=simulation_id(idempotency_key, now), status=RunStatus.RUNNING,
                         requested_at=timestamp(now), config=request,
                         history_end=(now.date() - timedelta(days=1)).isoformat())
        simulation, created = self.simulations.start(new)
        if not created and simulation.config != request:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different simulation request",
                                       {"simulation_id": simulation.simulation_id})
        # Also on a retry: if the first attempt recorded it but could not start it, this starts it.
        self.workflow.start_named(simulation.simulation_id, {"simulation_id": simulation.simulation_id})
        return simulation

    def get(self, simulation_id: str) -> dict[str, Any]:
        """``GET /replenishment/simulations/{id}``: the request, its status and the result or the error."""
        found = self.simulations.get(simulation_id)
        if found is None:
            raise NotFound(f"simulation {simulation_id} not found")
        simulation, results = found
        body = simulation.model_dump(mode="json", exclude={"summary", "error"})
        if simulation.status is RunStatus.COMPLETED:
            body["result"] = {**(simulation.summary or {}), "skus": sorted(results, key=lambda r: r["sku"])}
        elif simulation.status is RunStatus.FAILED:
            body["error"] = simulation.error
        return body

    # ------------------------------------------------------------------ the workflow's steps
    def run(self, simulation_id: str) -> dict[str, Any]:
        """Replay the stored history through the policies and store the result. A simulation that is
        no longer RUNNING (a retried step) is left as it is."""
        from orderflow.replenishment.simulation.engine import simulate
        from orderflow.replenishment.simulation.replay import SimulationConfig, Skipped

        simulation = self.simulations.get_record(simulation_id)
        if simulation is None:
            raise NotFound(f"simulation {simulation_id} not found")
        if simulation.status is not RunStatus.RUNNING:
            return {"simulation_id": simulation_id, "status": simulation.status.value}
        try:
            config = SimulationConfig.model_validate(simulation.config.parameters().model_dump())
        except ValidationError as exc:  # e.g. rq where stockpyl is not installed
            return self.fail(simulation_id, _problem(exc))
        products, skipped = self._products(simulation.config.skus)
        cycle = (date.fromisoformat(simulation.history_end) + timedelta(days=1)).isoformat()
        first = (date.fromisoformat(cycle) - timedelta(days=config.days + MAX_HISTORY_DAYS)).isoformat()
        histories = {sku: series for sku in products
                     if (series := daily_series(self.demand.history(sku, first, simulation.history_end), cycle,
                                                config.days + MAX_HISTORY_DAYS))}
        result = simulate(histories, products, config)
        skipped = [*result.skipped, *(Skipped(sku=sku, reason=reason) for sku, reason in skipped.items())]
        summary = result.model_dump(mode="json", include={"totals", "by_class", "curve"})
        done = self.simulations.finish(simulation_id, summary, {r.sku: r.model_dump_json() for r in result.skus},
                                       [s.model_dump() for s in skipped], timestamp(datetime.now(UTC)))
        return {"simulation_id": simulation_id, "status": (done.status if done else RunStatus.COMPLETED).value}

    def fail(self, simulation_id: str, error: str) -> dict[str, Any]:
        """The workflow's catch (or a request the engine refuses): RUNNING → FAILED with the error."""
        self.simulations.fail(simulation_id, error, timestamp(datetime.now(UTC)))
        return {"simulation_id": simulation_id, "status": RunStatus.FAILED.value}

    def _products(self, skus: list[str] | None) -> tuple[dict[str, Product | None], dict[str, str]]:
        """The products to simulate (the named SKUs, or every active product with replenishment
        parameters) and the SKUs that cannot be, with the reason."""
        products: dict[str, Product | None] = {}
        skipped: dict[str, str] = {}
        if skus is not None:
            for start in range(0, len(skus), 100):
                products.update(self.products.get_many(skus[start:start + 100]))
            for sku in skus:
                if sku not in products:
                    skipped[sku] = "unknown product: no such SKU in the catalogue"
            return products, skipped
        for raw in self.products.scan_segment(0, 1):
            if not raw.get("replenishment") or raw.get("active", True) is False:
                continue
            try:
                products[raw["sku"]] = Product.model_validate(raw)
            except ValidationError as exc:
                skipped[raw["sku"]] = f"product parameters: {_problem(exc)}"
        return products, skipped
