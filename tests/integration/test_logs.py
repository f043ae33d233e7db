"""What the functions log: ids, statuses and counts, never a customer's name or a token.

Logs are an explicit allow-list: every log line is a message plus named ``extra`` fields (ids, statuses,
counts); Powertools' Logger never logs the event. This runs an order's life at INFO level in a fresh
interpreter (its loggers are built at import, so a process that already imported the handlers at
another level would hide them) and reads everything the functions wrote to stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = "Zelda Quixote-Secretname"

SCENARIO = textwrap.dedent(f"""
    import json, sys, time, uuid
    import httpx
    from orderflow_local.stack import LocalStack

    with LocalStack(log_level="INFO") as stack:
        token = stack.token("admin")
        http = httpx.Client(base_url=stack.api_url, timeout=30, headers={{"Authorization": f"Bearer {{token}}"}})
        customer, sku = "cust-zelda", f"SKU-{{uuid.uuid4().hex[:6]}}"
        assert http.put(f"/customers/{{customer}}", json={{"name": {SECRET_NAME!r}, "credit_limit": 5000}}).is_success
        assert http.put(f"/products/{{sku}}", json={{"name": "Lamp", "unit_price": 7}}).is_success
        assert http.post(f"/stock/{{sku}}/adjustments", json={{"quantity": 3, "reason": "receipt"}}).is_success
        address = {{"name": "Z", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}}
        body = {{"customer_id": customer, "shipping_address": address, "lines": [{{"sku": sku, "quantity": 2}}]}}
        order_id = http.post("/orders", json=body, headers={{"Idempotency-Key": "k-1"}}).json()["order_id"]
        deadline = time.monotonic() + 30
        while http.get(f"/orders/{{order_id}}").json()["status"] != "RESERVED":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert http.post(f"/orders/{{order_id}}/ship", json={{"carrier": "DHL", "tracking": "T-1"}}).is_success
        assert http.post(f"/orders/{{order_id}}/deliver").is_success
        assert http.post(f"/customers/{{customer}}/payments", json={{"amount": 14, "reference": "INV-9"}}).is_success
        time.sleep(0.5)  # the workflow's last step
    print("SCENARIO", json.dumps({{"order_id": order_id, "token": token}}), file=sys.stderr)
""")


def test_an_orders_life_logs_its_ids_and_statuses_but_no_personal_data_or_token():
    done = subprocess.run([sys.executable, "-c", SCENARIO], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("SCENARIO ")).split(" ", 1)[1])
    written = done.stdout + done.stderr.replace(seen["token"], "")  # the scenario's own report names the token
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert any(line.get("correlation_id") == seen["order_id"] for line in lines), "the order's steps log under its id"
    assert {line.get("service") for line in lines} >= {"validate_order", "check_credit", "reserve_stock"}
    assert SECRET_NAME not in written and SECRET_NAME.split()[-1] not in written
    assert seen["token"] not in done.stdout and "Bearer" not in written
