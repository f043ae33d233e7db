"""The buying side from the ``orderflow`` command line, against the running offline stack: suppliers,
history import, a replenishment run with its decisions, purchase orders, and the HTML report.

The supplier is named ``manual-...`` so the stack's simulated supplier leaves its purchase orders SENT.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from orderflow_cli.main import app

pytestmark = pytest.mark.e2e
REPLENISHMENT = {"unit_cost": 3.0, "ordering_cost": 25.0, "holding_cost_rate": 0.25, "lead_time_days": 4,
                 "pack_size": 10}


@pytest.fixture
def run(api_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--api", api_url, *args], env={"COLUMNS": "300"})

    return invoke


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def row_of(output: str, first: str) -> list[str]:
    """The cells of the first table row whose first cell is ``first``."""
    rows = ([cell.strip() for cell in re.split(r"\s{2,}|│", line) if cell.strip()] for line in output.splitlines())
    return next(cells for cells in rows if cells and cells[0] == first)


def outcome_of(output: str, sku: str) -> str:
    """The line of a run's decisions that says what was decided for ``sku`` and why."""
    return next(line.strip() for line in output.splitlines() if line.startswith(f"  {sku} "))


def replenished_product(shop, supplier_id: str, name: str = "tea", methods: list[str] | None = None) -> str:
    sku = f"{shop.prefix}-{name}"
    terms = {**REPLENISHMENT, "forecast_methods": methods} if methods else REPLENISHMENT
    response = shop.client.request("PUT", f"/products/{sku}", json={
        "name": name, "unit_price": 6.0, "supplier_id": supplier_id, "replenishment": terms})
    assert response.status_code == 200, response.text
    return sku


def test_supplier_history_run_purchase_orders_and_report(run, shop, tmp_path):
    supplier_id = f"manual-{shop.prefix}"
    put = run("suppliers", "put", supplier_id, "--name", "Tea Co", "--capacity", "5000")
    assert put.exit_code == 0, put.output
    shown = run("suppliers", "show", supplier_id)
    assert shown.exit_code == 0, shown.output
    assert "capacity per cycle: 5,000 units" in shown.stdout.splitlines()
    assert f"orderflow-dev-po-{supplier_id}" in shown.stdout

    # The statistical candidates only: the report makes the run's forecast again to draw its intervals, which
    # it cannot for the global model (trained across the run's batch; cli/report.py, forecast_intervals).
    sku = replenished_product(shop, supplier_id, methods=["snaive", "mean", "smean", "ses", "hw_damped"])
    ghost = f"{shop.prefix}-ghost"
    lines = [f"{sku},{days_ago(n)},{8 + n % 5}" for n in range(90, 0, -1)]
    csv = tmp_path / "history.csv"
    csv.write_text("sku,date,quantity\n" + "\n".join([*lines[:45], f"{ghost},{days_ago(3)},2", *lines[45:]]) + "\n")
    imported = run("history", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    assert "imported 90 rows, skipped 1" in imported.stdout
    assert row_of(imported.stdout, "47") == ["47", ghost, f"unknown SKU {ghost}"]
    assert len(shop.client.demand_history(sku)["history"]) == 90

    replenished = run("replenish", "--now", "--wait", "--note", "e2e")
    assert replenished.exit_code == 0, replenished.output
    run_id = re.search(r"run_id: (\S+)", replenished.stdout).group(1)
    assert "COMPLETED" in replenished.stdout
    decision = next(d for d in shop.client.get_replenishment_run(run_id)["decisions"] if d["sku"] == sku)
    assert decision["outcome"] == "ordered" and decision["quantity"] % 10 == 0
    assert row_of(replenished.stdout, sku)[-1] == str(decision["quantity"])
    assert outcome_of(replenished.stdout, sku).startswith(f"{sku} ordered (")
    assert f"→ {decision['po_id']}: " in outcome_of(replenished.stdout, sku)

    listed = run("runs")
    assert listed.exit_code == 0 and run_id in listed.stdout
    one = run("runs", run_id)
    assert one.exit_code == 0 and outcome_of(one.stdout, sku).startswith(f"{sku} ordered (")

    pos = run("pos", "--status", "sent", "--limit", "100")
    assert pos.exit_code == 0, pos.output
    assert row_of(pos.stdout, decision["po_id"])[1:3] == ["SENT", supplier_id]
    po = run("po", decision["po_id"])
    assert po.exit_code == 0, po.output
    assert po.stdout.index("DRAFT") < po.stdout.index("SENT", po.stdout.index("DRAFT"))
    assert row_of(po.stdout, sku)[:2] == [sku, str(decision["quantity"])]

    report = run("report", run_id, "--out", str(tmp_path / "report"))
    assert report.exit_code == 0, report.output
    page = (tmp_path / "report" / "index.html").read_text()
    section = page[page.index(f'<section id="{sku}">'):]
    assert section.index("data:image/png;base64,") < section.index("</section>")
    # the run's forecast made again from the same history: its 80 % and 95 % intervals are drawn
    assert f'alt="demand, forecast and prediction intervals of {sku}"' in section
    assert f"{decision['quantity']:,} units on <span class=token>{decision['po_id']}</span>" in section


def test_bad_input_from_the_command_line_changes_nothing(run, shop, tmp_path):
    supplier_id = f"manual-{shop.prefix}"
    refused = run("suppliers", "put", supplier_id, "--name", "")
    assert refused.exit_code == 1 and "VALIDATION_FAILED" in refused.stderr
    missing = run("suppliers", "show", supplier_id)
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.stderr

    sku = replenished_product(shop, supplier_id)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"sku,date,quantity\n{sku},{days_ago(2)},4\n{sku},{days_ago(3)},4\n{sku},{days_ago(1)},-1\n")
    result = run("history", "import", str(bad))
    assert result.exit_code == 1
    assert "line 3, date" in result.stderr and "line 4, quantity" in result.stderr
    assert shop.client.demand_history(sku)["history"] == []

    unknown_only = tmp_path / "ghosts.csv"
    unknown_only.write_text(f"sku,date,quantity\n{shop.prefix}-ghost,{days_ago(2)},4\n")
    result = run("history", "import", str(unknown_only))
    assert result.exit_code == 1 and "imported 0 rows, skipped 1" in result.stdout

    def run_ids() -> set[str]:
        return {r["run_id"] for r in shop.client.list_replenishment_runs(100)["runs"]}

    before = run_ids()
    result = run("replenish")  # starts a run: no flag needed
    assert result.exit_code == 0, result.output
    started = re.search(r"run_id: (\S+)", result.stdout).group(1)
    assert run_ids() - before == {started}

    result = run("po", f"po-2000-01-01-{sku}")
    assert result.exit_code == 1 and "NOT_FOUND" in result.stderr
