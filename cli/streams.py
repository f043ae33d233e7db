"""``orderflow streams redrive``: deliver again the stream records a function gave up on.

A DynamoDB stream's function that keeps failing on a batch (the event publisher, the demand counter) is
retried ``MaximumRetryAttempts`` times; then Lambda skips the records and sends the failure queue a pointer
to them (shard and sequence numbers), not the records. The stream keeps them 24 hours. Within that time this
command follows each pointer, reads the records back (GetShardIterator at the first sequence number,
GetRecords up to the last), invokes the function with them as the event-source mapping would, and deletes
the pointer once the function handled every record. Past 24 hours the records are gone: the pointer is left
and reported (docs/alerts.md, "Stream failures").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from .aws import DEFAULT_AWS_ENDPOINT, AwsEndpoint, aws_client, aws_error

DEFAULT_QUEUE = "orderflow-dev-stream-failures"
_RECEIVE_BATCH = 10


@dataclass
class Outcome:
    """What became of one pointer."""

    function: str
    records: int
    status: str  # "redriven", "failed again" or "expired"


def pointers(sqs: Any, queue_url: str, limit: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(receipt handle, the on-failure record) of at most ``limit`` messages holding a stream batch's pointer."""
    taken = 0
    while taken < limit:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(_RECEIVE_BATCH, limit - taken),
                                       VisibilityTimeout=300, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return
        for message in messages:
            taken += 1
            info = json.loads(message["Body"])
            if "DDBStreamBatchInfo" in info:
                yield message["ReceiptHandle"], info


def records_of(streams: Any, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a pointer names, in the shape Lambda gives a function (empty once the stream dropped them)."""
    first, last = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(StreamArn=batch["streamArn"], ShardId=batch["shardId"],
                                              ShardIteratorType="AT_SEQUENCE_NUMBER",
                                              SequenceNumber=batch["startSequenceNumber"])["ShardIterator"]
    except streams.exceptions.TrimmedDataAccessException:
        return []
    found: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = [r for r in page.get("Records", []) if int(r["dynamodb"]["SequenceNumber"]) <= last]
        found += [{**r, "eventSourceARN": batch["streamArn"]} for r in records
                  if int(r["dynamodb"]["SequenceNumber"]) >= first]
        if not page.get("Records") or len(records) < len(page["Records"]) or \
                int(page["Records"][-1]["dynamodb"]["SequenceNumber"]) >= last:
            break
        iterator = page.get("NextShardIterator")
    return found


def handled_all(lambda_: Any, function_arn: str, records: list[dict[str, Any]]) -> bool:
    """Invoke the function with ``records``; True when it raised nothing and reported no record as failed."""
    response = lambda_.invoke(FunctionName=function_arn, Payload=json.dumps({"Records": records}, default=str))
    answer = response["Payload"].read()
    if response.get("FunctionError"):
        return False
    try:
        body = json.loads(answer or b"null")
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("batchItemFailures"))


def redrive_pointers(sqs: Any, streams: Any, lambda_: Any, queue_url: str, limit: int) -> list[Outcome]:
    outcomes = []
    for receipt, info in pointers(sqs, queue_url, limit):
        function = info["requestContext"]["functionArn"]
        records = records_of(streams, info["DDBStreamBatchInfo"])
        if not records:
            outcomes.append(Outcome(function, 0, "expired"))
            continue
        if handled_all(lambda_, function, records):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            outcomes.append(Outcome(function, len(records), "redriven"))
        else:
            outcomes.append(Outcome(function, len(records), "failed again"))
    return outcomes


streams_app = typer.Typer(help="The tables' streams: follow up the batches their functions gave up on.",
                          no_args_is_help=True)


@streams_app.command("redrive")
def redrive(
    queue: Annotated[str, typer.Option(envvar="ORDERFLOW_STREAM_FAILURES_QUEUE", show_envvar=True,
                                       help="The on-failure queue of the stream functions "
                                            "(orderflow-<stage>-stream-failures).")] = DEFAULT_QUEUE,
    limit: Annotated[int, typer.Option(min=1, help="Follow at most this many pointers.")] = 100,
    aws_endpoint: AwsEndpoint = DEFAULT_AWS_ENDPOINT,
) -> None:
    """Deliver again, within the stream's 24 hours, the records a stream function skipped after its retries."""
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = aws_client("sqs", aws_endpoint)
    try:
        queue_url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        outcomes = redrive_pointers(sqs, aws_client("dynamodbstreams", aws_endpoint),
                                    aws_client("lambda", aws_endpoint), queue_url, limit)
    except (BotoCoreError, ClientError) as exc:
        typer.echo("error: " + aws_error(exc, f"cannot redrive from {queue}", aws_endpoint), err=True)
        raise typer.Exit(1) from None
    for outcome in outcomes:
        typer.echo(f"{outcome.status:<12}  {outcome.records:>4} record(s)  {outcome.function.rsplit(':', 1)[-1]}")
    typer.echo(f"{sum(o.status == 'redriven' for o in outcomes)} of {len(outcomes)} pointer(s) redriven")
    if any(o.status != "redriven" for o in outcomes):
        raise typer.Exit(1)
