"""Figure 12: a flash sale on one SKU against its bucket count, in a discrete-event model of DynamoDB's limits.

The local stack serialises every DynamoDB request, so it cannot show what a hot key does on AWS. Here:

1. **Measured**: orders of one unit of one hot SKU run through the real handlers and ASL on the local stack;
   every DynamoDB call of an order that touches a key *all* orders share (the product's item, the SKU's stock
   items, the Locations partition) is recorded with its request units, sized as DynamoDB sizes them: on
   containers that read the product a moment ago, and after their few-second copy of it expired.
2. **Modelled**: a discrete-event simulation replays that call pattern for Poisson arrivals at the offered rate,
   against DynamoDB's published per-key limits (1,000 WCU and 3,000 RCU a second per partition key value, a
   token bucket holding one second's worth) and transaction conflicts (an item in a transaction refuses a
   second transaction for the transaction's duration). The code's own retry rules are replayed: the
   in-function retries of a conflicted transaction (``platform.dynamo``), the SDK's throttling retries
   (standard mode, 4 attempts), the bucket retries of the reservation, and the ASL's Retry of the step
   (``statemachines/order_processing.asl.json``); an order whose retries run out is FAILED. Each task runs in
   a Lambda container of its function (a free one, else a new one), which re-reads the product when its
   copy is older than ``PRODUCT_CACHE_SECONDS``: the containers and their reads follow from the arrivals.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re
import statistics
import time
from collections import defaultdict
from typing import Any

from .common import REPO, log

BUCKETS = (1, 4, 16, 64, 256)
OFFERED = 5_000  # orders a second, one unit of the hot SKU each
SECONDS, WARM_UP = 10.0, 1.0  # the sale's length, and the start left out of the rate accepted
MEASURED_ROUNDS, WARM_PER_ROUND = 4, 3  # rounds of one order after the TTL and 3 right after it
WCU_PER_KEY, RCU_PER_KEY = 1_000.0, 3_000.0  # DynamoDB, per partition key value per second
# Stated latencies (AWS quotes "single-digit millisecond" reads and writes): a read or plain write, a
# TransactWriteItems as its caller waits for it, and the Lambda + Express state overhead per task. How long a
# transaction holds its items (refusing others) is the local stack's harsh model's (local/faults.py).
CALL_SECONDS, TRANSACTION_SECONDS, TASK_OVERHEAD_SECONDS = 0.005, 0.015, 0.010
SDK_ATTEMPTS = 4  # orderflow.platform.aws: botocore standard retry mode, max_attempts 4
_SHARED = ("product", "stock", "locations")


# ---------------------------------------------------------------------- 1. the measured call pattern
def measure(rounds: int = MEASURED_ROUNDS, buckets: int = 16) -> dict[str, Any]:
    """Per order, the calls that touch keys every order of the flash sale shares, by task: on containers that
    read the product a moment ago (*warm*), and on containers whose copy has expired (*after the TTL*, each
    round's first order, after waiting ``PRODUCT_CACHE_SECONDS``). The difference is what a container's miss
    costs; the model charges it once per container and TTL."""
    from orderflow.catalogue.adapters.recent import PRODUCT_CACHE_SECONDS
    from orderflow_local.stack import LocalStack

    from .calls import _item_sizes, request_units
    from .harness import ORDER_MACHINE, Call, Shop, _ok, recording, submit

    stack = LocalStack()
    with recording() as recorder:
        stack.start()
        try:
            recorder.wrap(stack.runtime)
            shop = Shop.create(stack.api_url, products=1, customers=rounds * (1 + WARM_PER_ROUND) + 1,
                               stock=1_000_000)
            sku = shop.skus[0]
            _ok(shop.http.put(f"/products/{sku}", json={"name": "hot", "unit_price": 9.5, "stock_buckets": buckets}))
            measured: dict[str, list[list[Any]]] = {"warm": [], "expired": []}
            for i, customer in enumerate(shop.customers):
                if i and (i - 1) % (1 + WARM_PER_ROUND) == 0:  # a round starts: every container's copy expires
                    time.sleep(PRODUCT_CACHE_SECONDS + 0.5)
                reserved = recorder.completed["ReserveStockFunction"]
                recorder.reset()
                order = submit(shop.http, customer, {sku: 1})
                recorder.wait_completed("ReserveStockFunction", reserved + 1)
                with recorder.lock:
                    calls = list(recorder.calls)
                tasks = [state for state, _ in stack.task_runs(ORDER_MACHINE, order_id=order["order_id"])]
                if i:  # the first order warms the containers (and teaches them the bucket count)
                    measured["expired" if (i - 1) % (1 + WARM_PER_ROUND) == 0 else "warm"].append(calls)
            sizes = _item_sizes([c for orders in measured.values() for calls in orders for c in calls])
        finally:
            stack.stop()
    kinds = {kind: _per_order(orders, sku, sizes, request_units, Call) for kind, orders in measured.items()}
    per_order = []
    for name in sorted(set(kinds["warm"]) | set(kinds["expired"])):
        warm, expired = kinds["warm"].get(name, (0.0, 0.0)), kinds["expired"].get(name, (0.0, 0.0))
        function, operation, key = name.split("|")
        per_order.append({"function": function, "operation": operation, "key": key, "calls": warm[0],
                          "per_miss": max(0.0, expired[0] - warm[0]), "units": max(warm[1], expired[1]),
                          "write": operation in ("TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem")})
    durations = {fn: statistics.median(v) / 1000 for fn, v in recorder.durations.items() if v}
    return {"orders": len(measured["warm"]), "expired_orders": len(measured["expired"]), "buckets": buckets,
            "cache_seconds": PRODUCT_CACHE_SECONDS, "calls": per_order, "handler_seconds": durations,
            "tasks": tasks}


def _per_order(orders: list[list[Any]], sku: str, sizes: Any, request_units: Any,
               call_type: Any) -> dict[str, tuple[float, float]]:
    """Calls per order and request units per call, by (function, operation, shared key)."""
    units: dict[str, list[float]] = defaultdict(list)
    for calls in orders:
        for call in calls:
            shared = _shared_item(call.items, sku)
            if shared is not None:
                name, item = shared
                wru, rru = request_units(call_type(call.function, call.operation, [item], call.consistent), sizes)
                units[f"{call.function}|{call.operation}|{name}"].append(wru + rru)
    return {name: (len(v) / len(orders), statistics.mean(v)) for name, v in units.items()}


def _shared_item(items: list[tuple[str, dict[str, Any]]], sku: str) -> tuple[str, tuple[str, dict]] | None:
    """Which key every order shares a call touches (the product, the SKU's stock, the locations), if any."""
    for table, key in items:
        raw = key.get("sku")
        value = next(iter(raw.values())) if isinstance(raw, dict) else raw
        if "Locations" in table:
            return "locations", (table, key)
        if value == sku and "Products" in table:
            return "product", (table, key)
        if value and (value == sku or str(value).startswith(f"{sku}#")) and "Stock" in table:
            return "stock", (table, key)
    return None


# ---------------------------------------------------------------------- 2. the model
class _Key:
    """One partition key value: a token bucket of capacity units a second, and the transaction holding it."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at, self.held_until = rate, rate, 0.0, -1.0

    def take(self, now: float, units: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < units:
            return False
        self.tokens -= units
        return True


def _asl_retry() -> dict[str, float]:
    """The Reserve state's Retry for TransientError, as the ASL file says (its parameters at their defaults)."""
    text = (REPO / "statemachines" / "order_processing.asl.json").read_text()
    template = (REPO / "template.yaml").read_text()
    for name in ("RetryIntervalSeconds", "RetryMaxDelaySeconds"):
        default = re.search(rf"\n  {name}:\n(?:    .*\n)*?    Default: (\d+)", template)
        text = text.replace("${" + name + "}", default.group(1) if default else "1")
    text = re.sub(r"\$\{[A-Za-z]+\}", "1", re.sub(r'"\$\{[A-Za-z]+\}"', '"arn"', text))
    reserve = json.loads(text)["States"]["Reserve"]
    rule = next(r for r in reserve["Retry"] if "TransientError" in r["ErrorEquals"])
    return {"attempts": rule.get("MaxAttempts", 3), "interval": rule.get("IntervalSeconds", 1),
            "backoff": rule.get("BackoffRate", 2.0), "max_delay": rule.get("MaxDelaySeconds", 3600)}


class _Containers:
    """One function's Lambda containers: a step takes a free one (the one free longest) or starts a new one,
    holds it for its calls and its handler's time, and each container keeps its own copy of what it read
    for ``cache_seconds``; so containers (concurrency) and misses come out of the arrivals, not assumed."""

    def __init__(self, cache_seconds: float) -> None:
        self.cache_seconds, self.started, self.misses = cache_seconds, 0, 0
        self.free: list[tuple[float, int]] = []  # (free from, container)
        self.fresh: dict[int, dict[str, float]] = {}  # container -> key -> its copy's expiry

    def take(self, now: float) -> int:
        if self.free and self.free[0][0] <= now:
            return heapq.heappop(self.free)[1]
        self.started += 1
        self.fresh[self.started] = {}
        return self.started

    def give_back(self, container: int, at: float) -> None:
        heapq.heappush(self.free, (at, container))

    def has(self, container: int, key: str, now: float) -> bool:
        return self.fresh[container].get(key, -1.0) > now

    def read(self, container: int, key: str, now: float) -> None:
        self.misses += 1
        self.fresh[container][key] = now + self.cache_seconds


def simulate(pattern: dict[str, Any], buckets: int, offered: float = OFFERED, seconds: float = SECONDS,
             seed: int = 1, cache_seconds: float | None = None) -> dict[str, Any]:
    """Orders arriving at ``offered`` a second for ``seconds``, each replaying the measured calls on shared
    keys: every warm order's calls, and a container's miss (``per_miss``) when its copy is older than
    ``cache_seconds`` (the code's ``PRODUCT_CACHE_SECONDS`` unless given; 0: every order misses, as before the
    copy existed). The SKU's stock is split over ``buckets`` (its base takes no reservation when there are
    several)."""
    from orderflow.orders.reserving import BUCKET_ATTEMPTS
    from orderflow.platform.dynamo import _CONFLICT_BASE_SECONDS, _CONFLICT_CAP_SECONDS, CONFLICT_ATTEMPTS
    from orderflow_local.faults import Faults

    held_for = Faults.harsh().transaction_window or TRANSACTION_SECONDS
    rng = random.Random(seed)
    asl = _asl_retry()
    keys: dict[str, _Key] = {}
    ttl = pattern["cache_seconds"] if cache_seconds is None else cache_seconds

    def key(name: str, write: bool) -> _Key:
        return keys.setdefault(f"{name}|{write}", _Key(WCU_PER_KEY if write else RCU_PER_KEY))

    steps = []  # (function, its calls on shared keys, its handler's time) in the order the workflow runs them
    for function in ("OrderIntakeFunction", "ValidateOrderFunction", "CheckCreditFunction", "ReserveStockFunction"):
        calls = [{**c, "cached": False} for c in pattern["calls"] if c["function"] == function and c["calls"] >= 0.5]
        calls += [{**c, "cached": True} for c in pattern["calls"]
                  if c["function"] == function and c.get("per_miss", 0) >= 0.5]
        steps.append((function, calls, pattern["handler_seconds"].get(function, 0.01)))
    containers = {function: _Containers(ttl) for function, _, _ in steps}
    stock = {b: 10**9 for b in range(1, buckets + 1)} if buckets > 1 else {0: 10**9}
    events: list[tuple[float, int, dict[str, Any]]] = []
    counter = arrivals = 0
    now = rng.expovariate(offered)
    while now < seconds:
        arrivals += 1
        counter += 1
        heapq.heappush(events, (now, counter, {"arrived": now, "step": 0, "call": 0, "asl": 0, "sdk": 0,
                                               "conflicts": 0, "bucket_tries": 0}))
        now += rng.expovariate(offered)
    done: list[float] = []
    finished: list[float] = []
    failed = 0
    throttled = conflicts = 0

    def leave(order: dict[str, Any], at: float) -> None:
        """The step's container is free again at ``at``."""
        if "container" in order:
            containers[steps[order["step"]][0]].give_back(order.pop("container"), at)

    def retry_step(order: dict[str, Any], at: float) -> None:
        nonlocal failed
        leave(order, at)
        order["asl"] += 1
        if order["asl"] > asl["attempts"]:
            failed += 1
            return
        cap = min(asl["max_delay"], asl["interval"] * asl["backoff"] ** (order["asl"] - 1))
        order.update(call=0, sdk=0, conflicts=0)
        push(order, at + rng.uniform(0, cap))

    def push(order: dict[str, Any], at: float) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(events, (at, counter, order))

    while events:
        at, _, order = heapq.heappop(events)
        function, calls, handler = steps[order["step"]]
        if "container" not in order:
            order["container"] = containers[function].take(at)
        if order["call"] >= len(calls):  # the step's shared calls are done: the next task
            leave(order, at + handler)
            order["step"] += 1
            order.update(call=0, sdk=0, conflicts=0, asl=0)
            if order["step"] == len(steps):
                done.append(at - order["arrived"])
                finished.append(at)
            else:
                push(order, at + handler + TASK_OVERHEAD_SECONDS)
            continue
        call = calls[order["call"]]
        transaction = call["operation"] == "TransactWriteItems"
        name = call["key"]
        if call["cached"] and containers[function].has(order["container"], name, at):  # the container's copy
            order["call"] += 1
            push(order, at)
            continue
        bucket = 0
        if name == "stock" and call["write"]:
            bucket = order.setdefault("bucket", rng.randint(1, buckets) if buckets > 1 else 0)
            name = f"stock#{bucket}"
        target = key(name, call["write"])
        if transaction and target.held_until > at:  # TransactionConflict: platform.dynamo retries with jitter
            conflicts += 1
            order["conflicts"] += 1
            if order["conflicts"] >= CONFLICT_ATTEMPTS:
                retry_step(order, at)
            else:
                cap = min(_CONFLICT_CAP_SECONDS, _CONFLICT_BASE_SECONDS * 2 ** (order["conflicts"] - 1))
                push(order, at + rng.uniform(0, cap))
            continue
        if not target.take(at, call["units"]):  # throttled: the SDK retries, then the ASL
            throttled += 1
            order["sdk"] += 1
            if order["sdk"] >= SDK_ATTEMPTS:
                retry_step(order, at)
            else:
                push(order, at + rng.uniform(0, 2 ** (order["sdk"] - 1)))
            continue
        latency = TRANSACTION_SECONDS if transaction else CALL_SECONDS
        if transaction:
            target.held_until = at + held_for
        if call["cached"]:
            containers[function].read(order["container"], name, at + latency)
        if name.startswith("stock#") and call["write"]:
            if stock[bucket] < 1:  # short: another bucket (orders.reserving.BUCKET_ATTEMPTS)
                order["bucket_tries"] += 1
                if order["bucket_tries"] > BUCKET_ATTEMPTS:
                    retry_step(order, at)
                    continue
                order.pop("bucket")
                push(order, at + latency)
                continue
            stock[bucket] -= 1
        order["call"] += 1
        push(order, at + latency)
    done.sort()
    steady = [t for t in finished if WARM_UP <= t < seconds]  # landed while the sale ran, past its first second
    return {"buckets": buckets, "offered_per_second": offered, "orders": arrivals, "cache_seconds": ttl,
            "accepted_per_second": len(steady) / (seconds - WARM_UP), "reserved": len(done), "failed": failed,
            "drained_seconds": max(finished, default=0.0),
            "oversold": sum(-units for units in stock.values() if units < 0),
            "p50_ms": 1000 * done[len(done) // 2] if done else math.nan,
            "p99_ms": 1000 * done[int(len(done) * 0.99)] if done else math.nan,
            "throttled_calls": throttled, "conflicted_transactions": conflicts,
            "containers": {f.removesuffix("Function"): c.started for f, c in containers.items()},
            "product_reads_per_second": sum(c.misses for c in containers.values()) / seconds}


def run() -> dict[str, Any]:
    pattern = measure()
    log(f"  flashsale: measured {pattern['orders']} warm orders and {pattern['expired_orders']} after the TTL; "
        f"{len(pattern['calls'])} kinds of shared call")
    rows, uncached = [], []
    for buckets in BUCKETS:
        rows.append(simulate(pattern, buckets))
        uncached.append(simulate(pattern, buckets, cache_seconds=0))
        log(f"  flashsale: {buckets} buckets → {rows[-1]['accepted_per_second']:.0f}/s "
            f"({uncached[-1]['accepted_per_second']:.0f}/s reading the product every order)")
    from orderflow_local.faults import Faults

    return {"pattern": pattern, "rows": rows, "uncached": uncached, "seconds": SECONDS, "seed": 1,
            "held_seconds": Faults.harsh().transaction_window,
            "stated": {"call_seconds": CALL_SECONDS, "transaction_seconds": TRANSACTION_SECONDS,
                       "task_overhead_seconds": TASK_OVERHEAD_SECONDS}}


# ---------------------------------------------------------------------- BENCHMARKS.md
NEXT_LIMITS = [
    ("DynamoDB, one key", "1,000 WCU and 3,000 RCU a second per partition key value, on-demand or not; an item in "
     "a transaction refuses other transactions meanwhile",
     "more buckets (`stock_buckets`, up to 256); for items every order reads, a per-container copy of a few "
     "seconds (the product's, as built), or DAX",
     "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html"),
    ("DynamoDB, one table", "40,000 read and 40,000 write request units a second per on-demand table by default; "
     "a new on-demand table starts warm for 4,000 writes and 12,000 reads a second",
     "a Service Quotas increase; pre-warming the tables (warm throughput) before the sale",
     "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html"),
    ("Lambda", "1,000 concurrent executions per account and Region by default; each function adds at most 1,000 "
     "execution environments every 10 seconds",
     "a Service Quotas increase; provisioned concurrency on the order functions before the sale",
     "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"),
    ("Step Functions Express", "StartExecution is throttled by a token bucket per account and Region (the page "
     "lists the bucket and refill rate per Region)", "a Service Quotas increase",
     "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"),
    ("API Gateway", "10,000 requests a second per account and Region across all APIs (burst 5,000; 2,500 in some "
     "Regions), and the client's status polls count too", "a Service Quotas increase; fewer polls per order",
     "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"),
]


def render(record: dict[str, Any] | None) -> str:
    out = ["## 12. Flash sale: one SKU against its bucket count (modelled)\n"]
    if record is None:
        return out[0] + "\nNot measured yet: `python -m benchmarks flashsale`.\n"
    d = record["data"]
    p = d["pattern"]
    out.append(f"`{record['command']}` on {record['date']}. The local stack serialises DynamoDB, so these figures "
               "come from a discrete-event model of DynamoDB's limits (`benchmarks/flashsale.py`, docs/scale.md) "
               "fed with the call pattern measured through the real handlers and ASL: one-unit orders of a SKU "
               f"with {p['buckets']} buckets after a warm-up order, {p['orders']} on containers that read the "
               f"product a moment ago and {p['expired_orders']} after waiting out the containers' "
               f"{p['cache_seconds']:g}-second copy of it (`PRODUCT_CACHE_SECONDS`). Orders arrive at "
               f"{d['rows'][0]['offered_per_second']:,.0f} a second for {d['seconds']:.0f} s; *accepted* counts "
               "reservations landed while the sale ran, past its first second.\n")
    out.append("Calls on keys every order of the sale shares (measured): per order on a warm container, and "
               "what a container whose copy has expired reads besides:\n")
    out.append("| task | call | key | per order | per expired copy | request units |\n"
               "| --- | --- | --- | --- | --- | --- |")
    for call in p["calls"]:
        out.append(f"| {call['function'].removesuffix('Function')} | {call['operation']} | {call['key']} | "
                   f"{call['calls']:.1f} | {call.get('per_miss', 0):.1f} | "
                   f"{call['units']:.1f} {'WRU' if call['write'] else 'RRU'} |")
    stated = d["stated"]
    out.append(f"\nStated, not measured: {1000 * stated['call_seconds']:.0f} ms a read or write, "
               f"{1000 * stated['transaction_seconds']:.0f} ms a transaction, "
               f"{1000 * stated['task_overhead_seconds']:.0f} ms of Lambda and Express overhead per task, and a "
               f"transaction holds its items {1000 * d['held_seconds']:.0f} ms (the local stack's harsh model); "
               "handler times are the medians measured. Each task runs in a Lambda container of its function: "
               "a free one or a new one, held for the task's calls and its handler's time, so the containers "
               "(concurrency) and their reads of expired copies follow from the arrivals.\n")
    out.append("| buckets | accepted / s | oversold | FAILED | p50 | p99 | throttled calls | conflicts | "
               "product reads / s | containers | accepted / s, product read by every order | p99 |\n| "
               + " | ".join(["---"] * 12) + " |")
    for row, before in zip(d["rows"], d["uncached"], strict=True):
        out.append(f"| {row['buckets']} | {row['accepted_per_second']:,.0f} | {row['oversold']} | {row['failed']:,} | "
                   f"{_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} | {row['throttled_calls']:,} | "
                   f"{row['conflicted_transactions']:,} | {row['product_reads_per_second']:,.0f} | "
                   f"{sum(row['containers'].values()):,} | {before['accepted_per_second']:,.0f} | "
                   f"{_ms(before['p99_ms'])} |")
    served = [r for r in d["rows"] if r["accepted_per_second"] >= 0.98 * r["offered_per_second"] and not r["failed"]]
    best = served[0] if served else max(d["rows"], key=lambda r: r["accepted_per_second"])
    before = max(d["uncached"], key=lambda r: r["accepted_per_second"])
    locations = next((c for c in p["calls"] if c["key"] == "locations"), None)
    out.append(f"\n{'The order path takes' if served else 'The order path falls short of'} the goal of "
               f"{best['offered_per_second']:,.0f} reservations a second from {best['buckets']} buckets on "
               f"({best['accepted_per_second']:,.0f}/s, {best['failed']} FAILED, p99 {_ms(best['p99_ms'])}). "
               "Submit and Validate each read the product from their container's copy, so the product's key "
               f"serves {best['product_reads_per_second']:,.0f} reads a second (each container's read after its "
               f"copy expired) instead of one per task; the right-hand columns replay the same pattern with every "
               f"order reading it (as before the copy), which tops out near {before['accepted_per_second']:,.0f}/s "
               "at DynamoDB's 3,000 read units a second per key. A price or `active` change reaches new orders "
               f"within {p['cache_seconds']:g} s (docs/scale.md, \"Hot reads\"). The containers column is the "
               f"Lambda concurrency the sale needs ({', '.join(f'{k} {v:,}' for k, v in best['containers'].items())}"
               "), with this machine's handler times"
               + (f"; the locations' Query ({locations['units']:.1f} read unit an order, one key) is the next "
                  f"hot read, at {3000 / locations['units']:,.0f} orders a second" if locations else "")
               + ". Oversold is 0 by construction (every take is a conditional decrement; the property test "
               "`tests/reliability/test_bucket_properties.py` checks the code).\n")
    out.append("What comes next, on paper (AWS's published defaults):\n")
    out.append("| limit | default | what raises it | source |\n| --- | --- | --- | --- |")
    out += [f"| {name} | {limit} | {fix} | {url} |" for name, limit, fix, url in NEXT_LIMITS]
    out.append("")
    return "\n".join(out)


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"
