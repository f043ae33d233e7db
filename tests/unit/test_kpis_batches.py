"""The KPI consumer counts per batch: the events of one delivery that only add to counters (``OrderShipped``)
are written together, one ADD per day and dimension, each with its mark. Whatever the batches, their
duplicates and their failed records (retried until written), the KPIs are those of every event counted once,
one at a time; and the handler reports exactly the records whose write failed."""

from __future__ import annotations

import importlib.util
import itertools
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kpis import EVENTS, kpi_service, order

from orderflow.kpis.adapters.table import KpisTable
from orderflow.kpis.service import KpiService
from orderflow.platform import aws
from orderflow.shared.errors import TransientError

pytestmark = pytest.mark.usefixtures("moto_aws")
REPO = Path(__file__).resolve().parents[2]
NOW = "2030-01-03T09:00:00.000Z"
SHIPPED = [  # more orders shipped on the same days, so batches share day aggregates
    event for n in range(6) for event in (
        order("OrderCreated", f"s{n}", f"2030-01-0{1 + n % 2}T08:00:00.000Z", {"A": 1, "B": n + 1}, 0,
              created_at=f"2030-01-0{1 + n % 2}T08:00:00.000Z"),
        order("OrderShipped", f"s{n}", f"2030-01-0{1 + n % 3}T18:00:00.000Z", {"A": 1, "B": n + 1}, 4))]
ALL_EVENTS = EVENTS + SHIPPED
_tables = itertools.count()


def fresh_service(name: str | None = None) -> KpiService:
    return kpi_service(name or f"kpis-{next(_tables)}")


def report(service: KpiService) -> tuple[dict, dict]:
    return (service.kpis(date(2030, 1, 1), date(2030, 1, 4)),
            service.aggregates.days("2030-01-01", "2030-01-04"))


_reference: list[tuple[dict, dict]] = []


def one_at_a_time() -> tuple[dict, dict]:
    """The KPIs of every event of ``ALL_EVENTS`` recorded once, one at a time, in order."""
    if not _reference:
        service = fresh_service()
        for kind, detail in ALL_EVENTS:
            service.record(kind, detail)
        _reference.append(report(service))
    return _reference[0]


class Flaky:
    """Fails the counter transactions whose number is in ``failing`` (a throttle, a timeout)."""

    def __init__(self, table: KpisTable, failing: set[int]) -> None:
        self.original, self.failing, self.calls = table._counters_once, failing, 0
        table._counters_once = self  # type: ignore[method-assign]

    def __call__(self, chunk):
        self.calls += 1
        if self.calls in self.failing:
            raise TransientError("throttled")
        return self.original(chunk)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_seed=st.randoms(use_true_random=False), sizes=st.lists(st.integers(1, 12), min_size=1, max_size=8),
       duplicates=st.lists(st.integers(0, len(ALL_EVENTS) - 1), max_size=8),
       failing=st.sets(st.integers(1, 6), max_size=3))
def test_counted_per_batch_equals_counted_one_at_a_time(order_seed, sizes, duplicates, failing):
    """Deliveries in batches of random sizes, holding redelivered copies (in the same batch or a later one),
    some of whose counter transactions fail: a failed record comes back in a later batch until it is written."""
    service = fresh_service()
    flaky = Flaky(service.aggregates, failing)
    queue = [(str(i), *event) for i, event in enumerate(ALL_EVENTS)]  # in the order they happened
    for n, i in enumerate(duplicates):  # a copy comes after the first delivery: anywhere later
        after = next(k for k, m in enumerate(queue) if m[0] == str(i))
        queue.insert(order_seed.randint(after + 1, len(queue)), (f"dup{n}", *ALL_EVENTS[i]))
    held_back = 0
    for size in itertools.cycle(sizes):
        if not queue:
            break
        batch_records, queue = queue[:size], queue[size:]
        batch = service.batch()
        batch.prefetch(detail for _, _, detail in batch_records[::2])  # some read ahead, the others as they come
        for ref, kind, detail in batch_records:
            batch.record(ref, kind, detail)
        _, failed = batch.flush()
        queue += [m for m in batch_records if m[0] in failed]  # back after the visibility timeout
        held_back += len(failed)
    assert report(service) == one_at_a_time()
    assert held_back == 0 or flaky.calls > 0


