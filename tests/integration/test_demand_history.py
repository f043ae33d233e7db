"""Demand history: import (set per SKU and day, bad rows named and skipped) and read back, against
the tables of template.yaml in moto; shipped orders add to the same history."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderflow import wiring
from orderflow.replenishment.service import ReplenishmentService
from orderflow.shared.errors import NotFound, Unprocessable


@pytest.fixture(scope="module")
def service(stack) -> ReplenishmentService:
    return wiring.replenishment_service()


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def eventually(read: Callable[[], Any], expected: Any, timeout: float = 20.0) -> None:
    """Shipped units reach the history through the shipments stream's demand counter, a moment later."""
    deadline = time.monotonic() + timeout
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert got == expected


def test_imported_rows_read_back_by_day(api, service):
    sku = api.product()
    rows = [{"sku": sku, "day": days_ago(n), "quantity": n} for n in (3, 1, 2)]

    assert service.import_history(rows) == {"imported": 3, "skipped": []}

    assert service.history(sku) == [{"day": days_ago(3), "quantity": 3}, {"day": days_ago(2), "quantity": 2},
                                    {"day": days_ago(1), "quantity": 1}]
    assert service.history(sku, start=days_ago(2), end=days_ago(2)) == [{"day": days_ago(2), "quantity": 2}]
    assert service.history(sku, start=days_ago(2)) == service.history(sku)[1:]
    assert service.history(sku, end=days_ago(3)) == service.history(sku)[:1]


def test_importing_the_same_rows_again_changes_nothing(api, service):
    sku = api.product()
    rows = [{"sku": sku, "day": days_ago(n), "quantity": 5} for n in range(1, 8)]
    service.import_history(rows)
    first = service.history(sku)

    assert service.import_history(rows)["imported"] == 7

    assert service.history(sku) == first and sum(day["quantity"] for day in first) == 35


def test_a_corrected_import_replaces_the_day(api, service):
    sku = api.product()
    service.import_history([{"sku": sku, "day": days_ago(4), "quantity": 40}])
    service.import_history([{"sku": sku, "day": days_ago(4), "quantity": 4}])
    assert service.history(sku) == [{"day": days_ago(4), "quantity": 4}]


def test_bad_rows_are_named_and_skipped_and_the_rest_imported(api, service):
    sku = api.product()
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    rows = [
        {"sku": sku, "day": days_ago(2), "quantity": 7},
        {"sku": "NO-SUCH-SKU", "day": days_ago(2), "quantity": 1},
        {"sku": sku, "day": days_ago(3), "quantity": -2},
        {"sku": sku, "day": "2024-02-30", "quantity": 1},
        {"sku": sku, "day": tomorrow, "quantity": 1},
        {"sku": sku, "day": days_ago(5), "quantity": 1.5},
        {"sku": sku, "day": days_ago(2), "quantity": 9},
        {"sku": sku, "quantity": 1},
        "not a row",
    ]

    result = service.import_history(rows)

    assert result["imported"] == 1
    problems = {s["row"]: (s["sku"], s["problem"]) for s in result["skipped"]}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert problems[2] == ("NO-SUCH-SKU", "unknown SKU NO-SUCH-SKU")
    assert problems[3][0] == sku and problems[3][1].startswith("quantity:")
    assert problems[4][1].startswith("day:")
    assert problems[5][1] == f"day {tomorrow} is in the future"
    assert problems[6][1].startswith("quantity:")
    assert problems[7][1] == "the same SKU and day as row 1"
    assert problems[8][1].startswith("day:")
    assert problems[9] == (None, "row: Input should be a valid dictionary or instance of HistoryRow")
    assert service.history(sku) == [{"day": days_ago(2), "quantity": 7}]


