"""What the alert service needs: a log that remembers what was said (and throttles repeats), a way to
reach people, and the things it watches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from orderflow.alerts.domain import Alert


class AlertLog(Protocol):
    def claim(self, subject: str, at: str, window_seconds: int) -> bool: ...
    def release(self, subject: str, at: str) -> None: ...
    def record(self, alert: Alert) -> None: ...
    def since(self, moment: str, limit: int) -> list[Alert]: ...


class Notifier(Protocol):
    def publish(self, alert: Alert) -> None: ...


class OpenPurchaseOrders(Protocol):
    """The purchasing area's purchase orders, by status (its repository satisfies this)."""

    def list_by_status(self, status: Any, limit: int, cursor: str | None) -> tuple[Sequence[Any], str | None]: ...


class RecentRuns(Protocol):
    """The replenishment runs, newest first (its repository satisfies this)."""

    def list(self, limit: int) -> Sequence[Any]: ...


class DeadLetterQueues(Protocol):
    def depths(self) -> dict[str, int]: ...
