"""What the functions log: ids, statuses and counts, never a customer's name or a token.

Logs are an explicit allow-list: every log line is a message plus named ``extra`` fields (ids, statuses,
counts); Powertools' Logger never logs the event. This runs an order's life at INFO level and reads
what the functions wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from orderflow_local.stack import LocalStack

SECRET_NAME = "Zelda Quixote-Secretname"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(log_level="INFO")
    try:
        local.start()
        yield local
    finally:
        local.stop()


def test_an_orders_life_logs_its_ids_and_statuses_but_no_personal_data_or_token(api, capfd):
    customer = f"cust-{SECRET_NAME.split()[0].lower()}"
    assert api.http.put(f"/customers/{customer}", json={"name": SECRET_NAME, "credit_limit": 5000}).is_success
    sku = api.product(price=7, stock=3)
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "RESERVED"
    assert api.http.post(f"/orders/{order_id}/ship", json={"carrier": "DHL", "tracking": "T-1"}).is_success
    assert api.http.post(f"/orders/{order_id}/deliver").is_success
    assert api.http.post(f"/customers/{customer}/payments", json={"amount": 14, "reference": "INV-9"}).is_success
    token = api.http.headers["authorization"].split()[-1]

    written = capfd.readouterr().out
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    assert any(line.get("correlation_id") == order_id for line in lines), "the order's steps log under its id"
    assert {line.get("service") for line in lines} >= {"validate_order", "reserve_stock", "complete_order"}
    assert SECRET_NAME not in written and SECRET_NAME.split()[-1] not in written
    assert token not in written and "Bearer" not in written
