"""The purchasing API function through the local stack's HTTP front (template.yaml routes, moto, the
real handler): suppliers, demand history, replenishment runs and purchase orders, and bad input.

Suppliers here are named ``manual-...``: the local stack's simulated supplier leaves their purchase
orders alone, so they stay SENT for the assertions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPLENISHMENT = {"unit_cost": 2.0, "ordering_cost": 20.0, "holding_cost_rate": 0.2, "lead_time_days": 3}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def supplier(api, **body) -> str:
    supplier_id = unique("manual-")
    response = api.http.put(f"/suppliers/{supplier_id}", json={"name": "Acme", **body})
    assert response.status_code == 200, response.text
    return supplier_id


def product(api, supplier_id: str | None, replenishment: dict | None = REPLENISHMENT) -> str:
    sku = unique("SKU-")
    body = {"name": sku, "unit_price": 5, **({"supplier_id": supplier_id} if supplier_id else {}),
            **({"replenishment": replenishment} if replenishment else {})}
    assert api.http.put(f"/products/{sku}", json=body).is_success
    return sku


def history(api, sku: str) -> dict[str, int]:
    response = api.http.get(f"/demand/{sku}")
    assert response.status_code == 200, response.text
    return {h["day"]: h["quantity"] for h in response.json()["history"]}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], dict)
    return error


def wait_for_run(api, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = api.http.get(f"/replenishment/runs/{run_id}")
        if response.status_code == 200 and response.json()["status"] != "RUNNING":
            return response.json()
        assert response.status_code in (200, 404), response.text  # 404 until the workflow records the run
        assert time.monotonic() < deadline, f"run {run_id} still running"
        time.sleep(0.1)


def executions(stack) -> int:
    sfn = stack.boto3_client("stepfunctions")
    arn = stack.execution_arn("ReplenishmentStateMachine", "x").rsplit(":", 1)[0].replace(":execution:",
                                                                                          ":stateMachine:")
    return len(sfn.list_executions(stateMachineArn=arn)["executions"])


# ------------------------------------------------------------------ suppliers
def test_a_supplier_gets_a_queue_and_putting_it_again_keeps_the_queue(api, stack):
    supplier_id = supplier(api, capacity_per_cycle=500)
    first = api.http.get(f"/suppliers/{supplier_id}").json()
    assert first["name"] == "Acme" and first["capacity_per_cycle"] == 500 and first["active"] is True
    assert first["reply_queue_url"].endswith("supplier-replies")
    queue_name = first["queue_url"].rsplit("/", 1)[1]
    assert stack.boto3_client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"].endswith(queue_name)

    again = api.http.put(f"/suppliers/{supplier_id}", json={"name": "Acme Ltd"}).json()
    assert again["queue_url"] == first["queue_url"]
    assert api.http.get(f"/suppliers/{supplier_id}").json() | {"queue_url": None} == {
        **first, "name": "Acme Ltd", "capacity_per_cycle": None, "queue_url": None}


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ({"name": ""}, {}, 422, "VALIDATION_FAILED"),
    ({"name": "A", "capacity_per_cycle": -1}, {}, 422, "VALIDATION_FAILED"),
    ({"name": "A", "capacity_per_cycle": "lots"}, {}, 422, "VALIDATION_FAILED"),
    ({"name": "A", "colour": "red"}, {}, 422, "VALIDATION_FAILED"),
    ({"capacity_per_cycle": 3}, {}, 422, "VALIDATION_FAILED"),
    (b'{"name": "A"', {}, 400, "MALFORMED_JSON"),
    (b"name=A", {"content-type": "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ({"name": "A" * 70_000}, {}, 413, "PAYLOAD_TOO_LARGE"),
])
def test_a_rejected_supplier_body_writes_no_supplier_and_no_queue(api, stack, body, headers, status, code):
    supplier_id = unique("manual-")
    content = body if isinstance(body, bytes) else None
    response = api.http.put(f"/suppliers/{supplier_id}", content=content, json=None if content else body,
                            headers=headers)
    error = assert_error(response, status, code)
    if code == "VALIDATION_FAILED":
        assert error["details"]["problems"][0]["field"].startswith("body")
    assert_error(api.http.get(f"/suppliers/{supplier_id}"), 404, "NOT_FOUND")
    queues = stack.boto3_client("sqs").list_queues(QueueNamePrefix=f"orderflow-dev-po-{supplier_id}")
    assert queues.get("QueueUrls", []) == []


@pytest.mark.parametrize("supplier_id", ["bad%20id", "-dash-first", "x" * 65])
def test_a_supplier_id_that_is_not_an_identifier_is_refused(api, stack, supplier_id):
    error = assert_error(api.http.put(f"/suppliers/{supplier_id}", json={"name": "A"}), 422, "VALIDATION_FAILED")
    assert error["details"]["problems"][0]["field"] == "path.supplier_id"
    assert stack.boto3_client("sqs").list_queues(QueueNamePrefix="orderflow-dev-po-x").get("QueueUrls", []) == []


def test_unknown_things_are_404_with_the_error_body(api):
    assert_error(api.http.get("/suppliers/nobody"), 404, "NOT_FOUND")
    assert_error(api.http.get("/purchase-orders/po-2020-01-01-NOPE"), 404, "NOT_FOUND")
    assert_error(api.http.get("/replenishment/runs/run-nope"), 404, "NOT_FOUND")
    assert_error(api.http.get("/demand/NO-SUCH-SKU"), 404, "NOT_FOUND")


# ------------------------------------------------------------------ demand history
def test_history_import_takes_the_good_rows_and_names_the_bad_ones(api):
    sku = product(api, None)
    rows = [{"sku": sku, "day": days_ago(3), "quantity": 4},
            {"sku": "GHOST-SKU", "day": days_ago(3), "quantity": 1},
            {"sku": sku, "day": days_ago(2), "quantity": -5},
            {"sku": sku, "day": "2024-02-30", "quantity": 1},
            {"sku": sku, "day": days_ago(2), "quantity": 1.5},
            "not a row",
            {"sku": sku, "day": days_ago(1), "quantity": 0},
            {"sku": sku, "day": days_ago(3), "quantity": 9}]
    response = api.http.post("/demand/history", json={"rows": rows})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["imported"] == 2
    skipped = {s["row"]: s for s in result["skipped"]}
    assert sorted(skipped) == [2, 3, 4, 5, 6, 8]
    assert skipped[2]["sku"] == "GHOST-SKU" and "unknown SKU" in skipped[2]["problem"]
    assert "quantity" in skipped[3]["problem"] and "day" in skipped[4]["problem"]
    assert "row 1" in skipped[8]["problem"]  # the same SKU and day twice in one import
    assert history(api, sku) == {days_ago(3): 4, days_ago(1): 0}

    again = api.http.post("/demand/history", json={"rows": rows}).json()
    assert again["imported"] == 2
    assert history(api, sku) == {days_ago(3): 4, days_ago(1): 0}  # set, not added


@pytest.mark.parametrize("body", [{"rows": []}, {"rows": "x"}, {}, {"rows": [], "extra": 1}])
def test_history_import_without_rows_is_422(api, body):
    assert_error(api.http.post("/demand/history", json=body), 422, "VALIDATION_FAILED")


def test_more_than_500_rows_are_refused_whole_and_import_nothing(api):
    sku = product(api, None)
    rows = [{"sku": sku, "day": days_ago(n), "quantity": 1} for n in range(1, 502)]
    error = assert_error(api.http.post("/demand/history", json={"rows": rows}), 422, "VALIDATION_FAILED")
    assert error["details"]["problems"][0]["field"] == "body.rows"
    assert history(api, sku) == {}
    assert api.http.post("/demand/history", json={"rows": rows[:500]}).json()["imported"] == 500


def test_demand_history_reads_a_window_of_days(api):
    sku = product(api, None)
    api.http.post("/demand/history", json={"rows": [{"sku": sku, "day": days_ago(n), "quantity": n}
                                                    for n in range(1, 11)]})
    response = api.http.get(f"/demand/{sku}", params={"start": days_ago(6), "end": days_ago(4)})
    assert response.json() == {"sku": sku, "start": days_ago(6), "end": days_ago(4),
                               "history": [{"day": days_ago(n), "quantity": n} for n in (6, 5, 4)]}
    assert_error(api.http.get(f"/demand/{sku}", params={"start": "last week"}), 422, "VALIDATION_FAILED")
    assert_error(api.http.get(f"/demand/{sku}", params={"start": days_ago(1), "end": days_ago(5)}),
                 422, "UNPROCESSABLE")


# ------------------------------------------------------------------ runs and purchase orders
def test_a_run_orders_what_is_below_its_reorder_point_and_explains_every_sku(api, stack):
    supplier_id = supplier(api)
    needed, no_supplier = product(api, supplier_id), product(api, None)
    rows = [{"sku": sku, "day": days_ago(n), "quantity": 10 + n % 3} for n in range(1, 91)
            for sku in (needed, no_supplier)]
    assert api.http.post("/demand/history", json={"rows": rows[:180]}).json()["imported"] == 180

    started = api.http.post("/replenishment/runs", json={"note": "integration"})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    assert started.headers["location"] == f"/replenishment/runs/{run_id}"
    run = wait_for_run(api, run_id)

    assert run["status"] == "COMPLETED", run
    decisions = {d["sku"]: d for d in run["decisions"]}
    ordered = decisions[needed]
    assert ordered["outcome"] == "ordered" and ordered["quantity"] > 0
    assert ordered["demand_class"] and ordered["method"] and ordered["reason"]
    assert 9 < ordered["forecast_daily"] < 13 and ordered["sigma_daily"] >= 0
    assert ordered["reorder_point"] > ordered["safety_stock"] >= 0 and ordered["inventory_position"] == 0
    assert decisions[no_supplier]["outcome"] == "skipped" and "supplier" in decisions[no_supplier]["reason"]
    assert api.http.get(f"/stock/{needed}").json()["on_order"] == ordered["quantity"]
    assert run_id in [r["run_id"] for r in api.http.get("/replenishment/runs").json()["runs"]]

    po = api.http.get(f"/purchase-orders/{ordered['po_id']}").json()
    assert po["supplier_id"] == supplier_id and po["run_id"] == run_id and po["status"] == "SENT"
    assert po["lines"] == [{"sku": needed, "quantity": ordered["quantity"], "unit_cost": 2.0, "confirmed": None,
                            "received": 0}]
    assert [e["status"] for e in po["timeline"]] == ["DRAFT", "SENT"]
    sent = api.http.get("/purchase-orders", params={"status": "SENT", "limit": 100}).json()
    assert ordered["po_id"] in [p["po_id"] for p in sent["purchase_orders"]]

    whole = api.http.get(f"/replenishment/runs/{run_id}", params={"limit": 1000}).json()
    assert whole["next_cursor"] is None and len(whole["decisions"]) == run["counts"]["skus"] >= 2
    paged, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = api.http.get(f"/replenishment/runs/{run_id}", params=params)
        assert page.status_code == 200, page.text
        assert page.json()["status"] == "COMPLETED" and len(page.json()["decisions"]) <= 1
        paged += page.json()["decisions"]
        if not (cursor := page.json()["next_cursor"]):
            break
    assert paged == whole["decisions"] and [d["sku"] for d in paged] == sorted(d["sku"] for d in paged)
    assert_error(api.http.get(f"/replenishment/runs/{run_id}", params={"cursor": "bm90IGEgY3Vyc29y"}),
                 422, "UNPROCESSABLE")

    second = wait_for_run(api, api.http.post("/replenishment/runs").json()["run_id"])
    again = next(d for d in second["decisions"] if d["sku"] == needed)
    assert again["outcome"] == "already_ordered" and again["po_id"] == ordered["po_id"]
    assert api.http.get(f"/stock/{needed}").json()["on_order"] == ordered["quantity"]


@pytest.mark.parametrize("body", [{"note": 5}, {"note": "x" * 201}, {"trigger": "api"}, b"{"])
def test_a_bad_run_request_is_refused_and_starts_nothing(api, stack, body):
    before = executions(stack)
    response = (api.http.post("/replenishment/runs", content=body) if isinstance(body, bytes)
                else api.http.post("/replenishment/runs", json=body))
    assert_error(response, 400 if isinstance(body, bytes) else 422,
                 "MALFORMED_JSON" if isinstance(body, bytes) else "VALIDATION_FAILED")
    assert executions(stack) == before


@pytest.mark.parametrize(("params", "code"), [
    ({"status": "LOST"}, "VALIDATION_FAILED"), ({"limit": 0}, "VALIDATION_FAILED"),
    ({"limit": 101}, "VALIDATION_FAILED"), ({"cursor": "not-a-cursor"}, "UNPROCESSABLE"),
])
def test_purchase_order_listing_refuses_bad_parameters(api, params, code):
    assert_error(api.http.get("/purchase-orders", params=params), 422, code)


def test_the_function_imports_no_numpy_pandas_or_statsmodels():
    """Its Lambda has no forecasting layer: importing the handler must not need one."""
    code = ("import sys; sys.path.insert(0, 'functions/purchasing_api'); import app; "
            "heavy = sorted(m for m in ('numpy', 'pandas', 'statsmodels', 'scipy', 'lightgbm', 'holidays') "
            "if m in sys.modules); "
            "print(heavy); sys.exit(1 if heavy else 0)")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
