"""Property-based test (hypothesis) of shipments across locations: random stock at three locations, random
orders, full and partial shipments, deliveries, cancellations, receipts, wake-ups and deadline sweeps, on the real
services and DynamoDB adapters (moto, in process). After every step, at every location and in total:

- ``on_hand = received there − shipped from there`` (what the stored shipments say left it);
- ``reserved`` is what the orders' allocations hold there, and equals the open shipments' lines there;
- ``available = on_hand − reserved ≥ 0``: nothing oversells, and no unit leaks from a partial shipment;
- each order line's units are somewhere: ``allocated + shipped + backordered + cancelled = quantity``;
- the SKU's backordered units are its waiting orders' units, and the order status follows its shipments;
- one allocation (one reservation or wake-up) releases at most one shipment per location.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from reliability_support import size

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.fulfilment import OPEN_SHIPMENT, FulfilmentPolicy, LocationIn, ShipmentStatus
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders.cancelling import IN_PART
from orderflow.orders.domain import OrderStatus, cancellable
from orderflow.orders.requests import OrderLineIn, ShipIn
from orderflow.orders.requests import SubmitOrderIn as Submit
from orderflow.shared.errors import Conflict, OutOfStock
from orderflow_cli.addresses import SAMPLE_ADDRESS

S, H = OrderStatus, ShipmentStatus
ADDRESS = {"name": "DC", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}
PROFILE = settings(max_examples=size(10, 60), stateful_step_count=size(20, 40), deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


class ShipmentsAcrossLocations(RuleBasedStateMachine):
    service: ClassVar = None
    reached: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        self.locations = [f"L{i}-{tag}" for i in range(3)]
        for priority, location in enumerate(self.locations, start=1):
            self.service.put_location(location, LocationIn(name=location, address=ADDRESS, priority=priority))
        self.skus = [f"S{i}-{tag}" for i in range(2)]
        for sku in self.skus:
            self.service.put_product(sku, ProductIn(name=sku, unit_price=Decimal(3)))
        self.customer = f"C-{tag}"
        self.service.put_customer(self.customer, CustomerIn(name="c", credit_limit=Decimal(1_000_000)))
        self.received: Counter[tuple[str, str]] = Counter()
        self.orders: list[str] = []

    @initialize(stock=st.lists(st.integers(0, 8), min_size=6, max_size=6))
    def opening_stock(self, stock: list[int]) -> None:
        """Random stock of each SKU at each location."""
        for index, quantity in enumerate(stock):
            if quantity:
                self.receive(index % 2, index // 2, quantity)

    @rule(sku=st.integers(0, 1), location=st.integers(0, 2), quantity=st.integers(1, 6))
    def receive(self, sku: int, location: int, quantity: int) -> None:
        self.service.adjust_stock(self.skus[sku], StockAdjustmentIn(quantity=quantity, reason="receipt",
                                                                    location_id=self.locations[location]))
        self.received[self.skus[sku], self.locations[location]] += quantity

    @rule(lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 5)), min_size=1, max_size=2,
                         unique_by=lambda line: line[0]), policy=st.sampled_from(FulfilmentPolicy))
    def submit(self, lines: list[tuple[int, int]], policy: FulfilmentPolicy) -> None:
        request = Submit(customer_id=self.customer, shipping_address=SAMPLE_ADDRESS, fulfilment_policy=policy,
                         lines=[OrderLineIn(sku=self.skus[i], quantity=q) for i, q in lines])
        order = self.service.submit(request, uuid.uuid4().hex)
        self.orders.append(order.order_id)
        for step in (self.service.validate, self.service.check_credit):
            order = step(order.order_id, order)
        self._reserve(order.order_id)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def wake(self, data: st.DataObject) -> None:
        """A receipt woke the order: the workflow runs Reserve again (a waiting remainder, or a backorder)."""
        order = self.service.get_order(data.draw(st.sampled_from(self.orders)))
        if order.status in (S.BACKORDERED, S.PARTIALLY_RESERVED, S.PARTIALLY_SHIPPED):
            self._reserve(order.order_id)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), partial=st.booleans())
    def ship(self, data: st.DataObject, partial: bool) -> None:
        order = self.service.get_order(data.draw(st.sampled_from(self.orders)))
        if not order.open_shipments():
            return
        ref = data.draw(st.sampled_from(order.open_shipments()))
        lines = None
        if partial:
            sent = {sku: data.draw(st.integers(0, units)) for sku, units in ref.lines.items()}
            lines = [OrderLineIn(sku=sku, quantity=units) for sku, units in sent.items() if units] or None
        after, shipment = self.service.ship_shipment(ref.shipment_id, ShipIn(carrier="DHL", lines=lines))
        assert shipment.status == H.SHIPPED
        assert after.status in (S.SHIPPED, S.PARTIALLY_SHIPPED)
        again, _ = self.service.ship_shipment(ref.shipment_id, ShipIn(carrier="DHL", lines=lines))
        assert again.version == self.service.get_order(order.order_id).version  # a retry changes nothing

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        order = self.service.get_order(data.draw(st.sampled_from(self.orders)))
        on_the_way = [r for r in order.shipments if r.state == "shipped"]
        if on_the_way:
            after, shipment = self.service.deliver_shipment(data.draw(st.sampled_from(on_the_way)).shipment_id)
            assert shipment.status == H.DELIVERED
            assert after.status in (S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        before = self.service.get_order(order_id)
        try:
            assert self.service.cancel(order_id, "changed my mind").status == S.CANCELLED
        except Conflict:
            assert before.status not in (S.RESERVED, S.PARTIALLY_RESERVED, S.BACKORDERED, S.CANCELLED)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel_some(self, data: st.DataObject) -> None:
        """Some units that have not left are cancelled; the same request again changes nothing."""
        order = self.service.get_order(data.draw(st.sampled_from(self.orders)))
        open_ = cancellable(order)
        if order.status not in IN_PART or not open_:
            return
        sku = data.draw(st.sampled_from(sorted(open_)))
        units, key = {sku: data.draw(st.integers(1, open_[sku]))}, uuid.uuid4().hex
        after = self.service.cancel_lines(order.order_id, units, "fewer", key)
        assert self.service.cancel_lines(order.order_id, units, "fewer", key).version == after.version

    @precondition(lambda self: self.orders)
    @rule(days=st.sampled_from([15, 31]))
    def sweep(self, days: int) -> None:
        """The deadline sweep, ``days`` from now: backorders (14 days) fail, late shipments (30) are cancelled, or
        their order failed when nothing of it went on; a second sweep changes nothing."""
        now = (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.service.expire_overdue(now=now)
        mine = [self.service.get_order(order_id).version for order_id in self.orders]
        self.service.expire_overdue(now=now)
        assert [self.service.get_order(order_id).version for order_id in self.orders] == mine
        if days > 30:
            assert not any(self.service.get_order(order_id).open_shipments() for order_id in self.orders)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def every_unit_is_somewhere_and_no_location_oversells(self) -> None:
        service = self.service
        orders = [service.get_order(order_id) for order_id in self.orders]
        shipments = [s for o in orders for s in service.shipments_of(o)]
        for sku in self.skus:
            position = service.get_stock(sku)
            for location in self.locations:
                level = position.at(location)
                sent = sum(li.quantity for s in shipments if s.location_id == location
                           and s.status in (H.SHIPPED, H.DELIVERED) for li in s.shipped or [] if li.sku == sku)
                held = sum(o.allocations.get(location, {}).get(sku, 0) for o in orders)
                open_lines = sum(li.quantity for s in shipments if s.location_id == location
                                 and s.status in OPEN_SHIPMENT for li in s.lines if li.sku == sku)
                assert level.on_hand == self.received[sku, location] - sent, (location, level)
                assert level.reserved == held == open_lines, (location, level, held, open_lines)
                assert level.available == level.on_hand - level.reserved >= 0, (location, level)
            assert position.on_hand == sum(position.at(loc).on_hand for loc in self.locations)
            waiting = sum(o.line_quantities(sku, li.quantity)["backordered"] for o in orders
                          for li in o.lines if li.sku == sku)
            assert position.backordered == waiting, (sku, position, waiting)
        released = Counter((s.order_id, s.created_at, s.location_id) for s in shipments)
        assert max(released.values(), default=1) == 1, released  # one shipment per location per allocation
        for order in orders:
            for line in order.public()["lines"]:
                placed = line["allocated"] + line["shipped"] + line["backordered"] + line["cancelled"]
                assert placed == line["quantity"], (order.status, line)
                assert line["delivered"] <= line["shipped"]
            if order.status == S.SHIPPED:
                assert not order.open_shipments() and not order.backordered
            if order.status == S.PARTIALLY_RESERVED:
                assert order.fulfilment_policy == FulfilmentPolicy.SHIP_AVAILABLE and order.backordered

    def teardown(self) -> None:
        for order_id in self.orders:
            ShipmentsAcrossLocations.reached[self.service.get_order(order_id).status.value] += 1
        for location in self.locations:  # later examples must not source from these
            self.service.put_location(location, LocationIn(name="closed", address=ADDRESS, active=False))

    def _reserve(self, order_id: str) -> None:
        try:
            self.service.reserve(order_id)
        except OutOfStock:
            self.service.await_stock(order_id)


def test_shipments_across_locations_keep_every_unit_accounted_for(service, figures):
    ShipmentsAcrossLocations.service = service
    ShipmentsAcrossLocations.reached.clear()
    run_state_machine_as_test(ShipmentsAcrossLocations, settings=PROFILE)
    reached = ShipmentsAcrossLocations.reached
    figures("6. Property-based tests (hypothesis)", "shipments across three locations",
            f"{PROFILE.max_examples} sequences of up to {PROFILE.stateful_step_count} steps (receipts, orders, "
            "both fulfilment policies, full and partial shipments, deliveries, cancels of orders and of some units, "
            "wake-ups, deadline sweeps), per-location and "
            f"total invariants held after every step; {sum(reached.values())} orders ended " +
            ", ".join(f"{status} {n}" for status, n in reached.most_common()))
