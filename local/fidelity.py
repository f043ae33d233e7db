"""Gaps between moto and AWS that the offline stack closes, so tests see AWS's guarantees.

DynamoDB applies each write, and each transaction, atomically. moto's server handles requests in
parallel threads without a lock, and its ``TransactWriteItems`` restores a deep copy of whole
tables when a condition fails, which would undo other threads' writes made in between. Serialising
DynamoDB requests restores AWS's atomicity; the races our code must win (two orders for the last
unit, cancel against ship) still happen between requests, where they happen on AWS.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

DYNAMODB_ACTIONS = (
    "get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_get_item",
    "batch_write_item", "transact_write_items", "transact_get_items",
)
_lock = threading.RLock()
_installed = False


def serialise_dynamodb() -> None:
    """Make every DynamoDB request to moto atomic with respect to the others (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler

    for action in DYNAMODB_ACTIONS:
        original = getattr(DynamoHandler, action)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoHandler, action, locked)
    _installed = True
