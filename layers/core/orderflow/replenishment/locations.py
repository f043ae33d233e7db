"""Where the nightly run replenishes a SKU (pure): the locations that stock it or are set up for it.

Odoo buys per warehouse only where a reorder rule says so; Orderflow needs no rule to start: a location
that holds a stock level of the SKU (stock was received, sold, returned or ordered there) is replenished
for it with the product's parameters, and the product's ``replenishment.locations`` overrides them per
location, adds a location that holds nothing yet, or opts one out (``replenish: false``). A SKU held
nowhere is bought for the main location, as before locations (docs/replenishment.md, "Per location").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderflow.inventory import StockPosition
from orderflow.shared.types import MAIN_LOCATION


def overrides_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored product's ``replenishment.locations`` as stored (location → its overrides), without
    validating the whole product (the batch validates it once, when it decides the SKU)."""
    replenishment = raw.get("replenishment")
    locations = replenishment.get("locations") if isinstance(replenishment, Mapping) else None
    return locations if isinstance(locations, Mapping) else {}


def replenished_locations(overrides: Mapping[str, Any], position: StockPosition, network: Mapping[str, bool]
                          ) -> tuple[list[str], dict[str, str]]:
    """The locations to decide the SKU for, in the order of ``network`` (location id → active, first choice
    first), and the ones named that cannot be (location → why). ``overrides`` is the product's
    ``replenishment.locations``. An inactive location is left out, like an inactive product: it neither
    sells nor is bought for."""

    def opted_out(location: str) -> bool:
        entry = overrides.get(location)
        return isinstance(entry, Mapping) and entry.get("replenish", True) is False

    wanted = {level.location_id for level in position.locations if level.location_id} | set(overrides)
    wanted = {location for location in wanted if not opted_out(location)}
    if not wanted and not opted_out(MAIN_LOCATION):
        wanted = {MAIN_LOCATION}
    unknown = {location: f"unknown location {location}: create it with PUT /locations/{location}, or take it out "
                         "of the product's replenishment.locations"
               for location in sorted(wanted) if location not in network}
    return [location for location, active in network.items() if active and location in wanted], unknown
