"""Shipments over HTTP, through the real workflow and handlers: an order split across two warehouses gets
a shipment at each, on their pick lists with the address; the warehouse picks, packs, ships (one in part:
the rest is sourced again at the store) and delivers; the order's status and lines follow; the customer
sees their shipments and cannot act on them; stock is right at every location."""

from __future__ import annotations

import uuid

import pytest

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import ApiError, OrderflowClient

pytestmark = pytest.mark.e2e

ADDRESS = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}


@pytest.fixture
def network(client: OrderflowClient):
    """Two warehouses and a store, unique to the test; closed after it so no other test sources from them."""
    tag = uuid.uuid4().hex[:6]
    names = {"north": f"north-{tag}", "south": f"south-{tag}", "store": f"store-{tag}"}
    for priority, (kind, name) in enumerate(names.items(), start=1):
        client.put_location(name, f"{kind} {tag}", ADDRESS, priority=priority,
                            kind="store" if kind == "store" else "warehouse")
    yield names
    for name in names.values():
        client.put_location(name, "closed", ADDRESS, active=False)


def level(client: OrderflowClient, sku: str, location: str) -> tuple[int, int, int]:
    found = next((lv for lv in client.get_stock(sku)["locations"] if lv["location_id"] == location), {})
    return found.get("on_hand", 0), found.get("reserved", 0), found.get("available", 0)


def test_a_split_order_ships_from_two_warehouses_one_in_part_and_the_rest_from_the_store(shop, network, api_url):
    client = shop.client
    north, south, store = network["north"], network["south"], network["store"]
    sku = shop.product("kettle", price=20)
    for location, units in ((north, 2), (south, 3)):
        client.adjust_stock(sku, units, reason="receipt", location_id=location)
    customer = shop.customer()
    order = shop.wait(shop.submit(customer, {sku: 4})["order_id"], "RESERVED")
    client.adjust_stock(sku, 5, reason="receipt", location_id=store)  # after: the store could have filled it alone

    shipments = {s["location_id"]: s for s in order["shipments"]}
    assert {loc: s["lines"] for loc, s in shipments.items()} == {
        north: [{"sku": sku, "quantity": 2}], south: [{"sku": sku, "quantity": 2}]}
    assert order["lines"][0]["allocated"] == 4
    pick_list = client.pick_list(north)["shipments"]
    assert [s["shipment_id"] for s in pick_list] == [shipments[north]["shipment_id"]]
    assert pick_list[0]["address"]["postal_code"] == SAMPLE_ADDRESS["postal_code"]
    with pytest.raises(ApiError) as refused:  # two shipments: the order-level route cannot choose
        client.ship(order["order_id"])
    assert refused.value.status == 409 and len(refused.value.details["shipments"]) == 2

    first, second = shipments[north]["shipment_id"], shipments[south]["shipment_id"]
    assert client.pick(first)["status"] == "PICKED"
    assert client.pack(first)["status"] == "PACKED"
    assert client.ship_shipment(first, carrier="DHL", tracking="T1")["status"] == "SHIPPED"
    assert client.ship_shipment(first, carrier="DHL", tracking="T1")["status"] == "SHIPPED"  # a retry
    assert client.get_order(order["order_id"])["status"] == "PARTIALLY_SHIPPED"
    assert level(client, sku, north) == (0, 0, 0)

    partial = client.ship_shipment(second, carrier="UPS", lines={sku: 1})  # one of two found
    assert partial["shipped"] == [{"sku": sku, "quantity": 1}]
    after = client.get_order(order["order_id"])
    resourced = after["shipments"][-1]
    assert (resourced["location_id"], resourced["status"]) == (store, "RELEASED")  # south ranks last now
    assert level(client, sku, south) == (2, 0, 2) and level(client, sku, store) == (5, 1, 4)
    totals = client.get_stock(sku)
    assert (totals["on_hand"], totals["reserved"], totals["available"]) == (7, 1, 6)

    done = client.ship_shipment(resourced["shipment_id"])
    assert done["status"] == "SHIPPED"
    shipped = client.get_order(order["order_id"])
    assert shipped["status"] == "SHIPPED" and shipped["lines"][0]["shipped"] == 4
    for shipment in (first, second, resourced["shipment_id"]):
        client.deliver_shipment(shipment)
    delivered = client.get_order(order["order_id"])
    assert delivered["status"] == "DELIVERED"
    assert (delivered["lines"][0]["delivered"], delivered["lines"][0]["allocated"]) == (4, 0)

    with OrderflowClient(api_url, role="customer", customer_id=customer) as own:
        assert own.get_shipment(first)["status"] == "DELIVERED"  # read-only for its customer
        assert own.request("POST", f"/shipments/{first}/pick").status_code == 403
    with OrderflowClient(api_url, role="customer", customer_id="someone-else") as other:
        assert other.request("GET", f"/shipments/{first}").status_code == 404


def test_a_single_location_order_keeps_the_order_level_routes(shop):
    sku = shop.product("mug", stock=3)
    order = shop.wait(shop.submit(shop.customer(), {sku: 2})["order_id"], "RESERVED")
    assert len(order["shipments"]) == 1 and order["shipments"][0]["location_id"] == "main"
    shipped = shop.client.ship(order["order_id"], carrier="DHL", tracking="JD1")
    assert shipped["status"] == "SHIPPED" and shipped["shipment"]["tracking"] == "JD1"
    assert shop.client.deliver(order["order_id"])["status"] == "DELIVERED"
    assert shop.client.deliver(order["order_id"])["status"] == "DELIVERED"  # a retry changes nothing
    (shipment,) = shop.client.get_order(order["order_id"])["shipments"]
    assert shipment["status"] == "DELIVERED" and shipment["carrier"] == "DHL"


def test_bad_shipment_requests_are_clear_4xx_that_change_nothing(shop, client: OrderflowClient):
    sku = shop.product("spoon", stock=2)
    order = shop.wait(shop.submit(shop.customer(), {sku: 2})["order_id"], "RESERVED")
    shipment_id = order["shipments"][0]["shipment_id"]
    too_many = client.request("POST", f"/shipments/{shipment_id}/ship", json={"lines": [{"sku": sku, "quantity": 3}]})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "UNPROCESSABLE"
    other_sku = client.request("POST", f"/shipments/{shipment_id}/ship",
                               json={"lines": [{"sku": "nope", "quantity": 1}]})
    assert other_sku.status_code == 422
    assert client.request("POST", "/shipments/shp-missing-1/pick").status_code == 404
    assert client.request("GET", "/locations/main/shipments", params={"status": "LOST"}).status_code == 422
    assert client.request("GET", "/locations/main/shipments", params={"cursor": "bm9wZQ"}).status_code == 422
    assert client.request("GET", "/locations/nowhere/shipments").status_code == 404
    assert client.get_shipment(shipment_id)["status"] == "RELEASED"
    assert level(client, sku, "main") == (2, 2, 0)