def test_a_batch_of_shipped_orders_writes_one_aggregate_update_and_a_mark_each():
    service = fresh_service()
    created = [order("OrderCreated", f"b{n}", "2030-01-01T08:00:00.000Z", {"A": 1}, 0,
                     created_at="2030-01-01T08:00:00.000Z") for n in range(5)]
    shipped = [order("OrderShipped", f"b{n}", "2030-01-01T18:00:00.000Z", {"A": 1}, 4) for n in range(5)]
    for kind, detail in created:
        service.record(kind, detail)
    calls: list[list] = []
    original = service.aggregates._counters_once
    service.aggregates._counters_once = lambda chunk: calls.append(chunk) or original(chunk)

    batch = service.batch()
    assert all(batch.record(str(n), *event) is None for n, event in enumerate(shipped + shipped[:2]))
    added, failed = batch.flush()

    assert (len(added), failed, len(calls)) == (5, {}, 1)  # the two copies in the batch counted once
    day = service.aggregates.days("2030-01-01", "2030-01-01")["2030-01-01"]["all"]
    assert (day["orders_shipped"], day["shipments_on_time"]) == (5, 5)
    batch = service.batch()  # the whole batch redelivered: nothing twice
    for n, event in enumerate(shipped):
        batch.record(str(n), *event)
    assert batch.flush() == ([], {})
    assert service.aggregates.days("2030-01-01", "2030-01-01")["2030-01-01"]["all"]["orders_shipped"] == 5


# ---------------------------------------------------------------------- the handler (Powertools, SQS)
CONTEXT = SimpleNamespace(function_name="KpisFunction", memory_limit_in_mb=512, aws_request_id="req-1",
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:KpisFunction")


def sqs_record(ref: str, kind: str, detail: dict) -> dict:
    body = {"version": "0", "id": ref, "detail-type": kind, "source": "orderflow", "time": detail["occurred_at"],
            "region": "us-east-1", "resources": [], "detail": detail}
    return {"messageId": ref, "receiptHandle": f"h-{ref}", "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x",
                           "ApproximateFirstReceiveTimestamp": "1"},
            "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:kpis", "awsRegion": "us-east-1"}


def test_the_handler_reports_the_records_whose_write_failed_and_counts_them_once_when_they_come_back():
    service = fresh_service("kpis-handler")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPIS_TABLE", "kpis-handler")
        mp.setenv("POWERTOOLS_METRICS_NAMESPACE", "Orderflow")
        spec = importlib.util.spec_from_file_location("handler_kpis_record", REPO / "functions" / "kpis" / "record.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    created = order("OrderCreated", "h1", "2030-01-01T08:00:00.000Z", {"A": 1}, 0,
                    created_at="2030-01-01T08:00:00.000Z")
    shipped = [order("OrderShipped", f"h{n}", "2030-01-01T18:00:00.000Z", {"A": 1}, 4) for n in (1, 2)]
    broken = {"version": "0"}  # not an event: Powertools reports it failed, alone
    event = {"Records": [sqs_record("m0", *created), sqs_record("m1", *shipped[0]), sqs_record("m2", *shipped[1]),
                         {**sqs_record("m3", *shipped[1]), "body": json.dumps(broken)}]}
    Flaky(module.service.aggregates, {1})

    answer = module.handler(event, CONTEXT)

    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m1", "m2", "m3"]
    assert service.aggregates.days("2030-01-01", "2030-01-01")["2030-01-01"].get("all", {}).get("orders_shipped") \
        is None  # the counters' write failed: nothing counted, the memory of h1 written
    event["Records"] = event["Records"][:3]  # they come back (m0 too, as a copy): once each
    assert module.handler(event, CONTEXT) == {"batchItemFailures": []}
    assert service.aggregates.days("2030-01-01", "2030-01-01")["2030-01-01"]["all"]["orders_shipped"] == 2


def test_a_batch_reads_its_orders_memories_together_and_then_recalls_what_it_wrote(monkeypatch):
    """An order's created, reserved and shipped events in one batch: one BatchGetItem, no GetItem; the reserved
    and shipped events read what the created one remembered."""
    service = fresh_service()
    events = [order("OrderCreated", "r1", "2030-01-01T08:00:00.000Z", {"A": 1}, 0,
                    created_at="2030-01-01T08:00:00.000Z"),
              order("OrderReserved", "r1", "2030-01-01T08:00:01.000Z", {"A": 1}, 3),
              order("OrderShipped", "r1", "2030-01-01T09:00:00.000Z", {"A": 1}, 4)]
    calls: list[str] = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    batch = service.batch()
    batch.prefetch(detail for _, detail in events)
    for n, event in enumerate(events):
        batch.record(str(n), *event)
    batch.flush()

    assert calls.count("BatchGetItem") == 1 and "GetItem" not in calls
    day = service.aggregates.days("2030-01-01", "2030-01-01")["2030-01-01"]["all"]
    assert (day["orders_shipped"], day["shipments_promised"], day["shipments_on_time"]) == (1, 1, 1)
