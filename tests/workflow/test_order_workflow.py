"""The real order ASL executed by moto's Step Functions, calling the real step handlers in-process."""

from __future__ import annotations

import uuid

import pytest

from orderflow.shared.errors import OrderCancelled, TransientError

pytestmark = pytest.mark.workflow


def statuses(order: dict) -> list[str]:
    return [entry["status"] for entry in order["timeline"]]


def validate_inputs(stack, order_id: str) -> list:
    """The ``order`` each run of the Validate step was handed (from the runtime's journal)."""
    return [run.event.get("order") for run in list(stack.runtime.journal)
            if run.logical_id == "ValidateOrderFunction" and run.event.get("order_id") == order_id]


def test_the_intake_hands_the_stored_order_to_validate(api, stack):
    sku, customer = api.product(stock=5), api.customer()
    submitted = api.submit(customer, {sku: 1}).json()
    api.wait_for(submitted["order_id"])
    # the order as stored, PENDING (the API's answer adds where each line's units are: none allocated yet)
    assert [li.pop("allocated") for li in submitted["lines"]] == [0]
    for line in submitted["lines"]:
        for derived in ("shipped", "delivered", "backordered", "cancelled"):
            assert line.pop(derived) == 0
    assert validate_inputs(stack, submitted["order_id"]) == [{**submitted, "shipments": []}]


def test_happy_path_reaches_delivered(api):
    sku, customer = api.product(price=4.5, stock=10), api.customer(credit_limit=100)
    order_id = api.submit(customer, {sku: 3}).json()["order_id"]

    reserved = api.wait_for(order_id)
    assert reserved["status"] == "RESERVED" and reserved["deadline"] > reserved["updated_at"]  # ship by then
    assert api.steps(order_id) == ["Validate", "CheckCredit", "Reserve"]  # the allocation ended there
    assert api.stock(sku) == {"sku": sku, "on_hand": 10, "reserved": 3, "available": 7, "on_order": 0,
                              "backordered": 0}
    assert api.credit(customer)["exposure"] == 13.5
    assert api.http.post(f"/orders/{order_id}/ship", json={"carrier": "DHL", "tracking": "T1"}).json()["status"] == \
        "SHIPPED"
    assert api.http.post(f"/orders/{order_id}/deliver").json()["status"] == "DELIVERED"

    order = api.order(order_id)
    assert order["deadline"] is None
    assert statuses(order) == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED", "SHIPPED", "DELIVERED"]
    assert order["shipment"]["tracking"] == "T1"
    assert api.stock(sku)["on_hand"] == 7 and api.stock(sku)["reserved"] == 0
    # delivered but not yet paid: the value stays on the customer's exposure until the ERP posts a payment
    assert api.credit(customer)["exposure"] == 13.5
    for _ in range(2):  # the same payment posted twice counts once
        paid = api.http.post(f"/customers/{customer}/payments", json={"amount": 13.5, "reference": "INV-1"})
        assert paid.status_code == 200 and paid.json()["exposure"] == 0
    assert api.credit(customer)["credit_available"] == 100


def test_an_order_paid_and_then_cancelled_leaves_a_credit_balance(api):
    """The ERP may post a payment before the order ships; cancelling it then means the customer is owed
    the money back: exposure below zero, more credit available than the limit, readable as such."""
    sku, customer = api.product(price=20, stock=0), api.customer(credit_limit=100)
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "BACKORDERED"
    paid = api.http.post(f"/customers/{customer}/payments", json={"amount": 40, "reference": "PREPAID-1"})
    assert paid.status_code == 200 and paid.json()["exposure"] == 0

    assert api.http.post(f"/orders/{order_id}/cancel", json={"reason": "changed my mind"}).json()["status"] == \
        "CANCELLED"

    credit = api.http.get(f"/customers/{customer}")
    assert credit.status_code == 200, credit.text
    assert credit.json()["exposure"] == -40 and credit.json()["credit_available"] == 140


