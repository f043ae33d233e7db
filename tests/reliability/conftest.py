"""Reliability tests (issue #6): races, duplicates, injected faults and fuzzed input against the local stack.

``make test`` runs the quick versions; ``make soak`` (``ORDERFLOW_SOAK=1``) the full ones. Each test
records the figures it measured with the ``figures`` fixture; they are printed at the end of the run
and, when ``ORDERFLOW_RELIABILITY_OUT`` names a file, written there as JSON for
``scripts/reliability.py`` to put in RELIABILITY.md.

The stack is the module-scoped ``stack`` / ``api`` of ``tests/conftest.py``: one per module, free ports
on 127.0.0.1, always stopped.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import SOAK

_FIGURES: dict[str, dict[str, str]] = {}
_LOCK = threading.Lock()

Record = Callable[[str, str, object], None]


@pytest.fixture(scope="session")
def figures() -> Record:
    """``figures(section, label, value)``: a measured figure, printed and reported at the end of the run."""

    def record(section: str, label: str, value: object) -> None:
        with _LOCK:
            _FIGURES.setdefault(section, {})[label] = str(value)

    return record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not _FIGURES:
        return
    terminalreporter.section(f"reliability figures ({'soak' if SOAK else 'quick'})")
    for section, rows in _FIGURES.items():
        terminalreporter.write_line(section)
        for label, value in rows.items():
            terminalreporter.write_line(f"  {label}: {value}")
    out = os.environ.get("ORDERFLOW_RELIABILITY_OUT")
    if out:
        Path(out).write_text(json.dumps(_FIGURES, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
