"""DynamoDB's answers under contention, which moto never gives: transaction conflicts and throttling.

Both wrap moto's DynamoDB request handlers outside the stack's one DynamoDB lock
(:mod:`~orderflow_local.fidelity`), and do nothing unless :mod:`~orderflow_local.faults` turns them on.

- Transactions hold their items. AWS runs a ``TransactWriteItems`` in two phases; while one holds an
  item, a second transaction naming it is cancelled (``TransactionCanceledException``, reason
  ``TransactionConflict``), and a ``PutItem``/``UpdateItem``/``DeleteItem`` of it is refused
  (``TransactionConflictException``); a ``TransactGetItems`` naming it is cancelled as well. Here a
  transaction registers its items, lets go of the lock for ``transaction_window`` seconds (other
  requests run meanwhile, as they would on AWS), then takes the lock again and writes. Besides, one
  transaction in ``transaction_conflicts`` is cancelled with ``TransactionConflict`` on one of its items.
- Hot keys are throttled. AWS serves one partition key value at most about 1,000 write and 3,000 read
  capacity units a second, in either capacity mode; past that it answers
  ``ProvisionedThroughputExceededException`` with the throttling reason
  ``Table{Read,Write}KeyRangeThroughputExceeded``. Here each table's partition key value has two token
  buckets (reads, writes) of that many units a second, holding at most one second's worth; units are
  AWS's: writes 1 per KB of the item (rounded up), reads 1 per 4 KB (half for eventually consistent
  reads), twice that in a transaction. Besides, one item request in ``throttles`` is throttled.
  Queries and scans are charged nothing (their partition is the index's); the injected rate covers them.
"""

from __future__ import annotations

import functools
import json
import math
import threading
import time
from typing import Any

from orderflow_local import faults as faults_module

WRITES = frozenset({"put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"})
ITEM_ACTIONS = frozenset({
    "get_item", "put_item", "update_item", "delete_item", "batch_get_item", "batch_write_item",
    "transact_get_items", "transact_write_items", "query", "scan",
})
ONGOING = "Transaction is ongoing for the item"

_held: dict[str, int] = {}  # item identity -> the id of the transaction holding it
_held_lock = threading.Lock()
_buckets: dict[tuple[str, str, str], list[float]] = {}  # (table, partition key, "r"/"w") -> [tokens, at]
_buckets_lock = threading.Lock()
_transactions = iter(range(1, 1 << 62))


def held() -> int:
    """How many items transactions hold now (``transaction_window``)."""
    with _held_lock:
        return len(_held)


def reset() -> None:
    with _held_lock:
        _held.clear()
    with _buckets_lock:
        _buckets.clear()


def wrap(action: str, locked: Any, lock: threading.RLock) -> Any:
    """The handler method ``action`` (``locked`` is moto's, already under ``lock``) with contention."""
    if action not in ITEM_ACTIONS:
        return locked
    unlocked = getattr(locked, "__wrapped__", locked)

    @functools.wraps(locked)
    def handler(self: Any) -> Any:
        faults, dice = faults_module.current()
        if not faults.any:
            return locked(self)
        body = self.body
        if dice.roll(faults.throttles, "throttles"):
            raise throughput_exceeded(body, action in WRITES)
        if faults.write_units_per_key is not None or faults.read_units_per_key is not None:
            with lock:
                charges = _charges(self.dynamodb_backend, action, body)
            _consume(faults, charges)
        if action == "transact_write_items" and (faults.transaction_window is not None
                                                 or faults.transaction_conflicts > 0):
            return _transaction(self, body, faults, dice, unlocked, lock)
        if faults.transaction_window is not None and action in {"put_item", "update_item", "delete_item",
                                                                "transact_get_items"}:
            with lock:
                keys = _identities(self.dynamodb_backend, action, body)
                with _held_lock:
                    busy = [k in _held for k in keys]
                if any(busy):
                    if action == "transact_get_items":
                        raise _cancelled(busy)
                    raise transaction_conflict()
                return unlocked(self)
        return locked(self)

    return handler


def _transaction(self: Any, body: dict[str, Any], faults: Any, dice: Any, unlocked: Any,
                 lock: threading.RLock) -> Any:
    with lock:
        keys = _identities(self.dynamodb_backend, "transact_write_items", body)
    if dice.roll(faults.transaction_conflicts, "transaction_conflicts"):
        victim = dice.choice(list(range(len(keys))))
        raise _cancelled([n == victim for n in range(len(keys))])
    if faults.transaction_window is None:
        with lock:
            return unlocked(self)
    me = next(_transactions)
    with _held_lock:
        busy = [k in _held for k in keys]
        if not any(busy):
            for k in keys:
                _held[k] = me
    if any(busy):
        raise _cancelled(busy)
    try:
        time.sleep(faults.transaction_window)  # the lock is free: other requests run, and meet the hold
        with lock:
            return unlocked(self)
    finally:
        with _held_lock:
            for k in keys:
                if _held.get(k) == me:
                    del _held[k]


