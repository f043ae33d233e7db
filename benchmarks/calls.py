"""Figures 2 and 3 (and the handler durations figure 4 uses): one order at a time on the happy path, then
:data:`BURST` orders at once (figure 4's steady-traffic row: the stream and queue consumers take several records
an invocation). The streams are read as Lambda reads them, by a poller after the write, 4 times a second.

submit → the Express workflow validates, approves credit and reserves → ship → deliver. The driver
waits for the reserve step through the runtime's own bookkeeping (no polling over HTTP, which would add
reads that are not the order's), so every DynamoDB call counted between submit and delivery is the
order's own. An Express execution has no history to ask for: the task states it ran come from the local
runtime's journal (what its CloudWatch execution log shows on AWS).

Request units are modeled from the items each call touched, sized with moto's estimate of DynamoDB's item
size. A write is billed on the larger of its item before and after it (a delete on the item it removed), taken
from the images recorded around the call; a read on the item as stored after the run (an order item only grows
along its life, so that errs high). On-demand rules: a write is ceil(size / 1 KB) WRU, twice that inside a
transaction; a read ceil(size / 4 KB) RRU, half for eventually consistent reads, twice inside a transaction.
:func:`audit` lists one order's writes item by item (BENCHMARKS.md §2, "Every write of one order").

Index writes are modeled from each write's item images, taken just before and just after it (moto runs in
this process): per global secondary index, an entry that appears or goes is one write of its size, one
whose key changes two (delete and put), one whose projected attributes change one; each ceil(entry size /
1 KB) WRU, not doubled inside a transaction. An entry's size is its projected attributes (the table's and
the index's keys, plus the included attributes, or the whole item for ``ALL``).
"""

from __future__ import annotations

import math
import os
import statistics
from collections import Counter
from typing import Any

from .common import log, summary
from .cost import PLATFORM_LOG_BYTES
from .harness import (
    ORDER_MACHINE,
    Call,
    CountingStdout,
    Recorder,
    Shop,
    _ok,
    deliver,
    deliver_shipment,
    recording,
    ship,
    ship_shipment,
    submit,
)

ORDERS = 10
LINES = 2
LONG_LINES = 5  # issue 22: a bigger basket too
# The order's status changes on the happy path: created PENDING, then VALIDATED, CREDIT_APPROVED,
# RESERVED, SHIPPED, DELIVERED. Issue 7's target: at most one DynamoDB call per change, plus one.
STATE_CHANGES = 6
STREAM_FUNCTION = "PublishEventsFunction"
BURST = 20  # orders at once (issue 22): the stream and queue consumers' batches as steady traffic forms them
IDLE_SECONDS = 1.0  # and nothing was invoked for this long: the consumers are done
STREAM_READS_PER_SECOND = 4  # Lambda's poller per shard (AWS Lambda Developer Guide, "Polling and batching streams")
POLL_FUNCTION = "OrderIntakeFunction"  # serves GET /orders/{id}; stream consumers' late calls are not the poll's


def _item_sizes(calls: list[Call]) -> dict[tuple[str, str], int]:
    """Bytes of every item the calls touched, as stored now (0 if it is gone)."""
    from moto.dynamodb.models import dynamodb_backends

    from orderflow_local.template import ACCOUNT_ID, REGION

    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    sizes: dict[tuple[str, str], int] = {}
    for call in calls:
        for table, key in call.items:
            ident = (table, repr(sorted(key.items())))
            if ident in sizes:
                continue
            try:
                schema = backend.get_table(table)
                names = [a for a in (schema.hash_key_attr, schema.range_key_attr) if a]
                item = backend.get_item(table, {n: key[n] for n in names})
            except Exception:
                item = None
            sizes[ident] = item.size() if item is not None else 0
    return sizes


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from orderflow_local.template import ACCOUNT_ID, REGION

    return dynamodb_backends[ACCOUNT_ID][REGION]


