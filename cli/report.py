"""``orderflow report``: one self-contained HTML page about a replenishment run.

Per SKU, two plots side by side (PNG, embedded as base64, so the page is a single file):

* daily demand: the recorded history (days without a record count as zero, as the forecaster sees
  them), the forecast over the horizon and its 80 % and 95 % prediction intervals (docs/forecasting.md,
  "Prediction intervals"), recomputed from the history the run read: the run itself does not keep
  them. Where the recomputed forecast is not the run's (the history was re-imported since), a 95 %
  band of one day's demand, ``mean ± 1.96·σ``, instead;
* cumulative demand from the first day of the cycle, with a 95 % band ``Σ mean ± 1.96·σ·√h``
  (h = days ahead, daily errors taken as independent), against the reorder point, the inventory
  position and the position after the order: when the position is at or below the reorder point,
  the run orders.

σ is the run's σ of the one-day-ahead forecast error. Then the decision table, as
``GET /replenishment/runs/{run_id}`` gives it.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .render import decided_for

Z95 = 1.96
COLUMNS = (("sku", "SKU"), ("location_id", "location"), ("outcome", "outcome"), ("demand_class", "demand class"),
           ("method", "method"),
           ("forecast_daily", "forecast / day"), ("sigma_daily", "σ / day"), ("lead_time_days", "lead time (days)"),
           ("lead_time_source", "lead time from"), ("safety_stock", "safety stock"),
           ("reorder_point", "reorder point"), ("inventory_position", "inventory position"),
           ("quantity", "quantity"), ("po_id", "purchase order"), ("reason", "why"))
TEXT_COLUMNS = {"sku", "location_id", "outcome", "demand_class", "method", "lead_time_source", "po_id", "reason"}
# Ids and names that a browser must not break at a hyphen or a '+': one token, one line.
TOKEN_COLUMNS = {"sku", "location_id", "outcome", "demand_class", "method", "po_id"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; vertical-align: top; }
th.text, td.text { text-align: left; } .token, code { white-space: nowrap; }
.ordered { color: #17703a; font-weight: 600; } .skipped { color: #a86400; }
section { margin: 2rem 0; } img { max-width: 100%; } .note { color: #555; max-width: 60rem; }
dl { max-width: 60rem; } dt { font-weight: 600; margin-top: 0.5rem; } dd { margin-left: 1.5rem; color: #333; }
"""
# What the decision table's method names mean (docs/forecasting.md has the details and sources).
METHOD_GLOSSARY = {
    "snaive": "seasonal naive: the same day one season (a week) earlier; the baseline every method is scored against",
    "mean": "the historic average: every day at the mean of the whole history",
    "smean": "seasonal mean: each weekday's average demand, pulled towards the overall average as far as the "
             "weekday pattern does not stand out of the noise",
    "ses": "simple exponential smoothing: a level, no trend, no season",
    "holt": "Holt's linear method with a damped additive trend",
    "hw": "Holt–Winters: level and additive weekly seasonality, no trend",
    "hw_damped": "Holt–Winters: additive seasonality and a damped trend",
    "hw_mul": "Holt–Winters: multiplicative seasonality (demand above zero only), no trend",
    "hw_mul_damped": "Holt–Winters: multiplicative seasonality and a damped trend",
    "hw_log": "Holt–Winters on the logarithm of demand, additive seasonality, damped trend",
    "theta": "Theta method: exponential smoothing of the seasonally adjusted demand plus half its linear trend",
    "trend": "local linear trend: a straight line through the last year of the demand adjusted for weekdays and "
             "its yearly wave",
    "sarimax": "SARIMA(0,1,1)(0,1,1), the 'airline' model",
    "croston": "Croston: for intermittent demand, the size of a demand and the interval between demands "
               "smoothed separately",
    "sba": "Syntetos–Boylan approximation: Croston corrected for its bias",
    "tsb": "Teunter–Syntetos–Babai: the probability of demand each day and its size, for demand that may stop",
    "gbm": "a gradient-boosted tree model (LightGBM) trained once across many SKUs on lags, rolling statistics, "
           "the calendar and promotions",
}
TERM_GLOSSARY = (
    ("method a+b+c", "a combination: the equal-weight mean of the three methods that forecast this SKU's own "
                     "recent history best in a backtest (each named below)"),
    ("method … (yearly)", "the methods were fitted to the history with its yearly wave divided out, and their "
                          "forecasts multiplied back by it (two years or more of daily history)"),
    ("demand class", "from how often demand occurs and how much its size varies: smooth (most days, steady "
                     "sizes), erratic (most days, varying sizes), intermittent (few days, steady sizes), lumpy "
                     "(few days, varying sizes)"),
    ("forecast / day", "the mean daily demand forecast over the horizon (lead time plus review period)"),
    ("σ / day", "the standard deviation of the one-day-ahead forecast error: how far a day's demand "
                "strays from the forecast"),
    ("lead time from", "setting: the product's lead time; receipts: the mean of the supplier's last deliveries "
                       "of this SKU (days from sending the purchase order to its first receipt); blended: both, "
                       "while there are fewer than 20 receipts"),
    ("safety stock", "stock held against demand above the forecast during the lead time (and against late "
                     "deliveries), for the product's service level"),
    ("reorder point", "forecast demand over the lead time and review period plus the safety stock: at or "
                      "below it, the run orders"),
    ("inventory position", "on hand + on order − reserved − backordered; below zero when more is owed to "
                           "customers than is in stock and on the way"),
    ("outcome", "ordered; not_needed (position above the reorder point); already_ordered (this SKU has a "
                "purchase order this cycle); not_due (its review period has not passed); skipped (no supplier, "
                "no replenishment parameters or no usable history: the reason says which)"),
)


