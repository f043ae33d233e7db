"""Rich renderings of orders and stock, shared by the CLI and the demo.

Ids are never cut, at any terminal width, so they can be copied into the next command: an id column
is as wide as its longest id and never wraps; a list with many columns (``Listing``) is a table where
it fits and otherwise one short block per row, the id first; and in text lines ids are whole words,
which wrap whole. tests/unit/test_cli_render.py renders each at 80 columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.columns import Columns
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

STATUS_STYLES = {
    "PENDING": "dim", "VALIDATED": "cyan", "CREDIT_APPROVED": "cyan", "RESERVED": "blue",
    "PARTIALLY_RESERVED": "yellow", "BACKORDERED": "yellow", "SHIPPED": "magenta", "DELIVERED": "bold green",
    "CANCELLED": "bright_black", "REJECTED": "red", "FAILED": "bold red",
    # purchase orders and replenishment runs
    "DRAFT": "dim", "SENT": "cyan", "ACKNOWLEDGED": "blue", "PARTIALLY_CONFIRMED": "yellow",
    "PARTIALLY_RECEIVED": "yellow", "RECEIVED": "bold green", "RUNNING": "cyan", "COMPLETED": "bold green",
}
STOCK_FIELDS = ("on_hand", "reserved", "available", "on_order", "backordered")


def id_column(table: Table, header: str, ids: Iterable[Any], **options: Any) -> None:
    """A column of ids (order, SKU, run, purchase order, ...): as wide as the longest, never wrapped or cut,
    so it can be copied into the next command."""
    width = max([len(header), *(len(str(i)) for i in ids)])
    table.add_column(header, no_wrap=True, min_width=width, **options)


def plain_table(title: str | None = None) -> Table:
    return Table(title=title, title_justify="left", show_edge=False, pad_edge=False)


class Listing:
    """A list of rows whose first column is an id: a table when its natural width fits the terminal;
    otherwise, rather than squeezing columns until ids and statuses are cut, one block per row: the first
    two cells on a line, then ``header value`` pairs, wrapping between pairs."""

    def __init__(self, title: str | None = None) -> None:
        self.title = title
        self.table = plain_table(title)
        self.headers: list[str] = []
        self.rows: list[tuple[Text | str, ...]] = []

    def add_column(self, header: str, **options: Any) -> None:
        self.table.add_column(header, **options)
        self.headers.append(header)

    def add_id_column(self, header: str, ids: Iterable[Any]) -> None:
        id_column(self.table, header, ids)
        self.headers.append(header)

    def add_row(self, *cells: Text | str) -> None:
        self.table.add_row(*cells)
        self.rows.append(cells)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        natural = Measurement.get(console, options.update_width(10_000), self.table).maximum
        if natural <= options.max_width:
            yield self.table
            return
        if self.title:
            yield Text(self.title, style="italic")
        for cells in self.rows:
            first = Text(str(cells[0]), style="bold")
            for cell in cells[1:2]:
                first.append("  ")
                first.append_text(Text(cell) if isinstance(cell, str) else cell)
            pairs = [Text.assemble((f"{header} ", "dim"), Text(cell) if isinstance(cell, str) else cell)
                     for header, cell in zip(self.headers[2:], cells[2:], strict=True) if str(cell)]
            yield first
            yield Padding(Columns(pairs, padding=(0, 3)), (0, 0, 0, 2))


def progress_bar(console: Console) -> Progress:
    """A bar with the count done and the time taken, while ``console`` (stderr) is a terminal; nothing at all
    otherwise, not even the finished bar, so a script's output or a log stays clean."""
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, disable=not console.is_terminal)


def status_text(status: str | None) -> Text:
    return Text(str(status), style=STATUS_STYLES.get(str(status), ""))


def short_time(at: str | None) -> str:
    """``2024-05-01T10:11:12.345Z`` → ``10:11:12.345`` (the date is the same for a demo run)."""
    if not at:
        return ""
    return at.split("T", 1)[1].rstrip("Z") if "T" in at else at


