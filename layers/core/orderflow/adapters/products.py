"""Products table: the catalogue."""

from __future__ import annotations

from ..models import Product, ProductIn
from . import dynamo
from .dynamo import Write


class ProductsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, sku: str) -> Product | None:
        item = dynamo.get(self.table, {"sku": sku})
        return Product.model_validate(item) if item else None

    def put(self, sku: str, data: ProductIn) -> tuple[Product, Write]:
        """The product and the write that stores it (run with others in one transaction)."""
        product = Product(sku=sku, **data.model_dump())
        return product, Write("Put", self.table, item=product.model_dump(mode="python", exclude_none=True))

    def get_many(self, skus: list[str]) -> dict[str, Product]:
        found = dynamo.batch_get({self.table: [{"sku": s} for s in skus]})[self.table]
        return {item["sku"]: Product.model_validate(item) for item in found}
