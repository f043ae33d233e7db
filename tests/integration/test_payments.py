"""Payments are idempotent by their reference for ever, not only while the API's 24-hour idempotency
record lasts: the ERP may post the same payment again days later. On the in-process services."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from orderflow.catalogue.requests import CustomerIn, PaymentIn
from orderflow.shared.errors import Conflict


@pytest.fixture(scope="module")
def service(in_process_service):
    return in_process_service


def owing(service, amount: int) -> str:
    """A customer whose open exposure is ``amount`` (as if orders were delivered and not yet paid)."""
    customer = f"C-{uuid.uuid4().hex[:8]}"
    service.put_customer(customer, CustomerIn(name="Test", credit_limit=Decimal(1000)))
    service.store.commit([service.customers.hold_credit(customer, Decimal(amount))])
    return customer


def test_the_same_reference_again_takes_nothing_more_off(service):
    customer = owing(service, 100)
    first = service.record_payment(customer, PaymentIn(amount=Decimal(30), reference="INV-1"))
    again = service.record_payment(customer, PaymentIn(amount=Decimal(30), reference="INV-1"))
    assert first.exposure == again.exposure == Decimal(70)
    assert service.record_payment(customer, PaymentIn(amount=Decimal(30), reference="INV-2")).exposure == 40


def test_the_same_reference_with_another_amount_is_a_conflict(service):
    customer = owing(service, 100)
    service.record_payment(customer, PaymentIn(amount=Decimal(30), reference="INV-1"))
    with pytest.raises(Conflict) as refused:
        service.record_payment(customer, PaymentIn(amount=Decimal(31), reference="INV-1"))
    assert refused.value.details == {"reference": "INV-1", "amount": 30.0}
    assert service.get_customer(customer).exposure == Decimal(70)


def test_a_payment_over_the_exposure_is_refused_and_its_reference_stays_free(service):
    customer = owing(service, 20)
    with pytest.raises(Conflict):
        service.record_payment(customer, PaymentIn(amount=Decimal(25), reference="INV-9"))
    assert service.get_customer(customer).exposure == Decimal(20)
    paid = service.record_payment(customer, PaymentIn(amount=Decimal(20), reference="INV-9"))  # now it fits
    assert paid.exposure == 0


def test_the_same_reference_at_two_customers_is_two_payments(service):
    alice, bob = owing(service, 50), owing(service, 50)
    service.record_payment(alice, PaymentIn(amount=Decimal(10), reference="BANK-7"))
    assert service.record_payment(bob, PaymentIn(amount=Decimal(10), reference="BANK-7")).exposure == 40
