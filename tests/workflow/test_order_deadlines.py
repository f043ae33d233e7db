"""Deadlines instead of waiting workflows: a backorder no stock came for, and a reservation the warehouse
did not ship, fail at the sweep after their deadline and give back what they held (ExpireOrdersFunction)."""

from __future__ import annotations

import uuid
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


def test_a_shipment_not_shipped_by_its_deadline_is_cancelled_and_the_rest_of_the_order_goes_on(api, stack):
    """Deadlines per shipment: one location shipped its part, the other did not within the fulfilment timeout. The
    sweep cancels the late shipment (its hold back at its location, its units' credit back) and the order, whose
    other part left and was delivered, is DELIVERED; it is not failed, and a second sweep changes nothing."""
    address = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}
    tag = uuid.uuid4().hex[:6]
    north, south = f"north-{tag}", f"south-{tag}"
    for priority, location in enumerate((north, south), start=1):
        assert api.http.put(f"/locations/{location}", json={"name": location, "address": address,
                                                             "priority": priority}).is_success
    try:
        sku, customer = api.product(price=10), api.customer(credit_limit=1000)
        for location, units in ((north, 2), (south, 1)):
            assert api.http.post(f"/stock/{sku}/adjustments", json={
                "quantity": units, "reason": "receipt", "location_id": location}).is_success
        order_id = api.submit(customer, {sku: 3}).json()["order_id"]
        order = api.wait_for(order_id)
        shipments = {s["location_id"]: s for s in order["shipments"]}
        assert order["status"] == "RESERVED" and sorted(shipments) == [north, south]
        assert shipments[south]["ship_by"] == order["deadline"]  # the WMS sees by when to ship
        first = shipments[north]["shipment_id"]
        assert api.http.post(f"/shipments/{first}/ship", json={"carrier": "DHL"}).is_success
        assert api.http.post(f"/shipments/{first}/deliver").is_success
        waiting = api.order(order_id)
        assert waiting["status"] == "PARTIALLY_SHIPPED" and waiting["deadline"] == shipments[south]["ship_by"]

        service = wiring.order_service()
        assert order_id not in [o.order_id for o in service.expire_overdue(now=later(29))]
        assert order_id in [o.order_id for o in service.expire_overdue(now=later(31))]
        assert order_id not in [o.order_id for o in service.expire_overdue(now=later(31))]  # nothing twice

        after = api.order(order_id)
        late = next(s for s in after["shipments"] if s["location_id"] == south)
        assert after["status"] == "DELIVERED" and after["deadline"] is None
        assert (late["status"], late["timeline"][-1]["by"]) == ("CANCELLED", "deadline")
        assert "not shipped within 30 days" in after["timeline"][-1]["reason"]
        (line,) = after["lines"]
        assert (line["shipped"], line["cancelled"], line["allocated"]) == (2, 1, 0)
        assert float(after["total"]) == 20 and float(api.credit(customer)["exposure"]) == 20
        assert (api.stock_at(sku, south)["reserved"], api.stock_at(sku, south)["available"]) == (0, 1)
    finally:
        for location in (north, south):
            api.http.put(f"/locations/{location}", json={"name": location, "address": address, "active": False})