def test_shipped_orders_add_to_the_imported_history(api, service):
    sku, customer = api.product(price=1, stock=10), api.customer()
    today = datetime.now(UTC).date().isoformat()
    service.import_history([{"sku": sku, "day": days_ago(1), "quantity": 6}])
    order_id = api.submit(customer, {sku: 3}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "RESERVED"
    assert api.http.post(f"/orders/{order_id}/ship", json={}).is_success

    assert service.history(sku) == [{"day": days_ago(1), "quantity": 6}, {"day": today, "quantity": 3}]


def test_reading_history_refuses_unknown_skus_and_bad_ranges(api, service):
    sku = api.product()
    with pytest.raises(NotFound):
        service.history("NO-SUCH-SKU")
    with pytest.raises(Unprocessable, match="after end"):
        service.history(sku, start=days_ago(1), end=days_ago(5))
    with pytest.raises(Unprocessable, match="start must be a date"):
        service.history(sku, start="yesterday")
    assert service.history(sku) == []


def test_history_over_http(api):
    sku = api.product()
    imported = api.http.post("/demand/history", json={"rows": [
        {"sku": sku, "day": days_ago(2), "quantity": 4}, {"sku": sku, "day": days_ago(1), "quantity": -1}]})
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 1 and imported.json()["skipped"][0]["row"] == 2

    read = api.http.get(f"/demand/{sku}", params={"start": days_ago(7)})
    assert read.status_code == 200, read.text
    assert read.json()["history"] == [{"day": days_ago(2), "quantity": 4}]
    assert api.http.get("/demand/NO-SUCH-SKU").status_code == 404


def test_demand_is_recorded_where_it_shipped_from_and_the_totals_stay(api, service):
    """Imported days (and days recorded before locations) count at main; an order filled from a warehouse
    adds to that warehouse's history; the total is the sum over the locations."""
    warehouse = f"wh-{uuid.uuid4().hex[:8]}"
    address = {"name": "Depot", "line1": "2 Dock Road", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"}
    assert api.http.put(f"/locations/{warehouse}", json={"name": "Depot", "address": address}).is_success
    sku, customer = api.product(price=1), api.customer()
    assert api.http.post(f"/stock/{sku}/adjustments", json={"quantity": 10, "reason": "receipt",
                                                                    "location_id": warehouse}).is_success
    today = datetime.now(UTC).date().isoformat()
    service.import_history([{"sku": sku, "day": days_ago(1), "quantity": 6}])
    order_id = api.submit(customer, {sku: 3}).json()["order_id"]
    assert api.wait_for(order_id)["allocations"] == {warehouse: {sku: 3}}
    assert api.http.post(f"/orders/{order_id}/ship", json={}).is_success

    eventually(lambda: service.history(sku), [{"day": days_ago(1), "quantity": 6}, {"day": today, "quantity": 3}])
    assert service.history(sku, location_id=warehouse) == [{"day": today, "quantity": 3}]
    assert service.history(sku, location_id="main") == [{"day": days_ago(1), "quantity": 6},
                                                        {"day": today, "quantity": 0}]
    read = api.http.get(f"/demand/{sku}", params={"location_id": warehouse})
    assert read.status_code == 200, read.text
    assert read.json()["location_id"] == warehouse and read.json()["history"] == [{"day": today, "quantity": 3}]
    assert api.http.get(f"/demand/{sku}", params={"location_id": "no/such"}).status_code == 422


def test_one_write_records_a_sku_shipped_from_several_locations(stack):
    """A transaction may touch an item once: units of one SKU that left two locations the same day are one
    write that adds the total and each location's part."""
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.platform.dynamo import DynamoStore
    from orderflow.shared.settings import get_settings

    demand, sku, day = DemandRepository(get_settings().demand_table), f"SKU-{uuid.uuid4().hex[:8]}", days_ago(1)
    DynamoStore().commit([demand.record_split(sku, day, {"main": 2, "wh-a": 5})])
    DynamoStore().commit([demand.record(sku, days_ago(2), 4)])
    DynamoStore().commit([demand.record(sku, day, -1, "wh-a")])  # a return received there

    assert demand.history(sku) == {days_ago(2): 4, day: 6}
    assert demand.history_by_location(sku) == {"main": {days_ago(2): 4, day: 2}, "wh-a": {day: 4}}


def test_an_imported_row_replaces_its_locations_part_of_the_day_and_keeps_the_others(api, service):
    """Per-warehouse files imported one after another: each replaces its own location's days; the totals
    are the sums; a row naming a location that does not exist is skipped and named."""
    warehouse = f"wh-{uuid.uuid4().hex[:8]}"
    address = {"name": "Depot", "line1": "2 Dock Road", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"}
    assert api.http.put(f"/locations/{warehouse}", json={"name": "Depot", "address": address}).is_success
    sku = api.product()
    assert service.import_history([{"sku": sku, "day": days_ago(2), "quantity": 5},
                                   {"sku": sku, "day": days_ago(1), "quantity": 7}])["imported"] == 2
    result = service.import_history([{"sku": sku, "day": days_ago(1), "quantity": 3, "location_id": warehouse},
                                     {"sku": sku, "day": days_ago(1), "quantity": 9, "location_id": "nowhere-1"}])
    assert result == {"imported": 1, "skipped": [{"row": 2, "sku": sku, "problem": "unknown location nowhere-1"}]}
    service.import_history([{"sku": sku, "day": days_ago(1), "quantity": 6}])  # main's part corrected

    assert service.history(sku) == [{"day": days_ago(2), "quantity": 5}, {"day": days_ago(1), "quantity": 9}]
    assert service.history(sku, location_id="main") == [{"day": days_ago(2), "quantity": 5},
                                                        {"day": days_ago(1), "quantity": 6}]
    assert service.history(sku, location_id=warehouse) == [{"day": days_ago(1), "quantity": 3}]


def test_days_stored_before_month_items_still_read_and_fold_into_them(stack):
    """A table from before the compact layout: its day items (``at#`` parts) read together with the month
    items written since, a day found in both counts both; ``compact`` folds them in and the history is the
    same, read from the month items alone; an import replaces a day stored the old way without counting it
    twice."""
    from orderflow.inventory.adapters.demand import MONTH, DemandRepository
    from orderflow.platform import dynamo
    from orderflow.platform.dynamo import DynamoStore
    from orderflow.shared.settings import get_settings

    table = get_settings().demand_table
    demand, sku = DemandRepository(table), f"SKU-{uuid.uuid4().hex[:8]}"
    old = [days_ago(n) for n in (400, 3, 2, 1)]
    dynamo.batch_put(table, [{"sku": sku, "day": old[0], "quantity": 7},
                             {"sku": sku, "day": old[1], "quantity": 5, "at#main": 2, "at#wh-a": 3},
                             {"sku": sku, "day": old[2], "quantity": 4, "at#main": 4},
                             {"sku": sku, "day": old[3], "quantity": 2}])
    DynamoStore().commit([demand.record_split(sku, old[1], {"main": 1, "wh-a": 1})])  # the day it was deployed
    expected = {"main": {old[0]: 7, old[1]: 3, old[2]: 4, old[3]: 2}, "wh-a": {old[1]: 4}}

    assert demand.history_by_location(sku) == expected
    assert demand.history(sku, start=old[1], end=old[2]) == {old[1]: 7, old[2]: 4}

    assert demand.compact(sku) == 4 and demand.compact(sku) == 0
    assert demand.history_by_location(sku) == expected
    items = stack.boto3_client("dynamodb").query(TableName=table, KeyConditionExpression="sku = :s",
                                           ExpressionAttributeValues={":s": {"S": sku}})["Items"]
    assert all(item["day"]["S"].startswith(MONTH) for item in items) and len(items) == len({d[:7] for d in old})

    dynamo.batch_put(table, [{"sku": sku, "day": days_ago(5), "quantity": 8, "at#wh-a": 8}])
    demand.set_days([(sku, days_ago(5), 6, "wh-a")])
    assert demand.history_by_location(sku, start=days_ago(5), end=days_ago(5)) == {"main": {days_ago(5): 0},
                                                                                   "wh-a": {days_ago(5): 6}}


def shipment_record(shipment_id: str, location: str, units: dict[str, int], day: str) -> dict:
    """The stream record of a shipment's move from PACKED to SHIPPED, as Lambda delivers it."""
    from boto3.dynamodb.types import TypeSerializer

    image = {"shipment_id": shipment_id, "order_id": f"ord-{shipment_id}", "location_id": location,
             "updated_at": f"{day}T10:00:00.000Z", "lines": [{"sku": s, "quantity": q} for s, q in units.items()]}
    new = {**image, "status": "SHIPPED", "shipped": [{"sku": s, "quantity": q} for s, q in units.items()]}
    serialise = TypeSerializer().serialize
    return {"eventID": uuid.uuid4().hex, "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/shipments/stream/2026",
            "dynamodb": {"Keys": {"shipment_id": {"S": shipment_id}}, "SequenceNumber": str(time.time_ns()),
                         "OldImage": {k: serialise(v) for k, v in {**image, "status": "PACKED"}.items()},
                         "NewImage": {k: serialise(v) for k, v in new.items()},
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def test_a_redelivered_batch_of_shipments_counts_once(stack):
    """Streams deliver at least once, in batches whose bounds can change on a retry: the demand counter adds
    each shipment once however often its record arrives, and a record that is not a shipment leaving adds
    nothing."""
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.shared.settings import get_settings

    demand, sku, other, day = (DemandRepository(get_settings().demand_table), f"SKU-{uuid.uuid4().hex[:8]}",
                               f"SKU-{uuid.uuid4().hex[:8]}", days_ago(1))
    ids = [f"shp-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    first = [shipment_record(ids[0], "main", {sku: 2, other: 1}, day), shipment_record(ids[1], "wh-a", {sku: 3}, day)]
    packed = shipment_record(ids[2], "main", {sku: 9}, day)
    packed["dynamodb"]["NewImage"]["status"] = {"S": "PACKED"}  # not shipped yet: nothing to count

    assert stack.runtime.invoke("CountDemandFunction", {"Records": [*first, packed]}) == {"shipments": 2, "added": 2}
    assert stack.runtime.invoke("CountDemandFunction", {"Records": first}) == {"shipments": 2, "added": 0}
    again = [first[1], shipment_record(ids[2], "main", {sku: 1}, day)]  # split differently, with a new one
    assert stack.runtime.invoke("CountDemandFunction", {"Records": again}) == {"shipments": 2, "added": 1}

    assert demand.history_by_location(sku) == {"main": {day: 3}, "wh-a": {day: 3}}
    assert demand.history(other) == {day: 1}
