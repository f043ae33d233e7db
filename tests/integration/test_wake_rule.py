"""Which backorders an arrival wakes (docs/decisions.md, "Backorders wait on the stock table"): oldest first, as
many as the SKU's available stock can serve, and not an order that is still short of another SKU it must have
with this one (a ship_complete order). The harsh soak's storm (RELIABILITY.md): every return restocking a
plentiful SKU woke all the orders waiting on a short one, each a new execution that found it short again."""

from __future__ import annotations

import uuid

import pytest
from test_fulfilment_policies import AVAILABLE, COMPLETE, to_reserve, unstocked, waiting

from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders import OrderStatus
from orderflow.shared.errors import OutOfStock

S = OrderStatus


class Recorded:
    """The Backorders port, recording the wake-ups instead of starting executions."""

    def __init__(self) -> None:
        self.woken: list[tuple[str, str]] = []

    def wake(self, order_id: str, sku: str) -> None:
        self.woken.append((order_id, sku))


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


@pytest.fixture
def wakes(service, monkeypatch) -> Recorded:
    recorded = Recorded()
    monkeypatch.setattr(service.inventory, "backorders", recorded)
    return recorded


def customer(service) -> str:
    from test_sourcing_reservations import shop

    return shop(service, {})[0]


def arrive(service, sku: str, units: int) -> list[str]:
    """``units`` of ``sku`` received, then the arrival's wake-up: the orders it woke, oldest first."""
    service.adjust_stock(sku, StockAdjustmentIn(quantity=units, reason="receipt"))
    recorder = service.inventory.backorders
    before = len(recorder.woken)
    service.wake_backorders(sku)
    return [order_id for order_id, _ in recorder.woken[before:]]


def woken_reserve(service, order_id: str):
    """What the woken execution does: Reserve, and Backorder when the stock is short after all."""
    try:
        return service.reserve(order_id)
    except OutOfStock:
        return service.await_stock(order_id)


def test_a_plentiful_sku_arriving_wakes_no_order_short_of_another_then_the_short_one_wakes_them(service, wakes):
    buyer = customer(service)
    hot, side = unstocked(service), unstocked(service)
    service.adjust_stock(side, StockAdjustmentIn(quantity=100, reason="receipt"))
    orders = [to_reserve(service, buyer, {hot: 2, side: 1}, COMPLETE) for _ in range(3)]
    assert [o.status for o in orders] == [S.BACKORDERED] * 3
    assert service.get_stock(hot).backordered == 6 and service.get_stock(side).backordered == 3

    for _ in range(3):  # returns put back on the shelf, one after the other
        assert arrive(service, side, 1) == []  # the hot SKU is short: none of them can be reserved
    assert [service.get_order(o.order_id).status for o in orders] == [S.BACKORDERED] * 3

    first, second, third = (o.order_id for o in orders)
    assert arrive(service, hot, 4) == [first, second]  # oldest first, as many as 4 units serve
    assert [woken_reserve(service, o).status for o in (first, second)] == [S.RESERVED, S.RESERVED]
    assert service.get_order(third).status == S.BACKORDERED
    assert waiting(service, hot) == {third: 2} and waiting(service, side) == {third: 1}
    assert (service.get_stock(hot).backordered, service.get_stock(side).backordered) == (2, 1)


@pytest.mark.parametrize("last", ["a", "b"])
def test_an_order_short_of_two_skus_is_woken_by_the_arrival_of_the_last_one(service, wakes, last):
    buyer = customer(service)
    skus = {"a": unstocked(service), "b": unstocked(service)}
    order = to_reserve(service, buyer, {skus["a"]: 2, skus["b"]: 3}, COMPLETE)
    assert order.status == S.BACKORDERED
    first = skus["b" if last == "a" else "a"]

    assert arrive(service, first, 5) == []  # still short of the other
    assert arrive(service, skus[last], 5) == [order.order_id]
    assert woken_reserve(service, order.order_id).status == S.RESERVED
    assert waiting(service, skus["a"]) == {} and waiting(service, skus["b"]) == {}


def test_an_order_woken_then_beaten_to_the_other_sku_is_woken_again_when_that_one_comes(service, wakes):
    buyer, rival = customer(service), customer(service)
    a, b = unstocked(service), unstocked(service)
    order = to_reserve(service, buyer, {a: 1, b: 1}, COMPLETE)
    assert arrive(service, b, 1) == []
    assert arrive(service, a, 1) == [order.order_id]
    assert to_reserve(service, rival, {b: 1}, COMPLETE).status == S.RESERVED  # took b before the wake-up ran
    assert woken_reserve(service, order.order_id).status == S.BACKORDERED  # back to waiting on both

    assert arrive(service, a, 1) == []  # b is short again
    assert arrive(service, b, 1) == [order.order_id]
    assert woken_reserve(service, order.order_id).status == S.RESERVED


def test_the_same_arrival_twice_wakes_the_same_orders_and_reserves_them_once(service, wakes):
    buyer = customer(service)
    hot, side = unstocked(service), unstocked(service)
    service.adjust_stock(side, StockAdjustmentIn(quantity=10, reason="receipt"))
    order = to_reserve(service, buyer, {hot: 2, side: 1}, COMPLETE)
    assert arrive(service, hot, 2) == [order.order_id]
    service.wake_backorders(hot)  # redelivered
    assert wakes.woken[-2:] == [(order.order_id, hot), (order.order_id, hot)]
    reserved = woken_reserve(service, order.order_id)
    assert woken_reserve(service, order.order_id).version == reserved.version
    assert (service.get_stock(hot).reserved, service.get_stock(side).reserved) == (2, 1)


def test_a_ship_available_order_is_woken_by_any_sku_it_waits_for(service, wakes):
    buyer = customer(service)
    a, b = unstocked(service), unstocked(service)
    order = to_reserve(service, buyer, {a: 2, b: 2}, AVAILABLE)
    assert order.status == S.BACKORDERED
    assert arrive(service, a, 2) == [order.order_id]  # it takes the part that came
    woken = woken_reserve(service, order.order_id)
    assert (woken.status, woken.backordered) == (S.PARTIALLY_RESERVED, {b: 2})
    assert arrive(service, b, 2) == [order.order_id]
    assert woken_reserve(service, order.order_id).status == S.RESERVED


def test_cancelling_the_short_sku_of_a_backorder_lets_the_other_arrival_wake_it(service, wakes):
    buyer = customer(service)
    hot, gone = unstocked(service), unstocked(service)
    order = to_reserve(service, buyer, {hot: 2, gone: 1}, COMPLETE)
    service.cancel_lines(order.order_id, {gone: 1}, "no longer wanted", uuid.uuid4().hex)
    assert waiting(service, gone) == {}
    assert arrive(service, hot, 2) == [order.order_id]  # its wait no longer names the cancelled SKU
    assert woken_reserve(service, order.order_id).status == S.RESERVED
