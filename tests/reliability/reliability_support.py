"""Shared by the reliability tests: how big a run is (quick in ``make test``, full in ``make soak``)."""

from __future__ import annotations

import os

SOAK = os.environ.get("ORDERFLOW_SOAK") == "1"


def size(quick: int, soak: int) -> int:
    """A test's workload: its quick version in ``make test``, its full one in ``make soak``."""
    return soak if SOAK else quick
