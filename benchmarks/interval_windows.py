"""Prediction-interval coverage of ``forecast()`` on several consecutive held-out windows (issue 21).

``python -m benchmarks.interval_windows`` rewrites benchmarks/INTERVAL_WINDOWS.md.

BENCHMARKS.md §10 measures the 80 % and 95 % intervals on one held-out window per series (the last
horizon). On a monthly or quarterly panel every series shares that window's months, so one year's
shock moves them all and one window is one draw. This measures the same coverage on the last
``WINDOWS`` windows, each series cut 0, 1, … horizons before its end and its last horizon held out.
Windows 1 and 2 (the two before the held-out one) are the ones the interval rules were compared on
(docs/forecasting.md, "How the rules were chosen"); the others were never looked at for that.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import now, write_report

HERE = Path(__file__).resolve().parent
REPORT = HERE / "INTERVAL_WINDOWS.md"
COMMAND = ".venv/bin/python -m benchmarks.interval_windows"
WINDOWS = 6


def panels() -> list[tuple[str, dict[str, np.ndarray], int, int]]:
    from benchmarks.forecasting import generate_daily_intermittent, generate_daily_smooth, load_aus_retail, load_tourism

    return [("aus_retail", load_aus_retail(), 24, 12), ("tourism", load_tourism(), 8, 4),
            ("daily_smooth", generate_daily_smooth(50), 28, 7),
            ("daily_intermittent", generate_daily_intermittent(100), 28, 7)]


def run() -> dict[str, Any]:
    from benchmarks.forecasting_global import interval_coverage
    from orderflow.forecasting import forecast

    started = time.perf_counter()
    out: dict[str, Any] = {}
    for name, panel, horizon, season in panels():
        rows = []
        for back in range(WINDOWS):
            cut = {k: v[:v.size - back * horizon] for k, v in panel.items()}
            cut = {k: v for k, v in cut.items() if v.size - horizon >= 2 * season}
            made = {k: forecast(v[:-horizon], horizon, season) for k, v in cut.items()}
            coverage = interval_coverage(made, {k: v[-horizon:] for k, v in cut.items()})
            rows.append({"series": len(cut), **coverage})
            print(f"==> {name} window {back}: {coverage}", file=sys.stderr, flush=True)
        out[name] = {"horizon": horizon, "windows": rows}
    return {"panels": out, "seconds": round(time.perf_counter() - started, 1)}


def render(results: dict[str, Any], when: str) -> str:
    lines = ["# Interval coverage on consecutive held-out windows", "",
             f"Command: `{COMMAND}` (rewrites this file) · {when} · {results['seconds']} s. Window 0 is the held-out "
             "window of BENCHMARKS.md §10; windows 1 and 2 are the ones the interval rules were compared on; "
             "each window is the last horizon of every series cut that many horizons earlier.", "",
             "| panel | horizon | " + " | ".join(f"window {i}" for i in range(WINDOWS))
             + " | mean of all | mean of 0, 3–5 (never used to choose) |",
             "|---|---:|" + "---:|" * (WINDOWS + 2)]
    for name, panel in results["panels"].items():
        rows = panel["windows"]
        for level in ("80", "95"):
            values = [row[level] for row in rows]
            unseen = [values[0], *values[3:]]
            lines.append(f"| {name} {level} % | {panel['horizon']} | "
                         + " | ".join(f"{100 * v:.1f} %" for v in values)
                         + f" | {100 * float(np.mean(values)):.1f} % | {100 * float(np.mean(unseen)):.1f} % |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(write_report(REPORT, render(run(), now())))
