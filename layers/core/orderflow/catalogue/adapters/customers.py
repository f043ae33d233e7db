"""Customers table: credit limit, open exposure and the credit still available.

``credit_available`` (= limit - exposure) is stored so that approval is one conditional update.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from orderflow.catalogue.domain import Customer
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Read, Write

if TYPE_CHECKING:
    from orderflow.catalogue.requests import CustomerIn


class CustomersRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, customer_id: str) -> Customer | None:
        item = dynamo.get(self.table, {"customer_id": customer_id})
        return Customer.model_validate(item) if item else None

    def read(self, customer_id: str) -> Read:
        """``get`` as a read to batch with other tables' (``dynamo.read_together``): the customer or None,
        strongly consistent like ``get``, so a customer created a moment ago is found."""
        return Read(self.table, [{"customer_id": customer_id}], consistent=True,
                    parse=lambda items: Customer.model_validate(items[0]) if items else None)

    def upsert(self, customer_id: str, data: CustomerIn) -> Customer:
        item = dynamo.apply(Write(
            "Update", self.table, key={"customer_id": customer_id},
            update="SET #name = :name, credit_limit = :limit, exposure = if_not_exists(exposure, :zero), "
                   "credit_available = :limit - if_not_exists(exposure, :zero)",
            names={"#name": "name"}, values={":name": data.name, ":limit": data.credit_limit, ":zero": 0},
        ), return_new=True)
        return Customer.model_validate(item)

    def hold_credit(self, customer_id: str, amount: Decimal) -> Write:
        return Write("Update", self.table, key={"customer_id": customer_id},
                     update="ADD exposure :amount, credit_available :minus",
                     condition="credit_available >= :amount",
                     values={":amount": amount, ":minus": -amount})

    def pay(self, customer_id: str, amount: Decimal) -> Write:
        """Take a payment off the exposure; its condition fails when it is more than is open."""
        return Write("Update", self.table, key={"customer_id": customer_id},
                     update="ADD exposure :minus, credit_available :amount",
                     condition="attribute_exists(customer_id) AND exposure >= :amount",
                     values={":amount": amount, ":minus": -amount})

    def payment(self, customer_id: str, reference: str, amount: Decimal, at: str) -> Write:
        """The payment's own record, put only once per (customer, reference): a reference seen again,
        however much later, is the same payment, never a second one."""
        return Write("Put", self.table, item={"customer_id": _payment_key(customer_id, reference), "kind": "payment",
                                              "reference": reference, "amount": amount, "at": at},
                     condition="attribute_not_exists(customer_id)")

    def payment_amount(self, customer_id: str, reference: str) -> Decimal | None:
        item = dynamo.get(self.table, {"customer_id": _payment_key(customer_id, reference)})
        return Decimal(item["amount"]) if item else None

    def release_credit(self, customer_id: str, amount: Decimal) -> Write:
        return Write("Update", self.table, key={"customer_id": customer_id},
                     update="ADD exposure :minus, credit_available :amount",
                     condition="attribute_exists(customer_id)",
                     values={":amount": amount, ":minus": -amount})


def _payment_key(customer_id: str, reference: str) -> str:
    """Payments are items of the customers table under a key no customer id can take (ids have no '#')."""
    return f"payment#{customer_id}#{reference}"
