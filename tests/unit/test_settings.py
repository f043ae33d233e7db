"""Settings come from the environment the template sets, typed; a value of the wrong type names its variable."""

from decimal import Decimal

import pytest

from orderflow.shared.settings import Settings


def test_environment_values_are_typed_and_arguments_win(monkeypatch):
    monkeypatch.setenv("RETURN_WINDOW_DAYS", "14")
    monkeypatch.setenv("PURCHASE_APPROVAL_THRESHOLD", "2500.50")
    monkeypatch.setenv("ORDERS_TABLE", "orders-prod")
    settings = Settings(orders_table="orders-test")
    assert (settings.return_window_days, settings.purchase_approval_threshold, settings.orders_table) == \
        (14, Decimal("2500.50"), "orders-test")


@pytest.mark.parametrize(("variable", "value"), [("RETURN_WINDOW_DAYS", "two weeks"),
                                                 ("PURCHASE_APPROVAL_THRESHOLD", "lots")])
def test_a_value_of_the_wrong_type_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable} must be"):
        Settings()


def test_an_unknown_setting_is_refused():
    with pytest.raises(TypeError, match="unknown settings: colour"):
        Settings(colour="blue")