def _cancelled(conflicting: list[bool]) -> Exception:
    from moto.dynamodb.exceptions import TransactionCanceledException

    return TransactionCanceledException([("TransactionConflict", ONGOING, None) if c else (None, None, None)
                                         for c in conflicting])


def transaction_conflict() -> Exception:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    return DynamodbException(ERROR_TYPE_PREFIX + "TransactionConflictException",
                             "Operation was rejected because there is an ongoing transaction for the item.")


def throughput_exceeded(body: dict[str, Any], write: bool, table: str | None = None) -> Exception:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    error_type = ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException"
    message = ("The level of configured provisioned throughput for the table was exceeded. "
               "Consider increasing your provisioning level with the UpdateTable API.")
    exc = DynamodbException(error_type, message)
    reason = "TableWriteKeyRangeThroughputExceeded" if write else "TableReadKeyRangeThroughputExceeded"
    name = table or body.get("TableName") or next(iter(body.get("RequestItems") or {}), "")
    exc.description = json.dumps({"__type": error_type, "message": message,
                                  "ThrottlingReasons": [{"reason": reason, "resource": name}]})
    return exc


# ---------------------------------------------------------------------- items named by a request
def _operations(action: str, body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], bool]]:
    """(kind, table, key-or-item, is_item) of each item the request names (queries and scans: none)."""
    if action in {"get_item", "update_item", "delete_item"}:
        return [(action, body["TableName"], body["Key"], False)]
    if action == "put_item":
        return [(action, body["TableName"], body["Item"], True)]
    if action == "transact_write_items":
        found = []
        for entry in body["TransactItems"]:
            ((kind, op),) = entry.items()
            found.append((kind, op["TableName"], op.get("Key") or op["Item"], "Key" not in op))
        return found
    if action == "transact_get_items":
        return [("Get", e["Get"]["TableName"], e["Get"]["Key"], False) for e in body["TransactItems"]]
    if action == "batch_get_item":
        return [("get", t, k, False) for t, spec in body["RequestItems"].items() for k in spec["Keys"]]
    if action == "batch_write_item":
        found = []
        for table, requests in body["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    found.append(("put", table, request["PutRequest"]["Item"], True))
                else:
                    found.append(("delete", table, request["DeleteRequest"]["Key"], False))
        return found
    return []


def _key_attributes(backend: Any, table_name: str) -> tuple[str, str | None]:
    table = backend.get_table(table_name)
    return table.hash_key_attr, table.range_key_attr


def _identities(backend: Any, action: str, body: dict[str, Any]) -> list[str]:
    identities = []
    for _, table, attrs, _ in _operations(action, body):
        hash_attr, range_attr = _key_attributes(backend, table)
        identities.append(json.dumps([table, attrs.get(hash_attr), attrs.get(range_attr) if range_attr else None],
                                     sort_keys=True))
    return identities


def _charges(backend: Any, action: str, body: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(table, partition key, "r"/"w", capacity units) the request consumes, by AWS's rounding."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    transactional = action.startswith("transact_")
    consistent = bool(body.get("ConsistentRead")) or transactional
    charges = []
    for kind, table, attrs, is_item in _operations(action, body):
        hash_attr, range_attr = _key_attributes(backend, table)
        if is_item:
            size = sum(bytesize(k) + DynamoType(v).size() for k, v in attrs.items())
        else:
            key = {a: attrs[a] for a in (hash_attr, range_attr) if a and a in attrs}
            try:
                current = backend.get_item(table, key)
            except JsonRESTError:  # a malformed key: moto's handler gives its answer after this
                current = None
            size = current.size() if current is not None else 0
        write = kind not in {"get_item", "get", "Get"}  # a ConditionCheck in a write transaction uses write units
        if write:
            units = max(1, math.ceil(size / 1024))
        else:
            units = max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)
        if transactional:
            units *= 2
        charges.append((table, json.dumps(attrs.get(hash_attr), sort_keys=True), "w" if write else "r", units))
    return charges


def _consume(faults: Any, charges: list[tuple[str, str, str, float]]) -> None:
    now = time.monotonic()
    with _buckets_lock:
        taken = []
        for table, key, kind, units in charges:
            rate = faults.write_units_per_key if kind == "w" else faults.read_units_per_key
            if rate is None:
                continue
            bucket = _buckets.setdefault((table, key, kind), [rate, now])
            bucket[0] = min(rate, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if bucket[0] < units:
                for taken_bucket, taken_units in taken:  # all or nothing
                    taken_bucket[0] += taken_units
                raise throughput_exceeded({}, kind == "w", table)
            bucket[0] -= units
            taken.append((bucket, units))