def timeline_table(order: Mapping[str, Any], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("status")
    table.add_column("at (UTC)", style="dim")
    table.add_column("by")
    table.add_column("reason", overflow="fold")  # a long id or queue URL folds onto the next lines, never cut
    for i, entry in enumerate(order.get("timeline") or [], start=1):
        table.add_row(str(i), status_text(entry.get("status")), short_time(entry.get("at")),
                      entry.get("by") or "", entry.get("reason") or "")
    return table


def lines_table(order: Mapping[str, Any]) -> Table:
    table = plain_table()
    id_column(table, "sku", (line.get("sku", "") for line in order.get("lines") or []))
    table.add_column("name")
    table.add_column("qty", justify="right")
    table.add_column("unit price", justify="right")
    for line in order.get("lines") or []:
        table.add_row(line.get("sku", ""), line.get("name") or "", str(line.get("quantity", "")),
                      f"{float(line.get('unit_price', 0)):.2f}")
    return table


def order_summary(order: Mapping[str, Any]) -> Text:
    text = Text.assemble(("order ", "bold"), (str(order.get("order_id")), "bold"), "  ",
                         status_text(order.get("status")),
                         f"  customer {order.get('customer_id')}  total {float(order.get('total', 0)):.2f}")
    shipment = order.get("shipment") or {}
    if shipment:
        parts = [f"{k} {shipment[k]}" for k in ("carrier", "tracking") if shipment.get(k)]
        if parts:
            text.append("  shipped " + " ".join(parts))
    return text


def stock_table(levels: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    levels = list(levels)
    table = plain_table(title)
    id_column(table, "sku", (level.get("sku") for level in levels))
    for name in STOCK_FIELDS:
        table.add_column(name.replace("_", " "), justify="right")
    for level in levels:
        table.add_row(str(level.get("sku")), *(str(level.get(name, "")) for name in STOCK_FIELDS))
    return table


def line_list(lines: Iterable[Mapping[str, Any]]) -> str:
    """``SKU×2, OTHER×1``: a space after each comma, so a long list wraps between SKUs, not inside one."""
    return ", ".join(f"{li.get('sku')}×{li.get('quantity')}" for li in lines)


def orders_table(orders: Iterable[Mapping[str, Any]], title: str | None = None) -> Listing:
    orders = list(orders)
    table = Listing(title)
    table.add_id_column("order", (order.get("order_id") for order in orders))
    table.add_column("status")
    table.add_column("lines")
    table.add_column("total", justify="right")
    table.add_column("created (UTC)", style="dim")
    for order in orders:
        table.add_row(str(order.get("order_id")), status_text(order.get("status")), line_list(order.get("lines") or []),
                      f"{float(order.get('total', 0)):.2f}", order.get("created_at") or "")
    return table


# ------------------------------------------------------------------ buying side
OUTCOME_STYLES = {"ordered": "bold green", "not_needed": "", "already_ordered": "cyan", "not_due": "dim",
                  "skipped": "yellow"}
RUN_COUNTS = ("skus", "ordered", "not_needed", "already_ordered", "not_due", "skipped", "sent", "units_ordered")


def number(value: Any, digits: int = 1) -> str:
    """A figure for a table: blank when missing, whole numbers without decimals."""
    if value is None or value == "":
        return ""
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.{digits}f}"


def fields_view(pairs: Iterable[tuple[str, Any]]) -> Group:
    """One ``label: value`` line per field. A value is never broken: printed with ``crop=False``, a queue
    URL longer than the terminal runs past its edge (the terminal wraps it softly, and copying it copies it
    whole), where a table cell would fold it into pieces."""
    return Group(*(Text.assemble((f"{label}: ", "bold"), "" if value is None else str(value), no_wrap=True,
                                 overflow="ignore") for label, value in pairs))


def supplier_table(supplier: Mapping[str, Any]) -> Group:
    capacity = supplier.get("capacity_per_cycle")
    return fields_view((("supplier", supplier.get("supplier_id")), ("name", supplier.get("name")),
                        ("capacity per cycle", "unlimited" if capacity is None else f"{capacity:,} units"),
                        ("active", "yes" if supplier.get("active", True) else "no"),
                        ("purchase orders queue", supplier.get("queue_url")),
                        ("replies queue", supplier.get("reply_queue_url"))))


def product_view(product: Mapping[str, Any]) -> Group:
    threshold = product.get("low_stock_threshold")
    buying = product.get("replenishment") or {}
    pairs: list[tuple[str, Any]] = [
        ("product", product.get("sku")), ("name", product.get("name")),
        ("unit price", f"{float(product.get('unit_price', 0)):.2f}"), ("supplier", product.get("supplier_id") or "—"),
        ("active", "yes" if product.get("active", True) else "no"),
        ("low-stock threshold", "none" if threshold is None else threshold),
        ("replenishment", ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in buying.items() if v is not None) or
         "none (Orderflow does not buy it)"),
    ]
    return fields_view(pairs)


def customer_view(customer: Mapping[str, Any]) -> Group:
    money = {k: f"{float(customer.get(k, 0)):.2f}" for k in ("credit_limit", "exposure", "credit_available")}
    return fields_view((("customer", customer.get("customer_id")), ("name", customer.get("name")),
                        ("credit limit", money["credit_limit"]),
                        ("exposure", money["exposure"] + "  (approved, not yet paid; below zero: owed to them)"),
                        ("credit available", money["credit_available"])))


