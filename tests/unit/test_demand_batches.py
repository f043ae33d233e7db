"""The demand counter counts per batch (one ADD per SKU and month, a marker per shipment): whatever the batches'
bounds, their duplicates and their failures (a failed batch is delivered again, as Lambda retries it), the
history is that of every shipment counted once, one at a time."""

from __future__ import annotations

import itertools

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.inventory.adapters import demand as demand_module
from orderflow.inventory.adapters.demand import DemandRepository
from orderflow.shared.errors import TransientError

SKUS, LOCATIONS = ("A", "B", "C"), ("main", "north")
_tables = itertools.count()


def repository() -> DemandRepository:
    name = f"demand-{next(_tables)}"
    boto3.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"},
                              {"AttributeName": "day", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}, {"AttributeName": "day", "KeyType": "RANGE"}])
    return DemandRepository(name)


def histories(demand: DemandRepository) -> dict[str, dict[str, dict[str, int]]]:
    return {sku: demand.history_by_location(sku) for sku in SKUS}


shipments = st.lists(st.tuples(st.sampled_from(["2030-01-30", "2030-01-31", "2030-02-01"]),
                               st.sampled_from(LOCATIONS),
                               st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1, max_size=3)),
                     min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=shipments, seed=st.randoms(use_true_random=False), sizes=st.lists(st.integers(1, 10), min_size=1,
                                                                              max_size=5),
       copies=st.lists(st.integers(0, 24), max_size=6), failing=st.sets(st.integers(1, 8), max_size=3))
def test_counted_per_batch_equals_counted_one_at_a_time(moto_aws, monkeypatch, sent, seed, sizes, copies, failing):
    changes = [(f"shipment:s{n}:shipped", day, location, units) for n, (day, location, units) in enumerate(sent)]
    one_at_a_time = repository()
    for change in changes:
        one_at_a_time.count([change])

    stream = list(changes)  # in order; a redelivered copy comes after its first delivery
    for i in copies:
        if i < len(changes):
            after = stream.index(changes[i])
            stream.insert(seed.randint(after + 1, len(stream)), changes[i])
    batched, transactions = repository(), itertools.count(1)
    original = demand_module.dynamo.transact

    def flaky(writes):
        if next(transactions) in failing:
            raise TransientError("throttled")
        return original(writes)

    monkeypatch.setattr(demand_module.dynamo, "transact", flaky)
    for size in itertools.cycle(sizes):
        if not stream:
            break
        batch = stream[:size]
        try:
            batched.count(batch)
        except TransientError:
            continue  # Lambda delivers the same batch again
        stream = stream[size:]
    monkeypatch.setattr(demand_module.dynamo, "transact", original)

    assert histories(batched) == histories(one_at_a_time)


def test_a_batch_writes_one_add_per_sku_and_month_and_a_marker_per_shipment(moto_aws, monkeypatch):
    demand, written = repository(), []
    original = demand_module.dynamo.transact
    monkeypatch.setattr(demand_module.dynamo, "transact", lambda writes: written.append(writes) or original(writes))
    batch = [(f"shipment:s{n}:shipped", "2030-01-31", "main", {"A": 1, "B": 2}) for n in range(20)]

    assert demand.count(batch + batch[:3]) == 20

    (writes,) = written
    assert (sum(w.kind == "Put" for w in writes), sum(w.kind == "Update" for w in writes)) == (20, 2)
    assert demand.history("A") == {"2030-01-31": 20} and demand.history("B") == {"2030-01-31": 40}
