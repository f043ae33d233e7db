"""``orderflow simulate``: replay a demand history through the replenishment policy, compare it with a
min/max rule and stockpyl's (r, Q), and write an HTML report (docs/simulation.md).

The history is the same CSV ``orderflow history import`` reads (``sku,date,quantity``; days without a
row count as zero; every SKU runs to the file's last day). Product parameters come from
``--products FILE`` (a catalogue JSON, ``{"products": {SKU: {..., "replenishment": {...}}}}``, or a
CSV with one row per SKU, see :data:`CSV_COLUMNS`), else from the API (``GET /products/{sku}``).
The run is offline either way: the API is only asked for the products.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from .access import error_line
from .client import ApiError, OrderflowClient
from .history import HistoryFileError, HistoryRow, read_history
from .render import progress_bar

DEFAULT_API = "http://127.0.0.1:3000"
CSV_COLUMNS = ("sku", "supplier_id", "unit_cost", "ordering_cost", "holding_cost_rate", "lead_time_days",
               "lead_time_sigma_days", "service_level", "moq", "pack_size", "review_period_days")
CSV_REQUIRED = CSV_COLUMNS[:6]
WHOLE = {"moq", "pack_size", "review_period_days"}
POLICY_LABELS = {"orderflow": "Orderflow policy", "minmax": "min/max rule", "rq": "stockpyl (r, Q)"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
img { max-width: 100%; } .note { color: #555; max-width: 60rem; }
"""

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class ProductsFileError(ValueError):
    """The products file cannot be read at all (a bad row only skips its SKU)."""


# ------------------------------------------------------------------ inputs


def daily_histories(rows: Sequence[HistoryRow]) -> tuple[dict[str, list[float]], date | None]:
    """Per SKU, daily demand from its first row to the file's last day (missing days are 0), summed over the
    locations of a file with a location_id column (a simulation replays a SKU's total demand)."""
    if not rows:
        return {}, None
    end = max(date.fromisoformat(row.day) for row in rows)
    recorded: dict[str, dict[date, int]] = {}
    for row in rows:
        days = recorded.setdefault(row.sku, {})
        days[date.fromisoformat(row.day)] = days.get(date.fromisoformat(row.day), 0) + row.quantity
    series = {}
    for sku, days in recorded.items():
        first = min(days)
        values = [0.0] * ((end - first).days + 1)
        for day, quantity in days.items():
            values[(day - first).days] = float(quantity)
        series[sku] = values
    return series, end


def product_from(sku: str, data: Mapping[str, Any]) -> Any:
    """A ``Product`` from a catalogue entry or an API answer; ``replenishment`` checked as the API
    checks it on the way in. Raises ``ValueError`` naming the field."""
    from orderflow.catalogue.domain import Product
    from orderflow.catalogue.requests import ReplenishmentIn

    if not isinstance(data, Mapping):
        raise ValueError("expected an object with supplier_id and replenishment")
    try:
        replenishment = data.get("replenishment")
        if replenishment is not None:
            replenishment = ReplenishmentIn.model_validate(replenishment).model_dump()
    except ValidationError as exc:
        raise ValueError(_first_problem(exc, "replenishment.")) from None
    try:
        return Product.model_validate({"name": sku, "unit_price": 0, **data, "sku": sku,
                                       "replenishment": replenishment})
    except ValidationError as exc:
        raise ValueError(_first_problem(exc)) from None


def _first_problem(error: ValidationError, prefix: str = "") -> str:
    first = error.errors(include_url=False)[0]
    return f"{prefix}{'.'.join(str(part) for part in first['loc']) or 'product'}: {first['msg']}"


def load_products(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Products from a catalogue JSON or a CSV: ``(products, problems)``, a bad entry naming its field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProductsFileError(f"cannot read {path}: {exc}") from None
    entries: dict[str, Any] = {}
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in CSV_REQUIRED if c not in columns]
        unknown = [c for c in columns if c not in CSV_COLUMNS]
        if missing or unknown:
            raise ProductsFileError(f"{path}: expected the columns {','.join(CSV_COLUMNS)} (the first six required); "
                                    f"missing {','.join(missing) or 'none'}, unknown {','.join(unknown) or 'none'}")
        for row in reader:
            cells = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if cells.get("sku"):
                entries[cells["sku"]] = _csv_entry(cells)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProductsFileError(f"{path} is not valid JSON: {exc}") from None
        data = data.get("products", data) if isinstance(data, dict) else data
        if not isinstance(data, dict):
            raise ProductsFileError(f"{path}: expected an object keyed by SKU (or a catalogue with 'products')")
        entries = data
    products, problems = {}, {}
    for sku, entry in entries.items():
        try:
            products[sku] = product_from(sku, entry)
        except ValueError as exc:
            problems[sku] = f"product parameters: {exc}"
    return products, problems


