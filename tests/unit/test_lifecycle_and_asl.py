"""The order workflow (the real ASL) and the order lifecycle table agree: every status write any path of
the state machine can make is a transition the table allows from every status the order can be in there."""

from __future__ import annotations

import json
import re
from pathlib import Path

from orderflow.orders.domain import OrderStatus as S
from orderflow.orders.lifecycle import ORDER_LIFECYCLE

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "order_processing.asl.json"

# What each Task writes when it succeeds, and what a caught business error means it wrote. A catch not
# named here (OrderCancelled, OrderSettled, States.ALL) wrote nothing.
WRITES_ON_SUCCESS = {"Validate": {S.VALIDATED}, "CheckCredit": {S.CREDIT_APPROVED}, "Reserve": {S.RESERVED},
                     "Backorder": {S.BACKORDERED, S.RESERVED}, "Compensate": {S.FAILED}}
WRITES_ON_CATCH = {"InvalidOrder": {S.REJECTED}, "CreditDenied": {S.REJECTED}}
# Where an execution starts: a new order (PENDING) at Validate, a woken backorder at Reserve.
ENTRY = {"Validate": {S.PENDING}, "Reserve": {S.BACKORDERED}}


def machine() -> dict:
    text = re.sub(r"\$\{\w+\}", "1", ASL.read_text())  # DefinitionSubstitutions: numbers only here
    return json.loads(text)["States"]


def walk(states: dict) -> list[tuple[str, S, S]]:
    """Every (state, from, to) status write reachable from an entry, with the statuses possible there. A
    step that finds the order already in its target status writes nothing (it returns the order)."""
    writes: list[tuple[str, S, S]] = []
    seen: set[tuple[str, frozenset]] = set()
    pending = [(name, frozenset(statuses)) for name, statuses in ENTRY.items()]
    while pending:
        name, current = pending.pop()
        if (name, current) in seen or name not in states:
            continue
        seen.add((name, current))
        state = states[name]
        exits: list[tuple[str, frozenset]] = []
        if state["Type"] == "Task":
            # a retried or failed step may have written its status before the error: compensation can
            # start from before or after the step
            written = WRITES_ON_SUCCESS.get(name, set())
            writes += [(name, c, t) for c in current for t in written if c != t]  # done already: no write
            if "Next" in state:
                exits.append((state["Next"], frozenset(written) or current))
            for catch in state.get("Catch", []):
                caught = set().union(*(WRITES_ON_CATCH.get(e, set()) for e in catch["ErrorEquals"]))
                writes += [(name, c, t) for c in current for t in caught]
                exits.append((catch["Next"], frozenset(caught) or current))
        elif state["Type"] == "Choice":
            exits += [(choice["Next"], current) for choice in state["Choices"]]
            if "Default" in state:
                exits.append((state["Default"], current))
        elif "Next" in state:
            exits.append((state["Next"], current))
        pending += exits
    return writes


def test_every_status_the_workflow_writes_is_allowed_by_the_lifecycle():
    writes = walk(machine())
    assert {name for name, _, _ in writes} >= {"Validate", "CheckCredit", "Reserve", "Backorder", "Compensate"}
    forbidden = sorted({(name, c.value, t.value) for name, c, t in writes if not ORDER_LIFECYCLE.allows(c, t)})
    assert not forbidden, forbidden


def test_the_walk_would_catch_a_transition_the_table_forbids():
    """The check above can fail: a machine whose Reserve were reached straight from Validate would write
    RESERVED over VALIDATED, which the table refuses."""
    states = machine()
    states["Validate"] = {**states["Validate"], "Next": "Reserve"}
    assert any(not ORDER_LIFECYCLE.allows(c, t) for _, c, t in walk(states))


def test_every_task_can_end_a_settled_order_without_writing():
    states = machine()
    for name in ("Validate", "CheckCredit", "Reserve", "Backorder"):
        caught = {e for catch in states[name]["Catch"] for e in catch["ErrorEquals"]}
        assert {"OrderCancelled", "OrderSettled"} <= caught, name
        settled = next(c["Next"] for c in states[name]["Catch"] if "OrderSettled" in c["ErrorEquals"])
        assert states[settled]["Type"] == "Succeed"
