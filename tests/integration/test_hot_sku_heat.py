"""A SKU becomes hot by itself (docs/scale.md, "Automatic buckets"): the real stream function, given a batch of
the Stock table's stream in which one SKU took 120 reservations in a second, splits that SKU's stock into
buckets; a SKU whose count an admin set is left as it is; the units stay where the shop sees them."""

from __future__ import annotations

PUBLISHER = "PublishEventsFunction"


def _batch(stack, sku: str, takes: int, start: int = 0) -> dict:
    """A stream batch of ``takes`` reservations of one unit of ``sku`` at main, all in one second."""
    table = next(t.name for t in stack.resources.tables if t.logical_id == "StockTable")
    arn = stack.boto3_client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for i in range(start, start + takes):
        def level(reserved: int) -> dict:
            return {"sku": {"S": sku}, "record": {"S": "LEVEL#main"}, "on_hand": {"N": "500"},
                    "reserved": {"N": str(reserved)}, "available": {"N": str(500 - reserved)}}

        records.append({"eventID": str(i), "eventName": "MODIFY", "eventSource": "aws:dynamodb", "eventSourceARN": arn,
                        "dynamodb": {"SequenceNumber": str(10_000 + i), "ApproximateCreationDateTime": 1_900_000_000,
                                     "Keys": {"sku": {"S": sku}, "record": {"S": "LEVEL#main"}},
                                     "OldImage": level(i), "NewImage": level(i + 1),
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    return {"Records": records}


def _bucket_items(stack, sku: str) -> list[str]:
    dynamodb = stack.boto3_client("dynamodb")
    table = next(t.name for t in stack.resources.tables if t.logical_id == "StockTable")
    return [f"{sku}#{b}" for b in range(1, 20) if dynamodb.get_item(
        TableName=table, Key={"sku": {"S": f"{sku}#{b}"}, "record": {"S": "LEVEL#main"}}).get("Item")]


def test_a_sku_taking_reservations_past_the_hot_rate_is_split_and_an_admins_count_is_kept(stack, api):
    hot, pinned, calm = api.product(stock=500), api.product(stock=500), api.product(stock=500)
    assert api.http.put(f"/products/{pinned}", json={"name": "pinned", "unit_price": 10,
                                                     "stock_buckets": 2}).is_success
    batch = _batch(stack, hot, 120)
    batch["Records"] += _batch(stack, pinned, 120, start=200)["Records"] + _batch(stack, calm, 3, start=400)["Records"]
    assert stack.runtime.invoke(PUBLISHER, batch) == {"batchItemFailures": []}

    assert _bucket_items(stack, hot) == [f"{hot}#{b}" for b in range(1, 9)]  # 120 a second: 8 buckets of ~25
    assert _bucket_items(stack, pinned) == [f"{pinned}#1", f"{pinned}#2"]
    assert _bucket_items(stack, calm) == []
    assert api.stock(hot)["available"] == 500 and api.http.get(f"/products/{hot}").json().get("stock_buckets") is None
    customer = api.customer()
    order_id = api.submit(customer, {hot: 3}).json()["order_id"]
    assert api.wait_for(order_id, {"RESERVED", "FAILED", "BACKORDERED"})["status"] == "RESERVED"
    assert (api.stock(hot)["reserved"], api.stock(hot)["available"]) == (3, 497)
