"""Backtest every forecasting method, and the automatic choice, on your own data.

Usage::

    python -m orderflow.forecasting.backtest FILE.csv --horizon H --season M
        [--methods snaive ses hw ...] [--origins K] [--step S] [--fill-zero] [--json]

``FILE.csv`` is long format with a header ``series_id,date,value``: one row per series and period,
any order. Dates are anything pandas parses (ISO ``2024-01-31`` is safest; ``1998 Q1`` quarters
work too). Each series must have one row per period, without gaps, unless ``--fill-zero`` is given:
then the period is inferred from the dates (daily, weekly, monthly, quarterly, ...) and missing
periods count as zero demand, as a sales extract without rows for days without sales needs.

For each series the last ``H`` periods are held out (with ``--origins K``: the ``K`` windows ending
``0, S, 2S, ...`` periods before the end, ``S = --step``, default ``H``); every method forecasts
them from the periods before, and is scored by

- **MASE**: mean absolute error divided by the in-sample mean absolute error of seasonal naive
  (season ``M``) on the same training periods; < 1 beats seasonal naive's in-sample error;
- **RMSSE**: the same with squared errors (root of the ratio of mean squares);
- **series/s**: forecasts per second of CPU time for that method alone (fit + forecast), i.e.
  per core, whatever else the machine is running.

Both measures are averaged over series and origins; a window whose training history is constant
has no scale and is left out of the averages (counted as ``unscaled``). ``auto`` is what
:func:`orderflow.forecasting.forecast` picks among ``--methods``; a method forced on a history it
cannot fit (too short for a seasonal model, zeros for a multiplicative one) is replaced by seasonal
naive and counted in ``fallbacks`` (a method fitted with the yearly wave divided out, ``hw (yearly)``,
is that method, not a fallback). Series with negative or missing values, or too short to hold
out a window and keep two training periods, are skipped and listed, and the run carries on.

``--json`` prints the same figures as one JSON object. The module's :func:`run_backtest` does the
same from Python on a ``{series_id: values}`` mapping.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orderflow.forecasting.auto import DEFAULT_METHODS, forecast
from orderflow.forecasting.core import ForecastInputError, as_history
from orderflow.forecasting.fits import YEARLY
from orderflow.forecasting.methods import METHODS
from orderflow.forecasting.metrics import mase, rmsse

AUTO = "auto"


@dataclass
class MethodScore:
    mase: list[float] = field(default_factory=list)
    rmsse: list[float] = field(default_factory=list)
    seconds: float = 0.0
    forecasts: int = 0
    fallbacks: int = 0
    unscaled: int = 0
    chosen: Counter = field(default_factory=Counter)
    by_class: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        def mean(values: list[float]) -> float | None:
            finite = [v for v in values if np.isfinite(v)]
            return float(np.mean(finite)) if finite else None

        out = {"mase": mean(self.mase), "rmsse": mean(self.rmsse), "forecasts": self.forecasts,
               "series_per_s": self.forecasts / self.seconds if self.seconds > 0 else None,
               "fallbacks": self.fallbacks, "unscaled": self.unscaled}
        if self.chosen:
            out["chosen"] = dict(self.chosen.most_common())
        if self.by_class:
            out["mase_by_class"] = {k: {"mase": mean(v), "n": len(v)} for k, v in sorted(self.by_class.items())}
        return out


def windows(n: int, horizon: int, origins: int, step: int) -> list[int]:
    """Training lengths for the held-out windows of one series (oldest first); those too short dropped."""
    ends = [n - horizon - k * step for k in range(origins)][::-1]
    return [end for end in ends if end >= 2]


def run_backtest(panel: Mapping[str, Sequence[float]], horizon: int, season_length: int,
                 methods: Sequence[str] | None = None, origins: int = 1, step: int | None = None,
                 progress: bool = False, each: bool = True) -> dict[str, Any]:
    """Backtest seasonal naive, each method of ``methods`` (unless ``each`` is false) and ``auto``
    (the automatic choice among ``methods``) on every series of ``panel``."""
    methods = tuple(methods or DEFAULT_METHODS)
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ForecastInputError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    rows = ["snaive", *[name for name in methods if name != "snaive" and each], AUTO]
    step = step or horizon
    scores = {name: MethodScore() for name in rows}
    skipped: dict[str, str] = {}
    evaluated = 0
    classes: Counter = Counter()
    for index, (series_id, values) in enumerate(panel.items()):
        try:
            y = as_history(values, name=f"series {series_id}")
        except ForecastInputError as exc:
            skipped[str(series_id)] = str(exc)
            continue
        ends = windows(y.size, horizon, origins, step)
        if not ends:
            skipped[str(series_id)] = f"too short: {y.size} periods, needs at least {horizon + 2} to hold out {horizon}"
            continue
        evaluated += 1
        for end in ends:
            train, test = y[:end], y[end:end + horizon]
            for name in rows:
                candidates = methods if name == AUTO else (name,)
                started = time.process_time()
                result = forecast(train, horizon, season_length, methods=candidates)
                score = scores[name]
                score.seconds += time.process_time() - started
                score.forecasts += 1
                if name == AUTO:
                    score.chosen[result.method] += 1
                    classes[result.demand_class] += 1
                elif result.method.removesuffix(YEARLY) not in (name, "zero"):  # "hw (yearly)" is hw
                    score.fallbacks += 1
                value = mase(test, result.mean, train, season_length)
                score.mase.append(value)
                score.rmsse.append(rmsse(test, result.mean, train, season_length))
                score.by_class.setdefault(result.demand_class or "?", []).append(value)
                if not np.isfinite(value):
                    score.unscaled += 1
        if progress and (index + 1) % 50 == 0:
            print(f"  {index + 1}/{len(panel)} series", file=sys.stderr, flush=True)
    summaries = {name: scores[name].summary() for name in rows}
    base = summaries["snaive"]["mase"]
    for summary in summaries.values():
        summary["mase_vs_snaive"] = summary["mase"] / base if base and summary["mase"] is not None else None
    return {"series": evaluated, "skipped": skipped, "horizon": horizon, "season": season_length,
            "origins": origins, "step": step, "methods": list(methods), "classes": dict(classes.most_common()),
            "results": summaries}


# ------------------------------------------------------------------ reading the CSV


def read_long_csv(path: str | Path, fill_zero: bool = False) -> dict[str, np.ndarray]:
    """``series_id,date,value`` rows into ``{series_id: values in date order}``.

    Raises ForecastInputError for a missing column, an unparsable date or value, or a duplicated
    (series, date), naming the line. Negative and missing values are kept (NaN for missing) so the
    backtest can skip those series and say why.
    """
    import pandas as pd

    frame = pd.read_csv(path, dtype={"series_id": str}, keep_default_na=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("series_id", "date", "value") if c not in frame.columns]
    if missing:
        raise ForecastInputError(f"{path}: missing column(s) {', '.join(missing)}; "
                                 f"the header must be series_id,date,value (found {', '.join(frame.columns)})")
    frame["line"] = np.arange(len(frame)) + 2  # the header is line 1
    frame["date"] = _parse_dates(frame["date"], path)
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = values.isna() & frame["value"].notna()
    if bad.any():
        row = frame[bad].iloc[0]
        raise ForecastInputError(f"{path}, line {row['line']}: value {row['value']!r} is not a number")
    frame["value"] = values
    dupes = frame.duplicated(["series_id", "date"], keep=False)
    if dupes.any():
        row = frame[dupes].iloc[0]
        raise ForecastInputError(f"{path}, line {row['line']}: series {row['series_id']!r} has more than "
                                 f"one row for {row['date'].date()}; aggregate to one value per period first")
    frame = frame.sort_values(["series_id", "date"], kind="stable")
    freq = _infer_frequency(frame["date"]) if fill_zero else None
    if fill_zero and freq is None:
        raise ForecastInputError(f"{path}: --fill-zero could not infer the period from the dates "
                                 "(daily, weekly, monthly, quarterly, ...); fill the gaps yourself")
    panel: dict[str, np.ndarray] = {}
    for series_id, group in frame.groupby("series_id", sort=False):
        if freq is not None:
            index = pd.date_range(group["date"].iloc[0], group["date"].iloc[-1], freq=freq)
            if len(index) < len(group) or not group["date"].isin(index).all():
                raise ForecastInputError(f"{path}: series {series_id!r} has dates off the inferred {freq} grid")
            series = group.set_index("date")["value"].reindex(index, fill_value=0.0)
            panel[str(series_id)] = series.to_numpy(dtype=float)
        else:
            panel[str(series_id)] = group["value"].to_numpy(dtype=float)
    return panel


def _parse_dates(column: Any, path: str | Path) -> Any:
    import pandas as pd

    text = column.astype(str).str.strip()
    quarters = text.str.fullmatch(r"\d{4}[ -]?Q[1-4]")
    if quarters.all():
        return pd.PeriodIndex(text.str.replace(r"[ -]", "", regex=True), freq="Q").to_timestamp()
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    if parsed.isna().any():
        position = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ForecastInputError(f"{path}, line {position + 2}: cannot parse date {column.iloc[position]!r}")
    return parsed


def _infer_frequency(dates: Any) -> str | None:
    import pandas as pd

    unique = pd.DatetimeIndex(sorted(dates.unique()))
    if len(unique) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces infer_freq returning an offset later
        freq = pd.infer_freq(unique)
    return None if freq is None else str(getattr(freq, "freqstr", freq))


# ------------------------------------------------------------------ command line


def format_table(report: dict[str, Any]) -> str:
    lines = [f"{report['series']} series, horizon {report['horizon']}, season {report['season']}, "
             f"{report['origins']} origin(s) every {report['step']} periods"]
    if report["classes"]:
        lines.append("demand classes (per window): " + ", ".join(f"{k} {v}" for k, v in report["classes"].items()))
    header = f"{'method':<10} {'MASE':>7} {'vs snaive':>9} {'RMSSE':>7} {'series/s':>9} {'fallbacks':>9}"
    lines += ["", header, "-" * len(header)]

    def fmt(value: float | None, spec: str) -> str:
        return format(value, spec) if value is not None else "-"

    for name, row in report["results"].items():
        lines.append(f"{name:<10} {fmt(row['mase'], '7.3f')} {fmt(row['mase_vs_snaive'], '9.3f')} "
                     f"{fmt(row['rmsse'], '7.3f')} {fmt(row['series_per_s'], '9.1f')} {row['fallbacks']:>9}")
    auto = report["results"].get(AUTO, {})
    if auto.get("chosen"):
        lines += ["", "auto chose: " + ", ".join(f"{k} {v}" for k, v in auto["chosen"].items())]
    if auto.get("mase_by_class"):
        lines.append("auto MASE by class: " + ", ".join(
            f"{k} {fmt(v['mase'], '.3f')} (n={v['n']})" for k, v in auto["mase_by_class"].items()))
    unscaled = max(row["unscaled"] for row in report["results"].values())
    if unscaled:
        lines.append(f"{unscaled} window(s) with a constant training history have no scale and are not averaged")
    if report["skipped"]:
        lines.append(f"skipped {len(report['skipped'])} series:")
        lines += [f"  {sid}: {why}" for sid, why in list(report["skipped"].items())[:20]]
        if len(report["skipped"]) > 20:
            lines.append(f"  ... and {len(report['skipped']) - 20} more (--json lists all)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orderflow.forecasting.backtest",
        description="Backtest Orderflow's forecasting methods on a long-format CSV (series_id,date,value).")
    parser.add_argument("file", help="CSV with a header series_id,date,value")
    parser.add_argument("--horizon", type=int, required=True, help="periods to forecast (held out)")
    parser.add_argument("--season", type=int, required=True,
                        help="season length in periods (7 daily, 12 monthly, 4 quarterly, 1 none)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), metavar="METHOD",
                        help=f"candidates (default: {' '.join(DEFAULT_METHODS)}); known: {', '.join(METHODS)}")
    parser.add_argument("--origins", type=int, default=1, help="held-out windows per series (default 1)")
    parser.add_argument("--step", type=int, default=None, help="periods between windows (default: horizon)")
    parser.add_argument("--fill-zero", action="store_true", help="missing periods are zero demand")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    for name in ("horizon", "season", "origins"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer")
    if args.step is not None and args.step < 1:
        parser.error("--step must be a positive integer")
    try:
        panel = read_long_csv(args.file, fill_zero=args.fill_zero)
        report = run_backtest(panel, args.horizon, args.season, args.methods, args.origins, args.step,
                              progress=not args.json)
    except (ForecastInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    return 0 if report["series"] else 1


if __name__ == "__main__":
    sys.exit(main())
