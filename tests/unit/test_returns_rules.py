"""Return (RMA) rules: what may be returned, until when, for how much, and where each unit goes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from orderflow.orders.domain import Order, OrderStatus, Shipment, TimelineEntry
from orderflow.returns.domain import (
    Disposition,
    ReceiptMismatch,
    ReceiveIn,
    ReturnExceedsDelivered,
    ReturnRequestIn,
    ReturnStatus,
    ReturnWindowClosed,
    check_quantities,
    check_receipt,
    check_window,
    delivered_at,
    dispose,
    receipt_outcome,
    refund_amount,
    return_id_for,
    return_lines,
    returnable,
    same_receipt,
    window_closes_at,
)
from orderflow.returns.domain import Return as Rma
from orderflow.shared.errors import Conflict

DELIVERED_AT = "2026-03-01T10:00:00.000Z"


def delivered_order(returned: dict[str, int] | None = None, **overrides) -> Order:
    values = {
        "order_id": "ord-1", "customer_id": "c-1", "status": OrderStatus.DELIVERED,
        "lines": [{"sku": "MUG", "quantity": 3, "unit_price": Decimal("12.50"), "name": "Mug"},
                  {"sku": "TEA", "quantity": 1, "unit_price": Decimal("4.99")}],
        "total": Decimal("42.49"), "created_at": "2026-02-27T09:00:00.000Z", "updated_at": DELIVERED_AT,
        "shipment": Shipment(carrier="DHL", shipped_at="2026-02-28T09:00:00.000Z", delivered_at=DELIVERED_AT),
        "returned": returned or {},
    }
    return Order.model_validate({**values, **overrides})


def request(*lines: tuple[str, int], exchange: list[tuple[str, int]] | None = None) -> ReturnRequestIn:
    body: dict = {"lines": [{"sku": s, "quantity": q, "reason": "not as described"} for s, q in lines]}
    if exchange is not None:
        body["exchange"] = [{"sku": s, "quantity": q} for s, q in exchange]
    return ReturnRequestIn.model_validate(body)


def receipt(*lines: tuple[str, int, str]) -> ReceiveIn:
    return ReceiveIn.model_validate({"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines]})


def approved(order: Order, *lines: tuple[str, int]) -> Rma:
    priced = return_lines(order, request(*lines).lines)
    return Rma(return_id="ret-1", order_id=order.order_id, customer_id=order.customer_id,
               status=ReturnStatus.APPROVED, lines=priced, refund_amount=refund_amount(priced),
               created_at=DELIVERED_AT, updated_at=DELIVERED_AT)


# ------------------------------------------------------------------ quantities
def test_everything_delivered_is_returnable_at_first():
    assert returnable(delivered_order()) == {"MUG": 3, "TEA": 1}


def test_units_returned_by_earlier_returns_are_no_longer_returnable():
    assert returnable(delivered_order(returned={"MUG": 2})) == {"MUG": 1, "TEA": 1}


def test_returning_up_to_what_is_left_is_accepted():
    check_quantities(delivered_order(returned={"MUG": 1}), request(("MUG", 2), ("TEA", 1)).lines)


def test_returning_more_than_delivered_is_refused_per_sku():
    with pytest.raises(ReturnExceedsDelivered) as refused:
        check_quantities(delivered_order(), request(("MUG", 4), ("TEA", 1)).lines)
    assert refused.value.http_status == 422
    assert refused.value.code == "RETURN_EXCEEDS_DELIVERED"
    assert refused.value.details["lines"] == [
        {"sku": "MUG", "requested": 4, "delivered": 3, "already_returned": 0, "returnable": 0 + 3,
         "problem": "more than was delivered and not yet returned"}]


def test_the_limit_counts_every_earlier_return():
    with pytest.raises(ReturnExceedsDelivered) as refused:
        check_quantities(delivered_order(returned={"MUG": 2}), request(("MUG", 2)).lines)
    assert refused.value.details["lines"][0] | {"problem": None} == {
        "sku": "MUG", "requested": 2, "delivered": 3, "already_returned": 2, "returnable": 1, "problem": None}


def test_a_sku_that_was_not_on_the_order_cannot_be_returned():
    with pytest.raises(ReturnExceedsDelivered) as refused:
        check_quantities(delivered_order(), request(("MUG", 1), ("SPOON", 1)).lines)
    assert [p["sku"] for p in refused.value.details["lines"]] == ["SPOON"]
    assert refused.value.details["lines"][0]["delivered"] == 0


@pytest.mark.parametrize("body", [
    {"lines": []},
    {"lines": [{"sku": "MUG", "quantity": 0, "reason": "x"}]},
    {"lines": [{"sku": "MUG", "quantity": 1}]},
    {"lines": [{"sku": "MUG", "quantity": 1, "reason": ""}]},
    {"lines": [{"sku": "MUG", "quantity": 1, "reason": "x"}, {"sku": "MUG", "quantity": 1, "reason": "y"}]},
    {"lines": [{"sku": "MUG", "quantity": 1, "reason": "x"}], "exchange": []},
    {"lines": [{"sku": "MUG", "quantity": 1, "reason": "x"}], "exchange": [{"sku": "A", "quantity": -1}]},
    {"lines": [{"sku": "MUG", "quantity": 1, "reason": "x", "refund": 100}]},
])
def test_malformed_return_requests_are_refused(body):
    with pytest.raises(ValidationError):
        ReturnRequestIn.model_validate(body)


# ------------------------------------------------------------------ window
def test_window_closes_the_given_days_after_delivery():
    assert window_closes_at(DELIVERED_AT, 30) == datetime(2026, 3, 31, 10, 0, tzinfo=UTC)


def test_inside_the_window_is_accepted():
    check_window(delivered_order(), 30, datetime(2026, 3, 31, 9, 59, 59, tzinfo=UTC))


def test_after_the_window_is_refused_with_its_dates():
    with pytest.raises(ReturnWindowClosed) as refused:
        check_window(delivered_order(), 30, datetime(2026, 3, 31, 10, 0, tzinfo=UTC))
    assert refused.value.http_status == 422 and refused.value.code == "RETURN_WINDOW_CLOSED"
    assert refused.value.details == {"delivered_at": DELIVERED_AT, "window_days": 30,
                                     "closed_at": "2026-03-31T10:00:00.000Z"}


def test_a_zero_day_window_allows_no_returns():
    with pytest.raises(ReturnWindowClosed):
        check_window(delivered_order(), 0, datetime.fromisoformat(DELIVERED_AT) + timedelta(milliseconds=1))


def test_delivery_date_falls_back_to_the_timeline():
    order = delivered_order(shipment=None, timeline=[
        TimelineEntry(status=OrderStatus.SHIPPED, at="2026-02-28T09:00:00.000Z"),
        TimelineEntry(status=OrderStatus.DELIVERED, at=DELIVERED_AT)])
    assert delivered_at(order) == DELIVERED_AT


def test_an_order_without_a_delivery_date_cannot_be_returned():
    with pytest.raises(Conflict):
        check_window(delivered_order(shipment=None), 30, datetime.now(UTC))


# ------------------------------------------------------------------ refund
def test_each_line_is_priced_at_what_the_customer_paid():
    lines = return_lines(delivered_order(), request(("MUG", 2), ("TEA", 1)).lines)
    assert [(li.sku, li.unit_price, li.refund, li.name) for li in lines] == [
        ("MUG", Decimal("12.50"), Decimal("25.00"), "Mug"), ("TEA", Decimal("4.99"), Decimal("4.99"), None)]
    assert refund_amount(lines) == Decimal("29.99")


def test_damaged_units_are_refunded_too():
    ret = approved(delivered_order(), ("MUG", 2))
    disposed, *_ = dispose(ret, receipt(("MUG", 2, "damaged")).lines)
    assert refund_amount(disposed) == Decimal("25.00") == ret.refund_amount


# ------------------------------------------------------------------ receipt and disposition
def test_resellable_goes_back_to_stock_and_damaged_is_scrapped():
    ret = approved(delivered_order(), ("MUG", 2), ("TEA", 1))
    lines, received, restocked, scrapped = dispose(ret, receipt(("MUG", 2, "resellable"), ("TEA", 1, "damaged")).lines)

    assert restocked == {"MUG": 2} and scrapped == {"TEA": 1}
    assert [(li.sku, li.disposition, li.restocked, li.scrapped) for li in lines] == [
        ("MUG", Disposition.RESTOCKED, 2, 0), ("TEA", Disposition.SCRAPPED, 0, 1)]
    assert [(li.sku, li.condition.value, li.disposition.value) for li in received] == [
        ("MUG", "resellable", "restocked"), ("TEA", "damaged", "scrapped")]
    assert receipt_outcome(restocked) == ReturnStatus.RESTOCKED


def test_one_line_can_be_partly_damaged():
    ret = approved(delivered_order(), ("MUG", 3))
    lines, _, restocked, scrapped = dispose(ret, receipt(("MUG", 2, "resellable"), ("MUG", 1, "damaged")).lines)
    assert (restocked, scrapped) == ({"MUG": 2}, {"MUG": 1})
    assert lines[0].disposition == Disposition.RESTOCKED_AND_SCRAPPED


def test_all_damaged_is_scrapped():
    ret = approved(delivered_order(), ("MUG", 1))
    _, _, restocked, _ = dispose(ret, receipt(("MUG", 1, "damaged")).lines)
    assert receipt_outcome(restocked) == ReturnStatus.SCRAPPED


@pytest.mark.parametrize("lines", [
    [("MUG", 1, "resellable")],
    [("MUG", 3, "resellable")],
    [("MUG", 2, "resellable"), ("TEA", 1, "resellable")],
    [("TEA", 2, "damaged")],
])
def test_the_receipt_must_match_what_was_approved(lines):
    with pytest.raises(ReceiptMismatch) as refused:
        check_receipt(approved(delivered_order(), ("MUG", 2)), receipt(*lines).lines)
    assert refused.value.http_status == 422
    assert refused.value.details["lines"]


def test_a_matching_receipt_split_by_condition_is_accepted():
    ret = approved(delivered_order(), ("MUG", 2))
    check_receipt(ret, receipt(("MUG", 1, "resellable"), ("MUG", 1, "damaged")).lines)


def test_a_repeated_receipt_is_recognised():
    ret = approved(delivered_order(), ("MUG", 2))
    _, received, _, _ = dispose(ret, receipt(("MUG", 1, "resellable"), ("MUG", 1, "damaged")).lines)
    ret = ret.model_copy(update={"received": received})
    assert same_receipt(ret, receipt(("MUG", 1, "damaged"), ("MUG", 1, "resellable")).lines)
    assert not same_receipt(ret, receipt(("MUG", 2, "resellable")).lines)


@pytest.mark.parametrize("lines", [
    [],
    [{"sku": "MUG", "quantity": 1, "condition": "lost"}],
    [{"sku": "MUG", "quantity": 1, "condition": "damaged"}, {"sku": "MUG", "quantity": 1, "condition": "damaged"}],
])
def test_malformed_receipts_are_refused(lines):
    with pytest.raises(ValidationError):
        ReceiveIn.model_validate({"lines": lines})


# ------------------------------------------------------------------ ids
def test_return_id_is_deterministic_with_a_key_and_unique_without():
    assert return_id_for("ord-1", "k") == return_id_for("ord-1", "k")
    assert return_id_for("ord-1", "k") != return_id_for("ord-2", "k")
    assert return_id_for("ord-1", None) != return_id_for("ord-1", None)
    assert return_id_for("ord-1", "k").startswith("ret-")