def _csv_entry(cells: Mapping[str, str]) -> dict[str, Any]:
    replenishment: dict[str, Any] = {}
    for name in CSV_COLUMNS[2:]:
        value = cells.get(name, "")
        if value:
            replenishment[name] = int(value) if name in WHOLE and value.lstrip("-").isdigit() else value
    return {"supplier_id": cells.get("supplier_id") or None, "replenishment": replenishment}


def products_from_api(client: OrderflowClient, skus: Sequence[str], on_step: Any = None
                      ) -> tuple[dict[str, Any], dict[str, str]]:
    products, problems = {}, {}
    for sku in skus:
        try:
            products[sku] = product_from(sku, client.get_product(sku))
        except ApiError as exc:
            if exc.status != 404:
                raise
            problems[sku] = "unknown product: the API has no such SKU"
        except ValueError as exc:
            problems[sku] = f"product parameters: {exc}"
        if on_step:
            on_step(sku)
    return products, problems


# ------------------------------------------------------------------ the report


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


METRIC_COLUMNS = (("SKUs", lambda m: f"{m.skus:,}"), ("cycle service level", lambda m: _pct(m.cycle_service_level)),
                  ("fill rate", lambda m: _pct(m.fill_rate)), ("cycles", lambda m: f"{m.cycles:,}"),
                  ("avg inventory value", lambda m: _money(m.average_inventory_value)),
                  ("peak inventory value", lambda m: _money(m.peak_inventory_value)),
                  ("purchase orders", lambda m: f"{m.purchase_orders:,}"),
                  ("ordering cost", lambda m: _money(m.ordering_cost)),
                  ("holding cost", lambda m: _money(m.holding_cost)),
                  ("ordering + holding", lambda m: _money(m.cost)),
                  ("backorder unit-days", lambda m: _money(m.backorder_days)))


CONSOLE_COLUMNS = ("SKUs", "cycle service level", "fill rate", "avg inventory value", "purchase orders",
                   "ordering + holding", "backorder unit-days")


