"""A lifecycle as data: which status may follow which. Each area keeps its table beside its domain, and
its repository makes every status write conditional on the statuses the table allows before the target,
so a transition the table forbids cannot be written by any code path, however stale its copy."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from orderflow.shared.errors import Conflict

S = TypeVar("S", bound=StrEnum)


class ForbiddenTransition(Conflict):
    """A write asked for a transition its lifecycle does not allow (409; nothing was written)."""

    code = "FORBIDDEN_TRANSITION"


class Lifecycle(Generic[S]):
    def __init__(self, name: str, transitions: Mapping[S, frozenset[S]]):
        self.name = name
        self.transitions = dict(transitions)
        missing = {target for targets in transitions.values() for target in targets} - set(transitions)
        if missing:
            raise ValueError(f"{name} lifecycle: {sorted(missing)} have no row of their own")

    def allows(self, current: S, target: S) -> bool:
        return target in self.transitions[current]

    def sources(self, target: S) -> list[S]:
        """The statuses ``target`` may be reached from, in table order (what a condition expression names)."""
        return [status for status, targets in self.transitions.items() if target in targets]

    @property
    def final(self) -> frozenset[S]:
        """Statuses with no way out."""
        return frozenset(status for status, targets in self.transitions.items() if not targets)

    def check(self, current: S, target: S, subject: str) -> None:
        if not self.allows(current, target):
            raise ForbiddenTransition(
                f"{subject} is {current.value}; the {self.name} lifecycle does not allow {target.value} from there",
                {"status": current.value, "target": target.value,
                 "allowed": [t.value for t in self.transitions[current]]})

    def condition(self, target: S, attribute: str = "#status") -> tuple[str, dict[str, str]]:
        """``attribute IN (…)`` over the statuses ``target`` may follow, and its values: the part of a
        status write's condition expression that enforces this table in the store itself."""
        values = {f":from{i}": status.value for i, status in enumerate(self.sources(target))}
        if not values:
            raise ValueError(f"{self.name} lifecycle: nothing leads to {target.value}")
        return f"{attribute} IN ({', '.join(values)})", values
