"""What ``orderflow_local.fidelity`` changes in moto's DynamoDB, seen through the local stack's endpoint."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from local_support import eventually, scratch_table

from orderflow_local.stack import LocalStack


@pytest.fixture(scope="module")
def streamed_table(stack: LocalStack) -> Iterator[str]:
    """A table with a stream and no consumer: its stream keeps every record, so they can be counted."""
    with scratch_table(stack.boto3_client("dynamodb"), "fidelity", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}) as name:
        yield name


def _items(stack: LocalStack, table: str) -> dict[str, dict[str, Any]]:
    scanned = stack.boto3_client("dynamodb").scan(TableName=table)["Items"]
    return {item["pk"]["S"]: item for item in scanned}


def _stream_records(stack: LocalStack, table: str) -> list[dict[str, Any]]:
    streams = stack.boto3_client("dynamodbstreams")
    arn = stack.boto3_client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]


def test_a_transaction_failing_half_way_writes_nothing(stack: LocalStack, streamed_table: str) -> None:
    """moto applies a transaction's items one by one; when a later item fails (here an update adding to a
    string, which only the update itself finds out), the items before it are put back as they were, and
    the stream keeps no record of them."""
    dynamodb = stack.boto3_client("dynamodb")
    dynamodb.put_item(TableName=streamed_table, Item={"pk": {"S": "kept"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=streamed_table, Item={"pk": {"S": "text"}, "n": {"S": "not a number"}})
    before, records = _items(stack, streamed_table), len(_stream_records(stack, streamed_table))

    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": streamed_table, "Item": {"pk": {"S": "new"}, "n": {"N": "5"}}}},
            {"Update": {"TableName": streamed_table, "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Update": {"TableName": streamed_table, "Key": {"pk": {"S": "text"}},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert failed.value.response["Error"]["Code"] in {"ValidationException", "TransactionCanceledException"}

    assert _items(stack, streamed_table) == before
    assert len(_stream_records(stack, streamed_table)) == records
    # the table still works as one: the next transaction lands whole, and is streamed
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": streamed_table, "Item": {"pk": {"S": "new"}, "n": {"N": "5"}}}},
        {"Update": {"TableName": streamed_table, "Key": {"pk": {"S": "kept"}},
                    "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    after = _items(stack, streamed_table)
    assert (after["new"]["n"], after["kept"]["n"], after["text"]) == ({"N": "5"}, {"N": "2"}, before["text"])
    assert len(_stream_records(stack, streamed_table)) == records + 2


def test_a_cancelled_transaction_changes_nothing(stack: LocalStack, streamed_table: str) -> None:
    dynamodb = stack.boto3_client("dynamodb")
    dynamodb.put_item(TableName=streamed_table, Item={"pk": {"S": "guarded"}, "n": {"N": "1"}})
    before, records = _items(stack, streamed_table), len(_stream_records(stack, streamed_table))
    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": streamed_table, "Item": {"pk": {"S": "other"}, "n": {"N": "5"}}}},
            {"Update": {"TableName": streamed_table, "Key": {"pk": {"S": "guarded"}},
                        "UpdateExpression": "SET n = :two", "ConditionExpression": "n = :zero",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}}}},
        ])
    reasons = [r["Code"] for r in failed.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _items(stack, streamed_table) == before
    assert len(_stream_records(stack, streamed_table)) == records


def test_dynamodb_items_are_not_kept_once_overwritten(stack: LocalStack, streamed_table: str) -> None:
    """moto's dashboard registry (``instances_tracked``) would keep every item version, table copy and
    stream record for ever; the local stack does not register DynamoDB's, so a long run's memory is what
    its tables hold."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord, StreamShard, Table

    registered = {cls: len(cls.instances_tracked) for cls in (Item, Table, StreamShard, StreamRecord)}
    dynamodb = stack.boto3_client("dynamodb")
    for n in range(20):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": streamed_table, "Item": {"pk": {"S": "counter"}, "n": {"N": str(n)}}}}])
    assert {cls: len(cls.instances_tracked) for cls in registered} == registered


