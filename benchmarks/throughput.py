"""Figure 6: offline throughput, orders per second end to end through the local stack, and a profile.

The stack runs in this process (moto, the in-process Lambda runtime, the HTTP front; the functions'
AWS calls answered in-process, ``orderflow_local.transport``); the clients run in a child process
(``python -m benchmarks.throughput client ...``), N threads with one ``httpx.Client`` each, so their own
work does not share the stack's interpreter lock. One order is what a shop and its warehouse do:
``POST /orders`` (2 lines), poll ``GET /orders/{id}`` every 100 ms until RESERVED (a GET costs the stack
about as much as a workflow step, so a tighter poll mostly measures the polling), ``POST .../ship``,
``POST .../deliver``; its latency runs from the submit to the DELIVERED answer. After each N every order
is read back from the orders table (not timed) to check it is DELIVERED. Every run gets a stack of its
own, starting from empty tables. One more run at N = 4 sends every AWS call over moto's server, as the
stack did before its in-process transport: the A/B of that transport within one bench run.

The profile is one more run at N = 4 with pyinstrument in every thread the stack starts during it
(HTTP requests, moto's requests, workflow executions), the sessions combined. pyinstrument samples
wall-clock time, so time a thread spends blocked (sleeping, on a lock, on a socket) is shown apart
as "waiting"; the hot spots are the rest, by self time.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .common import REPO, log, percentile, summary

# (clients, orders); the last run is the target itself: 1,000 orders, timed from the first submit to the last
# DELIVERED answer, not extrapolated from a shorter run.
PLAN: tuple[tuple[int, int], ...] = ((1, 30), (4, 60), (16, 1_000))
PROFILE_PLAN = (4, 24)
# One run with every AWS call over moto's server (the in-process transport off): what the transport saves.
OVER_HTTP_PLAN = (4, 60)
POLL_SECONDS = 0.1
PRODUCTS = 20
TARGET_ORDERS, TARGET_SECONDS = 1_000, 60.0
TOP = 10


# ---------------------------------------------------------------------- the clients (child process)
def client_main(api_url: str, clients: int, orders: int, skus: list[str], customers: list[str]) -> dict:
    import httpx

    from orderflow_cli.client import local_token

    from .harness import deliver, ship, submit

    headers = {"Authorization": f"Bearer {local_token(api_url, 'admin')}"}

    latencies: list[float] = []
    polls: list[int] = []
    order_ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    shares = [orders // clients + (1 if i < orders % clients else 0) for i in range(clients)]

    def worker(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=api_url, timeout=120, headers=headers) as http:
            start.wait()
            for _ in range(shares[index]):
                began = time.perf_counter()
                try:
                    lines = {sku: rng.randint(1, 3) for sku in rng.sample(skus, 2)}
                    order = submit(http, customers[index % len(customers)], lines)
                    gets = wait_reserved(http, order["order_id"])
                    ship(http, order["order_id"])
                    done = deliver(http, order["order_id"])
                    if done["status"] != "DELIVERED":
                        raise RuntimeError(f"{order['order_id']} is {done['status']}")
                except Exception as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                with lock:
                    latencies.append(time.perf_counter() - began)
                    order_ids.append(order["order_id"])
                    polls.append(gets)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"wall": time.perf_counter() - began, "latencies": latencies, "order_ids": order_ids, "errors": errors,
            "polls": polls}


def wait_reserved(http: Any, order_id: str, timeout: float = 120.0) -> int:
    """Poll ``GET /orders/{id}`` every POLL_SECONDS until RESERVED; how many GETs it took."""
    deadline = time.monotonic() + timeout
    gets = 0
    while True:
        time.sleep(POLL_SECONDS)
        gets += 1
        response = http.get(f"/orders/{order_id}")
        response.raise_for_status()
        status = response.json()["status"]
        if status == "RESERVED":
            return gets
        if status in ("REJECTED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            raise RuntimeError(f"order {order_id} is {status}, waited for RESERVED")


def drive(api_url: str, clients: int, orders: int, skus: list[str], customers: list[str]) -> dict:
    """Run the clients in a child process; their report."""
    args = [sys.executable, "-m", "benchmarks.throughput", "client", api_url, str(clients), str(orders),
            json.dumps(skus), json.dumps(customers)]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"client process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- the stack side
def final_statuses(stack: Any, order_ids: list[str]) -> Counter[str]:
    """The orders' statuses as stored, read back after the run (not timed)."""
    table = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    dynamodb = stack.boto3_client("dynamodb")
    statuses: Counter[str] = Counter()
    for order_id in order_ids:
        item = dynamodb.get_item(TableName=table, Key={"order_id": {"S": order_id}}).get("Item")
        statuses[item["status"]["S"] if item else "MISSING"] += 1
    return statuses