def zero_filled(history: Sequence[Mapping[str, Any]], until: date) -> tuple[list[date], list[float]]:
    """Daily quantities from the first recorded day to ``until`` (exclusive); missing days are zero."""
    recorded = {date.fromisoformat(str(h["day"])): float(h["quantity"]) for h in history}
    if not recorded:
        return [], []
    days = [min(recorded) + timedelta(days=i) for i in range((until - min(recorded)).days)]
    return days, [recorded.get(d, 0.0) for d in days]


def daily_band(forecast: Sequence[float], sigma: float) -> tuple[list[float], list[float]]:
    """95 % band of one day's demand: ``mean ± 1.96·σ``, never below zero."""
    return [max(0.0, f - Z95 * sigma) for f in forecast], [f + Z95 * sigma for f in forecast]


def cumulative_band(forecast: Sequence[float], sigma: float) -> tuple[list[float], list[float], list[float]]:
    """Demand summed over the first h days and its 95 % band ``Σ mean ± 1.96·σ·√h`` (h = 1, 2, ...)."""
    mean = list(itertools.accumulate(forecast))
    spread = [Z95 * sigma * math.sqrt(h) for h in range(1, len(mean) + 1)]
    return mean, [max(0.0, m - s) for m, s in zip(mean, spread, strict=True)], [m + s for m, s in
                                                                                zip(mean, spread, strict=True)]


def sku_figure(decision: Mapping[str, Any], history: Sequence[Mapping[str, Any]], cycle: date) -> bytes | None:
    """The SKU's two plots as PNG, or None when there is neither history nor forecast to draw."""
    days, quantities = zero_filled(history, cycle)
    forecast = [float(f) for f in decision.get("forecast") or []]
    if not days and not forecast:
        return None
    sigma = float(decision.get("sigma_daily") or 0.0)
    ahead = [cycle + timedelta(days=i) for i in range(len(forecast))]

    figure = Figure(figsize=(12, 3.6), dpi=96, layout="constrained")
    FigureCanvasAgg(figure)
    daily, cumulative = figure.subplots(1, 2, width_ratios=(3, 2)) if forecast else (figure.subplots(), None)
    daily.set_title(f"{decision.get('sku')}: daily demand", loc="left", fontsize=10)
    if days:
        daily.plot(days, quantities, color="#555", linewidth=0.9, label="history")
    if forecast:
        daily.plot(ahead, forecast, color="#1f77b4", linewidth=2, label="forecast")
        intervals = decision.get("intervals")
        if intervals:
            for level, alpha in ((95, 0.15), (80, 0.3)):
                low, high = intervals[level]
                daily.fill_between(ahead, low, high, color="#1f77b4", alpha=alpha, label=f"{level} % interval")
        else:
            low, high = daily_band(forecast, sigma)
            daily.fill_between(ahead, low, high, color="#1f77b4", alpha=0.2, label="95 % band (± 1.96 σ)")
    daily.axvline(cycle, color="#999", linestyle=":", linewidth=1)
    daily.set_ylabel("units per day")
    daily.legend(loc="upper left", fontsize=8)
    daily.tick_params(axis="x", labelsize=8, labelrotation=30)
    if cumulative is not None:
        _cumulative_plot(cumulative, decision, forecast, sigma)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _cumulative_plot(axes: Any, decision: Mapping[str, Any], forecast: list[float], sigma: float) -> None:
    horizon = list(range(1, len(forecast) + 1))
    mean, low, high = cumulative_band(forecast, sigma)
    axes.set_title("cumulative demand from the cycle vs reorder point", loc="left", fontsize=10)
    axes.plot(horizon, mean, color="#1f77b4", linewidth=2, marker="o", markersize=3, label="forecast")
    axes.fill_between(horizon, low, high, color="#1f77b4", alpha=0.2, label="95 % band (± 1.96 σ √h)")
    lines = (("reorder_point", "reorder point", "#d62728", "--"),
             ("inventory_position", "inventory position", "#333", "-"))
    for key, label, color, style in lines:
        if decision.get(key) is not None:
            axes.axhline(float(decision[key]), color=color, linestyle=style, linewidth=1.2,
                         label=f"{label} {float(decision[key]):,.0f}")
    if decision.get("quantity") and decision.get("inventory_position") is not None:
        after = float(decision["inventory_position"]) + float(decision["quantity"])
        axes.axhline(after, color="#2ca02c", linestyle=":", linewidth=1.5, label=f"position after order {after:,.0f}")
    axes.set_xlabel("days ahead (h)")
    axes.set_ylabel("units")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole days, not 1.5
    axes.set_ylim(bottom=y_floor(decision, high))
    axes.legend(loc="best", fontsize=8)