def test_a_task_token_is_answered_once(stack: LocalStack) -> None:
    """Several answers to one parked task at once: the first resumes it, every other is told
    ``TaskTimedOut`` (the task is closed), as on AWS, so a caller counting the tasks it resumed is right."""
    started = httpx.post(f"{stack.api_url}/work", json={"id": "w-once"})
    arn = started.json()["executionArn"]
    stack.wait_for_state(arn, "Park")
    table = stack.resources.tables[0].name
    token = eventually(lambda: stack.boto3_client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "w-once#parked"}}).get("Item"))["token"]["S"]
    sfn = stack.boto3_client("stepfunctions")
    together = threading.Barrier(8)

    def answer(n: int) -> str:
        together.wait(timeout=30)
        try:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": n}))
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "resumed"

    with ThreadPoolExecutor(8) as pool:
        answers = Counter(pool.map(answer, range(8)))

    assert answers["resumed"] == 1, answers
    assert set(answers) - {"resumed"} <= {"TaskTimedOut", "InvalidToken"}, answers  # InvalidToken: it ended
    assert stack.wait_for_execution(arn)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output="{}")


def test_update_expressions_rewrite_a_copy_of_their_parsed_tree(stack: LocalStack, streamed_table: str) -> None:
    """moto validates an update on a deep copy of the parsed expression (with the stack's direct copy);
    one expression text, parsed once, updates different items, each from its own values."""
    import copy

    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    text = "SET #n = #n + :one, tags = list_append(if_not_exists(tags, :empty), :tag) REMOVE gone"
    tree = UpdateExpressionParser.make(text)
    copied = copy.deepcopy(tree)

    def shape(node: Any) -> Any:
        return (type(node), [shape(child) for child in node.children or []], type(node.parent)) \
            if isinstance(node, Node) else repr(node)

    def nodes(node: Any) -> list[Any]:
        return [node, *(n for child in node.children or [] for n in nodes(child))] if isinstance(node, Node) else []

    assert shape(copied) == shape(tree)
    assert not {id(n) for n in nodes(copied)} & {id(n) for n in nodes(tree)}
    assert not {id(n.parent) for n in nodes(copied)} & {id(n) for n in nodes(tree)}

    dynamodb = stack.boto3_client("dynamodb")
    for pk, start in (("expr-a", "1"), ("expr-b", "40")):
        dynamodb.put_item(TableName=streamed_table, Item={"pk": {"S": pk}, "n": {"N": start}, "gone": {"S": "x"}})
        for tag in ("first", "second"):
            dynamodb.update_item(
                TableName=streamed_table, Key={"pk": {"S": pk}}, UpdateExpression=text,
                ExpressionAttributeNames={"#n": "n"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":empty": {"L": []},
                                           ":tag": {"L": [{"S": f"{pk}-{tag}"}]}})
    items = _items(stack, streamed_table)
    assert items["expr-a"]["n"] == {"N": "3"} and items["expr-b"]["n"] == {"N": "42"}
    assert items["expr-b"]["tags"] == {"L": [{"S": "expr-b-first"}, {"S": "expr-b-second"}]}
    assert "gone" not in items["expr-a"]


