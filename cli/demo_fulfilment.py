"""Demo scenario m: a fulfilment network of two warehouses and a store.

An order filled from one warehouse (picked, packed, shipped, delivered from its pick list); an order split
across two warehouses (two shipments, PARTIALLY_SHIPPED then SHIPPED); a partial shipment whose remainder
is released at the warehouse that shipped short and sourced again at the store; a ``ship_available`` order
that ships what is in stock, then the rest when a receipt comes, in two parts; a return of the first order
brought to the store, back on the store's shelf. Stock is checked at each location at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.table import Table

from .addresses import SAMPLE_ADDRESS

if TYPE_CHECKING:
    from .demo import Demo

NETWORK = {  # location id -> (name, kind, priority)
    "north-dc": ("North DC, Leeds", "warehouse", 1),
    "south-dc": ("South DC, Bristol", "warehouse", 2),
    "leeds-store": ("Leeds store", "store", 3),
}
CUSTOMER = "CUST-ACME"


def fulfilment(demo: Demo) -> None:
    s, client, console = "m. fulfilment", demo.client, demo.console
    for location, (name, kind, priority) in NETWORK.items():
        client.put_location(location, name, {**SAMPLE_ADDRESS, "name": name}, priority=priority, kind=kind)
    kettle, toaster = f"KETTLE-{demo.run_id}", f"TOASTER-{demo.run_id}"
    for sku, price in ((kettle, 30.0), (toaster, 45.0)):
        client.put_product(sku, sku.split("-")[0].title(), price)
    opening = {(kettle, "north-dc"): 5, (kettle, "south-dc"): 3, (kettle, "leeds-store"): 2,
               (toaster, "south-dc"): 2, (toaster, "leeds-store"): 4}
    for (sku, location), units in opening.items():
        client.adjust_stock(sku, units, reason="opening stock", location_id=location)
    console.print("  locations: " + ", ".join(f"{loc} (priority {p})" for loc, (_, _, p) in NETWORK.items())
                  + f"; stock of {kettle} 5/3/2 and {toaster} 0/2/4")

    # 1. one warehouse can fill it: one shipment, from the first choice
    one = _reserved(demo, s, [{"sku": kettle, "quantity": 2}])
    if one is None:
        return
    demo.check(s, "filled from one location", ["north-dc"], [sh["location_id"] for sh in one["shipments"]])
    (shipment,) = one["shipments"]
    listed = {sh["shipment_id"]: sh for sh in client.pick_list("north-dc")["shipments"]}
    address = (listed.get(shipment["shipment_id"]) or {}).get("address") or {}
    demo.check(s, "on north-dc's pick list, with the address", _street(SAMPLE_ADDRESS), _street(address))
    demo.check(s, "the warehouse picks, then packs it", ["PICKED", "PACKED"],
               [verb(shipment["shipment_id"])["status"] for verb in (client.pick, client.pack)])
    client.ship_shipment(shipment["shipment_id"], carrier="DHL", tracking=f"JD{demo.run_id}")
    client.deliver_shipment(shipment["shipment_id"])
    demo.check(s, "order from one location delivered", "DELIVERED", client.get_order(one["order_id"])["status"])

    # 2. no location has it all: split across the fewest, two shipments
    split = _reserved(demo, s, [{"sku": kettle, "quantity": 4}, {"sku": toaster, "quantity": 1}])
    if split is None:
        return
    shipments = {sh["location_id"]: sh for sh in split["shipments"]}
    demo.check(s, "split across two warehouses", ["north-dc", "south-dc"], sorted(shipments))
    client.ship_shipment(shipments["north-dc"]["shipment_id"], carrier="DHL")
    demo.check(s, "first shipment out: order PARTIALLY_SHIPPED", "PARTIALLY_SHIPPED",
               client.get_order(split["order_id"])["status"])
    client.ship_shipment(shipments["south-dc"]["shipment_id"], carrier="UPS")
    demo.check(s, "second shipment out: order SHIPPED", "SHIPPED", client.get_order(split["order_id"])["status"])

    # 3. the warehouse finds one of two: a partial shipment, the rest sourced again elsewhere
    partial = _reserved(demo, s, [{"sku": kettle, "quantity": 2}])
    if partial is None:
        return
    (first,) = partial["shipments"]
    demo.check(s, "reserved at south-dc", "south-dc", first["location_id"])
    client.ship_shipment(first["shipment_id"], carrier="UPS", lines={kettle: 1})
    after = client.get_order(partial["order_id"])
    rest = after["shipments"][-1]
    demo.check(s, "the unit not sent is re-sourced at the store", ("leeds-store", "RELEASED"),
               (rest["location_id"], rest["status"]))
    client.ship_shipment(rest["shipment_id"], carrier="Royal Mail")
    final = demo.final(s, partial["order_id"])
    demo.check(s, "partially shipped order completes", "SHIPPED", final["status"])

    # 4. ship_available: what is in stock ships now, the rest when it comes, in two parts
    lamp = f"LAMP-{demo.run_id}"
    client.put_product(lamp, "Lamp", 25.0)
    client.adjust_stock(lamp, 2, reason="opening stock", location_id="north-dc")
    two_parts = _ship_available(demo, s, lamp, ordered=3)
    if two_parts is None:
        return

    # 5. the customer brings one kettle of the first order back to the store: it goes on the store's shelf
    rma = client.request_return(one["order_id"], [{"sku": kettle, "quantity": 1, "reason": "not needed"}],
                                idempotency_key=demo.key(f"{s}-return"))
    received = client.receive_return(rma["return_id"], [{"sku": kettle, "quantity": 1, "condition": "resellable"}],
                                     location_id="leeds-store")
    demo.check(s, "return received at the store and refunded", "REFUNDED", received["status"])

    expected = {(kettle, "north-dc"): (0, 0), (kettle, "south-dc"): (1, 1), (kettle, "leeds-store"): (2, 2),
                (toaster, "south-dc"): (1, 1), (toaster, "leeds-store"): (4, 4),
                (lamp, "north-dc"): (0, 0), (lamp, "south-dc"): (0, 0)}
    actual = {}
    table = Table("sku", "location", "on hand", "reserved", "available", title="stock per location")
    for sku in (kettle, toaster, lamp):
        for level in client.get_stock(sku)["locations"]:
            if level["location_id"] in NETWORK:
                actual[sku, level["location_id"]] = (level["on_hand"], level["available"])
                table.add_row(sku, level["location_id"], *(str(level[k]) for k in ("on_hand", "reserved", "available")))
    console.print(table)
    demo.check(s, "stock at each location (on hand, available)", expected, actual)
    demo.outcome(s, "one location; split in two; partial re-sourced; two parts; returned at the store",
                 " · ".join([*(client.get_order(o["order_id"])["status"] for o in (one, split, partial, two_parts)),
                             f"return {received['status']} at leeds-store"]))


def _street(address: dict) -> str:
    return ", ".join(str(address.get(field)) for field in ("line1", "city", "postal_code"))


def _reserved(demo: Demo, s: str, lines: list[dict]) -> dict | None:
    order = demo.submit(s, CUSTOMER, lines, key=demo.key(f"{s}-{len(demo.checks)}"))
    if order is None or demo.wait(s, order["order_id"], "RESERVED") is None:
        return None
    return demo.client.get_order(order["order_id"])


def _ship_available(demo: Demo, s: str, sku: str, ordered: int) -> dict | None:
    """A ship_available order for more ``sku`` than north-dc has: the part in stock ships, a receipt at south-dc
    releases the rest there, and it ships too. The order as it ends, or None on the first surprise."""
    client = demo.client
    code, order = client.submit_order(CUSTOMER, [{"sku": sku, "quantity": ordered}], shipping_address=SAMPLE_ADDRESS,
                                      idempotency_key=demo.key(f"{s}-available"), fulfilment_policy="ship_available")
    demo.console.print(f"  submitted {CUSTOMER}: {sku}×{ordered}, ship_available → HTTP {code}"
                       + (f" [bold]{order.get('order_id')}[/]" if code == 201 else ""), soft_wrap=True)
    if not demo.check(s, "ship_available order accepted", 201, code) or demo.wait(
            s, order["order_id"], "PARTIALLY_RESERVED") is None:
        return None
    (first,) = client.get_order(order["order_id"])["shipments"]
    client.ship_shipment(first["shipment_id"], carrier="DHL")
    demo.check(s, "first part out, the rest waits for stock", ("PARTIALLY_SHIPPED", ordered - 2),
               _status_and_backordered(client.get_order(order["order_id"])))
    client.adjust_stock(sku, ordered - 2, reason="receipt", location_id="south-dc")
    woken = _until(demo, order["order_id"], lambda o: len(o["shipments"]) == 2)
    second = woken["shipments"][-1]
    demo.check(s, "the receipt releases the rest at south-dc", ("south-dc", "RELEASED"),
               (second["location_id"], second["status"]))
    client.ship_shipment(second["shipment_id"], carrier="UPS")
    for shipment in (first, second):
        client.deliver_shipment(shipment["shipment_id"])
    done = client.get_order(order["order_id"])
    demo.check(s, "shipped in two parts, then delivered", ("DELIVERED", 2),
               (done["status"], len(done["shipments"])))
    return done


def _status_and_backordered(order: dict) -> tuple[str, int]:
    return order["status"], sum(line["backordered"] for line in order["lines"])


def _until(demo: Demo, order_id: str, done: Callable[[dict], bool]) -> dict:
    """Poll the order until ``done(order)`` (a receipt wakes it asynchronously), or the demo's wait runs out."""
    stop = time.monotonic() + demo.wait_timeout
    while not done(order := demo.client.get_order(order_id)) and time.monotonic() < stop:
        time.sleep(0.1)
    return order
