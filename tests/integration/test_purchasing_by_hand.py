"""Purchasing by hand through the local stack's HTTP front (the real purchasing API handler, moto): make,
change, approve and cancel purchase orders; the approval threshold; bad input that writes nothing.

Suppliers are named ``manual-...`` so the local stack's simulated supplier leaves their queues alone:
what a test finds on a supplier's queue is what Orderflow sent it.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqs_support import SENDER_ID, drain, sqs_batch

from orderflow.shared.settings import Settings

REPLENISHMENT = {"unit_cost": 2.5, "ordering_cost": 20.0, "holding_cost_rate": 0.2, "lead_time_days": 4}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def supplier(api, **body) -> dict:
    response = api.http.put(f"/suppliers/{unique('manual-')}", json={"name": "Acme", **body})
    assert response.status_code == 200, response.text
    return response.json()


def product(api, supplier_id: str | None) -> str:
    sku = unique("SKU-")
    body = {"name": sku, "unit_price": 5, "replenishment": REPLENISHMENT,
            **({"supplier_id": supplier_id} if supplier_id else {})}
    assert api.http.put(f"/products/{sku}", json=body).is_success
    return sku


def create(api, body: dict, key: str | None = None):
    return api.http.post("/purchase-orders", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def on_order(api, sku: str) -> int:
    return api.http.get(f"/stock/{sku}").json()["on_order"]


def messages(stack, queue_url: str) -> list[dict]:
    """Everything on a supplier's queue (read and deleted)."""
    return drain(stack.boto3_client("sqs"), queue_url)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], dict)
    return error


def test_a_po_under_the_threshold_is_sent_at_once_and_a_retry_makes_no_second(api, stack):
    acme = supplier(api)
    sku = product(api, acme["supplier_id"])
    body = {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 40}], "note": "spring promo"}
    first = create(api, body, key="k-1")
    assert first.status_code == 201, first.text
    po = first.json()
    assert first.headers["location"] == f"/purchase-orders/{po['po_id']}"
    assert po["status"] == "SENT" and po["run_id"] is None and po["created_by"] == "local-admin"
    assert po["lines"] == [{"sku": sku, "quantity": 40, "unit_cost": 2.5, "confirmed": None, "received": 0}]
    assert po["total"] == 100.0 and po["note"] == "spring promo" and po["expected_by"]
    assert [(e["status"], e["by"]) for e in po["timeline"]] == [("DRAFT", "local-admin"), ("SENT", "local-admin")]
    assert on_order(api, sku) == 40

    again = create(api, body, key="k-1")
    assert again.status_code == 201 and again.json()["po_id"] == po["po_id"]
    assert on_order(api, sku) == 40
    sent = messages(stack, acme["queue_url"])
    assert [(m["type"], m["po_id"], m["note"]) for m in sent] == [("PurchaseOrder", po["po_id"], "spring promo")]
    assert_error(create(api, {**body, "note": "other"}, key="k-1"), 422, "IDEMPOTENCY_KEY_REUSED")


def test_a_po_above_the_threshold_waits_is_changed_approved_and_sent_once(api, stack):
    acme = supplier(api, approval_threshold=500)
    sku, other = product(api, acme["supplier_id"]), product(api, acme["supplier_id"])
    response = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 300}]})
    assert response.status_code == 201, response.text
    po = response.json()
    assert po["status"] == "PENDING_APPROVAL" and po["total"] == 750.0 and po["approval_expires_at"]
    assert "above the approval threshold 500" in po["timeline"][-1]["reason"]
    assert on_order(api, sku) == 300 and messages(stack, acme["queue_url"]) == []

    changed = api.http.patch(f"/purchase-orders/{po['po_id']}", json={
        "lines": [{"sku": sku, "quantity": 250}, {"sku": other, "quantity": 10, "unit_cost": 3.1234}],
        "expected_by": "2031-01-31"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "PENDING_APPROVAL" and changed.json()["expected_by"] == "2031-01-31"
    assert changed.json()["total"] == 656.23  # 250 × 2.5 + 10 × 3.1234, to the cent
    assert f"{sku} 300→250" in changed.json()["timeline"][-1]["reason"]
    assert (on_order(api, sku), on_order(api, other)) == (250, 10)
    nowhere = api.http.patch(f"/purchase-orders/{po['po_id']}", json={"deliver_to": unique("nowhere-")})
    assert assert_error(nowhere, 422, "UNPROCESSABLE")["details"]["problem"] == "unknown_location"
    assert api.http.get(f"/purchase-orders/{po['po_id']}").json()["version"] == changed.json()["version"]

    approved = api.http.post(f"/purchase-orders/{po['po_id']}/approve")
    assert approved.status_code == 200, approved.text
    assert [e["status"] for e in approved.json()["timeline"]] == ["DRAFT", "PENDING_APPROVAL", "PENDING_APPROVAL",
                                                                  "APPROVED", "SENT"]
    assert approved.json()["timeline"][-2]["by"] == "local-admin"
    sent = messages(stack, acme["queue_url"])
    assert [(m["po_id"], [(li["sku"], li["quantity"]) for li in m["lines"]]) for m in sent] == [
        (po["po_id"], [(sku, 250), (other, 10)])]

    assert_error(api.http.post(f"/purchase-orders/{po['po_id']}/approve"), 409, "NOT_PENDING_APPROVAL")
    assert_error(api.http.patch(f"/purchase-orders/{po['po_id']}", json={"note": "late"}), 409, "CONFLICT")
    assert messages(stack, acme["queue_url"]) == []


def test_two_approvals_at_once_send_the_po_once(api, stack):
    acme = supplier(api, approval_threshold=1)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 5}]}).json()
    assert po["status"] == "PENDING_APPROVAL"
    barrier, statuses = threading.Barrier(4), []

    def approve() -> None:
        barrier.wait()
        statuses.append(api.http.post(f"/purchase-orders/{po['po_id']}/approve").status_code)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    assert len(messages(stack, acme["queue_url"])) == 1
    assert api.http.get(f"/purchase-orders/{po['po_id']}").json()["status"] == "SENT"