def return_summary(rma: Mapping[str, Any]) -> Text:
    text = Text.assemble(("return ", "bold"), (str(rma.get("return_id")), "bold"), "  ", status_text(rma.get("status")),
                         f"  order {rma.get('order_id')}  customer {rma.get('customer_id')}"
                         f"  refund {float(rma.get('refund_amount', 0)):.2f}")
    if rma.get("exchange"):
        text.append(f"  exchange {line_list(rma['exchange'])}")
    if rma.get("exchange_order_id"):
        text.append(f"  exchange order {rma['exchange_order_id']}")
    return text


def return_lines_table(rma: Mapping[str, Any]) -> Table:
    lines = rma.get("lines") or []
    table = plain_table()
    id_column(table, "sku", (line.get("sku") for line in lines))
    for name in ("qty", "refund", "restocked", "scrapped"):
        table.add_column(name, justify="right")
    table.add_column("reason")
    for line in lines:
        table.add_row(str(line.get("sku")), str(line.get("quantity", "")), f"{float(line.get('refund', 0)):.2f}",
                      *("" if line.get(k) is None else str(line[k]) for k in ("restocked", "scrapped")),
                      line.get("reason") or "")
    return table


def purchase_orders_table(orders: Iterable[Mapping[str, Any]], title: str | None = None) -> Listing:
    orders = list(orders)
    table = Listing(title)
    table.add_id_column("purchase order", (po.get("po_id") for po in orders))
    table.add_column("status")
    table.add_column("supplier", no_wrap=True)
    table.add_column("deliver to", no_wrap=True)
    table.add_column("lines")
    table.add_column("total", justify="right")
    table.add_column("expected by", style="dim")
    table.add_column("created (UTC)", style="dim")
    for po in orders:
        table.add_row(str(po.get("po_id")), status_text(po.get("status")), str(po.get("supplier_id")),
                      str(po.get("deliver_to") or "main"), line_list(po.get("lines") or []),
                      f"{float(po.get('total', 0)):.2f}", po.get("expected_by") or "", po.get("created_at") or "")
    return table


def purchase_order_lines_table(po: Mapping[str, Any]) -> Table:
    table = plain_table()
    id_column(table, "sku", (line.get("sku") for line in po.get("lines") or []))
    for name in ("ordered", "confirmed", "received", "unit cost"):
        table.add_column(name, justify="right")
    for line in po.get("lines") or []:
        confirmed = line.get("confirmed")
        table.add_row(str(line.get("sku")), str(line.get("quantity", "")), "" if confirmed is None else str(confirmed),
                      str(line.get("received", 0)), f"{float(line.get('unit_cost', 0)):.2f}")
    return table


def purchase_order_summary(po: Mapping[str, Any]) -> Text:
    text = Text.assemble(("purchase order ", "bold"), (str(po.get("po_id")), "bold"), "  ",
                         status_text(po.get("status")),
                         f"  supplier {po.get('supplier_id')}  to {po.get('deliver_to') or 'main'}"
                         f"  total {float(po.get('total', 0)):.2f}  cycle {po.get('cycle')}")
    if po.get("expected_by"):
        text.append(f"  expected by {po['expected_by']}")
    if po.get("run_id"):
        text.append(f"  run {po['run_id']}", style="dim")
    return text


def runs_table(runs: Iterable[Mapping[str, Any]], title: str | None = None) -> Listing:
    runs = list(runs)
    table = Listing(title)
    table.add_id_column("run", (run.get("run_id") for run in runs))
    table.add_column("status")
    table.add_column("cycle")
    table.add_column("trigger")
    for name in RUN_COUNTS:
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("started (UTC)", style="dim")
    for run in runs:
        counts = run.get("counts") or {}
        table.add_row(str(run.get("run_id")), status_text(run.get("status")), str(run.get("cycle", "")),
                      str(run.get("trigger", "")), *(str(counts.get(name, 0)) for name in RUN_COUNTS),
                      run.get("started_at") or "")
    return table


def run_summary(run: Mapping[str, Any]) -> Text:
    counts = run.get("counts") or {}
    text = Text.assemble(("replenishment run ", "bold"), (str(run.get("run_id")), "bold"), "  ",
                         status_text(run.get("status")), f"  cycle {run.get('cycle')}  trigger {run.get('trigger')}")
    text.append("\n" + "  ".join(f"{name.replace('_', ' ')} {counts.get(name, 0)}" for name in RUN_COUNTS))
    if run.get("error"):
        text.append(f"\nerror: {run['error']}", style="red")
    return text


