"""Helpers shared by the local stack's tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``check()``'s first truthy answer, polled every 50 ms; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return result


@contextmanager
def scratch_table(dynamodb: Any, prefix: str, **options: Any) -> Iterator[str]:
    """A table keyed on the string ``pk`` for the duration (``options``: more of CreateTable's, or others)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**{
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], **options,
    })
    try:
        yield name
    finally:
        dynamodb.delete_table(TableName=name)