# ---------------------------------------------------------------------- reading only what is asked
def _pages(call: Callable[..., dict[str, Any]], **request: Any) -> list[tuple[Any, ...]]:
    """Every page of a Query or Scan: its items, counts and ``LastEvaluatedKey``."""
    pages = []
    while True:
        answer = call(**request)
        pages.append((answer["Items"], answer["Count"], answer["ScannedCount"], answer.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in answer:
            return pages
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


def _reads(dynamodb: Any, table: str) -> dict[str, list[tuple[Any, ...]]]:
    """The same reads of a partition, of an index and of parallel-scan segments, paged and not."""
    reads = {}
    for pk in ("p-03", "p-11", "absent"):
        for forward in (True, False):
            reads[f"query {pk} {forward}"] = _pages(
                dynamodb.query, TableName=table, KeyConditionExpression="pk = :p", Limit=2,
                ScanIndexForward=forward, ExpressionAttributeValues={":p": {"S": pk}})
    reads["query range"] = _pages(
        dynamodb.query, TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
        FilterExpression="n > :n", ExpressionAttributeValues={":p": {"S": "p-07"}, ":b": {"S": "s-"},
                                                              ":n": {"N": "1"}})
    for group in ("g-0", "g-2", "absent"):
        for forward in (True, False):
            reads[f"index {group} {forward}"] = _pages(
                dynamodb.query, TableName=table, IndexName="by-group", KeyConditionExpression="grp = :g",
                Limit=4, ScanIndexForward=forward, ExpressionAttributeValues={":g": {"S": group}})
    reads["index range"] = _pages(
        dynamodb.query, TableName=table, IndexName="by-group", KeyConditionExpression="grp = :g AND rank > :r",
        ExpressionAttributeValues={":g": {"S": "g-1"}, ":r": {"N": "10"}})
    for total in (1, 3, 7):
        for segment in range(total):
            reads[f"segment {segment}/{total}"] = _pages(
                dynamodb.scan, TableName=table, Segment=segment, TotalSegments=total, Limit=5)
    reads["segment filtered"] = _pages(dynamodb.scan, TableName=table, Segment=1, TotalSegments=3,
                                       FilterExpression="n = :n", ExpressionAttributeValues={":n": {"N": "2"}})
    return reads


def test_queries_and_scan_segments_answer_as_moto_does_over_the_whole_table(
        stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Query reads its partition, an index Query and a scan segment only the items they can return
    (moto sorted the whole table for each): the answers, pages, counts and keys are moto's own, and they
    are DynamoDB's (a partition in key order, an index's items in its key order, segments that split the
    table)."""
    from moto.dynamodb.models.table import Table

    dynamodb = stack.boto3_client("dynamodb")
    with scratch_table(
            dynamodb, "reads",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                                  for n, t in (("pk", "S"), ("sk", "S"), ("grp", "S"), ("rank", "N"))],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "by-group", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"},
                                                   {"AttributeName": "rank", "KeyType": "RANGE"}]}]) as table:
        for p in range(20):
            for s in range(p % 4):
                item = {"pk": {"S": f"p-{p:02d}"}, "sk": {"S": f"s-{s}"}, "n": {"N": str(s)}}
                if (p + s) % 5:  # the others are not in the index
                    item |= {"grp": {"S": f"g-{(p + s) % 3}"}, "rank": {"N": str((7 * p + s) % 23)}}
                dynamodb.put_item(TableName=table, Item=item)
        fast = _reads(dynamodb, table)
        monkeypatch.setattr(Table, "query", Table.query.__wrapped__)
        monkeypatch.setattr(Table, "scan", Table.scan.__wrapped__)
        assert fast == _reads(dynamodb, table)

    def keys(pages: list[tuple[Any, ...]]) -> list[tuple[str, str]]:
        return [(i["pk"]["S"], i["sk"]["S"]) for items, *_ in pages for i in items]

    assert keys(fast["query p-11 True"]) == [("p-11", "s-0"), ("p-11", "s-1"), ("p-11", "s-2")]
    assert keys(fast["query p-11 False"]) == keys(fast["query p-11 True"])[::-1]
    assert [len(items) for items, *_ in fast["query p-11 True"]] == [2, 1]
    assert keys(fast["query absent True"]) == []
    grouped = [(i["grp"]["S"], int(i["rank"]["N"])) for items, *_ in fast["index g-2 True"] for i in items]
    assert grouped and {g for g, _ in grouped} == {"g-2"} and [r for _, r in grouped] == sorted(r for _, r in grouped)
    assert all(int(i["rank"]["N"]) > 10 for items, *_ in fast["index range"] for i in items)
    whole = sorted(keys(fast["segment 0/1"]))
    assert len(whole) == sum(p % 4 for p in range(20))
    for total in (3, 7):
        segments = [keys(fast[f"segment {s}/{total}"]) for s in range(total)]
        assert sorted(k for segment in segments for k in segment) == whole  # each item in exactly one segment
        for segment in segments:  # a partition's items in one segment
            assert len({pk for pk, _ in segment}) == len({pk for pk, _ in segment} - {
                pk for other in segments if other is not segment for pk, _ in other})


def test_queues_count_their_messages_and_deduplicate_by_content(stack: LocalStack) -> None:
    """Sending and receiving skip moto's message counts (a pass over the whole queue each); the counts are
    still there, right, when the queue's attributes are asked for, and a FIFO queue with content-based
    deduplication still drops a second copy of a body."""
    sqs = stack.boto3_client("sqs")
    url = sqs.create_queue(QueueName="fidelity-counts", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    fifo = sqs.create_queue(QueueName="fidelity-counts.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    try:
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
        (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        assert received["Body"].startswith("m")
        counted = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (counted["ApproximateNumberOfMessages"], counted["ApproximateNumberOfMessagesNotVisible"],
                counted["ApproximateNumberOfMessagesDelayed"]) == ("2", "1", "1")
        assert counted["MessageRetentionPeriod"] == "345600"
        for _ in range(2):
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
        assert sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"] == {"ApproximateNumberOfMessages": "1"}
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=fifo)
