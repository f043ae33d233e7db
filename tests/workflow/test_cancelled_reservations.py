"""Stock a reservation gives back (a cancelled order) serves the orders waiting for it, as a receipt does,
instead of waiting for the next receipt. Failed orders: tests/integration/test_released_stock.py (in process)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.workflow


def reserved_and_waiting(api, units: int) -> tuple[str, str, str]:
    """A SKU with ``units`` in stock, one order holding all of them and a later one waiting for them."""
    sku, customer = api.product(stock=units), api.customer()
    holder = api.submit(customer, {sku: units}).json()["order_id"]
    assert api.wait_for(holder)["status"] == "RESERVED"
    waiting = api.submit(customer, {sku: units}).json()["order_id"]
    assert api.wait_for(waiting)["status"] == "BACKORDERED"
    return sku, holder, waiting


def test_a_cancelled_reservation_serves_the_backorder_waiting_for_it(api):
    sku, holder, waiting = reserved_and_waiting(api, 3)

    assert api.http.post(f"/orders/{holder}/cancel").json()["status"] == "CANCELLED"

    assert api.wait_for(waiting, {"RESERVED"})["status"] == "RESERVED"
    assert api.stock(sku) == {"sku": sku, "on_hand": 3, "reserved": 3, "available": 0, "on_order": 0,
                              "backordered": 0}
    assert api.http.post(f"/orders/{holder}/cancel").json()["status"] == "CANCELLED"  # a retry: announced again
    assert api.stock(sku)["reserved"] == 3 and api.order(waiting)["status"] == "RESERVED"


def test_a_cancelled_backorder_gives_nothing_to_the_next_one(api, stack):
    sku, customer = api.product(stock=0), api.customer()
    first = api.submit(customer, {sku: 2}).json()["order_id"]
    second = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(first)["status"] == api.wait_for(second)["status"] == "BACKORDERED"
    woken = len(api.steps(second))

    assert api.http.post(f"/orders/{first}/cancel").json()["status"] == "CANCELLED"

    assert api.stock(sku)["backordered"] == 2 and api.order(second)["status"] == "BACKORDERED"
    assert len(api.steps(second)) == woken  # no wake-up: it held no stock to give back

