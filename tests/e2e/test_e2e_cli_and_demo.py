"""The ``orderflow`` command line and the demo, against the running offline stack."""

from __future__ import annotations

import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from orderflow_cli import demo
from orderflow_cli.main import app

pytestmark = pytest.mark.e2e
SHIP_TO = ("--ship-to", "Cafe Ltd, 3 Mill Lane, York, YO1 7HH, GB")


@pytest.fixture
def run(api_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--api", api_url, *args], env={"COLUMNS": "160"})

    return invoke


@pytest.fixture
def catalogue(tmp_path, shop):
    p = shop.prefix
    data = {
        "products": {f"{p}-tea": {"name": "Green tea", "unit_price": 4.5},
                     f"{p}-mug": {"name": "Mug", "unit_price": 9.0, "supplier_id": "SUP-1"}},
        "customers": {f"{p}-cafe": {"name": "Corner Cafe", "credit_limit": 500}},
        "stock": {f"{p}-tea": 30, f"{p}-mug": 4},
    }
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data))
    return path, data


def test_seed_submit_order_and_stock_commands(run, catalogue, shop):
    path, data = catalogue
    tea, mug = list(data["products"])
    cafe = next(iter(data["customers"]))

    seeded = run("seed", str(path))
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 2 products, 1 customers, stock for 2 SKUs" in seeded.stdout
    assert shop.client.get_stock(tea)["on_hand"] == 30
    assert shop.client.get_customer(cafe)["credit_limit"] == 500

    again = run("seed", str(path))  # seeding is idempotent: levels, not additions
    assert again.exit_code == 0, again.output
    assert shop.client.get_stock(tea)["on_hand"] == 30

    submitted = run("submit", "--customer", cafe, "--line", f"{tea}=3", "--line", f"{mug}=1", "--wait", *SHIP_TO)
    assert submitted.exit_code == 0, submitted.output
    order_id = re.search(r"order_id: (\S+)", submitted.stdout).group(1)
    assert shop.client.get_order(order_id)["status"] == "RESERVED"
    assert "RESERVED" in submitted.stdout

    shown = run("order", order_id)
    assert shown.exit_code == 0, shown.output
    for status in ("PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED"):
        assert status in shown.stdout
    assert tea in shown.stdout and "Green tea" in shown.stdout

    stock = run("stock", tea)
    assert stock.exit_code == 0, stock.output
    row = next(line for line in stock.stdout.splitlines() if tea in line)
    assert re.findall(r"\d+", row.replace(tea, ""))[:5] == ["30", "3", "27", "0", "0"]

    shipped = run("ship", order_id, "--carrier", "DHL", "--tracking", "T-1")
    assert shipped.exit_code == 0 and "SHIPPED" in shipped.stdout
    delivered = run("deliver", order_id)
    assert delivered.exit_code == 0 and "DELIVERED" in delivered.stdout
    assert shop.client.get_stock(tea)["on_hand"] == 27

    listed = run("orders", "--customer", cafe)
    assert listed.exit_code == 0 and order_id in listed.stdout


def test_submit_with_a_key_twice_makes_one_order(run, catalogue, shop):
    path, data = catalogue
    tea = next(iter(data["products"]))
    cafe = next(iter(data["customers"]))
    assert run("seed", str(path)).exit_code == 0

    first = run("submit", "-c", cafe, "-l", f"{tea}=1", "--key", "cli-key-1", *SHIP_TO)
    second = run("submit", "-c", cafe, "-l", f"{tea}=1", "--key", "cli-key-1", *SHIP_TO)

    assert first.exit_code == 0 and second.exit_code == 0, (first.output, second.output)
    ids = [re.search(r"order_id: (\S+)", r.stdout).group(1) for r in (first, second)]
    assert ids[0] == ids[1]
    assert len(shop.client.list_orders(cafe)["orders"]) == 1


def test_cli_api_errors_exit_1_with_the_error_code(run, catalogue, shop):
    path, data = catalogue
    tea = next(iter(data["products"]))
    cafe = next(iter(data["customers"]))
    assert run("seed", str(path)).exit_code == 0

    unknown = run("submit", "--customer", cafe, "--line", f"{shop.prefix}-nothing=1", *SHIP_TO)
    assert unknown.exit_code == 1
    assert "UNPROCESSABLE" in unknown.stderr and f"{shop.prefix}-nothing" in unknown.stderr
    assert shop.client.list_orders(cafe)["orders"] == []

    zero = run("submit", "--customer", cafe, "--line", f"{tea}=0", *SHIP_TO)
    assert zero.exit_code == 1 and "VALIDATION_FAILED" in zero.stderr

    missing = run("order", "ord-does-not-exist")
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.stderr

    no_stock = run("stock", f"{shop.prefix}-nothing")
    assert no_stock.exit_code == 1 and "NOT_FOUND" in no_stock.stderr


def test_demo_passes_against_the_running_stack(api_url, tmp_path):
    console = Console(record=True, width=120, force_terminal=False)

    rc = demo.main(["--api", api_url, "--report-dir", str(tmp_path)], console=console)

    text = console.export_text()
    assert rc == 0, text
    assert "every outcome as expected" in text
    for scenario in ("a. happy", "b. over credit", "c. unknown SKU", "d. backorder", "e. cancel", "f. idempotency",
                     "g. return", "h. replenishment", "k. buyers and alerts", "l. live KPIs"):
        assert scenario in text
    assert "approved, then sent: PENDING_APPROVAL → APPROVED → SENT" in text
    # what a scenario plays is told whole, not cut at the width of the rule above it
    assert "a partial shipment re-sourced, ship_available in two parts, a return at the store" in " ".join(text.split())
    for told in ("the warehouse picks, then packs it: ['PICKED', 'PACKED']",  # m. fulfilment
                 "split across two warehouses", "the unit not sent is re-sourced at the store",
                 "shipped in two parts, then delivered", "return received at the store and refunded"):
        assert told in text
    assert "<img" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "✘" not in text
    # It ends with where its report is and what to try next, not with the log of a scenario.
    last = text.rstrip().splitlines()[-3:]
    assert last[0] == f"report: {(tmp_path / 'index.html').resolve()} (open it in a browser)"
    assert last[1].startswith("next: ")
    assert last[2].startswith(f"console: {api_url}/console/ — sign in by picking a role")
