"""Property-based test (hypothesis) of hot-SKU buckets (docs/scale.md): one SKU at two locations, random
receipts, orders, cancels, shipments and write-offs, while its bucket count changes (1 to 16) — also while
orders reserve on other threads, and with reservations from containers that still believe an old count.
On the real services and DynamoDB adapters (moto, in process). After every step, over every stock item of
the SKU (bases and buckets, read raw from the table):

- no oversell: no item's ``available`` is below zero, and the units held are the reserved orders' units;
- no lost or doubled unit: ``on_hand = received − shipped − written off``, ``available = on_hand − reserved``;
- what ``GET /stock`` shows is what the items hold (no bucket item is left out of the sum);
- an order is backordered only when the locations together had fewer units than it asked for.
"""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import ClassVar

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from reliability_support import size

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.fulfilment import LocationIn
from orderflow.inventory.adapters import buckets as bucket_cache
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders.domain import OrderStatus
from orderflow.orders.requests import OrderLineIn, ShipIn
from orderflow.orders.requests import SubmitOrderIn as Submit
from orderflow.shared.errors import Conflict, OutOfStock
from orderflow_cli.addresses import SAMPLE_ADDRESS

S = OrderStatus
ADDRESS = {"name": "DC", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}
COUNTS = st.sampled_from([1, 2, 3, 4, 8, 16])
PROFILE = settings(max_examples=size(8, 50), stateful_step_count=size(20, 40), deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


class BucketChanges(RuleBasedStateMachine):
    service: ClassVar = None

    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        self.sku, self.customer, self.store = f"HOT-{tag}", f"C-{tag}", f"S-{tag}"
        self.locations = ["main", self.store]
        svc = self.service
        svc.put_location(self.store, LocationIn(name="Store", address=ADDRESS, priority=2))
        svc.put_customer(self.customer, CustomerIn(name="T", credit_limit=Decimal(10**9)))
        svc.put_product(self.sku, ProductIn(name="hot", unit_price=Decimal(1)))
        self.received = self.shipped = self.written_off = 0
        self.held: dict[str, int] = {}  # reserved order → units
        self.table = boto3.resource("dynamodb").Table(svc.inventory.stock.table)

    def teardown(self) -> None:
        self.service.put_location(self.store, LocationIn(name="closed", address=ADDRESS, active=False))

    # ------------------------------------------------------------ steps
    @rule(units=st.integers(1, 30), at=st.integers(0, 1))
    def receive(self, units: int, at: int) -> None:
        self.service.adjust_stock(self.sku, StockAdjustmentIn(quantity=units, reason="receipt",
                                                              location_id=self.locations[at]))
        self.received += units

    @rule(units=st.integers(1, 12), stale=st.one_of(st.none(), COUNTS))
    def order(self, units: int, stale: int | None) -> None:
        """An order; ``stale``: reserved by a container that believes the SKU has that many buckets."""
        if stale is not None:
            for location in self.locations:
                bucket_cache._known[self.sku, location] = stale
        before = self.service.get_stock(self.sku).available
        placed = self._place(units)
        if placed is None:
            assert before < units, f"backordered with {before} available for {units}"

    @rule(count=COUNTS)
    def change_count(self, count: int) -> None:
        self.service.put_product(self.sku, ProductIn(name="hot", unit_price=Decimal(1), stock_buckets=count))

    @rule(count=COUNTS, orders=st.lists(st.integers(1, 5), min_size=1, max_size=4))
    def change_count_while_orders_reserve(self, count: int, orders: list[int]) -> None:
        threads = [threading.Thread(target=self._place, args=(units,)) for units in orders]
        threads.append(threading.Thread(target=self.change_count, args=(count,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(0, 10**6), ship=st.booleans())
    def settle(self, pick: int, ship: bool) -> None:
        order_id = sorted(self.held)[pick % len(self.held)]
        if ship:
            order = self.service.get_order(order_id)
            for ref in order.open_shipments():
                self.service.ship_shipment(ref.shipment_id, ShipIn(carrier="UPS", tracking="1Z"))
            self.shipped += self.held.pop(order_id)
        else:
            self.service.cancel(order_id, "changed my mind")
            self.held.pop(order_id)

    @rule(units=st.integers(1, 20))
    def write_off(self, units: int) -> None:
        try:
            self.service.adjust_stock(self.sku, StockAdjustmentIn(quantity=-units, reason="damaged"))
        except Conflict:
            return
        self.written_off += units

    def _place(self, units: int) -> str | None:
        svc = self.service
        order = svc.submit(Submit(customer_id=self.customer, shipping_address=SAMPLE_ADDRESS,
                                  lines=[OrderLineIn(sku=self.sku, quantity=units)]), uuid.uuid4().hex)
        order = svc.check_credit(order.order_id, svc.validate(order.order_id, order))
        try:
            order = svc.reserve(order.order_id, order)
        except OutOfStock:
            svc.cancel(order.order_id, "no stock")
            return None
        assert order.status == S.RESERVED
        self.held[order.order_id] = units
        return order.order_id

    # ------------------------------------------------------------ invariants
    def _items(self) -> list[dict]:
        mine = Attr("sku").begins_with(self.sku) & Attr("record").begins_with("LEVEL#")
        scan = self.table.scan(FilterExpression=mine, ConsistentRead=True)
        return [i for i in scan["Items"] if i["sku"] == self.sku or i["sku"].startswith(f"{self.sku}#")]

    @invariant()
    def no_oversell_and_no_lost_unit(self) -> None:
        items = self._items()
        assert all(int(item.get("available", 0)) >= 0 for item in items), items
        total = {c: sum(int(item.get(c, 0)) for item in items) for c in ("on_hand", "reserved", "available")}
        assert total["on_hand"] == self.received - self.shipped - self.written_off, (total, items)
        assert total["reserved"] == sum(self.held.values()), (total, self.held)
        assert total["available"] == total["on_hand"] - total["reserved"]
        shown = self.service.get_stock(self.sku)
        assert (shown.on_hand, shown.reserved, shown.available) == (
            total["on_hand"], total["reserved"], total["available"]), "a bucket item is left out of the sum"


def test_bucket_count_changes_lose_nothing_and_never_oversell(service):
    BucketChanges.service = service
    run_state_machine_as_test(BucketChanges, settings=PROFILE)
