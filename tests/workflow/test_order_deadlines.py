"""Deadlines instead of waiting workflows: a backorder no stock came for, and a reservation the warehouse
did not ship, fail at the sweep after their deadline and give back what they held (ExpireOrdersFunction)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orderflow import wiring

pytestmark = pytest.mark.workflow


def later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_overdue_orders_fail_and_give_back_their_holds_once(api, stack):
    scarce, plenty = api.product(price=10, stock=0), api.product(price=5, stock=10)
    customer = api.customer(credit_limit=1000)
    waiting = api.submit(customer, {scarce: 3}).json()["order_id"]
    unshipped = api.submit(customer, {plenty: 2}).json()["order_id"]
    shipped = api.submit(customer, {plenty: 1}).json()["order_id"]
    assert api.wait_for(waiting)["status"] == "BACKORDERED" and api.wait_for(unshipped)["status"] == "RESERVED"
    api.wait_for(shipped)
    assert api.http.post(f"/orders/{shipped}/ship").json()["deadline"] is None
    assert api.credit(customer)["exposure"] == 30 + 10 + 5

    # The scheduled sweep as deployed: nothing is due yet.
    assert stack.runtime.invoke("ExpireOrdersFunction", {}) == {"expired": []}

    service = wiring.order_service()  # the stack's own settings (tables, 14- and 30-day timeouts)
    assert [o.order_id for o in service.expire_overdue(now=later(15))] == [waiting]
    assert {o.order_id for o in service.expire_overdue(now=later(31))} == {unshipped}
    assert service.expire_overdue(now=later(31)) == []  # a second sweep changes nothing

    assert api.order(waiting)["status"] == "FAILED"
    assert api.order(waiting)["timeline"][-1]["reason"] == "no stock came within 14 days"
    assert api.order(unshipped)["timeline"][-1]["reason"] == "not shipped within 30 days"
    assert api.order(shipped)["status"] == "SHIPPED"
    assert api.stock(scarce)["backordered"] == 0
    assert api.stock(plenty) == {"sku": plenty, "on_hand": 9, "reserved": 0, "available": 9, "on_order": 0,
                                 "backordered": 0}
    assert api.credit(customer)["exposure"] == 5
    api.receive(scarce, 3)  # the failed backorder no longer waits for it
    assert api.stock(scarce)["reserved"] == 0 and api.order(waiting)["status"] == "FAILED"
