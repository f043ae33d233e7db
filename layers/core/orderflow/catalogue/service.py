"""The catalogue: products and customers, and the payments that free a customer's credit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderflow.catalogue.domain import Customer, Product
from orderflow.catalogue.ports import Customers, Products, StockThresholds
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, TransientError
from orderflow.shared.ports import Store
from orderflow.shared.types import utc_now

if TYPE_CHECKING:  # request bodies: functions that take none never build their models
    from orderflow.catalogue.requests import CustomerIn, PaymentIn, ProductIn


PUT_ATTEMPTS = 3


class CatalogueService:
    def __init__(self, store: Store, products: Products, customers: Customers, thresholds: StockThresholds):
        self.store, self.products, self.customers, self.thresholds = store, products, customers, thresholds

    def put_product(self, sku: str, data: ProductIn) -> Product:
        """Store the product; its low-stock threshold is copied onto the stock level, where the
        StockLow event is derived from each change of ``available``. A new product is counted in the
        catalogue's count in the same transaction (the nightly run sizes its batches from it). A SKU given
        ``stock_buckets`` has its stock split (or joined) first (docs/scale.md)."""
        for _ in range(PUT_ATTEMPTS):
            stored = self.products.get(sku)
            was = (stored.stock_buckets if stored else None) or 1
            if data.stock_buckets is None and was > 1:  # left out: the SKU keeps its buckets
                data = data.model_copy(update={"stock_buckets": was})
            product, writes = self.products.put(sku, data, new=stored is None)
            if (product.stock_buckets or 1) != was or was > 1:  # first: a retried PUT finishes a split that failed
                self.thresholds.set_buckets(sku, product.stock_buckets or 1)
            try:
                self.store.commit([*writes, self.thresholds.set_threshold(sku, data.low_stock_threshold)])
            except ConditionFailed as failure:
                if failure.failed(0):  # created or replaced by another request meanwhile: read again
                    continue
                raise
            return product
        raise TransientError(f"product {sku} kept changing while it was stored; try again")

    def get_product(self, sku: str) -> Product:
        product = self.products.get(sku)
        if product is None:
            raise NotFound(f"product {sku} not found")
        return product

    def put_customer(self, customer_id: str, data: CustomerIn) -> Customer:
        return self.customers.upsert(customer_id, data)

    def get_customer(self, customer_id: str) -> Customer:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def record_payment(self, customer_id: str, payment: PaymentIn) -> Customer:
        """A payment (posted by the ERP) takes its amount off the customer's open exposure, once per
        ``reference``: the same reference again, however late, changes nothing; with another amount it is
        a 409. One transaction puts the payment's record and moves the exposure."""
        self.get_customer(customer_id)
        try:
            self.store.commit([self.customers.payment(customer_id, payment.reference, payment.amount, utc_now()),
                               self.customers.pay(customer_id, payment.amount)])
        except ConditionFailed as failure:
            if failure.failed(0):
                recorded = self.customers.payment_amount(customer_id, payment.reference)
                if recorded is not None and recorded != payment.amount:
                    raise Conflict(f"payment {payment.reference} was already recorded with amount {recorded}",
                                   {"reference": payment.reference, "amount": float(recorded)}) from None
                return self.get_customer(customer_id)  # the same payment again: nothing changes
            customer = self.get_customer(customer_id)
            raise Conflict(f"payment {payment.amount} is more than the open exposure {customer.exposure}",
                           {"exposure": float(customer.exposure)}) from None
        return self.get_customer(customer_id)
