"""Shared DynamoDB plumbing: a lazily built client, (de)serialisation, and error mapping.

Adapters build :class:`Write` objects; a write runs alone (``apply``) or, with others, as one
``TransactWriteItems`` (``transact``): all of them land or none does.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from orderflow.platform.aws import client as aws_client
from orderflow.platform.aws import error_code
from orderflow.shared.errors import ConditionFailed, TransientError, Unprocessable

_CONFLICT = {"TransactionConflictException", "TransactionConflict"}  # another transaction held an item
_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    *_CONFLICT,
    # cancellation reasons of a TransactWriteItems whose table is throttled (botocore's service model)
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
}
# A write or a transaction refused by a conflict is tried again at once, a few times, with full jitter (AWS's
# advice for TransactionConflict: botocore retries neither TransactionConflictException nor
# TransactionCanceledException). Its conditions are evaluated afresh each time, so a retry can never apply
# anything twice.
CONFLICT_ATTEMPTS = 5
_CONFLICT_BASE_SECONDS, _CONFLICT_CAP_SECONDS = 0.02, 0.5
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def client() -> Any:
    return aws_client("dynamodb")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        # DynamoDB's numbers stop at 1e-130: a smaller one (5e-324, which a request may carry) is stored as 0
        # rather than refused with a 500.
        return Decimal(str(value)) if abs(value) >= 1e-100 else Decimal(0)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Write:
    """One Update, Put, Delete or ConditionCheck, usable alone or inside a transaction. A plain class, not a
    dataclass: every function imports this module, and a dataclass compiles its methods at import (about 1 ms)."""

    FIELDS = ("kind", "table", "key", "item", "update", "condition", "names", "values", "return_old")
    __slots__ = FIELDS

    def __init__(self, kind: str, table: str, key: dict[str, Any] | None = None, item: dict[str, Any] | None = None,
                 update: str | None = None, condition: str | None = None, names: dict[str, str] | None = None,
                 values: dict[str, Any] | None = None, return_old: bool = False) -> None:
        self.kind = kind  # "Update" | "Put" | "Delete" | "ConditionCheck"
        self.table = table
        self.key = {} if key is None else key
        self.item = item
        self.update = update
        self.condition = condition
        self.names = {} if names is None else names
        self.values = {} if values is None else values
        self.return_old = return_old  # on a failed condition, the item as it was comes back (ConditionFailed.items)

    def __eq__(self, other: object) -> bool:
        return type(other) is Write and all(getattr(self, a) == getattr(other, a) for a in self.FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"Write({', '.join(f'{a}={getattr(self, a)!r}' for a in self.FIELDS)})"

    def request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self.table}
        if self.kind == "Put":
            request["Item"] = to_item(self.item or {})
        else:
            request["Key"] = to_item(self.key)
        if self.update:
            request["UpdateExpression"] = self.update
        if self.condition:
            request["ConditionExpression"] = self.condition
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = to_item(self.values)
        if self.return_old:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return request


def apply(write: Write, return_new: bool = False) -> dict[str, Any] | None:
    """Run one write on its own; returns the new item when asked. A transaction holding the item fails it
    with ``TransactionConflictException`` (AWS's semantics for a single write): it is tried again, as
    ``transact`` tries a conflicted transaction."""
    call = {"Update": "update_item", "Put": "put_item", "Delete": "delete_item"}[write.kind]
    request = write.request()
    if return_new and write.kind == "Update":
        request["ReturnValues"] = "ALL_NEW"
    response = _retrying_conflicts(lambda: getattr(client(), call)(**request))
    attributes = response.get("Attributes")
    return from_item(attributes) if attributes else None


def transact(writes: list[Write]) -> None:
    """All writes in one TransactWriteItems: every condition holds and every write lands, or none."""
    if len(writes) == 1 and writes[0].kind != "ConditionCheck":
        apply(writes[0])
        return
    items = [{w.kind: w.request()} for w in writes]
    _retrying_conflicts(lambda: client().transact_write_items(TransactItems=items))


def _retrying_conflicts(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``call``'s response; a call refused only because a transaction held one of its items is made again at
    once, up to ``CONFLICT_ATTEMPTS`` times, with full jitter. Any other error (a failed condition,
    throttling, which botocore has retried already) and the last conflict are raised, translated."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            return call()
        except Exception as exc:
            if not _conflicted(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                raise _translate(exc) from exc
            time.sleep(random.uniform(0, min(_CONFLICT_CAP_SECONDS, _CONFLICT_BASE_SECONDS * 2 ** attempt)))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _conflicted(exc: Exception) -> bool:
    """Refused only because another transaction held one of its items (no condition failed): a single
    write's ``TransactionConflictException``, or a transaction cancelled for ``TransactionConflict`` alone."""
    code = error_code(exc)
    if code in _CONFLICT:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]  # type: ignore[attr-defined]
    return any(r in _CONFLICT for r in reasons) and all(r in (None, "None", *_CONFLICT) for r in reasons)