def test_cancelling_a_sent_po_tells_the_supplier_and_gives_on_order_back(api, stack):
    acme = supplier(api)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 12}],
                      "expected_by": "2031-03-01", "deliver_to": "main"}).json()
    assert po["status"] == "SENT" and on_order(api, sku) == 12
    assert (po["expected_by"], po["deliver_to"]) == ("2031-03-01", "main")
    messages(stack, acme["queue_url"])

    cancelled = api.http.post(f"/purchase-orders/{po['po_id']}/cancel", json={"reason": "promo called off"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED" and on_order(api, sku) == 0
    assert cancelled.json()["timeline"][-1] | {"at": None} == {"status": "CANCELLED", "at": None,
                                                               "by": "local-admin", "reason": "promo called off",
                                                               "reply_id": None}
    told = messages(stack, acme["queue_url"])
    assert [(m["schema_version"], m["type"], m["po_id"], m["reason"]) for m in told] == [
        ("2", "PurchaseOrderCancellation", po["po_id"], "promo called off")]

    again = api.http.post(f"/purchase-orders/{po['po_id']}/cancel")
    assert again.status_code == 200 and again.json()["version"] == cancelled.json()["version"]
    assert on_order(api, sku) == 0
    assert_error(api.http.post(f"/purchase-orders/{po['po_id']}/approve"), 409, "NOT_PENDING_APPROVAL")


def test_cancelling_a_po_waiting_for_approval_sends_the_supplier_nothing(api, stack):
    acme = supplier(api, approval_threshold=1)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 7}]}).json()
    cancelled = api.http.post(f"/purchase-orders/{po['po_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert on_order(api, sku) == 0 and messages(stack, acme["queue_url"]) == []


def test_an_expired_approval_is_refused_and_the_po_cancelled(api, stack):
    acme = supplier(api, approval_threshold=1)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 9}]}).json()
    stack.boto3_client("dynamodb").update_item(
        TableName=Settings().purchase_orders_table, Key={"po_id": {"S": po["po_id"]}},
        UpdateExpression="SET approval_expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2020-01-01T00:00:00.000Z"}})

    error = assert_error(api.http.post(f"/purchase-orders/{po['po_id']}/approve"), 409, "NOT_PENDING_APPROVAL")
    assert "expired" in error["message"]
    after = api.http.get(f"/purchase-orders/{po['po_id']}").json()
    assert after["status"] == "CANCELLED" and "approval expired" in after["timeline"][-1]["reason"]
    assert on_order(api, sku) == 0 and messages(stack, acme["queue_url"]) == []


@pytest.mark.parametrize("problem", ["unknown_supplier", "inactive_supplier", "unknown_sku", "not_supplied",
                                     "unknown_location", "inactive_location"])
