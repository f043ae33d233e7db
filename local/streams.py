"""DynamoDB Streams delivered by pollers, as Lambda's event-source mappings deliver them.

moto runs a stream's function inside the write that made the record, one write at a time, so the
write waits for the consumer and the consumer sees every change alone. On AWS a poller reads each
shard after the write has returned, and invokes the function with up to ``BatchSize`` records, in
order, once it has gathered ``BatchSize`` records or ``MaximumBatchingWindowInSeconds`` has passed since
the first. When the function fails, Lambda retries the batch (split in two each time with
``BisectBatchOnFunctionError``; a split uses none of the retry quota), holding back the shard's later
records until it succeeds or has been retried ``MaximumRetryAttempts`` times; then it discards the
records and sends a pointer to them (the batch's shard and sequence numbers, not the records) to the
``OnFailure`` destination. Records that match none of the mapping's ``FilterCriteria`` are dropped before
batching, never delivered. With
``ReportBatchItemFailures`` a response's ``batchItemFailures`` make the lowest reported sequence number
the checkpoint: the records before it are done, the rest are retried. An identifier that is not in the
batch fails the whole batch.

:class:`StreamPollers` does that, one thread per DynamoDB event-source mapping, reading moto's stream
shard in-process under the stack's DynamoDB lock; it unhooks the mapping from moto's table, so moto
delivers nothing itself. Records every mapping of a table has passed are dropped from the shard
(moto drops a record once delivered; AWS keeps it 24 hours), except those a mapping discarded: they are
kept for ``RETENTION_SECONDS``, as AWS keeps them, so the on-failure pointer can be followed
(``orderflow streams redrive``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient

from orderflow_local import fidelity
from orderflow_local.template import REGION, Template

logger = logging.getLogger("orderflow_local.streams")

Invoke = Callable[[str, Any], Any]
RETRY_PAUSE = 0.05  # seconds between a failed batch and its retry
RETENTION_SECONDS = 24 * 3600  # how long a stream keeps a record (DynamoDB Streams: 24 hours)


class _Poller:
    def __init__(self, owner: StreamPollers, mapping_uuid: str, function_arn: str, table: Any) -> None:
        self.owner, self.uuid, self.function_arn, self.table = owner, mapping_uuid, function_arn, table
        self.cursor = 0  # the last sequence number handled (delivered, or discarded)
        self.gathering: float | None = None  # since when records wait for the batching window

    def run(self) -> None:
        stop = self.owner.stopping
        while not stop.is_set():
            try:
                mapping = self.owner.lambda_.get_event_source_mapping(UUID=self.uuid)
                if mapping["State"] != "Enabled":
                    stop.wait(self.owner.poll_seconds)
                    continue
                size = int(mapping.get("BatchSize") or 100)
                records = self.read(size, mapping["EventSourceArn"])
                if not records:
                    stop.wait(self.owner.poll_seconds)
                    continue
                left = self.gather(len(records), size, float(mapping.get("MaximumBatchingWindowInSeconds") or 0))
                if left > 0:
                    stop.wait(min(self.owner.poll_seconds, left))
                    continue
                wanted = fidelity.matching(records, mapping.get("FilterCriteria"))
                if wanted:  # the others are dropped unseen, as Lambda's filtering does (and bills no invocation)
                    self.owner.deliver(mapping, wanted)
                self.cursor = int(records[-1]["dynamodb"]["SequenceNumber"])
                self.owner.trim(self.table)
            except Exception:
                if stop.is_set():
                    return
                logger.exception("stream poller %s failed; polling again", self.uuid)
                stop.wait(self.owner.poll_seconds)

    def gather(self, waiting: int, batch_size: int, window: float) -> float:
        """Seconds to go on gathering the ``waiting`` records before invoking: none once they fill a batch or
        ``MaximumBatchingWindowInSeconds`` has passed since they were first seen (then the next ones start a
        window of their own)."""
        now = time.monotonic()
        self.gathering = self.gathering if self.gathering is not None else now
        left = window - (now - self.gathering) if waiting < batch_size else 0.0
        if left <= 0:
            self.gathering = None
        return max(0.0, left)

    def read(self, batch_size: int, stream_arn: str) -> list[dict[str, Any]]:
        """The next records after the cursor, in the Lambda event's shape (at most ``batch_size``)."""
        from moto.core.utils import unix_time
        from moto.dynamodb.models.utilities import dynamo_json_dump

        with fidelity.lock():
            shard = self.table.stream_shard
            pending = [r for r in (shard.items if shard else []) if int(r.record["dynamodb"]["SequenceNumber"])
                       > self.cursor][:batch_size]
            records = []
            for r in pending:
                record = dict(r.to_json())
                dynamodb = dict(record["dynamodb"])
                if isinstance(dynamodb.get("ApproximateCreationDateTime"), datetime):
                    dynamodb["ApproximateCreationDateTime"] = unix_time(dynamodb["ApproximateCreationDateTime"])
                record.update(dynamodb=dynamodb, awsRegion=REGION, eventSourceARN=stream_arn)
                records.append(json.loads(dynamo_json_dump(record)))
        return records


