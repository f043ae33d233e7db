"""How figure 1 moves with the call depth its imports run at (docs/decisions.md, "Cold start").

``python -m benchmarks.coldstart_depth [ROUNDS]`` runs figure 1's own cold-start cases (``coldstart.cases``: each
order function and its floor, with the same interpreter and packages) as a script's top level, ``import MODULE``
and the rest, wrapped in 0 to ``MAX_DEPTH`` nested function calls, interleaved round by round, and prints each
case's median CPU time, its ratio to the floor's at the same depth and its minor page faults. CPython (3.11 and
later) keeps frames in 16 KiB chunks, mapped when a call crosses the end of one and unmapped on its return, so a
busy call chain that runs across a chunk's end costs page faults and time at one depth and not at the next. A
diagnostic, not a section of BENCHMARKS.md: figure 1 imports at the depth Lambda's runtime does
(benchmarks/lambda_bootstrap.py).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from . import coldstart

MAX_DEPTH = 3
FUNCTIONS = [name for name in coldstart.ORDER if name != "PublishEventsFunction"]  # the order functions
FLOORS = {name: coldstart.floor_name(coldstart.clients_of(name)) for name in FUNCTIONS}
CASES = [*dict.fromkeys(FLOORS.values()), *FUNCTIONS]


def nested(code: str, depth: int) -> str:
    """``code`` run ``depth`` calls deep (its names still become the module's globals)."""
    if depth == 0:
        return code
    out = "def call_0():\n" + textwrap.indent(code, "    ") + "    globals().update(locals())\n"
    out += "".join(f"def call_{i}():\n    call_{i - 1}()\n" for i in range(1, depth))
    return out + f"call_{depth - 1}()\n"


def run_once(code: str, case: coldstart.Case) -> tuple[float, int]:
    """CPU ms the child used, and its minor page faults."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([case.python, "-S", "-c", code], env=case.env, cwd=case.cwd, capture_output=True,
                          text=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{case.name}: the child failed:\n{done.stderr[-2000:]}")
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return used * 1000, int(done.stdout.split()[-1])


def main(rounds: int = 5) -> None:
    report = ("import resource as _r, os as _o\nprint(_r.getrusage(_r.RUSAGE_SELF).ru_minflt, flush=True)\n"
              "_o._exit(0)\n")
    with tempfile.TemporaryDirectory(prefix="orderflow-coldstart-depth-") as tmp:
        children = coldstart.runtime(Path(tmp))
        cases = {case.name: case for case in coldstart.cases(tmp, children) if case.name in CASES}
        codes = {(name, depth): nested(f"import {case.module}\n{case.code.split(coldstart._RSS)[0]}", depth) + report
                 for name, case in cases.items() for depth in range(MAX_DEPTH + 1)}
        cpu: dict[tuple[str, int], list[float]] = {key: [] for key in codes}
        faults: dict[tuple[str, int], list[int]] = {key: [] for key in codes}
        for key, code in codes.items():  # warm-up: file cache, bytecode
            run_once(code, cases[key[0]])
        for _ in range(rounds):
            for key, code in codes.items():
                used, faulted = run_once(code, cases[key[0]])
                cpu[key].append(used)
                faults[key].append(faulted)
    print(f"Python {children.version} {children.note}".rstrip())
    print(f"{'case':54} depth  CPU ms  ratio  minor faults   (median of {rounds})")
    for name in CASES:
        for depth in range(MAX_DEPTH + 1):
            ms = statistics.median(cpu[name, depth])
            ratio = ms / statistics.median(cpu[FLOORS.get(name, name), depth])
            print(f"{name:54} {depth:5} {ms:7.1f} {ratio:6.2f} {statistics.median(faults[name, depth]):13,.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
