"""A hot SKU's stock split into buckets (docs/scale.md), on the in-process services over moto: reservations
take from the buckets and backorder only when all of them together are short, everything else moves the
base, reads sum the buckets, and changing the count keeps every unit."""

from __future__ import annotations

import uuid
from decimal import Decimal

import boto3
import pytest
from pydantic import ValidationError

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.orders.requests import OrderLineIn, ShipIn, SubmitOrderIn
from orderflow.shared.errors import OutOfStock
from orderflow_cli.addresses import SAMPLE_ADDRESS

S = OrderStatus


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def hot_sku(service, buckets: int, stock: int) -> tuple[str, str]:
    customer, sku = f"C-{uuid.uuid4().hex[:8]}", f"HOT-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(100_000)))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(1)))
    service.adjust_stock(sku, StockAdjustmentIn(quantity=stock, reason="receipt"))
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(1), stock_buckets=buckets))
    return customer, sku


def order(service, customer: str, sku: str, quantity: int = 1):
    placed = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                          lines=[OrderLineIn(sku=sku, quantity=quantity)]), uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        placed = step(placed.order_id, placed)
    return placed


def items_of(service, sku: str) -> dict[str, dict]:
    """Partition key → the stock item of the main location, for the SKU and each of its buckets."""
    table = boto3.resource("dynamodb").Table(service.inventory.stock.table)
    found = {}
    for key in [sku, *(f"{sku}#{b}" for b in range(1, 300))]:
        item = table.get_item(Key={"sku": key, "record": "LEVEL#main"}).get("Item")
        if item:
            found[key] = item
    return found


def test_buckets_are_items_under_their_own_partition_keys_and_reads_sum_them(service):
    _, sku = hot_sku(service, buckets=4, stock=40)
    items = items_of(service, sku)
    assert sorted(items) == sorted([sku, *(f"{sku}#{b}" for b in range(1, 5))])
    assert [int(items[f"{sku}#{b}"]["available"]) for b in range(1, 5)] == [10, 10, 10, 10]
    assert int(items[sku]["available"]) == 0  # the base takes no reservations
    position = service.get_stock(sku)
    assert (position.on_hand, position.available, position.reserved) == (40, 40, 0)


def test_every_unit_sells_and_no_more_then_the_next_order_backorders(service):
    customer, sku = hot_sku(service, buckets=4, stock=12)
    orders = [order(service, customer, sku) for _ in range(12)]
    assert {o.status for o in orders} == {S.RESERVED}
    with pytest.raises(OutOfStock):
        order(service, customer, sku)
    position = service.get_stock(sku)
    assert (position.on_hand, position.reserved, position.available) == (12, 12, 0)
    assert all(int(item["available"]) >= 0 for item in items_of(service, sku).values())


def test_an_order_no_single_bucket_can_fill_is_served_from_several_gathered(service):
    customer, sku = hot_sku(service, buckets=4, stock=8)  # 2 in each bucket
    placed = order(service, customer, sku, quantity=7)
    assert placed.status == S.RESERVED
    assert service.get_stock(sku).available == 1


def test_cancels_and_shipments_move_the_stock_of_a_bucketed_sku(service):
    customer, sku = hot_sku(service, buckets=3, stock=9)
    kept, cancelled = order(service, customer, sku, 2), order(service, customer, sku, 3)
    service.cancel(cancelled.order_id, "changed my mind")
    service.ship(kept.order_id, ShipIn(carrier="UPS", tracking="1Z"))
    position = service.get_stock(sku)
    assert (position.on_hand, position.reserved, position.available) == (7, 0, 7)
    assert order(service, customer, sku, 7).status == S.RESERVED  # what came back can be sold again


def test_changing_the_count_keeps_every_unit_and_one_bucket_is_the_plain_layout(service):
    customer, sku = hot_sku(service, buckets=16, stock=50)
    held = order(service, customer, sku, 5)
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(1), stock_buckets=4))
    assert sorted(items_of(service, sku)) == sorted([sku, *(f"{sku}#{b}" for b in range(1, 5))])
    assert service.get_stock(sku).model_dump(include={"on_hand", "reserved", "available"}) == {
        "on_hand": 50, "reserved": 5, "available": 45}
    service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(1), stock_buckets=1))
    base = items_of(service, sku)
    assert list(base) == [sku]
    assert {k: int(v) for k, v in base[sku].items() if k in ("on_hand", "reserved", "available")} == {
        "on_hand": 50, "reserved": 5, "available": 45}
    assert not {"buckets", "bucket_span", "rebalanced"} & set(base[sku])
    service.ship(held.order_id, ShipIn(carrier="UPS", tracking="1Z"))
    assert service.get_stock(sku).on_hand == 45


