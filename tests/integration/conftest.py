"""Fixtures of the integration tests that more than one module uses."""

from __future__ import annotations

import uuid

import pytest

from orderflow.fulfilment import LocationIn

ADDRESS = {"name": "DC", "line1": "1 Road", "city": "Leeds", "postal_code": "LS1", "country": "GB"}


@pytest.fixture
def places(in_process_service) -> list[str]:
    """Three locations (w1, w2, w3 by priority) unique to the test, on the in-process services; closed after it
    so that no later test sources from them."""
    tag = uuid.uuid4().hex[:6]
    names = [f"w{i}-{tag}" for i in (1, 2, 3)]
    for priority, name in enumerate(names, start=1):
        in_process_service.put_location(name, LocationIn(name=name, address=ADDRESS, priority=priority))
    yield names
    for name in names:
        in_process_service.put_location(name, LocationIn(name="closed", address=ADDRESS, active=False))