def get(table: str, key: dict[str, Any], consistent: bool = True) -> dict[str, Any] | None:
    try:
        response = client().get_item(TableName=table, Key=to_item(key), ConsistentRead=consistent)
    except Exception as exc:
        raise _translate(exc) from exc
    item = response.get("Item")
    return from_item(item) if item else None


def transact_get(table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of ``keys`` that exist, read by TransactGetItems: as of one moment, none of them half-way
    through another transaction (which BatchGetItem does not promise; AWS cancels the read instead, for
    ``TransactionConflict``, and it is tried again like a conflicted write). At most 100 keys."""
    items = [{"Get": {"TableName": table, "Key": to_item(k)}} for k in keys]
    response = _retrying_conflicts(lambda: client().transact_get_items(TransactItems=items))
    return [from_item(r["Item"]) for r in response.get("Responses", []) if r.get("Item")]


_BATCH_GET_LIMIT = 100
_BATCH_GET_ATTEMPTS = 8


def batch_get(requests: dict[str, list[dict[str, Any]]],
              consistent: frozenset[str] | set[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem across tables (100 keys a call), following UnprocessedKeys with a short backoff.
    The tables named in ``consistent`` are read with strongly consistent reads."""
    keys = [(t, to_item(k)) for t, ks in requests.items() for k in ks]
    found: dict[str, list[dict[str, Any]]] = {t: [] for t in requests}
    for start in range(0, len(keys), _BATCH_GET_LIMIT):
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, key in keys[start:start + _BATCH_GET_LIMIT]:
            pending.setdefault(table, []).append(key)
        for attempt in range(_BATCH_GET_ATTEMPTS):
            request = {t: {"Keys": ks, **({"ConsistentRead": True} if t in consistent else {})}
                       for t, ks in pending.items()}
            try:
                response = client().batch_get_item(RequestItems=request)
            except Exception as exc:
                raise _translate(exc) from exc
            for table, items in response.get("Responses", {}).items():
                found[table].extend(from_item(i) for i in items)
            pending = {t: r["Keys"] for t, r in (response.get("UnprocessedKeys") or {}).items() if r.get("Keys")}
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise TransientError("DynamoDB left keys unprocessed; try again")
    return found


class Read(NamedTuple):
    """Keys to get from one table and how to make the adapter's answer of the items found, usable
    alone or, with reads of other tables, in one BatchGetItem (``read_together``)."""

    table: str
    keys: list[dict[str, Any]]
    parse: Callable[[list[dict[str, Any]]], Any]
    consistent: bool = False


def read_together(*reads: Read) -> list[Any]:
    """The answers of ``reads`` (one table each), in order, from one BatchGetItem per 100 keys."""
    tables = [r.table for r in reads]
    if len(set(tables)) != len(tables):
        raise ValueError(f"one read per table: {tables}")
    found = batch_get({r.table: r.keys for r in reads}, consistent={r.table for r in reads if r.consistent})
    return [r.parse(found[r.table]) for r in reads]


def query(table: str, **kwargs: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One Query page: (items, LastEvaluatedKey)."""
    if "ExpressionAttributeValues" in kwargs:
        kwargs["ExpressionAttributeValues"] = to_item(kwargs["ExpressionAttributeValues"])
    try:
        response = client().query(TableName=table, **kwargs)
    except Exception as exc:
        raise _translate(exc) from exc
    return [from_item(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")


MAX_KEY_TEXT = 1024  # DynamoDB's limit for a sort key (a partition key's is 2048): a cursor may carry no more


def is_start_key(key: Any, names: set[str]) -> bool:
    """Whether ``key``, read back from a client's cursor, is a ``LastEvaluatedKey`` of string attributes
    ``names`` that DynamoDB will take: each value a non-empty string within the key size limit. An empty
    key string is a ValidationException on AWS (a 500 if it reached the query), so a cursor holding one is
    refused before, as one this listing never returned."""
    return (isinstance(key, dict) and set(key) == names
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
                    and 0 < len(v["S"]) <= MAX_KEY_TEXT for v in key.values()))



def cursor_of(last_key: dict[str, Any] | None) -> str | None:
    """The opaque cursor a listing hands back for its ``LastEvaluatedKey`` (None on the last page)."""
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode() if last_key else None


def start_key_of(cursor: str, names: set[str], partition: tuple[str, str]) -> dict[str, Any]:
    """The ``LastEvaluatedKey`` a cursor of one listing carries: attributes ``names``, with the listing's
    own partition (``(attribute, value)``), or ``Unprocessable`` for any cursor that listing never returned."""
    attribute, value = partition
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (is_start_key(key, names) and key[attribute]["S"] == value):
            raise ValueError(cursor)
    except (ValueError, TypeError) as exc:
        raise Unprocessable("cursor is not one this listing returned; start again without it",
                            {"cursor": cursor[:200]}) from exc
    return key

def scan(table: str, **kwargs: Any) -> dict[str, Any]:
    """One Scan page as DynamoDB returns it (items still in wire format). Batch jobs only: no request
    path scans."""
    try:
        return client().scan(TableName=table, **kwargs)
    except Exception as exc:
        raise _translate(exc) from exc


def item_count(table: str) -> int:
    """DynamoDB's count of the table's items (``DescribeTable``): approximate, refreshed about every six
    hours, and free of read capacity."""
    try:
        return int(client().describe_table(TableName=table)["Table"].get("ItemCount", 0))
    except Exception as exc:
        raise _translate(exc) from exc


_BATCH_WRITE_LIMIT = 25
_BATCH_WRITE_ATTEMPTS = 8


def batch_put(table: str, items: list[dict[str, Any]]) -> None:
    """Put whole items with BatchWriteItem (25 a call), retrying what DynamoDB leaves unprocessed."""
    for start in range(0, len(items), _BATCH_WRITE_LIMIT):
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": to_item(item)}}
                                         for item in items[start:start + _BATCH_WRITE_LIMIT]]
        for attempt in range(_BATCH_WRITE_ATTEMPTS):
            try:
                response = client().batch_write_item(RequestItems={table: pending})
            except Exception as exc:
                raise _translate(exc) from exc
            pending = (response.get("UnprocessedItems") or {}).get(table) or []
            if not pending:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise TransientError("DynamoDB left writes unprocessed; try again")


def _translate(exc: Exception) -> Exception:
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        old = exc.response.get("Item")  # type: ignore[attr-defined]
        return ConditionFailed(["ConditionalCheckFailed"], {0: from_item(old)} if old else None)
    if code == "TransactionCanceledException":
        cancelled = exc.response.get("CancellationReasons", [])  # type: ignore[attr-defined]
        reasons = [r.get("Code") for r in cancelled]
        if any(r in _CONFLICT for r in reasons):
            return TransientError("the transaction conflicted with another on the same items; try again")
        if any(r in _THROTTLING for r in reasons):
            return TransientError("DynamoDB throttled the transaction; try again")
        return ConditionFailed(reasons, {i: from_item(r["Item"]) for i, r in enumerate(cancelled) if r.get("Item")})
    if code in _THROTTLING:
        return TransientError(f"DynamoDB is busy ({code}); try again")
    return exc


def busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` is DynamoDB throttling or a transaction conflict: worth retrying, nothing written."""
    return isinstance(exc, Exception) and isinstance(_translate(exc), TransientError)


class DynamoStore:
    """The ``Store`` port on DynamoDB: ``commit`` is one ``TransactWriteItems`` (a lone write runs as a
    plain conditional write), ``read_together`` one ``BatchGetItem`` per 100 keys."""

    def commit(self, changes: Sequence[Write]) -> None:
        transact(list(changes))

    def read_together(self, *reads: Read) -> list[Any]:
        return read_together(*reads)
