"""What the KPI service needs: the small table of daily aggregates, event marks and memories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from orderflow.kpis.domain import Measured


class Aggregates(Protocol):
    """``remembered`` answers a memory with ``first_event``, the id of the event that began it (``apply`` with
    ``first``): that event was added then, its memory being its mark."""

    def remembered(self, key: str) -> dict[str, Any] | None: ...
    def remembered_many(self, keys: list[str]) -> dict[str, dict[str, Any] | None]: ...
    def apply(self, event_id: str, measured: Measured, key: str | None, at: str, first: bool = False) -> bool: ...
    def apply_counters(self, events: list[tuple[str, Measured, str]]) -> list[bool | Exception]: ...
    def days(self, first: str, last: str) -> dict[str, dict[str, dict[str, Any]]]: ...
    def open_backorders(self) -> list[str]: ...


class StockPositions(Protocol):
    """The inventory's stock positions (its repository satisfies this)."""

    def get_many(self, skus: list[str]) -> dict[str, Any]: ...


class Runs(Protocol):
    """The replenishment runs and their decisions (its repository satisfies this)."""

    def list(self, limit: int) -> Sequence[Any]: ...
    def decisions_page(self, run_id: str, limit: int, cursor: str | None) -> tuple[list[Any], str | None]: ...


class Demand(Protocol):
    """Realised demand per SKU, location and day (the inventory's demand history satisfies this)."""

    def history_by_location(self, sku: str, start: str | None = None, end: str | None = None
                            ) -> dict[str, dict[str, int]]: ...
