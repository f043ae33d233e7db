"""Policy simulations over HTTP (docs/simulation.md, "Over the API"): the real purchasing API and
simulate handlers and the simulation ASL, executed by moto's Step Functions, on history imported
through POST /demand/history and products with replenishment parameters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orderflow_cli.client import ApiError, OrderflowClient

MACHINE = "SimulationStateMachine"
WEEK = [0.8, 1.0, 1.0, 1.1, 1.2, 1.4, 0.5]
PARAMS = {"unit_cost": 4.0, "ordering_cost": 20, "holding_cost_rate": 0.25, "lead_time_days": 4,
          "lead_time_sigma_days": 1, "review_period_days": 7}
CONFIG = {"days": 56, "seed": 3, "policies": ["orderflow", "minmax"], "targets": [0.9], "refit_every": 4}


def put_product(api, sku: str, replenishment: dict | None = PARAMS) -> None:
    body = {"name": sku, "unit_price": 9.9, "supplier_id": "sup-sim",
            **({"replenishment": replenishment} if replenishment else {})}
    response = api.http.put(f"/products/{sku}", json=body)
    assert response.is_success, response.text


def import_history(api, sku: str, daily: float, days: int) -> None:
    today = datetime.now(UTC).date()
    rows = [{"sku": sku, "day": (today - timedelta(days=n)).isoformat(), "quantity": round(daily * WEEK[n % 7])}
            for n in range(1, days + 1)]
    response = api.http.post("/demand/history", json={"rows": rows})
    assert response.json() == {"imported": days, "skipped": []}


def simulations_stored(stack) -> int:
    table = next(t.name for t in stack.resources.tables if t.logical_id == "SimulationsTable")
    return stack.boto3_client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


def finished(api, simulation_id: str) -> dict:
    stack = api.stack
    execution = stack.wait_for_execution(stack.execution_arn(MACHINE, simulation_id), timeout=300)
    assert execution["status"] == "SUCCEEDED", execution
    response = api.http.get(f"/replenishment/simulations/{simulation_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def catalogue(api) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    skus = {name: f"SIM-{tag}-{name}" for name in ("steady", "busy", "new", "unbought", "unknown")}
    for name in ("steady", "busy", "new"):
        put_product(api, skus[name])
    put_product(api, skus["unbought"], replenishment=None)
    import_history(api, skus["steady"], 12, 200)
    import_history(api, skus["busy"], 40, 200)
    import_history(api, skus["unbought"], 5, 60)
    return skus


def test_a_requested_simulation_completes_with_service_per_sku_and_the_skipped_skus(api, catalogue):
    response = api.http.post("/replenishment/simulations", json={**CONFIG, "skus": list(catalogue.values())})

    assert response.status_code == 202, response.text
    started = response.json()
    assert started["status"] == "RUNNING"
    assert response.headers["Location"] == f"/replenishment/simulations/{started['simulation_id']}"

    simulation = finished(api, started["simulation_id"])
    assert simulation["status"] == "COMPLETED" and simulation["config"]["days"] == 56
    result = simulation["result"]
    assert [r["sku"] for r in result["skus"]] == sorted([catalogue["busy"], catalogue["steady"]])
    for sku_result in result["skus"]:
        assert sku_result["days"] == 56 and {r["policy"] for r in sku_result["results"]} == {"orderflow", "minmax"}
        for policy in sku_result["results"]:
            metrics = policy["metrics"]
            assert metrics["demand"] > 0 and 0 <= metrics["fill_rate"] <= 1
            assert metrics["cycle_service_level"] is None or 0 <= metrics["cycle_service_level"] <= 1
    assert result["totals"]["orderflow"]["skus"] == 2
    assert {p["policy"] for p in result["curve"]} == {"orderflow", "minmax"}
    reasons = {s["sku"]: s["reason"] for s in simulation["skipped"]}
    assert set(reasons) == {catalogue["new"], catalogue["unbought"], catalogue["unknown"]}
    assert reasons[catalogue["new"]].startswith("no demand history")
    assert reasons[catalogue["unbought"]].startswith("no replenishment parameters")
    assert reasons[catalogue["unknown"]].startswith("unknown product")


def test_the_same_request_replays_the_same_result(api, catalogue):
    """Deterministic with the seed: two simulations of the same request agree figure for figure."""
    body = {**CONFIG, "skus": [catalogue["steady"]]}
    first, second = (api.http.post("/replenishment/simulations", json=body).json()["simulation_id"] for _ in "12")
    assert first != second
    assert finished(api, first)["result"] == finished(api, second)["result"]


def test_a_retry_with_the_same_idempotency_key_starts_nothing_twice(api, catalogue):
    client = OrderflowClient(api.stack.api_url, timeout=30)
    key = uuid.uuid4().hex
    body = {**CONFIG, "skus": [catalogue["steady"]]}
    first = client.start_simulation(body, idempotency_key=key)
    again = client.start_simulation(body, idempotency_key=key)

    assert again["simulation_id"] == first["simulation_id"]
    assert client.wait_for_simulation(first["simulation_id"], timeout=300)["status"] == "COMPLETED"
    sfn = api.stack.boto3_client("stepfunctions")
    machine = api.stack.resources.state_machine(MACHINE).arn
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["name"] for e in executions].count(first["simulation_id"]) == 1

    with pytest.raises(ApiError) as reused:
        client.start_simulation({**body, "seed": 4}, idempotency_key=key)
    assert (reused.value.status, reused.value.code) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_bad_config_is_refused_with_the_fields_named_and_stores_nothing(api):
    before = simulations_stored(api.stack)
    response = api.http.post("/replenishment/simulations",
                             json={"days": 0, "policies": ["magic"], "targets": [1.5], "skus": ["bad sku"]})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    fields = {problem["field"] for problem in error["details"]["problems"]}
    assert {"body.days", "body.policies.0", "body.targets.0", "body.skus.0"} <= fields
    assert simulations_stored(api.stack) == before


def test_an_unknown_simulation_is_404(api):
    response = api.http.get("/replenishment/simulations/sim-nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
