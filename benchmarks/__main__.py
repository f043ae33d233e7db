"""``python -m benchmarks [SECTION ...]``: measure, store the results, rewrite BENCHMARKS.md.

With no section, runs them all (coldstart, calls and cost, sizes, throughput, replenish, flashsale); ``transitions``
and ``dynamodb`` are other names for ``calls`` (figures 2 and 3 come from one run), ``forecast`` for
``replenish`` (figure 7), ``cost`` alone recomputes the cost model from the stored ``calls`` results, and
``nightly`` the model of a nightly run (figure 10) from the stored ``replenish`` results.
``--render`` only re-renders the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from . import calls, coldstart, cost, flashsale, nightly, replenish, report, sizes, throughput
from .common import load, log, save

SECTIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "coldstart": coldstart.run,
    "calls": calls.run,
    "sizes": sizes.run,
    "throughput": throughput.run,
    "replenish": replenish.run,
    "flashsale": flashsale.run,
}
DERIVED: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "cost": ("calls", cost.run),  # recomputed from the stored measurements of the section named
    "nightly": ("replenish", nightly.run),
}
ALIASES = {"transitions": "calls", "dynamodb": "calls", "forecast": "replenish"}
CHOICES = [*SECTIONS, "cost", "nightly", *ALIASES]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"one or more of: {', '.join(CHOICES)} (default: all)")
    parser.add_argument("--render", action="store_true", help="only re-render BENCHMARKS.md from stored results")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in CHOICES]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(CHOICES)}")
    command = " ".join(["python -m benchmarks", *argv])
    if args.render:
        report.write()
        log(f"rewrote {report.OUT}")
        return 0

    wanted = {ALIASES.get(s, s) for s in args.sections} or {*SECTIONS, "cost", "nightly"}
    if "calls" in wanted:
        wanted.add("cost")
    if "replenish" in wanted:
        wanted.add("nightly")
    began = time.perf_counter()
    took: dict[str, float] = {}
    for name in [*SECTIONS, "cost", "nightly"]:
        if name not in wanted:
            continue
        log(f"==> {name}")
        started = time.perf_counter()
        if name in DERIVED:
            source, compute = DERIVED[name]
            measured = load(source)
            if measured is None:
                log(f"{name} needs the {source} results first: python -m benchmarks {source}")
                return 1
            data = {**compute(measured["data"]), "source": {"command": measured["command"], "date": measured["date"]}}
        else:
            data = SECTIONS[name]()
        took[name] = time.perf_counter() - started
        save(name, command, data, took[name])
        log(f"    {name}: {took[name]:.0f} s")
    total = time.perf_counter() - began
    run_info = None
    if not args.sections:  # a full run: remember how long everything took
        run_info = save("run", command, {"total_seconds": total, "sections": took}, total)
    report.write(run_info)
    log(f"rewrote {report.OUT} ({total:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
