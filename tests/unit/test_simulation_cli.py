"""``orderflow simulate``: history CSV and product parameters in, an HTML report and JSON out."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from orderflow_cli.client import OrderflowClient
from orderflow_cli.simulate import daily_histories, load_products, products_from_api, simulate

PARAMS = {"unit_cost": 4, "ordering_cost": 50, "holding_cost_rate": 0.25, "lead_time_days": 7,
          "lead_time_sigma_days": 1, "review_period_days": 7}


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(simulate)
    return app


def write_history(path: Path, skus: dict[str, float], days: int = 420) -> Path:
    rng = np.random.default_rng(9)
    start = date(2024, 1, 1)
    lines = ["sku,date,quantity"]
    for sku, mean in skus.items():
        lines += [f"{sku},{start + timedelta(days=d)},{q}" for d, q in enumerate(rng.poisson(mean, days))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_history_and_a_catalogue_make_a_report(app, tmp_path):
    history = write_history(tmp_path / "history.csv", {"MUG": 20, "CUP": 4, "GONE": 3})
    catalogue = {"products": {
        "MUG": {"name": "Mug", "unit_price": 9, "supplier_id": "SUP", "replenishment": PARAMS},
        "CUP": {"name": "Cup", "unit_price": 5, "supplier_id": "SUP", "replenishment": {**PARAMS, "moq": 24}},
        "GONE": {"name": "Gone", "unit_price": 5, "supplier_id": "SUP",
                 "replenishment": {**PARAMS, "service_level": 1.5}}}}
    products = tmp_path / "catalogue.json"
    products.write_text(json.dumps(catalogue))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["--history", str(history), "--days", "300", "--products", str(products),
                                      "--out", str(out), "--targets", "0.9,0.95", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "GONE: product parameters: replenishment.service_level" in result.output
    page = (out / "simulation.html").read_text()
    assert "data:image/png;base64," in page  # the trade-off plot, embedded
    assert "MUG" in page and "CUP" in page and "service_level" in page
    data = json.loads((out / "simulation.json").read_text())
    assert {s["sku"] for s in data["skus"]} == {"MUG", "CUP"}
    assert [s["sku"] for s in data["skipped"]] == ["GONE"]
    assert data["config"]["seed"] == 3 and data["config"]["days"] == 300
    assert {p["setting"] for p in data["curve"] if p["policy"] == "orderflow"} == {0.9, 0.95}
    again = tmp_path / "again"
    CliRunner().invoke(app, ["--history", str(history), "--days", "300", "--products", str(products),
                             "--out", str(again), "--targets", "0.9,0.95", "--seed", "3"])
    assert json.loads((again / "simulation.json").read_text()) == data  # same seed, same replay


def test_sku_and_policy_filters(app, tmp_path):
    history = write_history(tmp_path / "history.csv", {"A": 10, "B": 10})
    products = tmp_path / "p.json"
    products.write_text(json.dumps({s: {"supplier_id": "SUP", "replenishment": PARAMS} for s in "AB"}))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--history", str(history), "--days", "200", "--products", str(products),
                                      "--sku", "B", "--policy", "minmax", "--targets", "", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "simulation.json").read_text())
    assert [s["sku"] for s in data["skus"]] == ["B"]
    assert list(data["totals"]) == ["minmax"] and data["curve"] == []


@pytest.mark.parametrize(("args", "message"), [
    (["--sku", "NOPE"], "not in"),
    (["--policy", "magic"], "unknown policy magic"),
    (["--targets", "0.9,1.5"], "targets.1: Input should be less than or equal to 0.999"),
    (["--targets", "high"], "--targets: could not convert"),
])
def test_bad_arguments_exit_with_a_message(app, tmp_path, args, message):
    history = write_history(tmp_path / "history.csv", {"A": 5}, days=60)
    products = tmp_path / "p.json"
    products.write_text(json.dumps({"A": {"supplier_id": "SUP", "replenishment": PARAMS}}))
    result = CliRunner().invoke(app, ["--history", str(history), "--products", str(products), *args,
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_a_bad_history_file_names_the_line(app, tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("sku,date,quantity\nA,2024-01-01,3\nA,2024-01-02,-1\n")
    result = CliRunner().invoke(app, ["--history", str(history), "--products", str(history)])
    assert result.exit_code == 1
    assert "line 3, quantity: -1 is negative" in result.output


def test_products_csv_rows_are_checked_one_by_one(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku,supplier_id,unit_cost,ordering_cost,holding_cost_rate,lead_time_days,pack_size\n"
                    "A,SUP,4.00,50,0.25,7,12\n"
                    "B,SUP,4.00,50,0.25,7,half\n"
                    "C,SUP,4.00,50,0.25,0,1\n")
    products, problems = load_products(path)
    assert products["A"].replenishment.pack_size == 12 and products["A"].supplier_id == "SUP"
    assert set(problems) == {"B", "C"}
    assert problems["B"].startswith("product parameters: replenishment.pack_size")
    assert problems["C"].startswith("product parameters: replenishment.lead_time_days")


def test_a_products_csv_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku,cost\nA,4\n")
    with pytest.raises(ValueError, match="missing supplier_id,unit_cost"):
        load_products(path)


def test_products_can_come_from_the_api():
    def handler(request: httpx.Request) -> httpx.Response:
        sku = request.url.path.rsplit("/", 1)[-1]
        if sku == "KNOWN":
            return httpx.Response(200, json={"sku": "KNOWN", "name": "Known", "unit_price": "9.00",
                                             "supplier_id": "SUP", "replenishment": PARAMS})
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": f"product {sku} not found"}})

    with OrderflowClient("http://api.test", transport=httpx.MockTransport(handler)) as client:
        products, problems = products_from_api(client, ["KNOWN", "UNKNOWN"])
    assert products["KNOWN"].replenishment.lead_time_days == 7
    assert problems == {"UNKNOWN": "unknown product: the API has no such SKU"}


def test_histories_run_to_the_files_last_day():
    from orderflow_cli.history import HistoryRow

    rows = [HistoryRow(2, "A", "2024-01-01", 2), HistoryRow(3, "A", "2024-01-03", 5),
            HistoryRow(4, "B", "2024-01-04", 1)]
    series, end = daily_histories(rows)
    assert end == date(2024, 1, 4)
    assert series == {"A": [2.0, 0.0, 5.0, 0.0], "B": [1.0]}


def test_products_from_the_api_use_the_given_token_and_a_403_names_the_role(tmp_path, monkeypatch):
    from orderflow_cli import main
    from orderflow_cli import simulate as simulate_module

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(403, json={"message": "Forbidden"})

    def client(*args, **kwargs):
        return OrderflowClient(*args, **kwargs, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(simulate_module, "OrderflowClient", client)
    history = write_history(tmp_path / "history.csv", {"MUG": 20}, days=60)
    result = CliRunner().invoke(main.app, ["--api", "https://api.example.com", "--token", "T-1", "simulate",
                                           "--history", str(history), "--days", "30", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert seen == ["Bearer T-1"]
    assert "GET /products/{sku} needs the customer, warehouse or admin role" in result.stderr
