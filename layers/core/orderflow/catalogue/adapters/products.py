"""Products table: the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orderflow.catalogue.domain import Product
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Read, Write

if TYPE_CHECKING:
    from orderflow.catalogue.requests import ProductIn


CATALOGUE_COUNT = "#catalogue"  # the count's item; no SKU can take this key (a SKU starts with a letter or digit)


class ProductsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, sku: str) -> Product | None:
        item = dynamo.get(self.table, {"sku": sku})
        return Product.model_validate(item) if item else None

    def put(self, sku: str, data: ProductIn, new: bool) -> tuple[Product, list[Write]]:
        """The product and the writes that store it (run with others in one transaction): a new product
        (condition: no such SKU yet) adds one to the catalogue's count in the same transaction, a
        replaced one (condition: it exists) leaves the count. A condition that fails means another
        request created the SKU meanwhile (or it was new after all): the caller reads again and retries."""
        product = Product(sku=sku, **data.model_dump(exclude_none=True))
        item = product.model_dump(mode="python", exclude_none=True)
        if not new:
            return product, [Write("Put", self.table, item=item, condition="attribute_exists(sku)")]
        return product, [Write("Put", self.table, item=item, condition="attribute_not_exists(sku)"),
                         Write("Update", self.table, key={"sku": CATALOGUE_COUNT}, update="ADD products :one",
                               values={":one": 1})]

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
        """About how many products the catalogue holds, without a Scan: the count every product's creation
        adds to (one GetItem), or DynamoDB's own item count of the table (``DescribeTable``, refreshed about
        every six hours) when that is larger, as for products stored before the count existed. Only the
        nightly run's batch sizes depend on it."""
        counted = int((dynamo.get(self.table, {"sku": CATALOGUE_COUNT}) or {}).get("products", 0))
        return max(counted, dynamo.item_count(self.table))

    def scan_segment(self, segment: int, total_segments: int) -> Iterator[dict[str, Any]]:
        """The raw items of one parallel-scan segment, all pages. Raw, so that one malformed product
        can be reported on its own instead of failing the whole segment."""
        page: dict[str, Any] = {}
        while True:
            response = dynamo.scan(self.table, Segment=segment, TotalSegments=total_segments, **page)
            yield from (item for item in map(dynamo.from_item, response.get("Items", []))
                        if item.get("sku") != CATALOGUE_COUNT)
            if "LastEvaluatedKey" not in response:
                return
            page = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

