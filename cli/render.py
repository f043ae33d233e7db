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
