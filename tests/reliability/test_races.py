"""Races over HTTP against the running local stack, with real threads: many orders for few units, one
Idempotency-Key sent many times at once, and cancel against ship on the same order."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from reliability_support import size

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

HOT_UNITS = 100
SIDE_UNITS = 100_000
COUNTING = threading.Lock()


@pytest.fixture(scope="module")
def url(stack) -> str:
    return stack.api_url


def in_parallel(url: str, workers: int, jobs: list, work, together: bool = False) -> list:  # type: ignore[no-untyped-def]
    """``work(client, job)`` for every job on ``workers`` threads, each with its own connection; the results
    in order. ``together``: the threads start their first job at the same moment."""
    connections = iter([OrderflowClient(url, timeout=120, retries=4) for _ in range(workers)])
    opened: list[OrderflowClient] = []
    local, lock = threading.local(), threading.Lock()
    barrier = threading.Barrier(min(workers, len(jobs))) if together else None

    def run(job):  # type: ignore[no-untyped-def]
        if not hasattr(local, "client"):
            with lock:
                local.client = next(connections)
                opened.append(local.client)
            if barrier:
                barrier.wait(timeout=120)
        return work(local.client, job)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, jobs))
    finally:
        for client in opened:
            client.close()


def submit(client: OrderflowClient, customer: str, lines: list[dict], retried: Counter[str]) -> tuple[int, dict]:
    """POST /orders as a careful client does: on a timeout, 503 or 409 IDEMPOTENCY_IN_PROGRESS, send the same
    request again with the same Idempotency-Key (``retried`` counts why)."""
    key = uuid.uuid4().hex
    for attempt in range(20):
        try:
            status, body = client.submit_order(customer, lines, idempotency_key=key, shipping_address=SAMPLE_ADDRESS)
        except httpx.TimeoutException:
            why = "timeout"
        else:
            code = body.get("error", {}).get("code") if status >= 400 else None
            if status != 503 and code != "IDEMPOTENCY_IN_PROGRESS":
                return status, body
            why = f"{status} {code}"
        with COUNTING:
            retried[why] += 1
        time.sleep(min(0.5 * 2**attempt, 10))
    raise AssertionError(f"POST /orders kept failing for key {key}")


def all_orders(client: OrderflowClient, customers: list[str]) -> dict[str, dict]:
    return {o["order_id"]: o for c in customers for o in client.list_all_orders(c)}


def settle(client: OrderflowClient, customers: list[str], done, what: str, sku: str, seconds: float) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Poll the customers' orders until ``done(orders)``; fails with the stragglers after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        orders = all_orders(client, customers)
        if done(orders):
            return orders
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: orders still {dict(Counter(o['status'] for o in orders.values()))} after "
                        f"{seconds:.0f} s; {sku}: {client.get_stock(sku)}")
        time.sleep(0.5)


def units(orders, sku: str, *statuses: str) -> int:  # type: ignore[no-untyped-def]
    return sum(li["quantity"] for o in orders if o["status"] in statuses for li in o["lines"] if li["sku"] == sku)


def test_orders_racing_for_scarce_stock_reserve_exactly_what_there_is(url, stack, figures):
    """N orders (mixed sizes, several SKUs each) race for 100 units of one SKU. Exactly the units there are
    get reserved, ``available`` is never negative, every order is RESERVED or BACKORDERED; then receipts
    cover the backorders while the warehouse ships, until everything has shipped and
    ``on_hand = initial + received − shipped`` for every SKU."""
    n = size(60, 1000)
    workers = min(n, 48)
    patience = 120 + 0.5 * n  # seconds for the workflows to catch up (not asserted: a wait that gives up)
    retried: Counter[str] = Counter()
    prefix = f"race{uuid.uuid4().hex[:6]}"
    rng = random.Random(n)
    with OrderflowClient(url, timeout=60) as admin:
        hot = f"{prefix}-HOT"
        side = [f"{prefix}-SIDE{i}" for i in range(4)]
        initial = {hot: HOT_UNITS, **dict.fromkeys(side, SIDE_UNITS)}
        for sku, on_hand in initial.items():
            admin.put_product(sku, sku, 1.5)
            admin.adjust_stock(sku, on_hand, "opening stock")
        customers = [f"{prefix}-C{i}" for i in range(20)]
        for customer in customers:
            admin.put_customer(customer, customer, 10_000_000)
        requests = [(customers[i % len(customers)],
                     [{"sku": hot, "quantity": rng.randint(1, 5)}]
                     + [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(side, rng.randint(1, 3))])
                    for i in range(n)]

        seen: list[dict] = []
        stop = threading.Event()

        # Read from the table, not over HTTP: behind 48 clients the API's queue would starve the watcher.
        dynamodb = stack.boto3_client("dynamodb")
        stock_table = next(t.name for t in stack.resources.tables if t.logical_id == "StockTable")

        def watch() -> None:
            while not stop.is_set():
                item = dynamodb.get_item(TableName=stock_table, Key={"sku": {"S": hot}, "record": {"S": "LEVEL#main"}})
                counters = item.get("Item", {})
                seen.append({c: int(counters[c]["N"]) if c in counters else 0
                             for c in ("on_hand", "reserved", "available")})
                stop.wait(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()
        try:
            created = in_parallel(url, workers, requests, lambda client, request: submit(client, *request, retried),
                                  together=True)
            assert [status for status, _ in created] == [201] * n, [b for s, b in created if s != 201][:5]
            assert len({body["order_id"] for _, body in created}) == n
            submitted = time.monotonic() - started
            race = settle(admin, customers, lambda orders: len(orders) == n and all(
                o["status"] in ("RESERVED", "BACKORDERED") for o in orders.values()), "the race", hot, patience)
            settled = time.monotonic() - started
        finally:
            stop.set()
            watcher.join(timeout=5)

        orders = list(race.values())
        level = admin.get_stock(hot)
        seen.append(level)
        reserved, backordered = units(orders, hot, "RESERVED"), units(orders, hot, "BACKORDERED")
        assert level["reserved"] == reserved <= HOT_UNITS
        assert level["available"] == HOT_UNITS - reserved >= 0
        assert level["backordered"] == backordered
        # exactly what there is: no order left waiting could have been served by what is left
        waiting = [o for o in orders if o["status"] == "BACKORDERED"]
        assert all(units([o], hot, "BACKORDERED") > level["available"] for o in waiting)
        assert min(s["available"] for s in seen) >= 0, seen
        assert all(0 <= s["reserved"] <= s["on_hand"] for s in seen), seen
        for sku in side:
            assert admin.get_stock(sku)["reserved"] == units(orders, sku, "RESERVED")

        # The warehouse ships what is reserved while receipts arrive that cover every backorder.
        received = backordered
        chunks = [received // 5 + (1 if i < received % 5 else 0) for i in range(5)]
        shipped_ids: set[str] = set()

        def ship(client: OrderflowClient, order_id: str) -> str:
            return client.ship(order_id, carrier="DHL")["status"]

        def receive(client: OrderflowClient, quantity: int) -> int:
            return client.adjust_stock(hot, quantity, "PO receipt", idempotency_key=uuid.uuid4().hex)["on_hand"]

        first = [o["order_id"] for o in orders if o["status"] == "RESERVED"]
        jobs = [("receive", q) for q in chunks if q] + [("ship", oid) for oid in first]
        rng.shuffle(jobs)
        in_parallel(url, workers, jobs, lambda c, job: receive(c, job[1]) if job[0] == "receive" else ship(c, job[1]))
        shipped_ids.update(first)
        rounds = 1
        while len(shipped_ids) < n:
            current = settle(admin, customers, lambda orders: any(
                o["status"] == "RESERVED" and oid not in shipped_ids for oid, o in orders.items())
                or all(o["status"] == "SHIPPED" for o in orders.values()), "waking the backorders", hot, patience)
            ready = [oid for oid, o in current.items() if o["status"] == "RESERVED"]
            assert set(ready).isdisjoint(shipped_ids)
            assert set(in_parallel(url, workers, ready, ship)) <= {"SHIPPED"}
            shipped_ids.update(ready)
            rounds += 1
        finished = time.monotonic() - started

        final = list(all_orders(admin, customers).values())
        assert Counter(o["status"] for o in final) == {"SHIPPED": n}
        for sku, on_hand in initial.items():
            level = admin.get_stock(sku)
            shipped = units(final, sku, "SHIPPED")
            got = received if sku == hot else 0
            assert level["on_hand"] == on_hand + got - shipped, level
            assert (level["reserved"], level["backordered"]) == (0, 0), level
            assert level["available"] == level["on_hand"], level
        exposure = sum(Decimal(str(admin.get_customer(c)["exposure"])) for c in customers)
        assert exposure == sum(Decimal(str(o["total"])) for o in final)

    section = "1. Orders racing for 100 units of one SKU"
    figures(section, "orders (threads)", f"{n} ({workers} client threads), 2-4 SKUs each, 1-5 units of the hot SKU")
    figures(section, "client retries (same Idempotency-Key)", ", ".join(f"{k} {v}" for k, v in retried.items())
            or "none")
    figures(section, "reserved in the race", f"{len(first)} orders, {reserved} of {HOT_UNITS} units; "
            f"{len(waiting)} orders backordered for {backordered} units")
    figures(section, "lowest available seen while racing", f"{min(s['available'] for s in seen)} "
            f"({len(seen)} stock reads)")
    figures(section, "after receipts of the backordered units", f"{n} of {n} orders shipped in {rounds} rounds; "
            "on_hand = initial + received − shipped for all 5 SKUs; reserved 0")
    figures(section, "seconds (not asserted)", f"submit {submitted:.0f}, race settled {settled:.0f}, "
            f"all shipped {finished:.0f}")


def test_one_idempotency_key_sent_many_times_at_once_makes_one_order(url, stack, figures):
    """Concurrent submissions with one Idempotency-Key: while the first runs the others are told 409
    IDEMPOTENCY_IN_PROGRESS and retry, as a client should; every final answer is the same order, and there is
    one order, one workflow run, and one hold of stock and credit."""
    n = size(100, 300)
    prefix = f"idem{uuid.uuid4().hex[:6]}"
    with OrderflowClient(url, timeout=60) as admin:
        sku, customer = f"{prefix}-SKU", f"{prefix}-C"
        admin.put_product(sku, sku, 4.25)
        admin.adjust_stock(sku, 10, "opening stock")
        admin.put_customer(customer, customer, 1000)
        lines = [{"sku": sku, "quantity": 2}]
        told_in_progress = Counter[int]()
        lock = threading.Lock()

        def submit(client: OrderflowClient, _: int) -> dict:
            for attempt in range(200):
                status, body = client.submit_order(customer, lines, idempotency_key="the-one-key",
                                                   shipping_address=SAMPLE_ADDRESS)
                if status == 201:
                    return body
                assert (status, body["error"]["code"]) == (409, "IDEMPOTENCY_IN_PROGRESS"), body
                with lock:
                    told_in_progress[attempt] += 1
                time.sleep(0.05 * min(attempt + 1, 10))
            raise AssertionError("still in progress after 200 attempts")

        answers = in_parallel(url, n, list(range(n)), submit, together=True)

        assert len({a["order_id"] for a in answers}) == 1
        assert all(a == answers[0] for a in answers)  # the very same response, replayed
        order_id = answers[0]["order_id"]
        assert [o["order_id"] for o in admin.list_all_orders(customer)] == [order_id]
        order = admin.wait_for_status(order_id, "RESERVED", timeout=60)
        assert [e["status"] for e in order["timeline"]] == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED"]
        steps = [state for state, _ in stack.task_runs("OrderProcessingStateMachine", order_id=order_id)]
        assert steps == ["Validate", "CheckCredit", "Reserve"]  # one execution's worth
        assert admin.get_stock(sku)["reserved"] == 2
        assert admin.get_customer(customer)["exposure"] == 8.5
        admin.cancel(order_id)

    figures("2. One Idempotency-Key, concurrent submissions", "submissions",
            f"{n} at once: 1 order, 1 workflow run, {n} identical 201 answers after "
            f"{sum(told_in_progress.values())} 409 IDEMPOTENCY_IN_PROGRESS answers that the clients retried")


def test_cancel_racing_ship_has_one_winner_and_consistent_stock_and_credit(url, figures):
    """The customer cancels while the warehouse ships, at the same moment, for many orders: exactly one of
    the two wins each order, the loser gets 409, and stock and credit follow the winner."""
    n = size(20, 200)
    prefix = f"cvs{uuid.uuid4().hex[:6]}"
    with OrderflowClient(url, timeout=60) as admin:
        sku, customer = f"{prefix}-SKU", f"{prefix}-C"
        admin.put_product(sku, sku, 5)
        admin.adjust_stock(sku, 3 * n, "opening stock")
        admin.put_customer(customer, customer, 100_000)
        ids = [admin.submit_order(customer, [{"sku": sku, "quantity": 3}],
                                  shipping_address=SAMPLE_ADDRESS)[1]["order_id"] for _ in range(n)]
        for order_id in ids:
            admin.wait_for_status(order_id, "RESERVED", timeout=60)
        pairs = {order_id: threading.Barrier(2) for order_id in ids}

        def act(client: OrderflowClient, job: tuple[str, str]) -> tuple[str, str, int]:
            order_id, action = job
            pairs[order_id].wait(timeout=60)  # the customer and the warehouse at the same moment
            body = {"reason": "changed my mind"} if action == "cancel" else {"carrier": "DHL"}
            response = client.request("POST", f"/orders/{order_id}/{action}", json=body, retry=True)
            return order_id, action, response.status_code

        jobs = [(order_id, action) for order_id in ids for action in ("cancel", "ship")]
        results = {(o, a): status for o, a, status in in_parallel(url, 2 * min(n, 24), jobs, act)}

        outcomes = Counter[str]()
        for order_id in ids:
            order = admin.get_order(order_id)
            winner = {"SHIPPED": "ship", "CANCELLED": "cancel"}[order["status"]]
            loser = "cancel" if winner == "ship" else "ship"
            assert (results[(order_id, winner)], results[(order_id, loser)]) == (200, 409)
            outcomes[order["status"]] += 1
        shipped = outcomes["SHIPPED"]
        level = admin.get_stock(sku)
        assert (level["on_hand"], level["reserved"], level["available"]) == (3 * n - 3 * shipped, 0,
                                                                             3 * n - 3 * shipped)
        account = admin.get_customer(customer)
        assert account["exposure"] == 15 * shipped
        assert account["credit_available"] == 100_000 - 15 * shipped

    figures("3. Cancel racing ship", "orders", f"{n}: shipped {outcomes['SHIPPED']}, cancelled "
            f"{outcomes['CANCELLED']}; every loser 409; stock and exposure follow the winners")
