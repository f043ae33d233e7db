"""What the KPI service needs: the small table of daily aggregates, event marks and memories."""

from __future__ import annotations

from typing import Any, Protocol

from orderflow.kpis.domain import Measured


class Aggregates(Protocol):
    def remembered(self, key: str) -> dict[str, Any] | None: ...
    def apply(self, event_id: str, measured: Measured, key: str | None, at: str) -> bool: ...
    def days(self, first: str, last: str) -> dict[str, dict[str, dict[str, Any]]]: ...
    def open_backorders(self) -> list[str]: ...