def imager(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item ``key`` (or a whole item, for a Put) names in ``table``, as stored now (DynamoDB JSON)."""
    backend = _backend()
    try:
        schema = backend.get_table(table)
        names = [a for a in (schema.hash_key_attr, schema.range_key_attr) if a]
        item = backend.get_item(table, {n: key[n] for n in names})
    except Exception:
        return None
    return item.to_json()["Attributes"] if item is not None else None


def _entry_bytes(entry: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in entry.items())


def index_units(call: Call) -> dict[str, float]:
    """WRU of the index writes ``call`` caused, per ``table/index`` (see the module's docstring)."""
    units: Counter[str] = Counter()
    for (table, _), (before, after) in zip(call.items, call.images, strict=False):
        units.update(item_index_units(table, before, after))
    return dict(units)


def item_index_units(table: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> Counter[str]:
    """WRU of the index writes one item's write caused, from its images before and after, per ``table/index``."""
    units: Counter[str] = Counter()
    if before == after:
        return units
    schema = _backend().get_table(table)
    table_keys = {a for a in (schema.hash_key_attr, schema.range_key_attr) if a}
    for index in schema.global_indexes:
        keys = [k["AttributeName"] for k in index.schema]
        kind = index.projection.get("ProjectionType", "ALL")
        included = set(index.projection.get("NonKeyAttributes", [])) if kind == "INCLUDE" else set()

        def entry(image: dict[str, Any] | None, keys: list[str] = keys, kind: str = kind,
                  included: set[str] = included) -> dict[str, Any] | None:
            if image is None or any(k not in image for k in keys):
                return None
            names = set(image) if kind == "ALL" else table_keys | set(keys) | included
            return {n: image[n] for n in names if n in image}

        old, new = entry(before), entry(after)
        if old == new:
            continue
        name = f"{table.rsplit('-', 1)[-1]}/{index.name}"
        if old is not None and (new is None or any(old[k] != new[k] for k in keys)):
            units[name] += math.ceil(max(1, _entry_bytes(old)) / 1024)
        if new is not None:
            units[name] += math.ceil(max(1, _entry_bytes(new)) / 1024)
    return units


def written_bytes(call: Call, sizes: dict[tuple[str, str], int]) -> list[int]:
    """The bytes each item of a write is billed on: the larger of the item before and after it (a delete the item
    it removed, a condition check the item it read), from the images taken around the call; without images, the
    item as stored at the end."""
    if call.images and len(call.images) == len(call.items):
        return [max(_entry_bytes(before or {}), _entry_bytes(after or {}), 1) for before, after in call.images]
    return [max(1, sizes.get((table, repr(sorted(key.items()))), 1)) for table, key in call.items]


def request_units(call: Call, sizes: dict[tuple[str, str], int]) -> tuple[float, float]:
    """(WRU, RRU) of one call under DynamoDB on-demand rules."""
    wru = rru = 0.0
    if call.operation in _writes():
        for size in written_bytes(call, sizes) if call.items else [1]:
            units = math.ceil(size / 1024)
            wru += 2 * units if call.operation == "TransactWriteItems" else units
        return wru, rru
    for table, key in call.items or [("?", {})]:
        units = math.ceil(max(1, sizes.get((table, repr(sorted(key.items()))), 1)) / 4096)
        if call.operation == "TransactGetItems":
            rru += 2 * units
        else:
            rru += units if table in call.consistent else units / 2
    return wru, rru


def audit(calls: list[Call], sizes: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """Every item one order's writes wrote, in order: the function, the operation, the table, the item (its key,
    the order's own ids shortened), the bytes it is billed on, its WRU and the index WRU it caused."""
    rows = []
    for call in calls:
        if call.operation not in _writes():
            continue
        images = call.images if len(call.images) == len(call.items) else [(None, None)] * len(call.items)
        for (table, key), size, (before, after) in zip(call.items, written_bytes(call, sizes), images, strict=True):
            units = math.ceil(size / 1024) * (2 if call.operation == "TransactWriteItems" else 1)
            rows.append({"function": call.function, "operation": call.operation, "table": table.rsplit("-", 1)[-1],
                         "item": _key_text(table, key), "bytes": size, "wru": units,
                         "index_wru": dict(item_index_units(table, before, after)) if call.images else {}})
    return rows


def _key_text(table: str, key: dict[str, Any]) -> str:
    """An item's key as text, with each long id cut to its first 8 characters (one order's audit, not its ids)."""
    try:
        schema = _backend().get_table(table)
        names = [a for a in (schema.hash_key_attr, schema.range_key_attr) if a]
    except Exception:
        names = sorted(key)
    parts = []
    for name in names:
        ((_, value),) = key[name].items() if isinstance(key.get(name), dict) else (("S", key.get(name)),)
        text = str(value)
        parts.append(f"{name}={text if len(text) <= 24 else text[:20] + '…'}")
    return ", ".join(parts)


def _writes() -> set[str]:
    return {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def one_order(stack: Any, shop: Shop, recorder: Recorder, split: bool = False, long: bool = False) -> dict[str, Any]:
    """Run one order down the happy path; what it cost, from the recorder and the runtime's journal.
    ``split``: the order's lines are at two locations; each of its two shipments is shipped and delivered
    with the shipment routes, as the locations' WMSs would (their ids come from ShipmentReleased).
    ``long``: an order of :data:`LONG_LINES` lines from one location. Then one status poll (a client's
    ``GET /orders/{id}``), recorded apart: ``poll``."""
    from orderflow.orders.domain import shipment_id_for

    reserved = recorder.completed["ReserveStockFunction"]
    recorder.reset()
    skus = (shop.skus[2 * LINES:2 * LINES + LONG_LINES] if long else
            shop.skus[LINES:2 * LINES] if split else shop.skus[:LINES])
    lines = {sku: 1 + i for i, sku in enumerate(skus)}
    order = submit(shop.http, shop.customers[0], lines)
    order_id = order["order_id"]
    recorder.wait_completed("ReserveStockFunction", reserved + 1)
    if split:
        shipments = [shipment_id_for(order_id, n) for n in (1, 2)]
        for shipment in shipments:
            ship_shipment(shop.http, shipment)
        for shipment in shipments:
            deliver_shipment(shop.http, shipment)
    else:
        delivered = ship(shop.http, order_id) and deliver(shop.http, order_id)
    recorder.wait_settled(stack, IDLE_SECONDS)  # the stream and queue consumers have taken the order's records
    with recorder.lock:
        calls = list(recorder.calls)
        durations = {k: list(v) for k, v in recorder.durations.items()}
        invocations = dict(recorder.invocations)
        events = dict(recorder.events)
        event_bytes = recorder.event_bytes
    if split:  # read after the order's calls were taken: not one of them
        delivered = _ok(shop.http.get(f"/orders/{order_id}"))
        if len(delivered.get("shipments") or []) != 2:
            raise RuntimeError(f"order {order_id} was not split in two: {delivered.get('shipments')}")
    if delivered["status"] != "DELIVERED":
        raise RuntimeError(f"order {order_id}: {delivered['status']}")
    tasks = [state for state, _ in stack.task_runs(ORDER_MACHINE, order_id=order_id)]
    recorder.reset()
    _ok(shop.http.get(f"/orders/{order_id}"))
    with recorder.lock:
        poll = {"calls": list(recorder.calls), "durations": {k: list(v) for k, v in recorder.durations.items()},
                "invocations": dict(recorder.invocations)}
    return {"order_id": order_id, "calls": calls, "durations": durations, "invocations": invocations,
            "events": events, "event_bytes": event_bytes, "tasks": tasks, "poll": poll}


def burst(stack: Any, shop: Shop, recorder: Recorder, stdout: CountingStdout, orders: int = BURST) -> dict[str, Any]:
    """``orders`` orders of the same 2 lines at once, as steady traffic brings them: submitted together (a thread
    each), then shipped together and delivered together, and the stream and queue consumers left to finish
    (``Recorder.wait_settled``). Their records reach them as the local stack's pollers gather them (up to
    ``BatchSize``, for the mapping's batching window), several to an invocation. What the burst used in all,
    recorded like :func:`one_order`'s."""
    from concurrent.futures import ThreadPoolExecutor

    recorder.wait_settled(stack, IDLE_SECONDS)
    reserved = recorder.completed["ReserveStockFunction"]
    recorder.reset()
    written = stdout.bytes
    lines = {sku: 1 + i for i, sku in enumerate(shop.skus[:LINES])}
    with ThreadPoolExecutor(orders) as pool:
        ids = [o["order_id"] for o in pool.map(lambda _: submit(shop.http, shop.customers[0], lines), range(orders))]
        recorder.wait_completed("ReserveStockFunction", reserved + orders, timeout=300)
        list(pool.map(lambda order_id: ship(shop.http, order_id), ids))
        delivered = list(pool.map(lambda order_id: deliver(shop.http, order_id), ids))
    recorder.wait_settled(stack, IDLE_SECONDS)
    if any(o["status"] != "DELIVERED" for o in delivered):
        raise RuntimeError(f"burst: {Counter(o['status'] for o in delivered)}")
    with recorder.lock:
        return {"calls": list(recorder.calls), "durations": {k: list(v) for k, v in recorder.durations.items()},
                "invocations": dict(recorder.invocations), "records": {k: list(v) for k, v in recorder.records.items()},
                "events": sum(recorder.events.values()), "event_bytes": recorder.event_bytes,
                "log_bytes": stdout.bytes - written, "orders": orders}


def analyse_burst(run: dict[str, Any], sizes: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Per order, what the burst used (its totals over its orders), and the records per consumer invocation."""
    n = run["orders"]
    wru_by: Counter[str] = Counter()
    by_function: dict[str, Counter[str]] = {}
    wru = rru = 0.0
    for call in run["calls"]:
        w, r = request_units(call, sizes)
        wru, rru = wru + w, rru + r
        wru_by[call.function] += w
        by_function.setdefault(call.function, Counter())[call.operation] += 1
    return {
        "orders": n,
        "calls": len(run["calls"]) / n,
        "by_function": {fn: {op: k / n for op, k in ops.items()} for fn, ops in sorted(by_function.items())},
        "wru": wru / n, "rru": rru / n, "index_wru": sum(run["index_wru"].values()) / n,
        "wru_by_function": {fn: w / n for fn, w in sorted(wru_by.items())},
        "invocations": {fn: k / n for fn, k in sorted(run["invocations"].items())},
        "records_per_invocation": {fn: summary(v) for fn, v in sorted(run["records"].items())},
        "eventbridge_events": run["events"] / n, "event_bytes": run["event_bytes"] / n,
        "log_bytes_per_order": run["log_bytes"] / n,
        "durations_ms": {fn: summary(v) for fn, v in sorted(run["durations"].items())},
    }


def analyse(orders: list[dict[str, Any]], sizes: dict[tuple[str, str], int], streamed: set[str],
            http_requests: int = 3) -> dict[str, Any]:
    """Per-order figures from the recorded orders; ``streamed`` are the tables with a stream."""
    per_order = []
    for o in orders:
        calls: list[Call] = o["calls"]
        units = [request_units(c, sizes) for c in calls]
        index_wru: Counter[str] = o["index_wru"]
        by_function: dict[str, Counter[str]] = {}
        wru_by: Counter[str] = Counter()
        rru_by: Counter[str] = Counter()
        stream_writes: Counter[str] = Counter()
        stream_records: Counter[str] = Counter()  # per streamed table (logical id): its records, one per item write
        for c, (w, r) in zip(calls, units, strict=True):
            by_function.setdefault(c.function, Counter())[c.operation] += 1
            wru_by[c.function] += w
            rru_by[c.function] += r
            if c.operation in _writes():
                stream_writes[c.function] += sum(table in streamed for table, _ in c.items)
                stream_records.update(table.rsplit("-", 1)[-1] for table, _ in c.items if table in streamed)
        per_order.append({
            "total": len(calls),
            "by_operation": dict(Counter(c.operation for c in calls)),
            "gets_by_table": dict(Counter(c.items[0][0] for c in calls if c.operation == "GetItem" and c.items)),
            "by_function": {f: dict(ops) for f, ops in by_function.items()},
            "scans": sum(c.operation == "Scan" for c in calls),
            "reservation_transactions": sum(c.operation == "TransactWriteItems" and c.function == "ReserveStockFunction"
                                            for c in calls),
            "reservation_items": sum(len(c.items) for c in calls
                                     if c.operation == "TransactWriteItems" and c.function == "ReserveStockFunction"),
            "wru_by_function": dict(wru_by),
            "rru_by_function": dict(rru_by),
            "stream_writes_by_function": dict(stream_writes),
            "stream_records": dict(stream_records),
            "wru": sum(u[0] for u in units),
            "index_wru": sum(index_wru.values()),
            "index_wru_by_index": dict(index_wru),
            "rru": sum(u[1] for u in units),
            "entered": o["tasks"],
            "invocations": o["invocations"],
            "events": sum(o["events"].values()),
            "event_bytes": o["event_bytes"],
        })
    first = per_order[0]
    identical = all(p["by_operation"] == first["by_operation"] and p["entered"] == first["entered"]
                    for p in per_order)
    durations: dict[str, list[float]] = {}
    for o in orders:
        for fn, values in o["durations"].items():
            durations.setdefault(fn, []).extend(values)
    mine = {(table, repr(sorted(key.items()))) for o in orders for c in o["calls"] for table, key in c.items
            if "OrdersTable" in table}
    order_sizes = sorted(sizes[k] for k in mine if k in sizes)
    return {
        "orders": len(orders),
        "lines_per_order": LINES,
        "identical": identical,
        "state_changes": STATE_CHANGES,
        "target_calls": STATE_CHANGES + 1,
        "calls": summary([p["total"] for p in per_order]),
        "by_operation": first["by_operation"],
        "by_function": first["by_function"],
        "gets_by_table": first["gets_by_table"],
        "scans": max(p["scans"] for p in per_order),
        "reservation_transactions": summary([p["reservation_transactions"] for p in per_order]),
        "reservation_items": first["reservation_items"],
        "wru": summary([p["wru"] for p in per_order]),
        "index_wru": summary([p["index_wru"] for p in per_order]),
        "index_wru_by_index": first["index_wru_by_index"],
        "poll": _poll(orders, sizes),
        "wru_by_function": first["wru_by_function"],
        "rru_by_function": first["rru_by_function"],
        "writes_by_function": first["stream_writes_by_function"],
        "stream_records": first["stream_records"],
        "rru": summary([p["rru"] for p in per_order]),
        "order_item_bytes": order_sizes[len(order_sizes) // 2] if order_sizes else None,
        "tasks_run": summary([len(p["entered"]) for p in per_order]),
        "tasks": first["entered"],
        "express_executions": 1,
        "invocations": {fn: statistics.median(p["invocations"].get(fn, 0) for p in per_order)
                        for fn in sorted({f for p in per_order for f in p["invocations"]})},
        "eventbridge_events": summary([p["events"] for p in per_order]),
        "event_bytes": statistics.median(p["event_bytes"] for p in per_order),
        "durations_ms": {fn: summary(values) for fn, values in sorted(durations.items())},
        "http_requests": http_requests,  # POST /orders, then ship and deliver each shipment
    }


def _poll(orders: list[dict[str, Any]], sizes: dict[tuple[str, str], int]) -> dict[str, Any]:
    """What one status poll (``GET /orders/{id}``) uses: calls, RRU, invocations, handler time."""
    polls = [{**o["poll"], "calls": [c for c in o["poll"]["calls"] if c.function == POLL_FUNCTION]} for o in orders]
    units = [sum(request_units(c, sizes)[1] for c in p["calls"]) for p in polls]
    durations = [v for p in polls for v in p["durations"].get(POLL_FUNCTION, [])]
    invocations: Counter[str] = Counter()
    for p in polls:
        invocations[POLL_FUNCTION] += p["invocations"].get(POLL_FUNCTION, 0)
    return {"calls": summary([len(p["calls"]) for p in polls]), "rru": summary(units),
            "by_operation": dict(Counter(c.operation for c in polls[0]["calls"])),
            "invocations": {fn: n / len(polls) for fn, n in invocations.items()},
            "durations_ms": summary(durations)}


def run(orders: int = ORDERS) -> dict[str, Any]:
    from orderflow_local.faults import Faults
    from orderflow_local.stack import LocalStack

    # Logs at INFO and metrics on, as deployed, so the log volume is what Lambda would write. The streams are
    # read as Lambda reads them, by a poller after the write, 4 times a second, in batches of what is there
    # (moto's own delivery runs the consumer inside each write, one record at a time whatever the traffic).
    stack = LocalStack(log_level="INFO", keep_metrics=True,
                       faults=Faults(stream_poller=True, stream_poll_seconds=1 / STREAM_READS_PER_SECOND))
    stdout = CountingStdout.install()
    try:
        with recording() as recorder:
            stack.start()
            try:
                recorder.wrap(stack.runtime)
                recorder.imager = imager
                shop = Shop.create(stack.api_url, products=2 * LINES + LONG_LINES, customers=1)
                one_order(stack, shop, recorder)  # warm-up: imports every handler (their cold starts)

                def run_orders(label: str, **kind: bool) -> tuple[list[dict], float]:
                    """``orders`` orders of one kind, and the bytes the functions logged per order."""
                    written, found = stdout.bytes, []
                    for i in range(orders):
                        log(f"  calls: {label}order {i + 1}/{orders}")
                        found.append(one_order(stack, shop, recorder, **kind))
                    return found, (stdout.bytes - written) / orders

                measured, logged = run_orders("")
                log(f"  calls: {BURST} orders at once")
                bursting = burst(stack, shop, recorder, stdout)
                long, long_logged = run_orders(f"{LONG_LINES}-line ", long=True)
                # Then two locations, each holding half of the split SKUs: every order splits in two.
                split_network(shop)
                one_order(stack, shop, recorder, split=True)  # warm-up: the shipment routes' first requests
                split, split_logged = run_orders("split ", split=True)
                sizes = _item_sizes([c for o in measured + long + split + [bursting]
                                     for c in o["calls"] + o.get("poll", {}).get("calls", [])])
                metrics = stdout.metrics
                for o in measured + long + split + [bursting]:  # while the tables are there to say what they index
                    o["index_wru"] = sum((Counter(index_units(c)) for c in o["calls"]), Counter())
                audits = {kind: audit(orders_[0]["calls"], sizes)
                          for kind, orders_ in (("", measured), ("long", long), ("split", split))}
                streamed = {t.name for t in stack.resources.tables if t.properties.get("StreamSpecification")}
            finally:
                stack.stop()
    finally:
        stdout.uninstall()
    result = analyse(measured, sizes, streamed)
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]  # the handler times inflate with it
    result["log_bytes_per_order"] = logged
    result["split"] = {**analyse(split, sizes, streamed, http_requests=5), "log_bytes_per_order": split_logged}
    result["long"] = {**analyse(long, sizes, streamed), "lines_per_order": LONG_LINES,
                      "log_bytes_per_order": long_logged}
    result["burst"] = analyse_burst(bursting, sizes)
    result["custom_metrics"] = sorted(metrics)
    result["audit"], result["long"]["audit"], result["split"]["audit"] = audits[""], audits["long"], audits["split"]
    for row in audits[""]:
        log(f"    {row['function']:<22} {row['operation']:<18} {row['table']:<18} {row['item']:<60} "
            f"{row['bytes']:>5} B {row['wru']:>2} WRU  index {row['index_wru'] or '-'}")
    for part in (result, result["split"], result["long"]):
        part["deployed"] = deployed()
    return result


# What API Gateway puts in an access log line's $context variables, typically (the format is the template's).
ACCESS_LOG_SAMPLE = {"requestId": "Jx1vGh2dIAMEVxQ=", "requestTime": "06/Dec/2026:14:49:53 +0000",
                     "routeKey": "POST /orders/{order_id}/ship", "status": "200", "responseLatency": "48",
                     "integrationErrorMessage": "-", "authorizer.error": "-"}


def deployed() -> dict[str, Any]:
    """From template.yaml: the API access log line's bytes, per function the bytes of Lambda's platform log lines
    per invocation and whether it is traced (``Tracing: Active``, with Globals), and what is billed by the month
    whatever the volume: the alarms (counted per metric they watch) and dashboards."""
    import re
    from pathlib import Path

    from orderflow_local.template import read_template

    doc = read_template(Path(__file__).resolve().parent.parent / "template.yaml")
    resources = doc["Resources"]
    globals_ = (doc.get("Globals") or {}).get("Function") or {}
    line = ""
    alarm_metrics = dashboards = 0
    platform_logs: dict[str, int] = {}
    traced: list[str] = []
    for name, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            logging = {**(globals_.get("LoggingConfig") or {}), **(props.get("LoggingConfig") or {})}
            quiet = logging.get("SystemLogLevel") in ("WARN", "ERROR")  # Lambda drops its INFO platform lines
            platform_logs[name] = 0 if quiet else PLATFORM_LOG_BYTES
            if props.get("Tracing", globals_.get("Tracing")) == "Active":
                traced.append(name)
        elif resource["Type"] == "AWS::Serverless::HttpApi" and "AccessLogSettings" in props:
            line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: ACCESS_LOG_SAMPLE.get(m.group(1), "-"),
                          props["AccessLogSettings"]["Format"])
        elif resource["Type"] == "AWS::CloudWatch::Alarm":
            alarm_metrics += sum("MetricStat" in m for m in props.get("Metrics") or []) or 1
        elif resource["Type"] == "AWS::CloudWatch::Dashboard":
            dashboards += 1
    return {"access_log_line_bytes": len(line.encode()) + 1, "alarm_metrics": alarm_metrics,
            "dashboards": dashboards, "platform_log_bytes": platform_logs, "traced": sorted(traced)}


SPLIT_LOCATIONS = ("bench-north", "bench-south")


def split_network(shop: Shop) -> None:
    """Two warehouses, first choices before main; the second ``LINES`` SKUs of the shop alternate between
    them, so an order of those SKUs has no single location that can fill it."""
    address = {"name": "Bench DC", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}
    for priority, location in enumerate(SPLIT_LOCATIONS, start=1):
        _ok(shop.http.put(f"/locations/{location}", json={"name": location, "address": address, "priority": priority}))
    for i, sku in enumerate(shop.skus[LINES:2 * LINES]):
        on_hand = _ok(shop.http.get(f"/stock/{sku}"))["on_hand"]
        _ok(shop.http.post(f"/stock/{sku}/adjustments", json={"quantity": -on_hand, "reason": "moved"}))
        _ok(shop.http.post(f"/stock/{sku}/adjustments", json={
            "quantity": on_hand, "reason": "benchmark stock", "location_id": SPLIT_LOCATIONS[i % 2]}))