def measure(stack: Any, skus: list[str], customers: list[str], clients: int, orders: int) -> dict[str, Any]:
    report = drive(stack.api_url, clients, orders, skus, customers)
    statuses = final_statuses(stack, report["order_ids"])
    latencies = report["latencies"]
    done = len(latencies)
    return {
        "clients": clients,
        "orders": orders,
        "delivered": done,
        "errors": len(report["errors"]),
        "error_samples": report["errors"][:3],
        "seconds": report["wall"],
        "orders_per_second": done / report["wall"] if report["wall"] else 0.0,
        "latency_s": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                      **{k: v for k, v in summary(latencies).items() if k in ("min", "max")}} if latencies else {},
        "gets_per_order": statistics.fmean(report["polls"]) if report["polls"] else 0.0,
        "order_statuses": dict(statuses),
    }


# ---------------------------------------------------------------------- profiling
@contextmanager
def profiling() -> Iterator[list[Any]]:
    """pyinstrument in every thread started while inside; yields the list the sessions land in."""
    from pyinstrument import Profiler

    sessions: list[Any] = []
    lock = threading.Lock()
    original = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        profiler = Profiler(interval=0.001, async_mode="disabled")
        try:
            profiler.start()
        except RuntimeError:
            original(thread)
            return
        try:
            original(thread)
        finally:
            session = profiler.stop()
            with lock:
                sessions.append(session)

    threading.Thread.run = run  # type: ignore[method-assign]
    try:
        yield sessions
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]


_PLUMBING = ("builtins (C)", "stdlib")
_SERVER = "werkzeug/flask (moto's server)"
_PACKAGES = (("/moto/", "moto"), ("/botocore/", "botocore/boto3"), ("/boto3/", "botocore/boto3"),
             ("/werkzeug/", _SERVER), ("/flask/", _SERVER), ("/aws_lambda_powertools/", "Powertools"),
             ("/pydantic", "pydantic"), ("/httpx/", "httpx/httpcore"), ("/httpcore/", "httpx/httpcore"),
             ("/urllib3/", "urllib3"), ("/jinja2/", "moto"), ("/jsonpath_ng/", "moto"),
             ("/openapi_spec_validator/", "moto"), ("/xmltodict", "moto"))
_WAITING = ("sleep", "acquire", "recv", "recv_into", "accept", "select", "poll", "wait", "readinto", "connect",
            "sendall", "send")
OURS = {
    "orderflow": REPO / "layers" / "core" / "orderflow",
    "functions": REPO / "functions",
    "local stack": REPO / "local",
}


# Frames whose self time is (almost) all waiting for a lock taken with ``with lock:`` (the wait is
# not a call pyinstrument sees, so it lands on the frame itself).
LOCK_WAITS = {
    ("get_application", "werkzeug_app.py"): "waiting: moto's dispatcher lock",
    ("locked", "fidelity.py"): "waiting: the local stack's DynamoDB lock (local/fidelity.py)",
}


def category(frame: Any) -> str:
    path = frame.file_path or ""
    for (function, file), label in LOCK_WAITS.items():
        if frame.function == function and path.endswith(file):
            return label
    if path == "<built-in>" or not path:
        name = (frame.function or "").rsplit(".", 1)[-1]
        return "waiting: sleep, locks, sockets" if name in _WAITING else "builtins (C)"
    resolved = str(Path(path).resolve()) if path.startswith("/") else path
    for label, root in OURS.items():
        if resolved.startswith(str(root)):
            return f"our code: {label}"
    for marker, label in _PACKAGES:
        if marker in path:
            return label
    if "/site-packages/" in path:
        return "other packages"
    return "stdlib"


def hot_spots(sessions: list[Any], top: int = TOP) -> dict[str, Any]:
    from pyinstrument.session import Session

    if not sessions:
        return {"threads": 0}
    combined = sessions[0]
    for other in sessions[1:]:
        combined = Session.combine(combined, other)
    root = combined.root_frame()
    spots: Counter[tuple[str, str, int]] = Counter()
    categories: Counter[str] = Counter()
    labels: dict[tuple[str, str, int], str] = {}
    callers: dict[tuple[str, str, int], Counter[str]] = {}
    owners: Counter[str] = Counter()  # busy self time, builtins and stdlib charged to who called them

    def walk(frame: Any, caller: str, owner: str) -> None:
        for child in frame.children:
            if child.is_synthetic:
                continue
            key = (child.function or "?", child.file_path_short or child.file_path or "?", child.line_no or 0)
            label = category(child)
            own = child.total_self_time
            if own:
                spots[key] += own
                labels[key] = label
                categories[label] += own
                callers.setdefault(key, Counter())[caller] += own
                if not label.startswith("waiting"):
                    owners[owner if label in _PLUMBING else label] += own
            # The nearest frame of a package or of ours: where a builtin or stdlib hot spot is used from.
            if label in _PLUMBING or label.startswith("waiting"):
                walk(child, caller, owner)
            else:
                walk(child, f"{key[0]} ({key[1]})", label)

    walk(root, "-", "stdlib")
    total = sum(categories.values())

    def row(key: tuple[str, str, int], seconds: float) -> dict[str, Any]:
        function, file, line = key
        return {"function": function, "where": f"{file}:{line}" if line else file, "category": labels[key],
                "self_s": seconds, "share": seconds / total if total else 0.0,
                "busy_share": seconds / busy_total if busy_total else 0.0,
                "called_from": callers[key].most_common(1)[0][0]}

    busy = [(k, s) for k, s in spots.most_common() if not labels[k].startswith("waiting")]
    waits = [(k, s) for k, s in spots.most_common() if labels[k].startswith("waiting")]
    busy_total = sum(owners.values())
    ours = [(k, s) for k, s in busy if labels[k].startswith("our code")]
    return {
        "threads": len(sessions),
        "sampled_thread_seconds": total,
        "categories": [{"category": c, "self_s": s, "share": s / total if total else 0.0}
                       for c, s in categories.most_common()],
        "busy_seconds": busy_total,
        "busy_by_owner": [{"owner": o, "self_s": s, "share": s / busy_total if busy_total else 0.0}
                          for o, s in owners.most_common()],
        "top": [row(k, s) for k, s in busy[:top]],
        "top_ours": [row(k, s) for k, s in ours[:5]],
        "top_waits": [row(k, s) for k, s in waits[:5]],
    }


