"""A race across locations, over HTTP against the running local stack: 200 concurrent orders for one SKU
whose stock is spread over three locations. Each location's stock holds (available never negative, its
holds equal to what the reserved orders' shipments take there), no unit leaks, and shipping every
released shipment leaves each location with exactly what it had less what it sent."""

from __future__ import annotations

import random
import uuid
from collections import Counter

from reliability_support import size
from test_races import in_parallel, settle, submit

from orderflow_cli.client import OrderflowClient

ADDRESS = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}
STOCK = {"north": 120, "south": 90, "store": 60}  # 270 units for about 400 ordered


def test_orders_racing_for_one_sku_across_three_locations_never_oversell_any(stack, figures):
    url = stack.api_url
    n = size(200, 1000)
    workers = min(n, 48)
    rng = random.Random(n)
    prefix = f"loc{uuid.uuid4().hex[:6]}"
    retried: Counter[str] = Counter()
    with OrderflowClient(url, timeout=60) as admin:
        sku = f"{prefix}-HOT"
        admin.put_product(sku, sku, 2.0)
        locations = {name: f"{prefix}-{name}" for name in STOCK}
        for priority, (name, location) in enumerate(locations.items(), start=1):
            admin.put_location(location, name, ADDRESS, priority=priority,
                               kind="store" if name == "store" else "warehouse")
            admin.adjust_stock(sku, STOCK[name], "opening stock", location_id=location)
        initial = {locations[name]: units for name, units in STOCK.items()}
        customers = [f"{prefix}-C{i}" for i in range(20)]
        for customer in customers:
            admin.put_customer(customer, customer, 10_000_000)
        requests = [(customers[i % len(customers)], [{"sku": sku, "quantity": rng.randint(1, 3)}]) for i in range(n)]

        created = in_parallel(url, workers, requests, lambda client, request: submit(client, *request, retried),
                              together=True)
        assert [status for status, _ in created] == [201] * n
        orders = settle(admin, customers, lambda found: len(found) == n and all(
            o["status"] in ("RESERVED", "BACKORDERED") for o in found.values()), "the race", sku, 120 + 0.5 * n)

        reserved = [o for o in orders.values() if o["status"] == "RESERVED"]
        held: Counter[str] = Counter()
        for order in reserved:  # each reserved order: its allocations take exactly its units
            assert sum(q for lines in order["allocations"].values() for q in lines.values()) == \
                order["lines"][0]["quantity"] == order["lines"][0]["allocated"]
            for location, lines in order["allocations"].items():
                held[location] += lines[sku]
        levels = {lv["location_id"]: lv for lv in admin.get_stock(sku)["locations"]}
        for location, units in initial.items():
            level = levels[location]
            assert level["reserved"] == held[location] and level["available"] == units - held[location] >= 0, level
            released = admin.pick_list(location, limit=100)
            listed = len(released["shipments"])
            while released.get("next_cursor"):
                released = admin.pick_list(location, limit=100, cursor=released["next_cursor"])
                listed += len(released["shipments"])
            assert listed == sum(1 for o in reserved if location in o["allocations"])  # one shipment each
        total = admin.get_stock(sku)
        waiting = [o for o in orders.values() if o["status"] == "BACKORDERED"]
        assert total["reserved"] == sum(held.values())
        assert total["available"] == sum(initial.values()) - total["reserved"]
        assert total["backordered"] == sum(o["lines"][0]["quantity"] for o in waiting)

        shipment_ids = [s["shipment_id"] for o in reserved for s in admin.get_order(o["order_id"])["shipments"]]
        statuses = in_parallel(url, workers, shipment_ids, lambda client, sid: client.ship_shipment(sid)["status"])
        assert set(statuses) == {"SHIPPED"}
        levels = {lv["location_id"]: lv for lv in admin.get_stock(sku)["locations"]}
        for location, units in initial.items():
            level = levels[location]
            assert (level["on_hand"], level["reserved"], level["available"]) == (units - held[location], 0,
                                                                                 units - held[location]), level
        assert {o["status"] for o in [admin.get_order(o["order_id"]) for o in reserved]} == {"SHIPPED"}

    section = "1b. Orders racing for one SKU across three locations"
    figures(section, "orders (threads)", f"{n} ({workers} client threads), 1-3 units each, "
            f"{sum(initial.values())} units over 3 locations")
    per_location = ", ".join(f"{name} {held[location]}" for name, location in locations.items())
    figures(section, "reserved", f"{len(reserved)} orders in {len(shipment_ids)} shipments, "
            f"{sum(held.values())} units ({per_location}); {len(waiting)} backordered")
    figures(section, "after shipping every shipment", "on_hand = initial − shipped and reserved 0 at each location")
