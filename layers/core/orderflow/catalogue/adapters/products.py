"""Products table: the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orderflow.catalogue.domain import Product
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Read, Write

if TYPE_CHECKING:
    from orderflow.catalogue.requests import ProductIn


class ProductsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, sku: str) -> Product | None:
        item = dynamo.get(self.table, {"sku": sku})
        return Product.model_validate(item) if item else None

    def put(self, sku: str, data: ProductIn) -> tuple[Product, Write]:
        """The product and the write that stores it (run with others in one transaction)."""
        product = Product(sku=sku, **data.model_dump(exclude_none=True))
        return product, Write("Put", self.table, item=product.model_dump(mode="python", exclude_none=True))

    def get_many(self, skus: list[str]) -> dict[str, Product]:
        return dynamo.read_together(self.read_many(skus))[0]

    def read_many(self, skus: list[str]) -> Read:
        """``get_many`` as a read to batch with other tables' (``dynamo.read_together``): the products
        found, by SKU (eventually consistent, like ``get_many``)."""
        return Read(self.table, [{"sku": s} for s in skus],
                    parse=lambda items: {item["sku"]: Product.model_validate(item) for item in items})

    def existing(self, skus: list[str]) -> set[str]:
        """Which of ``skus`` are in the catalogue (one BatchGetItem per 100 SKUs)."""
        found: set[str] = set()
        for start in range(0, len(skus), 100):
            keys = [{"sku": s} for s in skus[start:start + 100]]
            found.update(item["sku"] for item in dynamo.batch_get({self.table: keys})[self.table])
        return found

    def count(self) -> int:
        """Products in the catalogue (a paginated ``Select=COUNT`` scan: no items are read out)."""
        total, page = 0, {}
        while True:
            response = dynamo.scan(self.table, Select="COUNT", **page)
            total += response.get("Count", 0)
            if "LastEvaluatedKey" not in response:
                return total
            page = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def scan_segment(self, segment: int, total_segments: int) -> Iterator[dict[str, Any]]:
        """The raw items of one parallel-scan segment, all pages. Raw, so that one malformed product
        can be reported on its own instead of failing the whole segment."""
        page: dict[str, Any] = {}
        while True:
            response = dynamo.scan(self.table, Segment=segment, TotalSegments=total_segments, **page)
            yield from (dynamo.from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            page = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

