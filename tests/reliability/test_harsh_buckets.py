"""A hot SKU split into buckets (docs/scale.md) on the harsh stack: the real handlers and ASL, with
transaction conflicts, per-key throttling at AWS's rates, duplicate Express executions and polled streams
(``Faults.harsh``). Orders race for the SKU while its bucket count changes; a customer or the warehouse would
notice oversell, a unit lost or counted twice, an order FAILED, or a bad bucket count accepted."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

from reliability_support import size
from test_harsh import SEED, _settled
from test_harsh import stack as stack  # the harsh stack with deployed backoff, one per module
from test_races import in_parallel, submit

from orderflow_cli.client import OrderflowClient

UNITS = 40


def test_a_bucketed_sku_on_the_harsh_stack(stack, figures):
    n = size(24, 200)
    prefix = f"hot{uuid.uuid4().hex[:6]}"
    hot = f"{prefix}-SKU"
    retried: Counter[str] = Counter()
    with OrderflowClient(stack.api_url, timeout=120, retries=6) as admin:
        admin.put_product(hot, hot, 2.5)
        admin.adjust_stock(hot, UNITS, "opening stock", idempotency_key=f"{hot}-opening")
        for count in (0, 257, "8"):  # refused, and nothing changes
            refused = admin.request("PUT", f"/products/{hot}",
                                    json={"name": hot, "unit_price": 3, "stock_buckets": count})
            assert refused.status_code == 422 and "stock_buckets" in refused.text, refused.text
        product = admin.get_product(hot)
        assert float(product["unit_price"]) == 2.5 and product.get("stock_buckets") is None, product
        hot_product = admin.request("PUT", f"/products/{hot}",
                                    json={"name": hot, "unit_price": 2.5, "stock_buckets": 8})
        assert hot_product.status_code == 200 and hot_product.json()["stock_buckets"] == 8, hot_product.text
        assert admin.get_stock(hot)["available"] == UNITS
        customers = [f"{prefix}-C{i}" for i in range(6)]
        for customer in customers:
            admin.put_customer(customer, customer, 1_000_000)

        def rebucket() -> None:  # the admin changes the count while the orders race
            time.sleep(1)
            response = admin.request("PUT", f"/products/{hot}", json={"name": hot, "unit_price": 2.5,
                                                                      "stock_buckets": 3})
            assert response.status_code == 200, response.text

        changer = threading.Thread(target=rebucket)
        changer.start()
        jobs = [(customers[i % len(customers)], [{"sku": hot, "quantity": 1 + i % 3}]) for i in range(n)]
        answers = in_parallel(stack.api_url, min(n, 12), jobs, lambda c, job: submit(c, job[0], job[1], retried),
                              together=True)
        changer.join()
        assert all(status == 201 for status, _ in answers), Counter(status for status, _ in answers)
        orders = _settled(admin, [body["order_id"] for _, body in answers], {"RESERVED", "BACKORDERED", "FAILED"},
                          120 + 3 * n)
        by_status = Counter(o["status"] for o in orders.values())
        reserved = sum(li["quantity"] for o in orders.values() if o["status"] == "RESERVED" for li in o["lines"])
        stock = admin.get_stock(hot)
        assert by_status["FAILED"] == 0 and set(by_status) <= {"RESERVED", "BACKORDERED"}, by_status
        assert (stock["on_hand"], stock["reserved"]) == (UNITS, reserved), (stock, reserved)  # no oversell
        assert stock["available"] == UNITS - reserved >= 0
        assert stock["available"] < 3 or by_status["BACKORDERED"] == 0  # nobody waits beside enough stock

        # Stock for the backorders arrives at the bucketed SKU: each woken order reserves it.
        waiting = sum(li["quantity"] for o in orders.values() if o["status"] == "BACKORDERED" for li in o["lines"])
        if waiting:
            admin.adjust_stock(hot, waiting, "receipt", idempotency_key=f"{hot}-receipt")
        final = _settled(admin, list(orders), {"RESERVED", "FAILED"}, 120 + 3 * n)
        assert Counter(o["status"] for o in final.values()) == Counter({"RESERVED": n}), Counter(
            o["status"] for o in final.values())
        shipped = list(final)[: n // 3]
        for order_id in shipped:
            admin.ship(order_id)
        left = sum(li["quantity"] for o in shipped for li in final[o]["lines"])
        after = admin.get_stock(hot)
        # the receipt brought what the backorders wanted: what the race left (an order of 2 or 3 may have
        # backordered beside 1 or 2 units, above) is still available, no more and no less
        assert after["on_hand"] == UNITS + waiting - left and after["available"] == UNITS - reserved, after

    figures("12. A bucketed SKU on the harsh stack", f"{n} orders racing for {UNITS} units of one SKU in 8 buckets, "
            f"changed to 3 while they raced; Faults.harsh(seed={SEED})",
            f"oversell 0, FAILED 0, every unit accounted for ({dict(by_status)} before the receipt; "
            f"injected {', '.join(f'{k} {v}' for k, v in sorted(stack.injected.items()))})")
