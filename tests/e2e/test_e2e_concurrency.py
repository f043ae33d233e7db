"""Many customers' orders racing for the same few units: no oversell, ever."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.e2e

ORDERS = 30
IN_STOCK = 10
WAIT = 60.0


def test_thirty_racing_orders_for_ten_units_reserve_exactly_ten(api_url, shop):
    sku = shop.product("hot-item", price=5, stock=IN_STOCK)
    customer = shop.customer(credit_limit=1_000_000)
    barrier = threading.Barrier(ORDERS)
    seen: list[dict] = []  # stock levels observed while the race runs
    done = threading.Event()

    def watch() -> None:
        with OrderflowClient(api_url) as c:
            while not done.is_set():
                seen.append(c.get_stock(sku))
                done.wait(0.05)

    def submit(_: int) -> tuple[int, dict]:
        with OrderflowClient(api_url, timeout=30) as c:
            barrier.wait(timeout=30)
            return c.submit_order(customer, [{"sku": sku, "quantity": 1}], idempotency_key=str(uuid.uuid4()),
                                  shipping_address=SAMPLE_ADDRESS)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=ORDERS) as pool:
            created = list(pool.map(submit, range(ORDERS)))
        assert [status for status, _ in created] == [201] * ORDERS, created
        ids = [body["order_id"] for _, body in created]
        assert len(set(ids)) == ORDERS

        def settle(order_id: str) -> str:
            with OrderflowClient(api_url) as c:
                return c.wait_for_status(order_id, ("RESERVED", "BACKORDERED"), timeout=WAIT)["status"]

        with ThreadPoolExecutor(max_workers=10) as pool:
            final = dict(zip(ids, pool.map(settle, ids), strict=True))
    finally:
        done.set()
        watcher.join(timeout=5)

    reserved = [oid for oid, status in final.items() if status == "RESERVED"]
    backordered = [oid for oid, status in final.items() if status == "BACKORDERED"]
    assert len(reserved) == IN_STOCK
    assert len(backordered) == ORDERS - IN_STOCK

    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["backordered"]) == (
        IN_STOCK, IN_STOCK, 0, ORDERS - IN_STOCK)
    seen.append(level)
    assert all(min(s["on_hand"], s["reserved"], s["available"], s["backordered"]) >= 0 for s in seen), seen
    assert all(s["reserved"] <= s["on_hand"] for s in seen), seen

    # the orders that waited give their place back when cancelled; the ones that got stock keep it
    for oid in backordered:
        assert shop.client.cancel(oid)["status"] == "CANCELLED"
    level = shop.client.get_stock(sku)
    assert (level["reserved"], level["available"], level["backordered"]) == (IN_STOCK, 0, 0)
    assert all(shop.client.get_order(oid)["status"] == "RESERVED" for oid in reserved)


def test_racing_orders_never_commit_more_than_the_credit_limit(api_url, shop):
    sku = shop.product("pricey", price=30, stock=100)
    customer = shop.customer(credit_limit=100)  # room for three orders of 30
    barrier = threading.Barrier(8)

    def submit(_: int) -> str:
        with OrderflowClient(api_url, timeout=30) as c:
            barrier.wait(timeout=30)
            status, body = c.submit_order(customer, [{"sku": sku, "quantity": 1}], shipping_address=SAMPLE_ADDRESS)
            assert status == 201, body
            return c.wait_for_status(body["order_id"], ("RESERVED", "REJECTED"), timeout=WAIT)["status"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(submit, range(8)))

    assert outcomes.count("RESERVED") == 3
    assert outcomes.count("REJECTED") == 5
    account = shop.client.get_customer(customer)
    assert account["exposure"] == 90
    assert account["credit_available"] == 10
    assert shop.client.get_stock(sku)["reserved"] == 3
