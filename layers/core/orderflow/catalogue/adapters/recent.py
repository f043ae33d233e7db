"""The catalogue as the order steps read it: a product this container read in the last few seconds is not
read again (docs/scale.md, "Hot reads").

Submit and Validate read every ordered product; in a flash sale that is one item read by every order,
past what one DynamoDB key serves. A price or an ``active`` flag changed is therefore applied to new orders
within ``PRODUCT_CACHE_SECONDS`` (plus the read's replication lag), not at once; a product not found is
never kept, so a product just created can be ordered at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orderflow.catalogue.adapters.products import ProductsRepository
from orderflow.catalogue.domain import Product
from orderflow.platform.dynamo import Read
from orderflow.platform.recent import Recent

PRODUCT_CACHE_SECONDS = 5.0


class RecentProducts:
    """``ProductsRepository.read_many`` for the order steps: only the SKUs this container has not read in the
    last ``seconds`` are read (still batched with the customer's read by ``read_together``)."""

    def __init__(self, products: ProductsRepository, seconds: float = PRODUCT_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.table = products.table
        self.repository = products
        self.recent: Recent[str, Product] = Recent(seconds, clock=clock)

    def read_many(self, skus: list[str]) -> Read:
        known = {sku: product for sku in skus if (product := self.recent.get(sku)) is not None}
        read = self.repository.read_many([sku for sku in skus if sku not in known])

        def parse(items: list[dict[str, Any]]) -> dict[str, Product]:
            found: dict[str, Product] = read.parse(items)
            for sku, product in found.items():
                self.recent.put(sku, product)
            return {**known, **found}

        return Read(read.table, read.keys, parse, read.consistent)
