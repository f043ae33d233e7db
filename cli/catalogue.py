"""Catalogue files and seeding them over the API.

A catalogue is JSON::

    {"products":  {"SKU-1": {"name": "...", "unit_price": 12.5, "supplier_id": "SUP-1"}},
     "customers": {"CUST-1": {"name": "...", "credit_limit": 1000}},
     "stock":     {"SKU-1": 25}}

``stock`` gives the on-hand level each SKU should have: seeding adjusts by the difference from what
the API reports, so seeding the same file twice changes nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import OrderflowClient

DEMO_CATALOGUE = Path(__file__).with_name("data") / "demo_catalogue.json"


class CatalogueError(ValueError):
    """The file is not a catalogue this tool understands."""


def load_catalogue(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{path} is not valid JSON: {exc}") from None
    return validate_catalogue(data, str(path))


def validate_catalogue(data: Any, where: str = "catalogue") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CatalogueError(f"{where}: expected a JSON object with products, customers and stock")
    unknown = set(data) - {"products", "customers", "stock"}
    if unknown:
        raise CatalogueError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    for section in ("products", "customers", "stock"):
        if not isinstance(data.get(section, {}), dict):
            raise CatalogueError(f"{where}: '{section}' must be an object keyed by id")
    for sku, product in data.get("products", {}).items():
        if not isinstance(product, dict) or "name" not in product or "unit_price" not in product:
            raise CatalogueError(f"{where}: product {sku} needs at least name and unit_price")
    for cid, customer in data.get("customers", {}).items():
        if not isinstance(customer, dict) or "name" not in customer or "credit_limit" not in customer:
            raise CatalogueError(f"{where}: customer {cid} needs name and credit_limit")
    for sku, qty in data.get("stock", {}).items():
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise CatalogueError(f"{where}: stock for {sku} must be a whole number >= 0, not {qty!r}")
    return {"products": data.get("products", {}), "customers": data.get("customers", {}),
            "stock": data.get("stock", {})}


@dataclass
class SeedResult:
    products: int = 0
    customers: int = 0
    stock_adjusted: dict[str, int] = field(default_factory=dict)  # sku -> quantity added (or removed)
    stock: dict[str, dict] = field(default_factory=dict)  # sku -> level after seeding


def seed_steps(catalogue: Mapping[str, Any]) -> int:
    return len(catalogue["products"]) + len(catalogue["customers"]) + len(catalogue["stock"])


def seed_catalogue(client: OrderflowClient, catalogue: Mapping[str, Any],
                   on_step: Callable[[str], None] | None = None, reason: str = "seed") -> SeedResult:
    """PUT every product and customer, then bring each SKU's on-hand stock to the catalogue's level."""
    step = on_step or (lambda _label: None)
    result = SeedResult()
    for sku, product in catalogue["products"].items():
        client.put_product(sku, product["name"], product["unit_price"], product.get("supplier_id"),
                           product.get("active"), product.get("low_stock_threshold"), product.get("replenishment"))
        result.products += 1
        step(f"product {sku}")
    for cid, customer in catalogue["customers"].items():
        client.put_customer(cid, customer["name"], customer["credit_limit"])
        result.customers += 1
        step(f"customer {cid}")
    for sku, wanted in catalogue["stock"].items():
        level = client.get_stock(sku)
        delta = int(wanted) - int(level["on_hand"])
        if delta:
            level = client.adjust_stock(sku, delta, reason=reason)
            result.stock_adjusted[sku] = delta
        result.stock[sku] = level
        step(f"stock {sku}")
    return result