def test_a_po_the_catalogue_does_not_allow_is_422_and_writes_nothing(api, stack, problem):
    acme, other = supplier(api), supplier(api)
    sku = product(api, other["supplier_id"] if problem == "not_supplied" else acme["supplier_id"])
    supplier_id = unique("manual-nobody-") if problem == "unknown_supplier" else acme["supplier_id"]
    if problem == "inactive_supplier":
        api.http.put(f"/suppliers/{supplier_id}", json={"name": "Acme", "active": False})
    line_sku = unique("SKU-none-") if problem == "unknown_sku" else sku
    where = {"unknown_location": unique("nowhere-"), "inactive_location": unique("closed-")}.get(problem)
    if problem == "inactive_location":
        address = {"name": "Closed", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}
        assert api.http.put(f"/locations/{where}", json={"name": "Closed", "address": address,
                                                         "active": False}).status_code == 200
    body = {"supplier_id": supplier_id, "lines": [{"sku": line_sku, "quantity": 3}],
            **({"deliver_to": where} if where else {})}
    error = assert_error(create(api, body), 422, "UNPROCESSABLE")
    assert error["details"]["problem"] == problem
    assert on_order(api, sku) == 0 and messages(stack, acme["queue_url"]) == []


@pytest.mark.parametrize("line", [{"quantity": 0}, {"quantity": -2}, {"quantity": 1.5}, {"unit_cost": 1.23456},
                                  {"unit_cost": 0}, {"unit_cost": "cheap"}])
def test_a_bad_line_is_422_and_writes_nothing(api, stack, line):
    acme = supplier(api)
    sku = product(api, acme["supplier_id"])
    response = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 3, **line}]})
    assert_error(response, 422, "VALIDATION_FAILED")
    assert on_order(api, sku) == 0 and messages(stack, acme["queue_url"]) == []


def test_a_po_without_an_idempotency_key_or_with_a_sku_twice_is_422(api, stack):
    acme = supplier(api)
    sku = product(api, acme["supplier_id"])
    body = {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 3}]}
    assert api.http.post("/purchase-orders", json=body).status_code == 422
    twice = {**body, "lines": [{"sku": sku, "quantity": 3}, {"sku": sku, "quantity": 4}]}
    assert create(api, twice).status_code == 422
    assert api.http.patch("/purchase-orders/po-m-nothing", json={}).status_code == 422
    assert_error(api.http.post("/purchase-orders/po-m-nothing/approve"), 404, "NOT_FOUND")
    assert on_order(api, sku) == 0 and messages(stack, acme["queue_url"]) == []


def test_a_shipped_po_cannot_be_cancelled(api, stack):
    acme = supplier(api, reply_principal=SENDER_ID)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 6}]}).json()
    reply = {"schema_version": "1", "reply_id": uuid.uuid4().hex, "po_id": po["po_id"],
             "supplier_id": acme["supplier_id"], "type": "SHIPPED"}
    event, _ = sqs_batch("orderflow-dev-supplier-replies", json.dumps(reply))
    assert stack.runtime.invoke("SupplierEventsFunction", event)["batchItemFailures"] == []
    assert api.http.get(f"/purchase-orders/{po['po_id']}").json()["status"] == "SHIPPED"
    assert_error(api.http.post(f"/purchase-orders/{po['po_id']}/cancel"), 409, "CONFLICT")
    assert on_order(api, sku) == 6


# ------------------------------------------------------------------ several suppliers per SKU
def test_a_product_takes_several_suppliers_and_a_po_to_the_second_is_priced_on_its_terms(api, stack):
    first, second = supplier(api), supplier(api)
    sku = unique("SKU-")
    body = {"name": sku, "unit_price": 5, "replenishment": {"ordering_cost": 20, "holding_cost_rate": 0.2},
            "suppliers": [{"supplier_id": second["supplier_id"], "unit_cost": 3.25, "lead_time_days": 9,
                           "priority": 2},
                          {"supplier_id": first["supplier_id"], "unit_cost": 2.75, "lead_time_days": 4, "moq": 50}]}
    stored = api.http.put(f"/products/{sku}", json=body)
    assert stored.status_code == 200, stored.text
    assert stored.json()["supplier_id"] == first["supplier_id"]  # the first choice (lowest priority)
    assert (stored.json()["replenishment"]["unit_cost"], stored.json()["replenishment"]["moq"]) == (2.75, 50)
    assert [s["supplier_id"] for s in api.http.get(f"/products/{sku}").json()["suppliers"]] == [
        second["supplier_id"], first["supplier_id"]]

    po = create(api, {"supplier_id": second["supplier_id"], "lines": [{"sku": sku, "quantity": 10}]})
    assert po.status_code == 201, po.text
    assert po.json()["lines"][0]["unit_cost"] == 3.25 and po.json()["total"] == 32.5