def totals_table(result: Any) -> Table:
    """A metric per row, a policy per column: the three policies fit 80 columns with every label and figure
    whole (a policy per row beside seven metric columns cut them: "Orderf…", "invent…")."""
    table = Table(title="totals", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("", no_wrap=True)
    for policy in result.totals:
        table.add_column(POLICY_LABELS[policy], justify="right", no_wrap=True)
    for label, cell in METRIC_COLUMNS:
        if label in CONSOLE_COLUMNS:
            table.add_row(label, *(cell(metrics) for metrics in result.totals.values()))
    return table


def tradeoff_png(result: Any) -> bytes | None:
    """Achieved cycle service level against average inventory value, one panel per scope."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scopes = [scope for scope in ("all", "stationary") if any(p.scope == scope for p in result.curve)]
    if not scopes:
        return None
    figure = Figure(figsize=(6.2 * len(scopes), 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, scope in zip(figure.subplots(1, len(scopes), squeeze=False)[0], scopes, strict=True):
        for policy, style in (("orderflow", "o-"), ("minmax", "s--"), ("rq", "^:")):
            points = [p for p in result.curve if p.scope == scope and p.policy == policy
                      and p.cycle_service_level is not None]
            if not points:
                continue
            points.sort(key=lambda p: p.average_inventory_value)
            axes.plot([p.average_inventory_value for p in points], [100 * p.cycle_service_level for p in points],
                      style, label=POLICY_LABELS[policy])
            for p in points:
                label = f"{p.setting:.0%}" if policy != "minmax" else f"+{p.setting:.0%}"
                axes.annotate(label, (p.average_inventory_value, 100 * p.cycle_service_level),
                              textcoords="offset points", xytext=(4, -10), fontsize=7)
        skus = max((p.skus for p in result.curve if p.scope == scope), default=0)
        axes.set_title(f"{'every SKU' if scope == 'all' else 'stationary SKUs'} ({skus})", fontsize=10)
        axes.set_xlabel("average inventory value")
        axes.set_ylabel("achieved cycle service level (%)")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(
        f'<td{" class=text" if i < text_columns else ""}>{html.escape(c)}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _versus(value: float, minmax: float | None) -> str:
    if not minmax:
        return "—"
    return f"{value / minmax - 1:+.1%}"


def render_html(result: Any, *, source: str = "", first_day: date | None = None) -> str:
    """The report: settings, totals, by demand class, the trade-off curve, per SKU, skipped SKUs."""
    config = result.config
    metric_header = ["policy", *(label for label, _ in METRIC_COLUMNS)]
    totals = _table(metric_header, [[POLICY_LABELS[p], *(c(m) for _, c in METRIC_COLUMNS)]
                                    for p, m in result.totals.items()])
    classes = _table(["demand class", *metric_header], [
        [cls, POLICY_LABELS[p], *(c(m) for _, c in METRIC_COLUMNS)]
        for cls, per_policy in result.by_class.items() for p, m in per_policy.items()], text_columns=2)
    png = tradeoff_png(result)
    image = (f'<img alt="service level against average inventory value" '
             f'src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png
             else "<p class=note>No trade-off curve (no targets given).</p>")
    same_level = [[p.scope, f"{p.setting:.0%}", _pct(p.cycle_service_level), _money(p.average_inventory_value),
                   _money(p.minmax_value_at_same_level),
                   _versus(p.average_inventory_value, p.minmax_value_at_same_level)]
                  for p in result.curve if p.policy == "orderflow"]
    comparison = _table(["SKUs", "target", "achieved", "Orderflow inventory value", "min/max at the same level",
                         "Orderflow vs min/max"], same_level, text_columns=2) if same_level else ""
    per_sku = []
    for sku in result.skus:
        for r in sku.results:
            m = r.metrics
            per_sku.append([sku.sku, sku.demand_class, "yes" if sku.stationary else "no", POLICY_LABELS[r.policy],
                            ", ".join(f"{k} {v:,.4g}" for k, v in r.parameters.items()), _pct(m.cycle_service_level),
                            _pct(m.fill_rate), f"{m.average_on_hand:,.1f}", f"{m.peak_on_hand:,.0f}",
                            _money(m.average_inventory_value), str(m.purchase_orders), _money(m.cost),
                            _money(m.backorder_days)])
    skus = _table(["SKU", "class", "stationary", "policy", "settings", "cycle service level", "fill rate",
                   "avg on hand", "peak on hand", "avg inventory value", "POs", "ordering + holding",
                   "backorder unit-days"], per_sku, text_columns=5)
    skipped = (_table(["SKU", "why"], [[s.sku, s.reason] for s in result.skipped], text_columns=2)
               if result.skipped else "<p>None.</p>")
    window = f" from {first_day.isoformat()}" if first_day else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Policy simulation</title><style>{STYLE}</style></head>
<body>
<h1>Policy simulation</h1>
<p>{html.escape(source)} · the last {config.days} days{html.escape(window)} replayed · seed {config.seed} ·
policies {html.escape(", ".join(POLICY_LABELS[p] for p in config.policies))} · forecast refitted every
{config.refit_every} review(s) · {len(result.skus)} SKUs simulated, {len(result.skipped)} skipped</p>
<p class=note>Each review day the forecast is made from the history known that day and the order decided by the
scheduled run's code; purchase orders arrive after a lead time drawn from the product's mean and σ (the same draws
for every policy); demand is served from stock and the rest backordered. A <b>cycle</b> runs from one receipt to
the next; the <b>cycle service level</b> is the share of cycles in which all demand was served from stock on the
day it came, the <b>fill rate</b> the share of demand served so. Stock levels are averaged over each day. The
min/max rule re-sets min = d̄·(lead time + review)·(1 + safety) and max = min + max(EOQ, d̄·review) every
90 days from the last 90 days' average demand d̄; stockpyl's (r, Q) is computed for stationary SKUs only.
docs/simulation.md has the details.</p>
<h2>Totals</h2>{totals}
<h2>By demand class</h2>{classes}
<h2>Service level against stock</h2>
<p class=note>Each point is one setting applied to every SKU: the target service level for the Orderflow policy
and stockpyl's (r, Q), the safety cover (+x % of the protection interval's demand) for min/max.</p>
{image}{comparison}
<h2>Per SKU</h2>{skus}
<h2>Skipped</h2>{skipped}
</body></html>
"""


# ------------------------------------------------------------------ the command


def simulate(
    ctx: typer.Context,
    history: Annotated[Path, typer.Option("--history", help="Demand history CSV: sku,date,quantity.",
                                          exists=True, dir_okay=False)],
    days: Annotated[int, typer.Option("--days", min=7, max=3650, help="Days replayed: the last N of the history.")
                    ] = 365,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="Only this SKU (repeat for more).")] = None,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", help="orderflow, minmax or rq (repeat for more; default: all three).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the lead-time draws.")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for simulation.html and simulation.json.")
                       ] = Path("simulation"),
    products_file: Annotated[Path | None, typer.Option(
        "--products", dir_okay=False, exists=True,
        help="Product parameters: catalogue JSON or CSV. Default: GET /products/{sku} from the API.")] = None,
    targets: Annotated[str, typer.Option(
        help="Target service levels of the trade-off curve, comma-separated ('' for none).")
                       ] = "0.8,0.9,0.95,0.98,0.99",
    refit_every: Annotated[int | None, typer.Option(
        min=1, help="Reviews between full forecast refits (1: every review, as the scheduled run; slowest).")
                           ] = None,
) -> None:
    """Replay a demand history through the replenishment policy and write an HTML report."""
    from orderflow.replenishment.simulation.engine import simulate as run_simulation
    from orderflow.replenishment.simulation.replay import POLICIES, SimulationConfig, Skipped, stockpyl_installed

    try:
        found = read_history(history)
    except HistoryFileError as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        for problem in exc.problems[:20]:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(1) from None
    if found.problems:
        err.print(f"{history}: left out SKU(s) {', '.join(found.skus_left_out) or '(none)'} because of "
                  f"{len(found.problems)} problem(s) in the file:", soft_wrap=True, markup=False)
        for problem in found.problems[:20]:
            err.print(f"  {problem}", markup=False)
    series, last_day = daily_histories(found.rows)
    if sku:
        unknown = [s for s in sku if s not in series]
        if unknown:
            _fail(f"not in {history}: {', '.join(unknown)}")
        series = {s: series[s] for s in sku}
    if not series:
        _fail(f"{history} has no demand rows")
    wanted = policy or [p for p in POLICIES if p != "rq" or stockpyl_installed()]
    if not policy and "rq" not in wanted:
        err.print("stockpyl is not installed: no (r, Q) reference (pip install --no-deps stockpyl==1.0.2)")
    bad = [p for p in wanted if p not in POLICIES]
    if bad:
        _fail(f"unknown policy {', '.join(bad)}: choose from {', '.join(POLICIES)}")
    try:
        levels = [float(t) for t in targets.split(",") if t.strip()]
        config = SimulationConfig(days=days, seed=seed, policies=list(dict.fromkeys(wanted)), targets=levels,
                                  **({"refit_every": refit_every} if refit_every else {}))
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)))
    except ValueError as exc:
        _fail(f"--targets: {exc}")
    products, problems = _products(ctx, products_file, list(series))
    histories = {s: v for s, v in series.items() if s not in problems}
    with progress_bar(err) as progress:
        task = progress.add_task("simulating", total=len(histories))
        result = run_simulation(histories, {s: p for s, p in products.items() if s in histories}, config,
                                progress=lambda done: progress.update(task, advance=1, description=f"{done:<24}"))
        progress.update(task, description="simulated")
    result.skipped[:0] = [Skipped(sku=s, reason=reason) for s, reason in problems.items() if s in series]
    out_dir.mkdir(parents=True, exist_ok=True)
    first = None
    if last_day is not None:
        first = date.fromordinal(last_day.toordinal() - days + 1)
    page = out_dir / "simulation.html"
    page.write_text(render_html(result, source=str(history), first_day=first), encoding="utf-8")
    (out_dir / "simulation.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
    out.print(totals_table(result))
    if result.skipped:
        out.print(f"skipped {len(result.skipped)} SKU(s):")
        for s in result.skipped:
            out.print(f"  {s.sku}: {s.reason}", markup=False, soft_wrap=True)
    out.print(f"report: {page}", soft_wrap=True)


def _products(ctx: typer.Context, path: Path | None, skus: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    if path is not None:
        try:
            return load_products(path)
        except ProductsFileError as exc:
            _fail(str(exc))
    settings = (ctx.obj if ctx is not None else None) or {}
    api = settings.get("api") or os.environ.get("ORDERFLOW_API", DEFAULT_API)
    timeout = settings.get("timeout", 10.0)
    role, _, customer_id = str(settings.get("role") or "admin").partition(":")
    token = settings.get("token") or os.environ.get("ORDERFLOW_TOKEN")
    try:
        with OrderflowClient(api, timeout=timeout, token=token, role=role, customer_id=customer_id or None
                             ) as client, progress_bar(err) as progress:
            task = progress.add_task("products from the API", total=len(skus))
            return products_from_api(client, skus, on_step=lambda _: progress.update(task, advance=1))
    except ApiError as exc:
        _fail(error_line(exc))
    except httpx.TransportError as exc:
        _fail(f"cannot reach the API at {api} for the product parameters: {exc or type(exc).__name__} "
              "(start it with `make up`, pass --api URL, or give --products FILE)")
    raise AssertionError("unreachable")


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(1)
