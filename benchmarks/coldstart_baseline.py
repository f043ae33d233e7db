"""Figure 1's cold-start ratios now against another checkout's, measured alike (docs/decisions.md, "Cold start").

``python -m benchmarks.coldstart_baseline OLD_TREE [ROUNDS]`` builds figure 1's cold-start cases (``coldstart.cases``,
no first requests) for the functions of ``coldstart.ORDER`` and their floors from this checkout and from
``OLD_TREE`` (for example ``git worktree add /tmp/old COMMIT``): the same Python 3.12 at awslambdaric's import depth,
each tree with its own template.yaml, functions and core layer, and its layer's requirements in their own site
(under ``build/coldstart-site-baseline/``, so figure 1's site is kept). Every case of both trees runs ``ROUNDS``
times, interleaved round by round after one warm-up round, so load hits both trees alike; it prints each
function's ratio to its own tree's floor, old and new, on CPU time and wall time. Functions missing from either
template are skipped and named. A diagnostic, not a section of BENCHMARKS.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from . import coldstart
from .common import REPO, log

BASELINE_CACHE = REPO / "build" / "coldstart-site-baseline"
TREES = ("old", "new")
Times = dict[str, dict[str, list[float]]]  # case name -> "wall" / "cpu" -> ms per round


def paired(old_ids: set[str], new_ids: set[str], wanted: list[str] = coldstart.ORDER) -> tuple[list[str], list[str]]:
    """The functions of ``wanted`` both templates define (in ``wanted``'s order), and the ones skipped."""
    both = [name for name in wanted if name in old_ids and name in new_ids]
    return both, [name for name in wanted if name not in both]


def logical_ids(tree: coldstart.Tree) -> set[str]:
    from orderflow_local.template import load_template

    return {fn.logical_id for fn in load_template(tree.template).functions}


def measure(old: coldstart.Tree, names: list[str], rounds: int) -> tuple[Times, list[float]]:
    """Wall and CPU ms of every case, keyed ``"old: NAME"`` / ``"new: NAME"``, and the load average at start and end."""
    with tempfile.TemporaryDirectory(prefix="orderflow-coldstart-baseline-") as tmp:
        children = coldstart.runtime(Path(tmp))
        if children.note:
            raise SystemExit(f"needs the runtime's Python {coldstart.RUNTIME_VERSION}: {children.note}")
        old_site = coldstart.runtime_site(children.python, children.version, BASELINE_CACHE, old.layer)
        trees = {"old": (old, replace(children, site=old_site)), "new": (coldstart.HERE, children)}
        # Each case of the old tree right before the same case of the new one, so a load swing hits both.
        by_tree = [[replace(case, name=f"{label}: {case.name}")
                    for case in coldstart.cases(tmp, runtime, tree, first_requests=False, names=names)]
                   for label, (tree, runtime) in trees.items()]
        all_cases = [case for pair in zip(*by_tree, strict=True) for case in pair]
        times: Times = {case.name: {"wall": [], "cpu": []} for case in all_cases}
        load = [os.getloadavg()[0]]
        for case in all_cases:  # warm-up round: file cache, bytecode
            coldstart.run_once(case)
        for round_no in range(rounds):
            log(f"  coldstart_baseline round {round_no + 1}/{rounds} ({len(all_cases)} cases)")
            for case in all_cases:
                elapsed, _, used, _ = coldstart.run_once(case)
                times[case.name]["wall"].append(elapsed * 1000)
                times[case.name]["cpu"].append(used * 1000)
        load.append(os.getloadavg()[0])
    return times, load


def ratio(times: Times, tree: str, name: str, kind: str) -> float:
    """The median of ``name``'s times over the median of its floor's, in ``tree``."""
    floor = coldstart.floor_name(coldstart.clients_of(name))
    return statistics.median(times[f"{tree}: {name}"][kind]) / statistics.median(times[f"{tree}: {floor}"][kind])


def round_differences(times: Times, name: str, kind: str) -> list[float]:
    """Per round, the new tree's ratio minus the old tree's (each case over its floor in that same round): how far
    apart the trees are when the same load hits both."""
    floor = coldstart.floor_name(coldstart.clients_of(name))
    per_round = {tree: [case / base for case, base in zip(times[f"{tree}: {name}"][kind],
                                                           times[f"{tree}: {floor}"][kind], strict=True)]
                 for tree in TREES}
    return [new - old for old, new in zip(per_round["old"], per_round["new"], strict=True)]


def main(old_root: Path, rounds: int = coldstart.ROUNDS) -> None:
    old = coldstart.Tree(old_root.resolve())
    names, skipped = paired(logical_ids(old), logical_ids(coldstart.HERE))
    times, load = measure(old, names, rounds)
    print(f"{rounds} rounds, both trees interleaved; load average {load[0]:.2f} at the start, {load[1]:.2f} at the end")
    print(f"old: {old.root}; new: {coldstart.HERE.root}")
    print("\nRatio: the function's median over its own tree's floor's. Per round: new ratio - old ratio within one"
          " round, min..max, and the rounds where new > old.")
    print("\n| function | old CPU | new CPU | new - old CPU, per round | old wall | new wall | new - old wall |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        cells = [f"| {name} "]
        for kind in ("cpu", "wall"):
            old_ratio, new_ratio = (ratio(times, tree, name, kind) for tree in TREES)
            diffs = round_differences(times, name, kind)
            worse = sum(diff > 0 for diff in diffs)
            cells.append(f"| {old_ratio:.2f}x | {new_ratio:.2f}x | {statistics.median(diffs):+.2f} "
                         f"({min(diffs):+.2f}..{max(diffs):+.2f}, {worse}/{len(diffs)}) ")
        print("".join(cells) + "|")
    print("\n| floor (median ms) | old CPU | new CPU | new / old CPU | old wall | new wall | new / old wall |")
    print("|---|---|---|---|---|---|---|")
    floors = dict.fromkeys(["import boto3", *(coldstart.floor_name(coldstart.clients_of(n)) for n in names)])
    for floor in floors:
        cells = [f"| {floor} "]
        for kind in ("cpu", "wall"):
            old_ms, new_ms = (statistics.median(times[f"{tree}: {floor}"][kind]) for tree in TREES)
            cells.append(f"| {old_ms:.0f} | {new_ms:.0f} | {new_ms / old_ms:.2f} ")
        print("".join(cells) + "|")
    if skipped:
        print(f"\nskipped (not in both templates): {', '.join(skipped)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m benchmarks.coldstart_baseline OLD_TREE [ROUNDS]")
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else coldstart.ROUNDS)
