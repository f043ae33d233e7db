"""Live KPIs through the local stack: orders and stock move, their domain events reach the KPI queue over the
bus, KpisFunction adds them up, and GET /kpis (and `orderflow kpis`) reads them back. Its own stack: the
counts start at zero."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from typer.testing import CliRunner

from orderflow_cli.main import app as cli


def kpis(api, **params) -> dict:
    response = api.http.get("/kpis", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def settled(api, check, timeout: float = 20) -> dict:
    """GET /kpis (today) once ``check`` holds: the events reach the KPIs asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        got = kpis(api)
        if check(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_a_shipped_order_and_a_backorder_show_in_the_kpis(api, stack):
    customer, sku, scarce = api.customer(), api.product(stock=10), api.product()
    order = api.submit(customer, {sku: 2}).json()
    api.wait_for(order["order_id"], {"RESERVED"})
    assert api.http.post(f"/orders/{order['order_id']}/ship", json={"carrier": "DHL"}).status_code == 200
    waiting = api.submit(customer, {scarce: 3}).json()
    api.wait_for(waiting["order_id"], {"BACKORDERED"})

    got = settled(api, lambda k: k["orders_shipped"] == 1 and k["backorders"]["open_now"] == 1)

    today = datetime.now(UTC).date().isoformat()
    assert got["to"] == today
    assert got["orders_shipped"] == 1 and got["fill_rate"] == {"orders": 1.0, "lines": 1.0, "units": 1.0}
    assert got["on_time_shipment_rate"] == 1.0  # shipped within KpiPromiseHours of its creation
    assert got["backorders"]["opened"] == 1 and got["backorders"]["open_now"] == 1
    assert got["stock_out_sku_days"] >= 1 and got["stock_out_rate"] > 0
    assert got["units_shipped"] == 2 and got["on_hand"] == 8  # 10 received, 2 shipped; the scarce SKU has none
    assert got["days_of_cover"] == round(8 / (2 / 7), 1) and got["forecast_error"] is None  # no run yet

    api.receive(scarce, 5)
    api.wait_for(waiting["order_id"], {"RESERVED"})
    filled = settled(api, lambda k: k["backorders"]["filled"] == 1)
    assert filled["backorders"]["open_now"] == 0 and filled["backorders"]["average_hours_to_close"] is not None

    result = CliRunner().invoke(cli, ["--api", stack.api_url, "--token", stack.token("admin"), "kpis"])
    assert result.exit_code == 0, result.output
    assert "fill rate" in result.output and "100.0%" in result.output


def test_bad_ranges_are_422(api):
    for params in ({"from": "2030-01-05", "to": "2030-01-01"}, {"from": "2020-01-01", "to": "2030-01-01"},
                   {"from": "yesterday"}, {"location_id": "no such place!"}):
        response = api.http.get("/kpis", params=params)
        assert response.status_code == 422, (params, response.text)