class StreamPollers:
    """Lambda's DynamoDB Streams pollers for every stream event-source mapping of ``template``."""

    def __init__(self, template: Template, client: Callable[[str], BaseClient], invoke: Invoke,
                 poll_seconds: float = 0.1) -> None:
        self.template = template
        self.lambda_ = client("lambda")
        self._sqs = client("sqs")
        self._invoke = invoke
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._pollers: list[_Poller] = []
        self._threads: list[threading.Thread] = []
        self.discarded: list[dict[str, Any]] = []  # the OnFailure records sent, newest last
        self._retained: dict[int, float] = {}  # sequence number of a discarded record → when it expires

    def start(self) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables
        for mapping in self.lambda_.list_event_source_mappings()["EventSourceMappings"]:
            if ":dynamodb:" not in mapping["EventSourceArn"]:
                continue
            table = tables[mapping["EventSourceArn"].split(":table/")[1].split("/stream/")[0]]
            with fidelity.lock():  # moto delivers no more: the poller does
                table.lambda_event_source_mappings.pop(mapping["FunctionArn"], None)
            poller = _Poller(self, mapping["UUID"], mapping["FunctionArn"], table)
            if mapping.get("StartingPosition") == "LATEST" and table.stream_shard and table.stream_shard.items:
                poller.cursor = int(table.stream_shard.items[-1].record["dynamodb"]["SequenceNumber"])
            self._pollers.append(poller)
        for poller in self._pollers:
            thread = threading.Thread(target=poller.run, daemon=True,
                                      name=f"orderflow-stream-{poller.function_arn.rsplit(':', 1)[1]}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling; a batch being delivered is finished (or given up) first."""
        self.stopping.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def waiting(self) -> int:
        """Records a poller has still to hand its function (gathering, or being delivered)."""
        with fidelity.lock():
            return sum(int(r.record["dynamodb"]["SequenceNumber"]) > p.cursor for p in self._pollers
                       for r in (p.table.stream_shard.items if p.table.stream_shard else []))

    def trim(self, table: Any) -> None:
        """Drop the records every poller of ``table`` has passed."""
        passed = min(p.cursor for p in self._pollers if p.table is table)
        now = time.monotonic()
        with fidelity.lock():
            self._retained = {seq: until for seq, until in self._retained.items() if until > now}
            shard = table.stream_shard
            if shard is not None:
                shard.items = [r for r in shard.items if (seq := int(r.record["dynamodb"]["SequenceNumber"])) > passed
                               or seq in self._retained]

    def deliver(self, mapping: dict[str, Any], records: list[dict[str, Any]]) -> None:
        """Invoke until every record is handled or discarded, as Lambda's stream poller does."""
        partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        limit = int(mapping.get("MaximumRetryAttempts", -1) if mapping.get("MaximumRetryAttempts") is not None
                    else -1)
        work: deque[tuple[list[dict[str, Any]], int]] = deque([(records, 0)])
        while work:
            batch, retries = work.popleft()
            left, errored = self._invoke_once(mapping["FunctionArn"], batch, partial)
            if not left:
                continue
            if limit != -1 and retries >= limit and not (errored and bisect and len(left) > 1):
                self._discard(mapping, left, retries + 1)
                continue
            if self.stopping.is_set():
                return  # the records stay on the shard (the cursor does not move past them)
            time.sleep(RETRY_PAUSE)
            if errored and bisect and len(left) > 1:  # a split is no retry: it uses none of the quota
                half = len(left) // 2
                work.appendleft((left[half:], retries))
                work.appendleft((left[:half], retries))
            else:
                work.appendleft((left, retries + 1))

    def _invoke_once(self, function_arn: str, batch: list[dict[str, Any]],
                     partial: bool) -> tuple[list[dict[str, Any]], bool]:
        """The records still to do after one invocation, and whether the function raised."""
        try:
            response = self._invoke(function_arn, {"Records": batch})
        except Exception as exc:
            logger.info("%s failed on %d stream record(s); retrying: %s", function_arn, len(batch), exc)
            return batch, True
        if not partial or not isinstance(response, dict) or not response.get("batchItemFailures"):
            return [], False
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        failed = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in response["batchItemFailures"]]
        if not all(f in sequence for f in failed):
            return batch, False  # an identifier not in the batch: the whole batch failed
        checkpoint = min(sequence.index(f) for f in failed)
        return batch[checkpoint:], False

    def _discard(self, mapping: dict[str, Any], records: list[dict[str, Any]], attempts: int) -> None:
        first, last = records[0], records[-1]
        table = next(p.table for p in self._pollers if p.uuid == mapping["UUID"])
        until = time.monotonic() + RETENTION_SECONDS
        with fidelity.lock():
            self._retained.update((int(r["dynamodb"]["SequenceNumber"]), until) for r in records)
        info = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": mapping["FunctionArn"],
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": table.stream_shard.id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first["dynamodb"].get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last["dynamodb"].get("ApproximateCreationDateTime"),
                "batchSize": len(records),
                "streamArn": mapping["EventSourceArn"],
            },
        }
        self.discarded.append(info)
        logger.warning("%s: %d stream record(s) discarded after %d attempts", mapping["FunctionArn"],
                       len(records), attempts)
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if destination and ":sqs:" in destination:
            url = self._sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[1])["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(info))