# ---------------------------------------------------------------------- the section
def fresh_run(clients: int, orders: int, *, profile: bool = False, over_http: bool = False) -> dict[str, Any]:
    """One measured run on a stack of its own (the shop, then a 4-order warm-up that imports every handler).
    ``over_http``: the in-process transport off, so every AWS call is an HTTP request to moto's server."""
    from orderflow_local.stack import LocalStack

    from .harness import Shop, quiet_stdout

    with quiet_stdout(), LocalStack() as stack:
        if over_http:
            stack.in_process.uninstall()
        shop = Shop.create(stack.api_url, products=PRODUCTS, customers=clients)
        drive(stack.api_url, 2, 4, shop.skus, shop.customers)
        before = Counter(stack.in_process.answered)
        with ExitStack() as extras:
            sessions = extras.enter_context(profiling()) if profile else None
            result = measure(stack, shop.skus, shop.customers, clients, orders)
        answered = Counter(stack.in_process.answered)
        answered.subtract(before)
        result["in_process_per_order"] = {service: n / orders for service, n in sorted(answered.items()) if n > 0}
        result["orders_in_table"] = _orders_in_table(stack)
    if sessions is not None:
        result["hot_spots"] = hot_spots(sessions)
    return result


def _orders_in_table(stack: Any) -> int:
    from moto.dynamodb.models import dynamodb_backends

    from orderflow_local.template import ACCOUNT_ID, REGION

    name = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    return len(list(dynamodb_backends[ACCOUNT_ID][REGION].get_table(name).all_items()))


def run(plan: tuple[tuple[int, int], ...] = PLAN, profile: tuple[int, int] | None = PROFILE_PLAN,
        over_http: tuple[int, int] | None = OVER_HTTP_PLAN) -> dict[str, Any]:
    runs = []
    for clients, orders in plan:
        log(f"  throughput: N={clients}, {orders} orders (fresh stack)")
        runs.append(fresh_run(clients, orders))
    profiled: dict[str, Any] = {}
    if profile:
        clients, orders = profile
        log(f"  throughput: profiling N={clients}, {orders} orders (fresh stack)")
        profiled_run = fresh_run(clients, orders, profile=True)
        profiled = {"run": profiled_run, **profiled_run.pop("hot_spots")}
    http_run: dict[str, Any] = {}
    if over_http:
        clients, orders = over_http
        log(f"  throughput: N={clients}, {orders} orders, every AWS call over moto's server (fresh stack)")
        http_run = fresh_run(clients, orders, over_http=True)
    best = max(r["orders_per_second"] for r in runs)
    # The target run: every one of TARGET_ORDERS orders delivered, its wall time measured; else extrapolated.
    target_run = next((r for r in runs if r["orders"] >= TARGET_ORDERS and r["delivered"] == r["orders"]), None)
    return {
        "runs": runs,
        "profile": profiled,
        "over_http": http_run,
        "poll_seconds": POLL_SECONDS,
        "products": PRODUCTS,
        "target": {"orders": TARGET_ORDERS, "seconds": TARGET_SECONDS,
                   "orders_per_second": TARGET_ORDERS / TARGET_SECONDS},
        "best_orders_per_second": best,
        "seconds_for_target_orders": (target_run["seconds"] if target_run
                                      else TARGET_ORDERS / best if best else None),
        "target_measured": target_run is not None,
        "target_clients": target_run["clients"] if target_run else None,
    }


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "client":
    _, _, url, n, total, skus_json, customers_json = sys.argv
    print(json.dumps(client_main(url, int(n), int(total), json.loads(skus_json), json.loads(customers_json))))
