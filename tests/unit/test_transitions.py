"""The order lifecycle table (docs/architecture.md, "Lifecycles") and what each status holds."""

import itertools

import pytest

from orderflow.orders.domain import OrderStatus as S
from orderflow.orders.lifecycle import (
    CANCELLABLE,
    HOLDS_CREDIT,
    HOLDS_STOCK,
    RETURNABLE,
    TERMINAL,
    TRANSITIONS,
)
from orderflow.orders.lifecycle import ORDER_LIFECYCLE as LIFECYCLE

can_transition = LIFECYCLE.allows

HAPPY_PATH = [S.PENDING, S.VALIDATED, S.CREDIT_APPROVED, S.RESERVED, S.SHIPPED, S.DELIVERED]


def test_every_status_has_a_row():
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "target"), list(itertools.pairwise(HAPPY_PATH)))
def test_happy_path_is_allowed(current, target):
    assert can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [
    (S.PENDING, S.RESERVED), (S.PENDING, S.SHIPPED), (S.VALIDATED, S.RESERVED), (S.RESERVED, S.DELIVERED),
    (S.SHIPPED, S.CANCELLED), (S.DELIVERED, S.CANCELLED), (S.CANCELLED, S.RESERVED), (S.REJECTED, S.VALIDATED),
    (S.FAILED, S.RESERVED), (S.BACKORDERED, S.SHIPPED),
])
def test_skipping_or_leaving_a_terminal_state_is_refused(current, target):
    assert not can_transition(current, target)


def test_backorder_loop():
    assert can_transition(S.CREDIT_APPROVED, S.BACKORDERED)
    assert can_transition(S.BACKORDERED, S.RESERVED)


def test_cancellable_until_shipped():
    assert {S.PENDING, S.VALIDATED, S.CREDIT_APPROVED, S.RESERVED, S.PARTIALLY_RESERVED, S.BACKORDERED} == CANCELLABLE


def test_ship_available_holds_part_then_the_rest_or_ships_in_parts():
    """PARTIALLY_RESERVED: reached from the reservation (first or woken from backorder); a receipt sources more
    (the same status while some still waits, RESERVED once nothing does); a shipment leaving makes it
    PARTIALLY_SHIPPED; cancelled or failed whole like a reserved order. Never shipped whole at once: the
    backordered part has not left."""
    assert can_transition(S.CREDIT_APPROVED, S.PARTIALLY_RESERVED)
    assert can_transition(S.BACKORDERED, S.PARTIALLY_RESERVED)
    for target in (S.PARTIALLY_RESERVED, S.RESERVED, S.PARTIALLY_SHIPPED, S.CANCELLED, S.FAILED):
        assert can_transition(S.PARTIALLY_RESERVED, target)
    for target in (S.SHIPPED, S.DELIVERED, S.BACKORDERED, S.VALIDATED):
        assert not can_transition(S.PARTIALLY_RESERVED, target)
    assert not can_transition(S.RESERVED, S.PARTIALLY_RESERVED)  # a reservation is never taken back in part


def test_terminal_states():
    # terminal for the order workflow; after delivery only returns move an order
    assert {S.DELIVERED, S.RETURN_REQUESTED, S.RETURNED, S.CANCELLED, S.REJECTED, S.FAILED} == TERMINAL


def test_returns_after_delivery():
    assert can_transition(S.DELIVERED, S.RETURN_REQUESTED)
    assert can_transition(S.RETURN_REQUESTED, S.RETURNED)
    assert can_transition(S.RETURNED, S.RETURN_REQUESTED)  # a further return of what is left
    assert can_transition(S.RETURN_REQUESTED, S.RETURN_REQUESTED)  # another return while one is open
    assert {S.DELIVERED, S.RETURN_REQUESTED, S.RETURNED} == RETURNABLE


@pytest.mark.parametrize(("current", "target"), [
    (S.SHIPPED, S.RETURN_REQUESTED), (S.RESERVED, S.RETURN_REQUESTED), (S.DELIVERED, S.RETURNED),
    (S.RETURN_REQUESTED, S.CANCELLED), (S.RETURNED, S.CANCELLED), (S.RETURN_REQUESTED, S.FAILED),
    (S.CANCELLED, S.RETURN_REQUESTED),
])
def test_returns_only_from_delivered_and_never_undo_the_sale(current, target):
    assert not can_transition(current, target)


def test_returned_orders_hold_nothing_and_cannot_be_cancelled():
    after_sales = {S.RETURN_REQUESTED, S.RETURNED}
    assert not after_sales & (HOLDS_CREDIT | HOLDS_STOCK | CANCELLABLE)


def test_holds_are_released_by_every_way_out():
    # whatever an order holds, the statuses it can fail or be cancelled from are exactly those that hold
    assert HOLDS_STOCK <= CANCELLABLE
    # a shipped (or partly shipped) order's value stays on the customer's exposure until paid
    assert all(can_transition(s, S.FAILED) for s in HOLDS_STOCK | (HOLDS_CREDIT - {S.SHIPPED, S.PARTIALLY_SHIPPED}))
    assert S.PENDING not in HOLDS_CREDIT and S.VALIDATED not in HOLDS_CREDIT


@pytest.mark.parametrize("target", sorted(S))
def test_the_condition_names_exactly_the_allowed_sources(target):
    sources = LIFECYCLE.sources(target)
    if not sources:
        with pytest.raises(ValueError):
            LIFECYCLE.condition(target)
        return
    expression, values = LIFECYCLE.condition(target)
    assert sorted(values.values()) == sorted(s.value for s in S if can_transition(s, target))
    assert expression == f"#status IN ({', '.join(values)})"


def test_cancelling_some_units_keeps_or_settles_the_status():
    """Some units cancelled: a reserved order stays reserved; a partly shipped one whose rest was cancelled is
    shipped, or delivered when what left is."""
    assert can_transition(S.RESERVED, S.RESERVED)
    assert can_transition(S.PARTIALLY_SHIPPED, S.DELIVERED)
    assert not can_transition(S.PARTIALLY_SHIPPED, S.CANCELLED)  # what left is not cancelled