def test_credit_denied_rejects_and_holds_nothing(api):
    sku, customer = api.product(price=60, stock=10), api.customer(credit_limit=100)
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]

    order = api.wait_for(order_id)
    assert order["status"] == "REJECTED"
    assert "credit limit exceeded" in order["timeline"][-1]["reason"]
    assert api.steps(order_id) == ["Validate", "CheckCredit"]
    assert api.stock(sku)["available"] == 10
    assert api.credit(customer)["exposure"] == 0


def test_invalid_order_is_rejected_by_validate(api, stack):
    """An order that reaches the workflow with a SKU the catalogue no longer has (stored directly,
    as intake would refuse it) is rejected by the Validate step, with the reason on its timeline."""
    customer = api.customer()
    order_id = f"ord-{uuid.uuid4().hex[:12]}"
    now = "2026-01-01T00:00:00.000Z"
    item = {"order_id": {"S": order_id}, "customer_id": {"S": customer}, "status": {"S": "PENDING"},
            "version": {"N": "0"}, "created_at": {"S": now}, "updated_at": {"S": now}, "total": {"N": "5"},
            "channel": {"S": "test"},
            "lines": {"L": [{"M": {"sku": {"S": "NO-SUCH-SKU"}, "quantity": {"N": "1"}, "unit_price": {"N": "5"}}}]},
            "timeline": {"L": [{"M": {"status": {"S": "PENDING"}, "at": {"S": now}}}]}}
    table = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    stack.boto3_client("dynamodb").put_item(TableName=table, Item=item)
    stack.start_execution("OrderProcessingStateMachine", order_id, {"order_id": order_id, "woken_by": None})

    order = api.wait_for(order_id)
    assert order["status"] == "REJECTED"
    assert "unknown SKU NO-SUCH-SKU" in order["timeline"][-1]["reason"]
    assert api.steps(order_id) == ["Validate"]
    assert validate_inputs(stack, order_id) == [None]  # an input without the order: Validate read it
    assert api.credit(customer)["exposure"] == 0


def test_backorder_waits_for_receipt_then_ships(api):
    sku, customer = api.product(price=1, stock=2), api.customer()
    order_id = api.submit(customer, {sku: 5}).json()["order_id"]

    assert api.wait_for(order_id)["status"] == "BACKORDERED"
    assert api.stock(sku)["backordered"] == 5 and api.stock(sku)["reserved"] == 0
    api.receive(sku, 2)  # 4 available: still short, the order keeps waiting
    assert api.wait_for(order_id, {"BACKORDERED"})["status"] == "BACKORDERED"
    api.receive(sku, 3)

    assert api.wait_for(order_id, {"RESERVED", "FAILED"})["status"] == "RESERVED"
    # the receipt of 3 (not the one of 2) started the allocation again, at Reserve
    assert api.steps(order_id) == ["Validate", "CheckCredit", "Reserve", "Backorder", "Reserve"]
    assert api.stock(sku) == {"sku": sku, "on_hand": 7, "reserved": 5, "available": 2, "on_order": 0,
                              "backordered": 0}
    api.http.post(f"/orders/{order_id}/ship")
    api.http.post(f"/orders/{order_id}/deliver")
    assert statuses(api.order(order_id))[-4:] == ["BACKORDERED", "RESERVED", "SHIPPED", "DELIVERED"]


def test_cancel_before_ship_releases_stock_and_credit(api):
    sku, customer = api.product(price=10, stock=4), api.customer(credit_limit=100)
    order_id = api.submit(customer, {sku: 4}).json()["order_id"]
    api.wait_for(order_id)

    response = api.http.post(f"/orders/{order_id}/cancel", json={"reason": "changed my mind"})
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert api.stock(sku)["available"] == 4 and api.stock(sku)["reserved"] == 0
    assert api.credit(customer)["exposure"] == 0
    assert api.http.post(f"/orders/{order_id}/ship").status_code == 409


