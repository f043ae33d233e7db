"""Shared by the reliability tests: how big a run is (quick in ``make test``, full in ``make soak``), and
DynamoDB's error answers for the faults they inject on the functions' own clients."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSResponse

SOAK = os.environ.get("ORDERFLOW_SOAK") == "1"


def size(quick: int, soak: int) -> int:
    """A test's workload: its quick version in ``make test``, its full one in ``make soak``."""
    return soak if SOAK else quick


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def dynamodb_error(request: Any, code: str, message: str, **extra: Any) -> AWSResponse:
    """DynamoDB's JSON error answer, as botocore would have received it over the wire."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra})
    return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0",
                                          "x-amzn-RequestId": uuid.uuid4().hex}, _Body(body.encode()))
