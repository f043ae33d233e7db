"""Catalogue: products (with how each is bought) and customers (with their credit).

Public surface for other areas: this module, and ``orderflow.catalogue.requests`` (the HTTP bodies).
"""

from typing import TYPE_CHECKING

from orderflow.catalogue.domain import Customer, Product, ProductSupplier, Replenishment

if TYPE_CHECKING:
    from orderflow.catalogue.service import CatalogueService

__all__ = ["CatalogueService", "Customer", "Product", "ProductSupplier", "Replenishment"]


def __getattr__(name: str) -> object:
    """``CatalogueService`` is loaded by its first use (the composition root), not by every module that imports this
    area's models: the order functions' cold start pays only for what they use (docs/decisions.md, "Cold start")."""
    if name == "CatalogueService":
        from orderflow.catalogue.service import CatalogueService

        return CatalogueService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
