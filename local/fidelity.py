"""Gaps between moto and AWS that the offline stack closes, so tests see AWS's guarantees.

- Atomic requests. DynamoDB applies each write, and each transaction, atomically. moto's server
  handles requests in parallel threads without a lock, and its ``TransactWriteItems`` restores a
  deep copy of whole tables when a condition fails, which would undo other threads' writes made in
  between. Serialising DynamoDB requests restores AWS's atomicity; the races our code must win (two
  orders for the last unit, cancel against ship) still happen between requests, as on AWS.
- All-or-nothing transactions. moto applies a transaction's items one by one and rolls back when a
  later condition fails, so the stream (and the functions consuming it) sees writes of a cancelled
  transaction. Every condition is checked first here, and nothing is applied if one fails.
- Stream sequence numbers. moto numbers stream records by their position among the records not yet
  delivered, so after each delivery numbering starts again; here they increase for ever, as on AWS.
- Stream retries. moto drops a stream batch whatever the function answered; here a failed batch
  (an error, or ``batchItemFailures`` from ``ReportBatchItemFailures``) stays on the stream from its
  first failed record and is delivered again with the table's next change (on AWS: at once, and at
  most ``MaximumRetryAttempts`` times).

The stream's consumer runs inside the write that caused it, hence inside the lock: it must not
call DynamoDB.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from typing import Any

DYNAMODB_ACTIONS = (
    "get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_get_item",
    "batch_write_item", "transact_write_items", "transact_get_items",
)
_lock = threading.RLock()
_installed = False


def install() -> None:
    """Close every gap listed above (idempotent; moto's classes stay patched for the process)."""
    global _installed
    if _installed:
        return
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamRecord
    from moto.dynamodb.responses import DynamoHandler

    for action in DYNAMODB_ACTIONS:
        setattr(DynamoHandler, action, _locked(getattr(DynamoHandler, action)))
    DynamoDBBackend.transact_write_items = _conditions_first(DynamoDBBackend.transact_write_items)
    StreamRecord.__init__ = _increasing_sequence(StreamRecord.__init__)
    LambdaBackend.send_dynamodb_items = _keep_failed_records(LambdaBackend.send_dynamodb_items)
    _installed = True


def _locked(original: Any) -> Any:
    @functools.wraps(original)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    return locked


def _conditions_first(original: Any) -> Any:
    """``transact_write_items`` that cancels before writing anything when a condition fails,
    with the per-item reasons moto's own code gives."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        reasons: list[tuple[Any, Any, Any]] = []
        targets: set[str] = set()
        try:
            for item in transact_items:
                ((_, op),) = item.items()
                table = self.get_table(op["TableName"])
                key = op.get("Key") or {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a}
                targets.add(json.dumps([op["TableName"], key], sort_keys=True))
                condition = op.get("ConditionExpression")
                current = self.get_item(op["TableName"], key)
                if condition is None or get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                ).expr(current):
                    reasons.append((None, None, None))
                    continue
                old = (current.to_json()["Attributes"]
                       if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
                reasons.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
        except Exception:
            return original(self, transact_items)  # a malformed request: moto's own checks answer it
        if len(targets) == len(transact_items) and any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        return original(self, transact_items)

    return transact_write_items


_sequence = itertools.count(1100000000017454423009)


def _increasing_sequence(original: Any) -> Any:
    @functools.wraps(original)
    def init(self: Any, table: Any, stream_type: str, event_name: str, old: Any, new: Any, seq: int) -> None:
        original(self, table, stream_type, event_name, old, new, next(_sequence))

    return init


def _keep_failed_records(original: Any) -> Any:
    """``send_dynamodb_items`` whose falsy answer makes moto keep the shard's undelivered records."""

    @functools.wraps(original)
    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
        result = original(self, function_arn, items, source)
        try:
            answer = json.loads(result)
        except (TypeError, ValueError):
            return result
        if not isinstance(answer, dict):
            return result
        if "errorType" in answer:
            return b""
        failed = [int(f["itemIdentifier"]) for f in answer.get("batchItemFailures") or []]
        if not failed:
            return result
        first = min(failed)
        del items[: next((i for i, r in enumerate(items) if int(r.record["dynamodb"]["SequenceNumber"]) >= first), 0)]
        return b""

    return send_dynamodb_items
