"""Rich renderings of orders and stock, shared by the CLI and the demo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

STATUS_STYLES = {
    "PENDING": "dim", "VALIDATED": "cyan", "CREDIT_APPROVED": "cyan", "RESERVED": "blue",
    "BACKORDERED": "yellow", "SHIPPED": "magenta", "DELIVERED": "bold green", "CANCELLED": "bright_black",
    "REJECTED": "red", "FAILED": "bold red",
    # purchase orders and replenishment runs
    "DRAFT": "dim", "SENT": "cyan", "ACKNOWLEDGED": "blue", "PARTIALLY_CONFIRMED": "yellow",
    "PARTIALLY_RECEIVED": "yellow", "RECEIVED": "bold green", "RUNNING": "cyan", "COMPLETED": "bold green",
}
STOCK_FIELDS = ("on_hand", "reserved", "available", "on_order", "backordered")


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
    table.add_column("reason", overflow="fold")
    for i, entry in enumerate(order.get("timeline") or [], start=1):
        table.add_row(str(i), status_text(entry.get("status")), short_time(entry.get("at")),
                      entry.get("by") or "", entry.get("reason") or "")
    return table


def lines_table(order: Mapping[str, Any]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("sku")
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
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("sku")
    for name in STOCK_FIELDS:
        table.add_column(name.replace("_", " "), justify="right")
    for level in levels:
        table.add_row(str(level.get("sku")), *(str(level.get(name, "")) for name in STOCK_FIELDS))
    return table


def orders_table(orders: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("order")
    table.add_column("status")
    table.add_column("lines")
    table.add_column("total", justify="right")
    table.add_column("created (UTC)", style="dim")
    for order in orders:
        lines = ", ".join(f"{li.get('sku')}×{li.get('quantity')}" for li in order.get("lines") or [])
        table.add_row(str(order.get("order_id")), status_text(order.get("status")), lines,
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


def supplier_table(supplier: Mapping[str, Any]) -> Table:
    table = Table(show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    capacity = supplier.get("capacity_per_cycle")
    for label, value in (("supplier", supplier.get("supplier_id")), ("name", supplier.get("name")),
                         ("capacity per cycle", "unlimited" if capacity is None else f"{capacity:,} units"),
                         ("active", "yes" if supplier.get("active", True) else "no"),
                         ("purchase orders queue", supplier.get("queue_url")),
                         ("replies queue", supplier.get("reply_queue_url"))):
        table.add_row(label, "" if value is None else str(value))
    return table


def purchase_orders_table(orders: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("purchase order")
    table.add_column("supplier")
    table.add_column("status")
    table.add_column("lines")
    table.add_column("total", justify="right")
    table.add_column("expected by", style="dim")
    table.add_column("created (UTC)", style="dim")
    for po in orders:
        lines = ", ".join(f"{li.get('sku')}×{li.get('quantity')}" for li in po.get("lines") or [])
        table.add_row(str(po.get("po_id")), str(po.get("supplier_id")), status_text(po.get("status")), lines,
                      f"{float(po.get('total', 0)):.2f}", po.get("expected_by") or "", po.get("created_at") or "")
    return table


def purchase_order_lines_table(po: Mapping[str, Any]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for name in ("sku", "ordered", "confirmed", "received", "unit cost"):
        table.add_column(name, justify="left" if name == "sku" else "right")
    for line in po.get("lines") or []:
        confirmed = line.get("confirmed")
        table.add_row(str(line.get("sku")), str(line.get("quantity", "")), "" if confirmed is None else str(confirmed),
                      str(line.get("received", 0)), f"{float(line.get('unit_cost', 0)):.2f}")
    return table


def purchase_order_summary(po: Mapping[str, Any]) -> Text:
    text = Text.assemble(("purchase order ", "bold"), (str(po.get("po_id")), "bold"), "  ",
                         status_text(po.get("status")),
                         f"  supplier {po.get('supplier_id')}  total {float(po.get('total', 0)):.2f}"
                         f"  cycle {po.get('cycle')}")
    if po.get("expected_by"):
        text.append(f"  expected by {po['expected_by']}")
    if po.get("run_id"):
        text.append(f"  run {po['run_id']}", style="dim")
    return text


def runs_table(runs: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("run")
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


def decisions_table(decisions: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    """Per SKU: demand class, method, forecast, σ, safety stock, reorder point, inventory position,
    quantity ordered and why (or why not)."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("sku")
    table.add_column("outcome")
    table.add_column("class")
    table.add_column("method")
    for name in ("forecast/day", "σ/day", "safety stock", "reorder point", "position", "quantity"):
        table.add_column(name, justify="right")
    table.add_column("purchase order")
    table.add_column("why", overflow="fold")
    for d in decisions:
        outcome = str(d.get("outcome", ""))
        table.add_row(str(d.get("sku")), Text(outcome, style=OUTCOME_STYLES.get(outcome, "")),
                      d.get("demand_class") or "", d.get("method") or "", number(d.get("forecast_daily"), 2),
                      number(d.get("sigma_daily"), 2), number(d.get("safety_stock")), number(d.get("reorder_point")),
                      number(d.get("inventory_position")), str(d.get("quantity", 0)), d.get("po_id") or "",
                      d.get("reason") or "")
    return table


def history_skipped_table(skipped: Iterable[Mapping[str, Any]]) -> Table:
    """Lines of a history file that were not imported, and why, with the file's line numbers."""
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("line", justify="right")
    table.add_column("sku")
    table.add_column("problem", overflow="fold")
    for row in skipped:
        table.add_row(str(row.get("line", "")), str(row.get("sku", "")), str(row.get("problem", "")))
    return table
