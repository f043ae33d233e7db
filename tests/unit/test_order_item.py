"""The order as the orders table stores it (``Order.as_item``): smaller, and read back as it was."""

from decimal import Decimal

from orderflow.orders.domain import OMITTED_WHILE_EMPTY, Order

AT = "2030-01-02T03:04:05.678Z"


def _order(**extra) -> Order:
    return Order.model_validate({
        "order_id": "ord-1", "customer_id": "cust-1", "status": "RESERVED", "version": 3, "total": Decimal("29.97"),
        "created_at": AT, "updated_at": AT,
        "lines": [{"sku": "SKU-1", "quantity": 3, "unit_price": Decimal("9.99"), "name": "Mug | blue, 350 ml"},
                  {"sku": "SKU-2", "quantity": 1, "unit_price": Decimal("0.50")}],
        "timeline": [{"status": "PENDING", "at": AT, "reason": "received via api", "by": "customer"},
                     {"status": "RESERVED", "at": AT, "by": "workflow"}],
        **extra})


def test_lines_and_timeline_are_stored_packed_and_read_back_equal():
    order = _order(allocations={"main": {"SKU-1": 3, "SKU-2": 1}})
    item = order.as_item()

    assert item["lines"] == ["SKU-1|3|9.99|Mug | blue, 350 ml", "SKU-2|1|0.50|"]
    assert item["timeline"] == [f"PENDING|{AT}|customer|received via api", f"RESERVED|{AT}|workflow|"]
    assert Order.model_validate(item) == order


def test_empty_after_sales_and_fulfilment_fields_are_not_stored_and_read_back_as_their_defaults():
    order = _order()
    item = order.as_item()

    assert not set(OMITTED_WHILE_EMPTY) & set(item)
    assert Order.model_validate(item) == order
    assert {"version", "timeline", "status"} <= set(item)  # what every transition's update expression needs


def test_an_order_stored_before_packing_still_reads():
    legacy = _order().model_dump(mode="python")  # lines and timeline as maps, every field present
    assert Order.model_validate(legacy) == _order()


SHIPMENTS = [{"shipment_id": "shp-ord-1-1", "location_id": "main", "lines": {"SKU-1": 3, "SKU-2": 1},
              "state": "shipped", "shipped": {"SKU-1": 2}},
             {"shipment_id": "shp-ord-1-2", "location_id": "north-dc", "lines": {"SKU-1": 1}, "state": "open",
              "deadline": AT},
             {"shipment_id": "shp-ord-1-3", "location_id": "north-dc", "lines": {"SKU-2": 1}, "state": "cancelled",
              "shipped": {}}]


def test_shipment_refs_are_stored_packed_and_read_back_equal():
    order = _order(shipments=SHIPMENTS)
    item = order.as_item()

    assert item["shipments"] == ["shp-ord-1-1|main|shipped|*|SKU-1=2|",  # the whole order: its SKUs not again
                                 f"shp-ord-1-2|north-dc|open|SKU-1=1||{AT}",
                                 "shp-ord-1-3|north-dc|cancelled|SKU-2=1|=|"]
    assert Order.model_validate(item) == order
    assert Order.model_validate({**item, "shipments": SHIPMENTS}) == order  # stored as maps before: still read
    as_maps = len(str(order.model_dump(mode="python")["shipments"]))
    assert len(str(item["shipments"])) < as_maps * 0.6  # what a write of the order is billed by


def test_a_shipment_of_the_whole_order_names_no_sku_and_reads_back_with_the_order_lines():
    whole = {"shipment_id": "shp-ord-1-1", "location_id": "main", "lines": {"SKU-1": 3, "SKU-2": 1}, "deadline": AT}
    less = {**whole, "lines": {"SKU-1": 2, "SKU-2": 1}}  # some units cancelled: its lines are its own
    for refs, stored in (([whole], f"shp-ord-1-1|main|open|*||{AT}"),
                         ([less], f"shp-ord-1-1|main|open|SKU-1=2,SKU-2=1||{AT}")):
        order = _order(shipments=refs)
        item = order.as_item()
        assert item["shipments"] == [stored]
        assert Order.model_validate(item) == order
        assert Order.model_validate({**order.model_dump(mode="python"), "shipments": item["shipments"]}) == order


def test_a_shipment_no_longer_open_keeps_no_deadline_and_the_default_policy_is_not_stored():
    order = _order(shipments=[{"shipment_id": "shp-ord-1-1", "location_id": "main", "lines": {"SKU-1": 3},
                               "state": "delivered", "deadline": AT}])
    item = order.as_item()

    assert item["shipments"] == ["shp-ord-1-1|main|delivered|SKU-1=3||"] and "fulfilment_policy" not in item
    assert Order.model_validate(item).shipments[0].deadline is None  # nothing reads it once the shipment left
    assert Order.model_validate(item).fulfilment_policy == "ship_complete"
    assert _order(fulfilment_policy="ship_available").as_item()["fulfilment_policy"] == "ship_available"
