"""Buying for a location over HTTP, SQS and the command line: a purchase order delivered to a store is
received at the store, and the nightly run buys for a warehouse on the warehouse's own demand and
parameters. Suppliers are answered by the local stack's simulated supplier (ids not ``manual-``)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from orderflow_cli.main import app

pytestmark = pytest.mark.e2e
WAIT = 30.0
BUYING = {"unit_cost": 2.40, "ordering_cost": 25, "holding_cost_rate": 0.25, "lead_time_days": 6,
          "service_level": 0.95, "moq": 10, "pack_size": 10, "review_period_days": 1}
ADDRESS = {"name": "Depot", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}


def location(client, kind: str) -> str:
    location_id = f"{kind}-{uuid.uuid4().hex[:8]}"
    put = client.request("PUT", f"/locations/{location_id}", json={"name": kind, "address": ADDRESS, "kind": kind})
    assert put.status_code == 200, put.text
    return location_id


def levels(client, sku: str) -> dict[str, dict]:
    return {level["location_id"]: level for level in client.get_stock(sku)["locations"]}


def received(client, po_id: str) -> dict:
    deadline = time.monotonic() + WAIT
    while (po := client.get_purchase_order(po_id))["status"] != "RECEIVED":
        assert time.monotonic() < deadline, f"{po_id} is still {po['status']}"
        time.sleep(0.1)
    return po


def test_a_po_made_by_hand_for_a_store_is_received_at_the_store(api_url, shop):
    store = location(shop.client, "store")
    supplier = shop.client.put_supplier(f"{shop.prefix}-acme", "Acme")["supplier_id"]
    sku = shop.product("lamp", supplier_id=supplier, replenishment=BUYING)

    made = CliRunner().invoke(app, ["--api", api_url, "buy", supplier, "--line", f"{sku}=30", "--deliver-to", store,
                                    "--json"])
    assert made.exit_code == 0, made.output
    po = json.loads(made.output)
    assert (po["deliver_to"], po["status"]) == (store, "SENT")
    shown = CliRunner().invoke(app, ["--api", api_url, "po", po["po_id"]], env={"COLUMNS": "200"})
    assert f"to {store}" in shown.output

    assert received(shop.client, po["po_id"])["deliver_to"] == store
    at = levels(shop.client, sku)
    assert (at[store]["on_hand"], at[store]["available"], at[store]["on_order"]) == (30, 30, 0)
    assert at.get("main", {}).get("on_hand", 0) == 0
    refused = CliRunner().invoke(app, ["--api", api_url, "buy", supplier, "--line", f"{sku}=5", "--deliver-to",
                                       f"nowhere-{shop.prefix}"])
    assert refused.exit_code != 0 and "unknown location" in refused.output


def test_the_run_buys_for_a_warehouse_on_its_own_demand_and_the_goods_arrive_there(shop):
    warehouse = location(shop.client, "warehouse")
    supplier = shop.client.put_supplier(f"{shop.prefix}-bolt", "Bolt Co")["supplier_id"]
    sku = shop.product("bolts", supplier_id=supplier,
                       replenishment={**BUYING, "locations": {warehouse: {"lead_time_days": 2, "moq": 200}}})
    adjusted = shop.client.request("POST", f"/stock/{sku}/adjustments",
                                   json={"quantity": 4, "reason": "opening stock", "location_id": warehouse})
    assert adjusted.status_code == 200, adjusted.text
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    rows = [{"sku": sku, "day": (yesterday - timedelta(days=n)).isoformat(), "quantity": 9 + n % 3,
             "location_id": warehouse} for n in range(60)]
    assert shop.client.import_history(rows) == {"imported": 60, "skipped": []}
    history = shop.client.demand_history(sku, location_id=warehouse)["history"]
    assert len(history) == 60 and shop.client.demand_history(sku, location_id="main")["history"][0]["quantity"] == 0

    started = shop.client.start_replenishment_run(note=shop.prefix)
    run = shop.client.wait_for_run(started["run_id"], timeout=120)
    assert run["status"] == "COMPLETED", run
    mine = [d for d in run["decisions"] if d["sku"] == sku]
    assert [d["location_id"] for d in mine] == [warehouse]  # main holds none of it and is not set up for it
    (decided,) = mine
    assert decided["outcome"] == "ordered" and decided["quantity"] >= 200 and decided["horizon_days"] == 3
    assert decided["po_id"].endswith(f"{sku}@{warehouse}")

    po = received(shop.client, decided["po_id"])
    assert po["deliver_to"] == warehouse
    assert levels(shop.client, sku)[warehouse]["on_hand"] == 4 + decided["quantity"]
