"""The lifecycle of a replenishment run and of a policy simulation, as data: RUNNING until it completes
or fails, once. The repositories make every status write conditional on this table's sources."""

from orderflow.replenishment.runs import RunStatus
from orderflow.shared.lifecycle import Lifecycle

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.FAILED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
}
RUN_LIFECYCLE = Lifecycle("replenishment run", TRANSITIONS)