def test_cancel_while_backordered_drops_the_wait(api):
    sku, customer = api.product(stock=0), api.customer()
    order_id = api.submit(customer, {sku: 3}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "BACKORDERED"

    assert api.http.post(f"/orders/{order_id}/cancel").json()["status"] == "CANCELLED"
    assert api.stock(sku)["backordered"] == 0
    api.receive(sku, 3)  # nothing waits for it any more
    assert api.stock(sku)["reserved"] == 0 and api.order(order_id)["status"] == "CANCELLED"


def test_failure_after_reservation_compensates(api, stack):
    """The reserve step's write landed, then it failed with an error the ASL does not retry."""
    sku, customer = api.product(price=2, stock=5), api.customer(credit_limit=50)

    def reserve_then_fail(event, context):
        stack.runtime.invoke("ReserveStockFunction", event)
        raise RuntimeError("stock system down")

    stack.runtime.inject_fault("ReserveStockFunction", reserve_then_fail, times=1)
    order_id = api.submit(customer, {sku: 5}).json()["order_id"]

    order = api.wait_for(order_id, {"FAILED", "DELIVERED"})
    assert order["status"] == "FAILED"
    assert [e["status"] for e in order["timeline"]][-2:] == ["RESERVED", "FAILED"]
    reason = order["timeline"][-1]["reason"]
    assert "RuntimeError" in reason and "stock system down" not in reason  # the Cause goes to the logs only
    assert stack.task_runs("OrderProcessingStateMachine", order_id=order_id)[-2:] == [
        ("Reserve", "RuntimeError"), ("Compensate", None)]
    assert api.stock(sku)["available"] == 5 and api.stock(sku)["reserved"] == 0
    assert api.credit(customer)["exposure"] == 0


def test_transient_errors_are_retried_and_reserve_once(api, stack):
    sku, customer = api.product(stock=3), api.customer()
    stack.runtime.inject_fault("ReserveStockFunction", TransientError("throttled"), times=1)
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]

    assert api.wait_for(order_id)["status"] == "RESERVED"
    assert api.stock(sku)["reserved"] == 2
    runs = stack.task_runs("OrderProcessingStateMachine", order_id=order_id)
    assert runs == [("Validate", None), ("CheckCredit", None), ("Reserve", "TransientError"), ("Reserve", None)]
    api.http.post(f"/orders/{order_id}/cancel")


def test_a_step_run_twice_changes_nothing_twice(api, stack):
    """Step Functions delivers at least once: re-running the reserve step on a reserved order is a no-op."""
    sku, customer = api.product(stock=3), api.customer()
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    api.wait_for(order_id)

    again = stack.runtime.invoke("ReserveStockFunction", {"order_id": order_id})
    assert (again["order_id"], again["status"], again["order"]["status"]) == (order_id, "RESERVED", "RESERVED")
    # Re-run with the order as the step before handed it on (CREDIT_APPROVED, an older version): the
    # reservation written from that stale copy fails its condition, and the stored order shows it done.
    stale = {**again["order"], "status": "CREDIT_APPROVED", "version": again["order"]["version"] - 1}
    assert stack.runtime.invoke("ReserveStockFunction", {"order_id": order_id, "order": stale})["status"] == \
        "RESERVED"
    assert api.stock(sku)["reserved"] == 2
    assert [e["status"] for e in api.order(order_id)["timeline"]].count("RESERVED") == 1
    cancelled = api.http.post(f"/orders/{order_id}/cancel").json()
    # ... and a stale copy of a cancelled order cannot reserve it again
    stale = {**cancelled, "status": "CREDIT_APPROVED", "version": cancelled["version"] - 2}
    with pytest.raises(OrderCancelled):
        stack.runtime.invoke("ReserveStockFunction", {"order_id": order_id, "order": stale})
    assert api.stock(sku)["reserved"] == 0