@pytest.mark.parametrize("change", [
    {"supplier_id": "manual-not-listed"},
    {"suppliers": []},
    {"suppliers": [{"supplier_id": "manual-a", "unit_cost": 1, "lead_time_days": 2}] * 2},
    {"suppliers": [{"supplier_id": "manual-a", "unit_cost": 1, "lead_time_days": 0}]},
    {"suppliers": [{"supplier_id": "manual-a", "unit_cost": 1.001, "lead_time_days": 2}]},
    {"suppliers": None, "supplier_id": "manual-a"},  # then replenishment lacks unit_cost and lead time
])
def test_a_bad_supplier_list_is_422_and_stores_nothing(api, change):
    sku = unique("SKU-")
    body = {"name": sku, "unit_price": 5, "replenishment": {"ordering_cost": 20, "holding_cost_rate": 0.2},
            "suppliers": [{"supplier_id": "manual-a", "unit_cost": 1, "lead_time_days": 2}], **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(api.http.put(f"/products/{sku}", json=body), 422, "VALIDATION_FAILED")
    assert api.http.get(f"/products/{sku}").status_code == 404


def location(api, prefix: str = "wh-") -> str:
    where = unique(prefix)
    address = {"name": "Depot", "line1": "2 Dock Road", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"}
    assert api.http.put(f"/locations/{where}", json={"name": "Depot", "address": address}).status_code == 200
    return where


def on_order_at(api, sku: str) -> dict[str, int]:
    """``on_order`` per location that holds any."""
    return {level["location_id"]: level["on_order"] for level in api.http.get(f"/stock/{sku}").json()["locations"]
            if level["on_order"]}


def test_a_po_delivered_to_a_location_counts_on_order_there_and_moves_with_it(api, stack):
    acme = supplier(api, approval_threshold=1)  # waits for approval: it can still be changed
    sku, other = product(api, acme["supplier_id"]), product(api, acme["supplier_id"])
    north, south = location(api), location(api)
    po = create(api, {"supplier_id": acme["supplier_id"], "deliver_to": north,
                      "lines": [{"sku": sku, "quantity": 30}]}).json()
    assert (po["status"], po["deliver_to"]) == ("PENDING_APPROVAL", north)
    assert on_order_at(api, sku) == {north: 30} and on_order(api, sku) == 30

    # a new location and new lines at once: every unit leaves the old location's on_order, the new ones land
    moved = api.http.patch(f"/purchase-orders/{po['po_id']}", json={
        "deliver_to": south, "lines": [{"sku": sku, "quantity": 20}, {"sku": other, "quantity": 5}]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["deliver_to"] == south
    assert (on_order_at(api, sku), on_order_at(api, other)) == ({south: 20}, {south: 5})

    approved = api.http.post(f"/purchase-orders/{po['po_id']}/approve").json()
    assert approved["status"] == "SENT"
    (message,) = messages(stack, acme["queue_url"])
    assert message["deliver_to"] == south

    assert api.http.post(f"/purchase-orders/{po['po_id']}/cancel").json()["status"] == "CANCELLED"
    assert (on_order_at(api, sku), on_order_at(api, other)) == ({}, {})


def test_a_po_without_deliver_to_goes_to_main(api, stack):
    acme = supplier(api)
    sku = product(api, acme["supplier_id"])
    po = create(api, {"supplier_id": acme["supplier_id"], "lines": [{"sku": sku, "quantity": 7}]}).json()
    assert po["deliver_to"] == "main" and on_order_at(api, sku) == {"main": 7}
    assert messages(stack, acme["queue_url"])[0]["deliver_to"] == "main"


def test_goods_bought_for_a_new_location_watch_its_low_stock_threshold(api, stack):
    """The product's low-stock threshold is set on a location the first time stock is ordered there, so a
    StockLow can fire there once the goods arrive and sell (docs/fulfilment.md, "Stock per location")."""
    acme = supplier(api)
    sku = unique("SKU-")
    assert api.http.put(f"/products/{sku}", json={"name": sku, "unit_price": 5, "low_stock_threshold": 4,
                                                  "supplier_id": acme["supplier_id"],
                                                  "replenishment": REPLENISHMENT}).is_success
    north = location(api)
    create(api, {"supplier_id": acme["supplier_id"], "deliver_to": north, "lines": [{"sku": sku, "quantity": 9}]})

    item = stack.boto3_client("dynamodb").get_item(TableName=Settings().stock_table,
                                                    Key={"sku": {"S": sku}, "record": {"S": f"LEVEL#{north}"}})["Item"]
    assert (item["threshold"]["N"], item["on_order"]["N"]) == ("4", "9")
