"""Shared pieces of the local stack's tests: the fixture template and a stack running it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderflow_local.stack import LocalStack

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "stack" / "template.yaml"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The fixture template running offline, shared by one test module and always stopped."""
    local = LocalStack(FIXTURE_TEMPLATE)
    try:
        local.start()
        yield local
    finally:
        local.stop()
