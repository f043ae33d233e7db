"""Request models: what the API accepts and refuses before anything is written."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from orderflow.catalogue.requests import CustomerIn, ProductIn
from orderflow.inventory.requests import StockAdjustmentIn
from orderflow.orders.domain import MAX_ORDER_LINES
from orderflow.orders.requests import SubmitOrderIn
from orderflow.orders.service import order_id_for

ADDRESS = {"name": "A", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}


def order(**overrides):
    body = {"customer_id": "c-1", "lines": [{"sku": "SKU-1", "quantity": 2}], "shipping_address": ADDRESS}
    body.update(overrides)
    return SubmitOrderIn.model_validate(body)


def test_valid_order():
    assert order().lines[0].quantity == 2
    assert order().channel == "api"


@pytest.mark.parametrize(("field", "value"), [("country", "UK"), ("country", ""), ("city", ""),
                                              ("postal_code", "x" * 21), ("name", None)])
def test_a_bad_shipping_address_names_its_field(field, value):
    address = {**ADDRESS, field: value}
    with pytest.raises(ValidationError) as refused:
        order(shipping_address=address)
    assert refused.value.errors()[0]["loc"] == ("shipping_address", field)


def test_an_order_without_a_shipping_address_is_refused():
    with pytest.raises(ValidationError) as refused:
        SubmitOrderIn.model_validate({"customer_id": "c-1", "lines": [{"sku": "SKU-1", "quantity": 2}]})
    assert refused.value.errors()[0]["loc"] == ("shipping_address",)


@pytest.mark.parametrize("lines", [
    [],
    [{"sku": "A", "quantity": 0}],
    [{"sku": "A", "quantity": -1}],
    [{"sku": "A", "quantity": "2"}],
    [{"sku": "A", "quantity": 1.5}],
    [{"sku": "A", "quantity": 10**9}],
    [{"sku": "", "quantity": 1}],
    [{"sku": "A B", "quantity": 1}],
    [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}],
    [{"sku": f"S{i}", "quantity": 1} for i in range(MAX_ORDER_LINES + 1)],
    [{"sku": "A", "quantity": 1, "price": 0}],
])
def test_bad_lines_are_refused(lines):
    with pytest.raises(ValidationError):
        order(lines=lines)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        order(discount=50)


def test_duplicate_sku_error_names_the_sku():
    with pytest.raises(ValidationError, match="SKU-9 appears more than once"):
        order(lines=[{"sku": "SKU-9", "quantity": 1}, {"sku": "SKU-9", "quantity": 1}])


def test_money_is_exact_and_non_negative():
    assert ProductIn(name="x", unit_price="19.99").unit_price == Decimal("19.99")
    assert CustomerIn(name="x", credit_limit=0).credit_limit == 0
    with pytest.raises(ValidationError):
        ProductIn(name="x", unit_price=-1)
    with pytest.raises(ValidationError):
        ProductIn(name="x", unit_price="1.999")


def test_stock_adjustment_must_move_something():
    assert StockAdjustmentIn(quantity=-3, reason="damaged").quantity == -3
    with pytest.raises(ValidationError):
        StockAdjustmentIn(quantity=0, reason="nothing")
    with pytest.raises(ValidationError):
        StockAdjustmentIn(quantity=5, reason="")


def test_order_id_is_stable_per_customer_and_key():
    assert order_id_for("c-1", "k") == order_id_for("c-1", "k")
    assert order_id_for("c-1", "k") != order_id_for("c-2", "k")
    assert order_id_for("c-1", "k") != order_id_for("c-1", "k2")
