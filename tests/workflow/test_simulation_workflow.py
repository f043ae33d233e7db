"""The simulation ASL executed by moto's Step Functions with the real simulate handler: a failing
replay is recorded on the simulation (nothing is left RUNNING), a closed simulation is never run
again, and the handler's samples are the events it accepts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from orderflow.replenishment.adapters.simulations import SimulationsRepository
from orderflow.replenishment.decisions import timestamp
from orderflow.replenishment.runs import RunStatus
from orderflow.replenishment.simulation.models import Simulation, SimulationIn

pytestmark = pytest.mark.workflow
MACHINE = "SimulationStateMachine"
SAMPLES = Path(__file__).parents[2] / "events" / "samples"


@pytest.fixture(scope="module")
def simulations(stack) -> SimulationsRepository:
    return SimulationsRepository(next(t.name for t in stack.resources.tables if t.logical_id == "SimulationsTable"))


def recorded(simulations: SimulationsRepository, history_end: str = "2025-02-28") -> str:
    simulation_id = f"sim-test-{uuid.uuid4().hex[:8]}"
    simulations.start(Simulation(simulation_id=simulation_id, status=RunStatus.RUNNING,
                                 requested_at=timestamp(datetime.now(UTC)), history_end=history_end,
                                 config=SimulationIn(days=28, policies=["orderflow"], targets=[])))
    return simulation_id


def read(stack, simulation_id: str) -> dict:
    response = httpx.get(f"{stack.api_url}/replenishment/simulations/{simulation_id}", timeout=30,
                         headers={"Authorization": f"Bearer {stack.token('admin')}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_replay_that_fails_is_recorded_failed_with_the_error(stack, simulations):
    simulation_id = recorded(simulations, history_end="not a day")  # the replay step cannot read its window

    execution = stack.wait_for_execution(stack.start_execution(MACHINE, simulation_id, {}), timeout=120)

    assert execution["status"] == "FAILED"
    simulation = read(stack, simulation_id)
    assert simulation["status"] == "FAILED" and "result" not in simulation
    assert simulation["error"].startswith("ValueError") and "not a day" in simulation["error"]


def test_a_closed_simulation_is_not_run_again(stack, simulations):
    simulation_id = recorded(simulations)
    event = json.loads((SAMPLES / "simulate_failed.json").read_text()) | {"simulation_id": simulation_id}
    assert stack.runtime.invoke("SimulateFunction", event)["status"] == "FAILED"

    again = json.loads((SAMPLES / "simulate_run.json").read_text()) | {"simulation_id": simulation_id}
    assert stack.runtime.invoke("SimulateFunction", again) == {"simulation_id": simulation_id, "status": "FAILED"}
    simulation = read(stack, simulation_id)
    assert simulation["status"] == "FAILED"
    assert simulation["error"] == "States.Timeout: Task timed out after 900.00 seconds"