def test_leaving_the_count_out_keeps_it_and_a_write_off_gathers_from_the_buckets(service):
    _, sku = hot_sku(service, buckets=4, stock=20)
    assert service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(2))).stock_buckets == 4
    assert len(items_of(service, sku)) == 5
    level = service.adjust_stock(sku, StockAdjustmentIn(quantity=-12, reason="damaged"))
    assert level.available == 8


@pytest.mark.parametrize("count", [0, 257, -1])
def test_a_bucket_count_outside_1_to_256_is_refused(count):
    with pytest.raises(ValidationError, match="stock_buckets"):
        ProductIn(name="x", unit_price=Decimal(1), stock_buckets=count)


def test_a_container_that_knows_no_buckets_learns_them_from_the_base_and_then_writes_a_bucket(service):
    """A cold container: its first reservation goes to the base, which refuses it and answers with the count
    (no read is spent on it); the order is reserved from a bucket, and the base is left untouched."""
    from orderflow.inventory.adapters import buckets as cache
    from orderflow.platform import dynamo

    customer, sku = hot_sku(service, buckets=4, stock=8)
    cache._known.clear()
    operations: list[str] = []

    def record(model, **_):
        operations.append(model.name)

    dynamo.client().meta.events.register("before-call.dynamodb.*", record, unique_id="learn")
    try:
        submitted = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                                 lines=[OrderLineIn(sku=sku, quantity=2)]), uuid.uuid4().hex)
        for step in (service.validate, service.check_credit):
            submitted = step(submitted.order_id, submitted)
        operations.clear()
        placed = service.reserve(submitted.order_id, submitted)
    finally:
        dynamo.client().meta.events.unregister("before-call.dynamodb.*", unique_id="learn")
    assert placed.status == S.RESERVED
    assert operations == ["Query", "TransactWriteItems", "TransactWriteItems"]  # refused by the base, then a bucket
    items = items_of(service, sku)
    assert int(items[sku]["reserved"]) == 0 and sum(int(i["reserved"]) for i in items.values()) == 2


def test_units_sourced_again_from_a_bucketed_sku_by_a_cold_container_are_reserved(service):
    """A ship_available order takes what the buckets have and waits for the rest; when stock comes, a container
    that knows no buckets sources the rest: refused by the base, it takes from a bucket (not FAILED)."""
    from orderflow.fulfilment import FulfilmentPolicy
    from orderflow.inventory.adapters import buckets as cache

    customer, sku = hot_sku(service, buckets=4, stock=3)
    placed = service.submit(SubmitOrderIn(customer_id=customer, shipping_address=SAMPLE_ADDRESS,
                                          fulfilment_policy=FulfilmentPolicy.SHIP_AVAILABLE,
                                          lines=[OrderLineIn(sku=sku, quantity=5)]), uuid.uuid4().hex)
    for step in (service.validate, service.check_credit, service.reserve):
        placed = step(placed.order_id, placed)
    assert placed.status == S.PARTIALLY_RESERVED and placed.backordered == {sku: 2}
    service.adjust_stock(sku, StockAdjustmentIn(quantity=2, reason="receipt"))
    cache._known.clear()
    assert service.reserve(placed.order_id).status == S.RESERVED
    position = service.get_stock(sku)
    assert (position.on_hand, position.reserved, position.available, position.backordered) == (5, 5, 0, 0)


def test_a_receipt_at_a_bucketed_sku_is_shared_over_its_buckets(service):
    _, sku = hot_sku(service, buckets=4, stock=4)  # 1 in each bucket
    level = service.adjust_stock(sku, StockAdjustmentIn(quantity=10, reason="receipt"))
    assert (level.on_hand, level.available) == (14, 14)  # what the answer shows is the level, once
    items = items_of(service, sku)
    assert sorted(int(items[f"{sku}#{b}"]["available"]) for b in range(1, 5)) == [3, 3, 4, 4]
    assert int(items[sku]["available"]) == 0
