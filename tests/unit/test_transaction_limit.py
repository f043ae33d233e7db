"""The worst case of one reservation transaction, which submit checks against DynamoDB's 100 items
(docs/fulfilment.md, "The transaction limit")."""

import pytest

from orderflow.orders.domain import MAX_ORDER_LINES, MAX_TRANSACTION_ITEMS, worst_case_reservation


@pytest.mark.parametrize(("quantities", "locations", "items"), [
    ([1], 1, 4),                      # order + 1 hold + 1 shipment + 1 wait
    ([5, 5], 1, 6),                   # one location: one hold per line, one shipment
    ([5, 5], 3, 1 + 6 + 3 + 2),       # each line may split over the 3 locations
    ([1, 1, 1], 10, 1 + 3 + 3 + 3),   # a unit is held at one location: no more holds than units
    ([2, 1], 10, 1 + 3 + 3 + 2),      # shipments: no more than the holds
    ([2, 1], None, 1 + 3 + 3 + 2),    # any number of locations: each unit somewhere else at worst
    ([50], None, 1 + 50 + 50 + 1),
])
def test_worst_case_counts_the_order_holds_shipments_and_waits(quantities, locations, items):
    assert worst_case_reservation(quantities, locations) == items


def test_a_single_location_order_of_the_most_lines_always_fits():
    assert worst_case_reservation([1_000] * MAX_ORDER_LINES, 1) == 2 * MAX_ORDER_LINES + 2 <= MAX_TRANSACTION_ITEMS


def test_the_most_lines_over_several_locations_can_exceed_the_limit():
    """Why MAX_ORDER_LINES alone is no bound once stock is split: 40 lines of 3 units over 3 locations."""
    assert worst_case_reservation([3] * MAX_ORDER_LINES, 3) == 1 + 120 + 3 + 40 > MAX_TRANSACTION_ITEMS
    assert worst_case_reservation([1] * MAX_ORDER_LINES, 3) == 1 + 40 + 3 + 40 <= MAX_TRANSACTION_ITEMS