def decided_for(decision: Mapping[str, Any]) -> str:
    """The SKU of a run's decision, ``SKU@location`` when it was decided for a location other than main."""
    location = decision.get("location_id") or "main"
    return f"{decision.get('sku')}@{location}" if location != "main" else str(decision.get("sku"))


def decisions_table(decisions: Iterable[Mapping[str, Any]], title: str | None = None) -> Group:
    """Per SKU: the figures (forecast, σ, safety stock, reorder point, inventory position, quantity) in a
    table, then one line per SKU with its outcome, demand class and method, purchase order and why: the
    reasons are sentences, which a table column at 80 columns would wrap one word per line."""
    decisions = list(decisions)
    table = plain_table(title)
    id_column(table, "sku", (decided_for(d) for d in decisions))
    for name in ("forecast/d", "σ/d", "safety", "reorder at", "position", "qty"):
        table.add_column(name, justify="right", no_wrap=True)
    reasons = []
    for d in decisions:
        table.add_row(decided_for(d), number(d.get("forecast_daily"), 2), number(d.get("sigma_daily"), 2),
                      number(d.get("safety_stock")), number(d.get("reorder_point")),
                      number(d.get("inventory_position")), str(d.get("quantity", 0)))
        outcome = str(d.get("outcome", ""))
        how = ", ".join(x for x in (d.get("demand_class"), d.get("method")) if x)
        reasons.append(Text.assemble(("  " + decided_for(d), "bold"), " ",
                                     (outcome, OUTCOME_STYLES.get(outcome, "") or "bold"),
                                     f" ({how})" if how else "", f" → {d['po_id']}" if d.get("po_id") else "",
                                     ": ", d.get("reason") or ""))
    return Group(table, *reasons)


def history_skipped_table(skipped: Iterable[Mapping[str, Any]]) -> Table:
    """Lines of a history file that were not imported, and why, with the file's line numbers."""
    skipped = list(skipped)
    table = plain_table()
    table.add_column("line", justify="right")
    id_column(table, "sku", (row.get("sku", "") for row in skipped))
    table.add_column("problem")
    for row in skipped:
        table.add_row(str(row.get("line", "")), str(row.get("sku", "")), str(row.get("problem", "")))
    return table


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def kpis_view(k: dict) -> Group:
    """``GET /kpis`` as two tables: the KPIs of the days, and each supplier's."""
    where = f" at {k['location_id']}" if k.get("location_id") else ""
    table = Table("KPI", "value", title=f"KPIs {k['from']} … {k['to']}{where}", title_justify="left", box=None,
                  pad_edge=False)
    fill, back = k["fill_rate"], k["backorders"]
    rows = [
        ("fill rate (orders / lines / units shipped complete)",
         f"{_rate(fill['orders'])} / {_rate(fill['lines'])} / {_rate(fill['units'])}"),
        ("on-time shipment rate", f"{_rate(k['on_time_shipment_rate'])} of {k['orders_shipped']} shipped"),
        ("orders shipped in parts", str(k["partial_shipments"]["orders_shipped_in_parts"])),
        ("part-cancels (units cancelled)", f"{k['part_cancels']['cancels']} ({k['part_cancels']['units']})"),
        ("stock-out rate (SKU-days)", f"{_rate(k['stock_out_rate'])} ({k['stock_out_sku_days']} of {k['sku_days']})"),
        ("backorders opened / filled / dropped", f"{back['opened']} / {back['filled']} / {back['dropped']}"),
        ("backorders open now (average age)",
         f"{back['open_now']}" + (f" ({back['average_open_age_hours']} h)" if back["average_open_age_hours"]
                                  is not None else "")),
        ("average hours to close a backorder", "—" if back["average_hours_to_close"] is None
         else str(back["average_hours_to_close"])),
    ]
    error = k.get("forecast_error") or {}
    rows += [
        ("average days of cover", "—" if k.get("days_of_cover") is None else f"{k['days_of_cover']} days"),
        ("inventory turns (a year, in units)", "—" if k.get("inventory_turns") is None else str(k["inventory_turns"])),
        ("forecast error of the last run (WAPE, bias)",
         "—" if error.get("wape") is None else f"{_rate(error['wape'])}, {_rate(error['bias'])} "
                                               f"({error['run_id']}, {error['days']} days)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    suppliers = Table("supplier", "POs closed", "on time", "fill rate", box=None, pad_edge=False)
    for supplier, m in (k.get("suppliers") or {}).items():
        suppliers.add_row(supplier, str(m["purchase_orders_closed"]), _rate(m["on_time_rate"]), _rate(m["fill_rate"]))
    return Group(table, suppliers) if k.get("suppliers") else Group(table)
