"""Catalogue: products (with how each is bought) and customers (with their credit).

Public surface for other areas: this module, and ``orderflow.catalogue.requests`` (the HTTP bodies).
"""

from orderflow.catalogue.domain import Customer, Product, ProductSupplier, Replenishment
from orderflow.catalogue.service import CatalogueService

__all__ = ["CatalogueService", "Customer", "Product", "ProductSupplier", "Replenishment"]
