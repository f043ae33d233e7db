"""Where the nightly run replenishes a SKU (pure): the locations that stock it or are set up for it.

Odoo buys per warehouse only where a reorder rule says so; Orderflow needs no rule to start: a location
that holds a stock level of the SKU (stock was received, sold, returned or ordered there) is replenished
for it with the product's parameters, and the product's ``replenishment.locations`` overrides them per
location, adds a location that holds nothing yet, or opts one out (``replenish: false``). A SKU held
nowhere is bought for the main location, as before locations (docs/replenishment.md, "Per location").
"""

from __future__ import annotations

from collections.abc import Mapping

from orderflow.catalogue import Product
from orderflow.inventory import StockPosition
from orderflow.shared.types import MAIN_LOCATION


def replenished_locations(product: Product | None, position: StockPosition, network: Mapping[str, bool]
                          ) -> tuple[list[str], dict[str, str]]:
    """The locations to decide the SKU for, in the order of ``network`` (location id → active, first choice
    first), and the ones named that cannot be (location → why). An inactive location is left out, like an
    inactive product: it neither sells nor is bought for."""
    overrides = (product.replenishment.locations or {}) if product is not None and product.replenishment else {}
    wanted = {level.location_id for level in position.locations if level.location_id} | set(overrides)
    wanted = {location for location in wanted if location not in overrides or overrides[location].replenish}
    if not wanted and (MAIN_LOCATION not in overrides or overrides[MAIN_LOCATION].replenish):
        wanted = {MAIN_LOCATION}
    unknown = {location: f"unknown location {location}: create it with PUT /locations/{location}, or take it out "
                         "of the product's replenishment.locations"
               for location in sorted(wanted) if location not in network}
    return [location for location, active in network.items() if active and location in wanted], unknown