def y_floor(decision: Mapping[str, Any], high: Sequence[float]) -> float:
    """The bottom of the cumulative plot: zero, or below a negative inventory position (more owed to
    customers than held and on order) with a margin, so its line is drawn rather than clipped."""
    lowest = min(0.0, *(float(decision[k]) for k in ("inventory_position", "reorder_point")
                        if decision.get(k) is not None))
    if lowest >= 0:
        return 0.0
    top = max([*high, float(decision.get("reorder_point") or 0), 0.0])
    return lowest - 0.05 * (top - lowest)


def _css(key: str) -> str:
    return " ".join(c for c, on in (("text", key in TEXT_COLUMNS), ("token", key in TOKEN_COLUMNS)) if on)


def _cell(key: str, value: Any) -> str:
    text = "" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value)
    css = " ".join(filter(None, (_css(key), text if key == "outcome" else "")))
    return f'<td class="{html.escape(css)}">{html.escape(text)}</td>'


def render_html(run: Mapping[str, Any], histories: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The page: run summary, how to read the plots, the decision table, then one section per SKU."""
    decisions = run.get("decisions") or []
    cycle = date.fromisoformat(str(run["cycle"]))
    counts = run.get("counts") or {}
    title = f"Replenishment run {run.get('run_id')}"
    rows = "\n".join("<tr>" + "".join(_cell(key, d.get(key, "main" if key == "location_id" else None))
                                      for key, _ in COLUMNS) + "</tr>" for d in decisions)
    sections = []
    for d in decisions:
        sku = decided_for(d)  # a SKU decided at several locations has a section (and a history) for each
        png = sku_figure(d, histories.get(sku) or [], cycle)
        drawn = "demand, forecast and prediction intervals" if d.get("intervals") else "demand and forecast"
        image = (f'<img alt="{drawn} of {html.escape(sku)}" '
                 f'src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png
                 else "<p class=note>No history and no forecast to plot.</p>")
        sections.append(f'<section id="{html.escape(sku)}"><h3><span class=token>{html.escape(sku)}</span> — '
                        f'<span class="{html.escape(str(d.get("outcome")))}">{html.escape(str(d.get("outcome")))}'
                        f'</span>{_ordered(d)}</h3><p class=note>{html.escape(str(d.get("reason") or ""))}</p>'
                        f"{image}</section>")
    summary = ", ".join(f"{html.escape(k.replace('_', ' '))} {html.escape(str(v))}" for k, v in counts.items())
    error = f"<p class=skipped>error: {html.escape(str(run['error']))}</p>" if run.get("error") else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>cycle {html.escape(str(run.get("cycle")))} · status {html.escape(str(run.get("status")))} ·
trigger {html.escape(str(run.get("trigger")))} · started {html.escape(str(run.get("started_at")))}
· finished {html.escape(str(run.get("finished_at") or "—"))}</p>
<p>{summary}</p>{error}
<p class=note>Left: daily demand (days without a record count as zero), the forecast over the horizon and its
80 % and 95 % prediction intervals (from the chosen model's own errors on the SKU's history; where the run's
forecast cannot be made again, a 95 % band of one day's demand, mean ± 1.96·σ: the history changed since the run,
or the forecast used the global model, which the run trained across its batch of SKUs). Right: cumulative demand
from the first day of the cycle with a 95 % band
Σ mean ± 1.96·σ·√h (h = days ahead; daily errors taken as independent), against the reorder point and the
inventory position (on hand + on order − reserved − backordered): at or below the reorder point, the run orders.
σ is the σ of the one-day-ahead forecast error.</p>
<h2>Decisions</h2>
<table><thead><tr>{"".join(f'<th class="{_css(key)}">{html.escape(label)}</th>' for key, label in COLUMNS)}</tr>
</thead>
<tbody>
{rows}
</tbody></table>
{glossary(decisions)}
<h2>Per SKU</h2>
{"".join(sections)}
</body></html>
"""


def _ordered(decision: Mapping[str, Any]) -> str:
    if not decision.get("quantity"):
        return ""
    return (f" {int(decision['quantity']):,} units on "
            f"<span class=token>{html.escape(str(decision.get('po_id') or 'order'))}</span>")


def glossary(decisions: Sequence[Mapping[str, Any]]) -> str:
    """The terms of the table, then each forecasting method the run used (a combination ``a+b+c`` is
    explained once, and each of its parts by name)."""
    order = list(METHOD_GLOSSARY)
    used = sorted({part for d in decisions
                   for part in str(d.get("method") or "").removesuffix(" (yearly)").split("+") if part},
                  key=lambda name: order.index(name) if name in order else len(order))
    terms = "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in TERM_GLOSSARY)
    methods = "".join(f"<dt><code>{html.escape(name)}</code></dt>"
                      f"<dd>{html.escape(METHOD_GLOSSARY.get(name, 'see docs/forecasting.md'))}</dd>" for name in used)
    return (f"<h2>Glossary</h2>\n<dl>{terms}</dl>\n"
            + (f"<h3>Forecasting methods in this run</h3>\n<dl>{methods}</dl>" if methods else ""))


def write_report(run: Mapping[str, Any], histories: Mapping[str, Sequence[Mapping[str, Any]]], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "index.html"
    page.write_text(render_html(run, histories), encoding="utf-8")
    return page


def forecast_intervals(decision: Mapping[str, Any], history: Sequence[Mapping[str, Any]],
                       cycle: str) -> dict[int, tuple[list[float], list[float]]] | None:
    """The 80 % and 95 % prediction intervals of the decision's forecast: the run's forecast made
    again (same history window, same methods), or None when that does not give the run's forecast
    back (history re-imported since, a method this code does not know, the global model ``gbm``: trained
    across the run's batch, it is not made again for one SKU) or there was none."""
    from orderflow.forecasting import METHODS, forecast
    from orderflow.replenishment.decisions import SEASON_LENGTH, daily_series

    method, horizon, forecasted = decision.get("method"), decision.get("horizon_days"), decision.get("forecast")
    names = str(method or "").removesuffix(" (yearly)").split("+")
    if not forecasted or not horizon or "gbm" in names or not all(name in METHODS for name in names):
        return None
    series = daily_series({str(h["day"]): int(h["quantity"]) for h in history}, cycle)
    if len(series) != decision.get("history_days"):
        return None
    result = forecast(series, int(horizon), SEASON_LENGTH, methods=names)
    if result.method != method or len(forecasted) != result.mean.size or any(
            abs(a - float(b)) > 1e-3 for a, b in zip(result.mean, forecasted, strict=True)):
        return None
    return {level: ([float(v) for v in low], [float(v) for v in high])
            for level, (low, high) in result.intervals.items()}


def report_run(client: Any, run_id: str, out_dir: Path, days: int = 182) -> tuple[Path, int]:
    """Fetch a run and each decided SKU's history over the API (an ``OrderflowClient``): the window
    the run's forecast read, to draw its prediction intervals (:func:`forecast_intervals`), of which
    the last ``days`` are plotted. Write the page; returns it and the number of SKUs."""
    from orderflow.replenishment.decisions import history_window

    run = client.get_replenishment_run(run_id)
    first, end = history_window(run["cycle"])
    start = (date.fromisoformat(run["cycle"]) - timedelta(days=days)).isoformat()
    histories = {}
    for decision in run.get("decisions") or []:
        history = client.demand_history(decision["sku"], first, end, decision.get("location_id"))["history"]
        intervals = forecast_intervals(decision, history, run["cycle"])
        if intervals:
            decision["intervals"] = intervals
        histories[decided_for(decision)] = [h for h in history if str(h["day"]) >= start]
    return write_report(run, histories, out_dir), len(histories)


_SECTION = re.compile(r'<section id="([^"]*)">(.*?)</section>', re.S)


def plotted(page: str) -> set[str]:
    """The SKUs (``SKU@location`` away from main) whose section of a report page holds a plot: those with a
    history or a forecast to draw (a SKU the run decided without either has a note instead)."""
    return {html.unescape(sku) for sku, body in _SECTION.findall(page) if "<img" in body}

