"""Ports every area's services use to commit what their repositories prepare.

A repository builds each conditional write as a ``Change`` (and each keyed read as a ``Read``) without
running it; the service hands them to the ``Store`` together, so a status transition and everything it
moves (stock, credit, demand) land in one transaction, or none of them does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Change(Protocol):
    """One prepared conditional write (an Update, Put, Delete or ConditionCheck)."""

    kind: str


class Read(Protocol):
    """Keys to get from one table, and how to make the repository's answer of the items found."""

    table: str


class Store(Protocol):
    def commit(self, changes: Sequence[Change]) -> None:
        """All changes land, or none: ``ConditionFailed`` names which conditions failed (by position);
        ``TransientError`` when the store was busy or the transaction conflicted with another."""

    def read_together(self, *reads: Read) -> list[Any]:
        """The answers of ``reads`` (one table each), in order, read in as few requests as possible."""
