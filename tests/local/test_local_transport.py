"""The in-process transport (``orderflow_local.transport``) and moto's item answers dumped as JSON
(``orderflow_local.fidelity``): what a function reads is what it would read over moto's server."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from local_support import scratch_table

from orderflow_local.stack import LocalStack
from orderflow_local.transport import InProcess

EVERY_TYPE: dict[str, Any] = {
    "pk": {"S": "every-type"},
    "text": {"S": "naïve ✓"},
    "number": {"N": "-12.5"},
    "blob": {"B": b"\x00\xffbinary"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "texts": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02\x03"]},
    "nested": {"M": {"lines": {"L": [{"M": {"sku": {"S": "SKU-1"}, "qty": {"N": "3"}, "raw": {"B": b"\x10"}}}]},
                     "empty": {"M": {}}, "none": {"L": []}}},
}


@pytest.fixture(scope="module")
def table(stack: LocalStack) -> Iterator[str]:
    with scratch_table(stack.boto3_client("dynamodb"), "transport") as name:
        yield name


def _fresh_client(stack: LocalStack, service: str) -> Any:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return session.client(service, endpoint_url=stack.aws_endpoint)


@contextmanager
def _over_http(stack: LocalStack) -> Iterator[None]:
    """Every request of this process goes over moto's server meanwhile."""
    stack.in_process.uninstall()
    try:
        yield
    finally:
        stack.in_process.install()


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_put(value: Any) -> Any:
    """An attribute as boto3's low-level client reads it back (sets in any order, blobs as bytes)."""
    if isinstance(value, dict):
        return {k: (sorted(v) if k in ("SS", "NS", "BS") else _as_put(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_put(v) for v in value]
    return value


def test_every_attribute_type_reads_back_as_it_was_written(stack: LocalStack, table: str) -> None:
    """Each item operation answers with the item exactly as put: text, numbers, binaries (base64 on the
    wire once, not twice), sets, nulls, nested maps and lists, empty ones included."""
    dynamodb = stack.boto3_client("dynamodb")
    key = {"pk": EVERY_TYPE["pk"]}
    dynamodb.put_item(TableName=table, Item=EVERY_TYPE)
    expected = _as_put(EVERY_TYPE)

    answers = {
        "GetItem": dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"],
        "Query": dynamodb.query(TableName=table, KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues={":pk": EVERY_TYPE["pk"]})["Items"][0],
        "Scan": dynamodb.scan(TableName=table)["Items"][0],
        "BatchGetItem": dynamodb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table][0],
        "TransactGetItems": dynamodb.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": key}}])["Responses"][0]["Item"],
        "UpdateItem": dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET flag = :t",
                                           ExpressionAttributeValues={":t": {"BOOL": True}},
                                           ReturnValues="ALL_NEW")["Attributes"],
        "DeleteItem": dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")["Attributes"],
    }

    for operation, item in answers.items():
        assert _as_put(item) == expected, operation
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)


def test_the_in_process_answer_is_the_servers(stack: LocalStack, table: str) -> None:
    """The same requests in-process and over moto's server get the same answers, errors included."""
    dynamodb = stack.boto3_client("dynamodb")
    dynamodb.put_item(TableName=table, Item={**EVERY_TYPE, "pk": {"S": "both"}})
    key = {"pk": {"S": "both"}}

    def answers() -> tuple[Any, ...]:
        item = _as_put(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
        with pytest.raises(ClientError) as failed:
            dynamodb.put_item(TableName=table, Item=key, ConditionExpression="attribute_not_exists(pk)",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
        refused = failed.value.response["Error"]["Code"], _as_put(failed.value.response.get("Item"))
        described = dynamodb.describe_table(TableName=table)["Table"]  # not an item: moto's serializer
        return item, refused, described["CreationDateTime"], described["KeySchema"]

    answered = stack.in_process.answered["dynamodb"]
    in_process = answers()
    answered_after = stack.in_process.answered["dynamodb"]
    assert answered_after >= answered + 3
    with _over_http(stack):  # nothing is answered in-process meanwhile, the stack's own threads' calls included
        over_http = answers()
    assert stack.in_process.answered["dynamodb"] == answered_after
    assert in_process == over_http
    assert in_process[1][0] == "ConditionalCheckFailedException"


def test_the_functions_calls_skip_the_socket(stack: LocalStack) -> None:
    """A request to the HTTP API runs a function whose DynamoDB calls are answered in-process."""
    before = stack.in_process.answered["dynamodb"]
    stored = httpx.put(f"{stack.api_url}/items/transport-1", json={"name": "kept"})
    assert stored.status_code < 300, stored.text
    read = httpx.get(f"{stack.api_url}/items/transport-1")
    assert read.status_code == 200 and "kept" in read.text
    assert stack.in_process.answered["dynamodb"] >= before + 2


def test_a_client_kept_after_its_transport_is_gone_is_not_answered() -> None:
    """Once uninstalled the transport answers nothing: a client that outlived its stack reaches the stopped
    server (and fails to connect) rather than a later stack's state."""
    nobody = f"http://127.0.0.1:{_free_port()}"
    transport = InProcess(nobody)
    transport.install()
    transport.uninstall()
    client = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
                           ).client("dynamodb", endpoint_url=nobody,
                                    config=Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    with pytest.raises(EndpointConnectionError):
        client.list_tables()
    assert not transport.answered


def test_a_fault_injected_before_send_wins(stack: LocalStack, table: str) -> None:
    """A ``before-send`` hook that answers a request (how tests inject throttling) is what the client gets,
    and the in-process transport does not run the request behind it."""
    dynamodb = _fresh_client(stack, "dynamodb")
    throttled = AWSResponse(stack.aws_endpoint, 400, {}, _Raw(
        b'{"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", '
        b'"message": "throttled"}'))
    dynamodb.meta.events.register("before-send.dynamodb.PutItem", lambda **_: throttled)
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "never-written"}})
    assert refused.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert "Item" not in stack.boto3_client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "never-written"}})


def test_dynamodb_streams_share_dynamodbs_signing_name(stack: LocalStack) -> None:
    """DynamoDB Streams signs as ``dynamodb``; its requests still reach the streams API."""
    before = stack.in_process.answered["streams.dynamodb"]
    assert "Streams" in stack.boto3_client("dynamodbstreams").list_streams()
    assert stack.in_process.answered["streams.dynamodb"] == before + 1


def test_numbers_keep_their_precision(stack: LocalStack, table: str) -> None:
    """DynamoDB numbers travel as text: 38 digits come back as written (a JSON float would round them)."""
    resource_table = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
    ).resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(table)
    digits = Decimal("1234567890123456789.0123456789012345678")
    resource_table.put_item(Item={"pk": "precise", "amount": digits})
    assert resource_table.get_item(Key={"pk": "precise"})["Item"]["amount"] == digits
