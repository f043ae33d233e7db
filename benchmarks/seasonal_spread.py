"""A time-of-year spread for the policy's σ of totals, measured against the year-round one (issue 21).

``python -m benchmarks.seasonal_spread`` rewrites benchmarks/SEASONAL_SPREAD.md.

The replenishment run covers the demand of the protected window (lead time, review, both) with the
σ of its forecast error measured on the model's in-sample windows over the whole history (for smooth
and erratic demand the largest of that RMS, the spread in proportion to the level and the RMS of the
windows a year earlier ± 14 days: ``orderflow.forecasting.fits.conditional_total_error_sigma``). A
December peak inflates the year-round RMS in every month. This benchmark replaces that σ, where the
history allows it, by one measured on the same season only, and replays the policy benchmark's data
sets with each rule (the Orderflow policy alone, 95 % target, the simulation benchmark's seed):

- ``year-round`` (the layer as it is);
- ``time of year + level``: the RMS of the in-sample windows that started within ``HALF`` days of
  the same day a year (and two years) earlier, the spread in proportion to the level measured on
  those same windows, and the ± 14-day RMS, the largest of the three, in place of the year-round
  measures;
- ``time of year alone``: that same-season RMS only.

Both time-of-year rules apply only where the season a year back lies wholly inside the model's
in-sample windows (a whole year of errors before it); elsewhere the year-round rule. The rules are
patched in here (``conditional_total_error_sigma``); the layer is not changed. Besides the cycle
service level per class, it reports the calibration per month on aus_retail (dates: its series end
in December 2018): the share of reviews whose demand over lead time + review exceeded the forecast
by more than 1.645 σ_PD (5 % if σ_PD is right and the errors normal).
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from benchmarks import simulation as sim
from benchmarks.common import now, write_report

HERE = Path(__file__).resolve().parent
REPORT = HERE / "SEASONAL_SPREAD.md"
COMMAND = ".venv/bin/python -m benchmarks.seasonal_spread"
HALF = 30  # days either side of the same day a year earlier (statsmodels fits keep 400 days of errors)
DATA_SETS = ("aus_retail", "tourism", "fast_movers")
Z95 = 1.6448536269514722


def time_of_year_sigma(original: Callable[..., Any], alone: bool, index: bool = False) -> Callable[..., Any]:
    """``conditional_total_error_sigma`` with the year-round measures replaced by same-season ones
    where a whole season a year back has been measured (``alone``: the same-season RMS only;
    ``index``: the year-round spread times the same-season RMS over the RMS of the whole year before)."""
    from orderflow.forecasting.fits import YEAR_HALF_WINDOW

    def spread(fit: Any, y: np.ndarray, window: int, origins: Any = None, year: int = 365) -> np.ndarray:
        base = original(fit, y, window, origins, year)
        at = np.atleast_1d(np.asarray(y.size if origins is None else origins))
        starts, errors = fit.total_errors(y, window)
        if starts.size == 0:
            return base
        totals = np.concatenate([[0.0], np.cumsum(y)])
        predicted = totals[starts + window] - totals[starts] - errors
        known = np.isfinite(errors)
        counts = np.concatenate([[0], np.cumsum(known)])
        squares = np.concatenate([[0.0], np.cumsum(np.where(known, errors, 0.0) ** 2)])
        scale = np.concatenate([[0.0], np.cumsum(np.where(known, predicted, 0.0) ** 2)])

        def band(back: int, half: int) -> tuple[np.ndarray, np.ndarray]:
            first = np.searchsorted(starts, at - back - half, side="left")
            last = np.maximum(first, np.searchsorted(starts, np.minimum(at - back + half, at - window), side="right"))
            return first, last

        (f1, l1), (f2, l2) = band(year, HALF), band(2 * year, HALF)
        l2 = np.minimum(l2, f1)  # a band two years back never overlaps the one a year back
        count = counts[l1] - counts[f1] + counts[l2] - counts[f2]
        square = squares[l1] - squares[f1] + squares[l2] - squares[f2]
        level = scale[l1] - scale[f1] + scale[l2] - scale[f2]
        fy, ly = band(year, YEAR_HALF_WINDOW)
        enough = (at - year - HALF >= starts[0]) & (count > 0)
        now = np.clip(fit.at_origins(at, window), 0.0, None).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            season = np.sqrt(square / np.maximum(count, 1))
            proportional = np.where(level > 0, np.sqrt(square / level) * now, np.nan)
            near = np.where(counts[ly] > counts[fy], np.sqrt((squares[ly] - squares[fy])
                                                              / np.maximum(counts[ly] - counts[fy], 1)), np.nan)
        fa = np.searchsorted(starts, at - year - HALF, side="left")  # every window of the year (and HALF) before
        la = np.maximum(fa, np.searchsorted(starts, at - window, side="right"))
        whole_year = np.sqrt((squares[la] - squares[fa]) / np.maximum(counts[la] - counts[fa], 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            seasonal_index = np.where(whole_year > 0, season / whole_year, 1.0)
        alternative = (base * seasonal_index if index else season if alone
                       else np.fmax(season, np.fmax(proportional, near)))
        return np.where(enough & np.isfinite(base), alternative, base)

    return spread


RULES = ("year-round", "time of year + level", "time of year alone", "year-round × seasonal index")


def patched(rule: str) -> Any:
    import orderflow.forecasting.fits as fits

    if rule == "year-round":
        return mock.patch.object(fits, "conditional_total_error_sigma", fits.conditional_total_error_sigma)
    return mock.patch.object(fits, "conditional_total_error_sigma",
                             time_of_year_sigma(fits.conditional_total_error_sigma, rule.endswith("alone"),
                                                rule.endswith("index")))


def replay(panel: dict[str, np.ndarray], products: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from orderflow.replenishment.simulation.engine import simulate
    from orderflow.replenishment.simulation.replay import SimulationConfig

    result = simulate(panel, products, SimulationConfig(days=sim.REPLAY, seed=sim.SEED, targets=[],
                                                        policies=["orderflow"]))
    classes: dict[str, list[Any]] = defaultdict(list)
    for sku in result.skus:
        for r in sku.results:
            for cls in [sku.demand_class, *sim.policy_classes(panel[sku.sku], products[sku.sku])]:
                classes[cls].append(r.metrics)
    return {cls: sim.pooled(metrics) for cls, metrics in sorted(classes.items())}


def calibration(panel: dict[str, np.ndarray], products: dict[str, Any], last_day: date) -> dict[Any, list[float]]:
    """Per month of the review: (demand over lead time + review − its forecast) / σ_PD, every review;
    under :data:`benchmarks.simulation.SMALL_EOQ` the same for the SKUs of that class, all months."""
    from orderflow.replenishment.simulation.engine import review_forecasts
    from orderflow.replenishment.simulation.replay import SimulationConfig

    refit_every = SimulationConfig(days=sim.REPLAY).refit_every
    by_month: dict[Any, list[float]] = defaultdict(list)
    small: list[float] = []
    for sku, y in panel.items():
        params = products[sku].replenishment
        in_small = sim.SMALL_EOQ in sim.policy_classes(y, products[sku])
        start = y.size - sim.REPLAY
        forecasts, _, _ = review_forecasts(products[sku], y, list(range(start, y.size, params.review_period_days)),
                                           refit_every)
        days = math.ceil(params.lead_time_days + params.review_period_days)
        for day, decided in forecasts.items():
            if decided is None or not decided.sigma_protection_demand or day + days > y.size:
                continue
            z = (y[day:day + days].sum() - sum(decided.forecast[:days])) / decided.sigma_protection_demand
            by_month[(last_day - timedelta(days=int(y.size - 1 - day))).month].append(float(z))
            if in_small:
                small.append(float(z))
    return {**dict(sorted(by_month.items())), sim.SMALL_EOQ: small}


def run() -> dict[str, Any]:
    started = time.perf_counter()
    data = sim.panels()
    products = sim.products_for({sku: y for panel in data.values() for sku, y in panel.items()})
    results: dict[str, Any] = {"replays": {}, "calibration": {}}
    for rule in RULES:
        with patched(rule):
            for name in DATA_SETS:
                print(f"==> {rule}: {name}", file=sys.stderr, flush=True)
                panel = data[name]
                results["replays"].setdefault(rule, {})[name] = replay(panel, {s: products[s] for s in panel})
            print(f"==> {rule}: aus_retail calibration", file=sys.stderr, flush=True)
            results["calibration"][rule] = calibration(data["aus_retail"], products, date(2018, 12, 31))
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def render(results: dict[str, Any], when: str) -> str:
    lines = ["# A time-of-year spread for the policy's σ (issue 21)", "",
             f"Command: `{COMMAND}` (rewrites this file) · {when} · whole run {results['seconds']} s. "
             "What is compared and why: the module's docstring and docs/policy.md (\"A spread for the season "
             "protected\").", "",
             "## Achieved cycle service level at a 95 % target, Orderflow policy alone", "",
             "Each cell: cycle service level (cycles) · average inventory value.", "",
             "| data set | class | " + " | ".join(RULES) + " |", "|---|---|" + "---:|" * len(RULES)]
    first = results["replays"][RULES[0]]
    for name in DATA_SETS:
        for cls in first[name]:
            cells = []
            for rule in RULES:
                row = results["replays"][rule][name].get(cls)
                cells.append("–" if not row or row["cycle_service_level"] is None else
                             f"{100 * row['cycle_service_level']:.1f} % ({row['cycles']:,}) · "
                             f"{row['average_inventory_value']:,.0f}")
            lines.append(f"| {name} | {cls} | " + " | ".join(cells) + " |")
    lines += ["", "## aus_retail: reviews whose demand over lead time + review exceeded forecast + 1.645 σ_PD", "",
              "By month of the review (5 % if σ_PD is right and the errors normal); in brackets the standard "
              "deviation of (demand − forecast) / σ_PD (1 if σ_PD is right).", "",
              "| month | reviews | " + " | ".join(RULES) + " |", "|---|---:|" + "---:|" * len(RULES)]
    months = [key for key in results["calibration"][RULES[0]] if isinstance(key, int)]
    for month in [*months, "all", sim.SMALL_EOQ]:
        zs = {rule: np.asarray(results["calibration"][rule][month] if month != "all" else
                               [z for key, values in results["calibration"][rule].items() if isinstance(key, int)
                                for z in values])
              for rule in RULES}
        label = (month if isinstance(month, str) and month != "all" else "all months" if month == "all"
                 else date(2018, int(month), 1).strftime("%b"))
        lines.append(f"| {label} | {zs[RULES[0]].size:,} | " + " | ".join(
            f"{100 * float(np.mean(z > Z95)):.1f} % ({float(np.std(z)):.2f})" for z in zs.values()) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(write_report(REPORT, render(run(), now())))
