"""Driving orders through the offline stack, and watching what they cost while they run.

:class:`Recorder` counts every DynamoDB and EventBridge call of every botocore client in this process
and times every handler invocation of the in-process Lambda runtime, attributing each call to the
function that was running when it was made.

Why the hooks go on ``botocore.session.Session.create_client``: a client copies its session's event
emitter when it is created, and Powertools' idempotency layer builds its DynamoDB client from a
session of its own, so a hook on boto3's default session would miss it. Wrapping ``create_client``
registers ``before-call.dynamodb`` (every operation) and ``before-call.events.PutEvents`` on every
client created afterwards, whatever its session; clients that already exist (``orderflow.platform.aws``'s
cache) get the same hooks at install time.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import local_token

ORDER_MACHINE = "OrderProcessingStateMachine"
OUTSIDE = "(outside Lambda)"
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Call:
    """One DynamoDB request, with the items it touched (table, key) for sizing it afterwards."""

    function: str
    operation: str
    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    consistent: frozenset[str] = frozenset()  # the tables it read strongly consistent
    # For a write, with ``Recorder.imager`` set: each item's (before, after) image, for its index writes.
    images: list[tuple[Any, Any]] = field(default_factory=list)


def _body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body") or b"{}"
    return json.loads(body.decode() if isinstance(body, bytes) else body)


def _items_of(operation: str, request: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], frozenset[str]]:
    """The (table, key-or-item) pairs a request touches, and the tables it reads strongly consistent (a
    BatchGetItem sets that per table)."""
    def read(table: str, spec: dict[str, Any]) -> frozenset[str]:
        return frozenset({table}) if spec.get("ConsistentRead") else frozenset()

    if operation in ("GetItem", "UpdateItem", "DeleteItem"):
        return [(request["TableName"], request["Key"])], read(request["TableName"], request)
    if operation == "PutItem":
        return [(request["TableName"], request["Item"])], frozenset()
    if operation == "BatchGetItem":
        pairs = [(t, k) for t, spec in request["RequestItems"].items() for k in spec["Keys"]]
        return pairs, frozenset().union(*(read(t, spec) for t, spec in request["RequestItems"].items()))
    if operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for entry in request["TransactItems"]:
            ((_, op),) = entry.items()
            pairs.append((op["TableName"], op.get("Key") or op.get("Item") or {}))
        return pairs, frozenset(t for t, _ in pairs)
    return [(request.get("TableName", "?"), {})], read(request.get("TableName", "?"), request)


class Recorder:
    """DynamoDB/EventBridge calls per function and handler durations, while installed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.events: Counter[str] = Counter()  # PutEvents entries per function
        self.event_bytes = 0
        self.durations: dict[str, list[float]] = defaultdict(list)  # ms
        self.invocations: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()
        self.records: dict[str, list[int]] = defaultdict(list)  # per invocation of a consumer: its event's records
        self.done = threading.Condition(self.lock)
        self._local = threading.local()
        self._undo: list[Any] = []
        # (table, key or item) -> the item as stored now, or None; set to record writes' before/after images.
        self.imager: Any = None

    # ------------------------------------------------------------------ hooks
    def current(self) -> str:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else OUTSIDE

    def _on_dynamodb(self, model: Any = None, params: Any = None, **_: Any) -> None:
        try:
            items, consistent = _items_of(model.name, _body(params or {}))
        except (KeyError, ValueError, TypeError):
            items, consistent = [], frozenset()
        call = Call(self.current(), model.name, items, consistent)
        if self.imager is not None and model.name in _WRITE_OPS | {"TransactWriteItems"}:
            # A stack: another call can begin and end in this thread before this one's answer (ship's transaction
            # lost its images so, and its index writes went uncounted), and each answer ends the latest call.
            self._local.__dict__.setdefault("pending", []).append(
                (call, [self.imager(table, key) for table, key in items]))
        with self.lock:
            self.calls.append(call)

    def _after_dynamodb(self, **_: Any) -> None:
        pending = getattr(self._local, "pending", None)
        if not pending:
            return
        call, before = pending.pop()
        call.images = [(old, self.imager(table, key)) for old, (table, key) in zip(before, call.items, strict=True)]

    def _on_put_events(self, params: Any = None, **_: Any) -> None:
        entries = _body(params or {}).get("Entries", [])
        with self.lock:
            self.events[self.current()] += len(entries)
            # What an event weighs when it is logged: its detail plus the envelope (~300 bytes).
            self.event_bytes += sum(len(e.get("Detail", "")) + 300 for e in entries)

    def hook(self, client: Any) -> Any:
        client.meta.events.register("before-call.dynamodb", self._on_dynamodb, unique_id="orderflow-bench-ddb")
        client.meta.events.register("after-call.dynamodb", self._after_dynamodb, unique_id="orderflow-bench-ddb-after")
        client.meta.events.register("before-call.events.PutEvents", self._on_put_events,
                                    unique_id="orderflow-bench-events")
        return client

    def install(self, runtime: Any = None) -> None:
        import botocore.session

        recorder = self
        original = botocore.session.Session.create_client

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            return recorder.hook(original(session, *args, **kwargs))

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(botocore.session.Session, "create_client", original))
        try:
            from orderflow.platform import aws

            for client in list(aws._clients.values()):
                self.hook(client)
        except ImportError:
            pass
        if runtime is not None:
            self.wrap(runtime)

    def wrap(self, runtime: Any) -> None:
        """Time every invocation of the in-process Lambda runtime and know which function runs."""
        original = runtime._run
        recorder = self

        def timed(fn: Any, event: Any) -> Any:
            stack = recorder._local.__dict__.setdefault("stack", [])
            stack.append(fn.logical_id)
            started = time.perf_counter()
            try:
                return original(fn, event)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                stack.pop()
                with recorder.done:
                    recorder.durations[fn.logical_id].append(elapsed)
                    recorder.invocations[fn.logical_id] += 1
                    recorder.completed[fn.logical_id] += 1
                    if isinstance(event, dict) and isinstance(event.get("Records"), list):
                        recorder.records[fn.logical_id].append(len(event["Records"]))
                    recorder.done.notify_all()

        runtime._run = timed
        self._undo.append(lambda: runtime.__dict__.pop("_run", None))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # ------------------------------------------------------------------ reading
    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.events.clear()
            self.event_bytes = 0
            self.durations.clear()
            self.invocations.clear()
            self.records.clear()

    def wait_idle(self, quiet_seconds: float, timeout: float = 120.0) -> None:
        """Block until no invocation has finished for ``quiet_seconds`` (the stream and queue consumers are done)."""
        deadline = time.monotonic() + timeout
        with self.done:
            while time.monotonic() < deadline:
                before = sum(self.completed.values())
                self.done.wait_for(lambda before=before: sum(self.completed.values()) != before, quiet_seconds)
                if sum(self.completed.values()) == before:
                    return
        raise TimeoutError(f"still invoking after {timeout} s")

    def wait_settled(self, stack: Any, quiet_seconds: float, timeout: float = 300.0) -> None:
        """Block until no stream record and no message of a queue a function consumes waits for it (a batch
        being gathered for its window included), and no invocation has finished for ``quiet_seconds``."""
        sqs, lambda_ = stack.boto3_client("sqs"), stack.boto3_client("lambda")
        queues = [sqs.get_queue_url(QueueName=m["EventSourceArn"].rsplit(":", 1)[1])["QueueUrl"]
                  for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
                  if m["EventSourceArn"].split(":")[2] == "sqs"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wait_idle(quiet_seconds, timeout)
            pollers = stack.stream_pollers
            waiting = (pollers.waiting() if pollers is not None else 0) + sum(
                int(value) for url in queues
                for value in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())
            if not waiting:
                return
            time.sleep(0.25)
        raise TimeoutError(f"the consumers still had work after {timeout} s")

    def wait_completed(self, logical_id: str, count: int, timeout: float = 30.0) -> None:
        """Block until ``logical_id`` has finished ``count`` invocations in total."""
        with self.done:
            if not self.done.wait_for(lambda: self.completed[logical_id] >= count, timeout):
                raise TimeoutError(f"{logical_id} finished {self.completed[logical_id]} of {count} invocations")


# ---------------------------------------------------------------------- stdout of the functions
class CountingStdout:
    """Counts what is written to stdout (and drops it) while installed.

    Powertools' Logger and Metrics write JSON lines to ``sys.stdout``, bound when a handler module is
    imported (during the warm-up order), so installing this first counts what the functions log.
    """

    def __init__(self, real: Any) -> None:
        self.real, self.bytes = real, 0
        self.metrics: set[str] = set()  # the custom metrics seen in EMF lines: "namespace/dimensions/name"

    @classmethod
    def install(cls) -> CountingStdout:
        counting = cls(sys.stdout)
        sys.stdout = counting
        return counting

    def uninstall(self) -> None:
        if sys.stdout is self:
            sys.stdout = self.real

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        if '"_aws"' in text:
            self._metrics(text)
        return len(text)

    def _metrics(self, text: str) -> None:
        for line in text.splitlines():
            try:
                record = json.loads(line)
                for directive in record["_aws"]["CloudWatchMetrics"]:
                    for dimensions in directive["Dimensions"]:
                        values = ",".join(f"{d}={record.get(d)}" for d in dimensions)
                        self.metrics.update(f"{directive['Namespace']}/{values}/{m['Name']}"
                                            for m in directive["Metrics"])
            except (ValueError, KeyError, TypeError):
                continue

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Drop what the in-process functions print (Powertools' JSON logs and EMF metrics) while inside."""
    sink = CountingStdout.install()
    try:
        yield
    finally:
        sink.uninstall()


@contextmanager
def recording(runtime: Any = None) -> Iterator[Recorder]:
    recorder = Recorder()
    recorder.install(runtime)
    try:
        yield recorder
    finally:
        recorder.uninstall()


# ---------------------------------------------------------------------- the catalogue and the orders
@dataclass
class Shop:
    """Products with plenty of stock and customers with plenty of credit, made over HTTP."""

    http: httpx.Client
    skus: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, api_url: str, products: int, customers: int, stock: int = 1_000_000) -> Shop:
        http = httpx.Client(base_url=api_url, timeout=60,
                            headers={"Authorization": f"Bearer {local_token(api_url, 'admin')}"})
        shop = cls(http)
        prefix = uuid.uuid4().hex[:6]
        for i in range(products):
            sku = f"BENCH-{prefix}-{i:03d}"
            _ok(http.put(f"/products/{sku}", json={"name": f"Bench item {i}", "unit_price": 9.5 + i}))
            _ok(http.post(f"/stock/{sku}/adjustments", json={"quantity": stock, "reason": "benchmark stock"}))
            shop.skus.append(sku)
        for i in range(customers):
            customer = f"bench-{prefix}-{i:03d}"
            _ok(http.put(f"/customers/{customer}", json={"name": f"Bench {i}", "credit_limit": 1e9}))
            shop.customers.append(customer)
        return shop


def _ok(response: httpx.Response) -> dict[str, Any]:
    if not response.is_success:
        raise RuntimeError(f"{response.request.method} {response.request.url} -> {response.status_code}: "
                           f"{response.text[:500]}")
    return response.json()


def submit(http: httpx.Client, customer: str, lines: dict[str, int]) -> dict[str, Any]:
    body = {"customer_id": customer, "shipping_address": SAMPLE_ADDRESS,
            "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    return _ok(http.post("/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}))


def ship(http: httpx.Client, order_id: str) -> dict[str, Any]:
    return _ok(http.post(f"/orders/{order_id}/ship", json={"carrier": "BENCH", "tracking": order_id[-8:]}))


def deliver(http: httpx.Client, order_id: str) -> dict[str, Any]:
    return _ok(http.post(f"/orders/{order_id}/deliver"))


def ship_shipment(http: httpx.Client, shipment_id: str) -> dict[str, Any]:
    return _ok(http.post(f"/shipments/{shipment_id}/ship", json={"carrier": "BENCH", "tracking": shipment_id[-8:]}))


def deliver_shipment(http: httpx.Client, shipment_id: str) -> dict[str, Any]:
    return _ok(http.post(f"/shipments/{shipment_id}/deliver"))
