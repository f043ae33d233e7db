"""Settings come from the environment the template sets, typed; a value of the wrong type names its variable."""

from decimal import Decimal

import pytest

from orderflow.shared.settings import Settings, get_settings


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


@pytest.mark.parametrize("table", ["kpis-of-one-test", "kpis-of-the-next"])
def test_each_test_reads_the_settings_of_its_own_environment(monkeypatch, table):
    """Whichever of the two runs second would read the first's table if the process-wide cache outlived
    a test (tests/conftest.py clears it around each); within one, as in a Lambda process, it is read once."""
    monkeypatch.setenv("KPIS_TABLE", table)
    assert get_settings().kpis_table == table
    monkeypatch.setenv("KPIS_TABLE", "changed-after-the-first-read")
    assert get_settings() is get_settings() and get_settings().kpis_table == table
