"""Demand from committed changes: which stream records are units leaving stock, counted once (pure).

The demand counter (``functions/count_demand``) reads the shipments table's stream in batches and adds
what each shipped shipment sent, at its location and on the day it shipped, to the demand history: the
shipment's own transaction no longer writes the SKU's demand item, so a SKU shipping thousands of parcels
a second does not make one demand item hot, and a batch of records is a handful of writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderflow.events.derive import Image


@dataclass(frozen=True)
class Shipped:
    """Units of one shipment that left ``location_id`` on ``day``; ``key`` names the change, so a
    redelivered record is recognised and counts once."""

    key: str
    day: str  # YYYY-MM-DD (UTC)
    location_id: str
    units: dict[str, int]  # SKU → units


def shipped(old: Image | None, new: Image | None) -> Shipped | None:
    """What a shipments-table change sent, if it is the one that made the shipment SHIPPED (a shipment
    ships once; its remainder, if it left in part, is a new shipment)."""
    if new is None or new.get("status") != "SHIPPED" or (old or {}).get("status") == "SHIPPED":
        return None
    units: dict[str, int] = {}
    for line in new.get("shipped") or []:
        units[line["sku"]] = units.get(line["sku"], 0) + int(line["quantity"])
    units = {sku: quantity for sku, quantity in units.items() if quantity}
    if not units:
        return None
    return Shipped(key=f"shipment:{new['shipment_id']}:shipped", day=str(new["updated_at"])[:10],
                   location_id=new["location_id"], units=units)
