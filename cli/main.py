"""``orderflow``: the command line for the Orderflow API.

Points at the local stack (``make up``, http://127.0.0.1:3000) unless ``--api URL`` or the
``ORDERFLOW_API`` environment variable says otherwise. API errors exit with status 1 and print
the error's code and message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .catalogue import CatalogueError, load_catalogue, seed_catalogue, seed_steps
from .client import ApiError, OrderflowClient, RunWaitTimeout, WaitTimeout
from .events import events
from .history import HistoryFileError, HistoryRow, batches, read_history
from .render import (
    decisions_table,
    history_skipped_table,
    lines_table,
    order_summary,
    orders_table,
    purchase_order_lines_table,
    purchase_order_summary,
    purchase_orders_table,
    run_summary,
    runs_table,
    stock_table,
    supplier_table,
    timeline_table,
)
from .simulate import simulate
from .supplier import supplier_app

DEFAULT_API = "http://127.0.0.1:3000"
# Statuses an order settles in until a person (customer or warehouse) does something.
SETTLED = ("RESERVED", "BACKORDERED", "SHIPPED", "DELIVERED", "CANCELLED", "REJECTED", "FAILED")

app = typer.Typer(help="Command line for the Orderflow order-management API.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


@app.callback()
def main(ctx: typer.Context,
         api: Annotated[str, typer.Option("--api", envvar="ORDERFLOW_API", show_envvar=True, metavar="URL",
                                          help="Base URL of the Orderflow API.")] = DEFAULT_API,
         timeout: Annotated[float, typer.Option(help="HTTP timeout in seconds.")] = 10.0,
         token: Annotated[str | None, typer.Option("--token", envvar="ORDERFLOW_TOKEN", show_envvar=False,
                                                   metavar="JWT", help="Bearer token for the API (default offline: "
                                                   "one from the local stack for --as).")] = None,
         role: Annotated[str, typer.Option("--as", metavar="ROLE", help="Offline only: the role of the local "
                                           "token, admin, warehouse or customer:ID.")] = "admin") -> None:
    ctx.obj = {"api": api, "timeout": timeout, "token": token, "role": role}


def _client(ctx: typer.Context) -> OrderflowClient:
    obj = ctx.obj or {"api": os.environ.get("ORDERFLOW_API", DEFAULT_API), "timeout": 10.0,
                      "token": os.environ.get("ORDERFLOW_TOKEN"), "role": "admin"}
    role, _, customer_id = str(obj.get("role") or "admin").partition(":")
    return OrderflowClient(obj["api"], timeout=obj["timeout"], token=obj.get("token"), role=role,
                           customer_id=customer_id or None)


def _fail(message: str, details: Any = None) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    if details:
        err.print(json.dumps(details, indent=2, default=str), soft_wrap=True, markup=False)
    return typer.Exit(1)


def api_command(func: F) -> F:
    """Turn API and connection errors into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            raise _fail(f"{exc.code} ({exc.status}): {exc.message}", exc.details) from None
        except (WaitTimeout, RunWaitTimeout) as exc:
            raise _fail(str(exc)) from None
        except httpx.TransportError as exc:
            api = (getattr(kwargs.get("ctx"), "obj", None) or {}).get("api")
            raise _fail(f"cannot reach the API at {api or '?'}: {exc or type(exc).__name__} "
                        "(is the stack running? `make up`, or pass --api URL)") from None

    return wrapper  # type: ignore[return-value]


def _parse_line(text: str) -> dict[str, Any]:
    sku, sep, qty = text.partition("=")
    if not sep or not sku.strip():
        raise typer.BadParameter(f"{text!r}: write SKU=QTY, e.g. --line WIDGET-1=2")
    try:
        quantity = int(qty)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: the quantity must be a whole number") from None
    return {"sku": sku.strip(), "quantity": quantity}


def _show_order(order: dict) -> None:
    out.print(order_summary(order))
    out.print(lines_table(order))
    out.print(timeline_table(order, title="timeline"))


# ------------------------------------------------------------------ commands
@app.command()
@api_command
def seed(ctx: typer.Context,
         file: Annotated[Path, typer.Argument(help="Catalogue JSON: {products, customers, stock}.")]) -> None:
    """Load products, customers and stock levels from a catalogue file."""
    try:
        catalogue = load_catalogue(file)
    except CatalogueError as exc:
        raise _fail(str(exc)) from None
    with _client(ctx) as client, Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                                          MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                                          transient=False) as progress:
        task = progress.add_task("seeding", total=seed_steps(catalogue))

        def step(label: str) -> None:
            progress.update(task, advance=1, description=f"seeded {label:<24}")

        result = seed_catalogue(client, catalogue, on_step=step)
        progress.update(task, description="seeded")
    out.print(f"seeded {result.products} products, {result.customers} customers, "
              f"stock for {len(result.stock)} SKUs ({len(result.stock_adjusted)} adjusted)")
    if result.stock:
        out.print(stock_table(result.stock.values()))


@app.command()
@api_command
def submit(ctx: typer.Context,
           customer: Annotated[str, typer.Option("--customer", "-c", help="Customer id.")],
           line: Annotated[list[str], typer.Option("--line", "-l", metavar="SKU=QTY",
                                                   help="An order line; repeat for more.")],
           key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key (default: a new UUID). "
                                                   "Resubmitting with the same key changes nothing.")] = None,
           channel: Annotated[str | None, typer.Option(help="Sales channel recorded on the order.")] = None,
           wait: Annotated[bool, typer.Option("--wait/--no-wait",
                                              help="Wait until the workflow has reserved, backordered or "
                                                   "rejected the order, then show it.")] = False) -> None:
    """Submit an order."""
    lines = [_parse_line(text) for text in line]
    with _client(ctx) as client:
        status, body = client.submit_order(customer, lines, idempotency_key=key, channel=channel)
        if status >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise _fail(f"{error.get('code', f'HTTP_{status}')} ({status}): {error.get('message', '')}",
                        error.get("details"))
        if wait:
            body = client.wait_for_status(body["order_id"], SETTLED)
            _show_order(body)
        else:
            out.print(order_summary(body))
    out.print(f"order_id: {body['order_id']}")


@app.command("order")
@api_command
def show_order(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="Order id.")]) -> None:
    """Show an order: its status, lines and timeline."""
    with _client(ctx) as client:
        _show_order(client.get_order(order_id))


@app.command("orders")
@api_command
def list_orders(ctx: typer.Context,
                customer: Annotated[str, typer.Option("--customer", "-c", help="Customer id.")],
                limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 25) -> None:
    """List a customer's orders, newest first."""
    with _client(ctx) as client:
        page = client.list_orders(customer, limit=limit)
    out.print(orders_table(page["orders"], title=f"orders of {customer}"))
    if page.get("next_cursor"):
        out.print("[dim](more orders exist; raise --limit)[/]")


@app.command()
@api_command
def stock(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")]) -> None:
    """Show a SKU's stock: on hand, reserved, available, on order, backordered."""
    with _client(ctx) as client:
        out.print(stock_table([client.get_stock(sku)]))


@app.command()
@api_command
def adjust(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")],
           quantity: Annotated[int, typer.Argument(help="Units received (positive) or written off (negative).")],
           reason: Annotated[str, typer.Option(help="Why (kept with the adjustment).")] = "manual adjustment",
           key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key.")] = None) -> None:
    """Receive or write off stock (a receipt releases backordered orders)."""
    with _client(ctx) as client:
        out.print(stock_table([client.adjust_stock(sku, quantity, reason=reason, idempotency_key=key)]))


@app.command()
@api_command
def ship(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="Order id.")],
         carrier: Annotated[str | None, typer.Option(help="Carrier name.")] = None,
         tracking: Annotated[str | None, typer.Option(help="Tracking number.")] = None) -> None:
    """Warehouse: mark a RESERVED order shipped."""
    with _client(ctx) as client:
        order = client.ship(order_id, carrier=carrier, tracking=tracking)
    out.print(order_summary(order))


@app.command()
@api_command
def deliver(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="Order id.")]) -> None:
    """Warehouse: mark a SHIPPED order delivered."""
    with _client(ctx) as client:
        order = client.deliver(order_id)
    out.print(order_summary(order))


@app.command()
@api_command
def cancel(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="Order id.")],
           reason: Annotated[str | None, typer.Option(help="Why (kept on the timeline).")] = None) -> None:
    """Cancel an order that has not shipped yet; its stock and credit are given back."""
    with _client(ctx) as client:
        order = client.cancel(order_id, reason=reason)
    out.print(order_summary(order))


# ------------------------------------------------------------------ buying side: suppliers, history, runs, POs
suppliers_app = typer.Typer(help="Suppliers: who purchase orders go to, and their capacity.", no_args_is_help=True)
history_app = typer.Typer(help="Daily demand history, the input of the forecasts.", no_args_is_help=True)
app.add_typer(suppliers_app, name="suppliers")
app.add_typer(history_app, name="history")
app.add_typer(supplier_app, name="supplier")
app.command("simulate")(simulate)


@suppliers_app.command("put")
@api_command
def put_supplier(ctx: typer.Context, supplier_id: Annotated[str, typer.Argument(help="Supplier id.")],
                 name: Annotated[str, typer.Option("--name", help="Supplier name.")],
                 capacity: Annotated[int | None, typer.Option("--capacity", min=0,
                                                              help="Units it can take per cycle (a day); "
                                                                   "default unlimited.")] = None) -> None:
    """Register or update a supplier; creates its purchase-order queue."""
    with _client(ctx) as client:
        out.print(supplier_table(client.put_supplier(supplier_id, name, capacity_per_cycle=capacity)))


@suppliers_app.command("show")
@api_command
def show_supplier(ctx: typer.Context, supplier_id: Annotated[str, typer.Argument(help="Supplier id.")]) -> None:
    """Show a supplier, its capacity and its queues."""
    with _client(ctx) as client:
        out.print(supplier_table(client.get_supplier(supplier_id)))


@history_app.command("import")
@api_command
def import_history(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="CSV with the columns sku,date,quantity "
                                                             "(date YYYY-MM-DD).")]) -> None:
    """Load daily demand history. The file is checked first: a SKU with a problem on any of its lines is
    left out whole and named with the line and field; the other SKUs are imported, and rows of unknown
    SKUs are skipped and listed by the server. An imported day replaces what was recorded for it (it
    does not add: importing a file twice changes nothing). Exits 1 when nothing was imported."""
    try:
        found = read_history(file)
    except HistoryFileError as exc:
        for problem in exc.problems[:20]:
            err.print(f"{file}: {problem}", soft_wrap=True, markup=False)
        more = f" (and {len(exc.problems) - 20} more)" if len(exc.problems) > 20 else ""
        raise _fail(f"{len(exc.problems)} problem(s) in {file}{more}; nothing was imported") from None
    rows = found.rows
    skipped: list[dict[str, Any]] = [{"line": p.line, "sku": p.sku, "problem": f"{p.field}: {p.message}"}
                                     for p in found.problems]
    if found.skus_left_out:
        err.print(f"{file}: {len(found.problems)} problem(s); left out SKU(s) {', '.join(found.skus_left_out[:20])}"
                  f"{' …' if len(found.skus_left_out) > 20 else ''}, importing the others", soft_wrap=True,
                  markup=False)
    imported = 0
    server_skipped = 0
    with _client(ctx) as client, Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                                          MofNCompleteColumn(), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("importing rows", total=len(rows))
        for batch in batches(rows):
            result = client.import_history([row.body() for row in batch])
            imported += int(result.get("imported", 0))
            refused = result.get("skipped") or []
            server_skipped += len(refused)
            skipped += [_skipped_line(batch, s) for s in refused]
            progress.advance(task, len(batch))
    out.print(f"imported {imported} rows, skipped {found.rows_left_out + server_skipped}")
    if skipped:
        out.print(history_skipped_table(sorted(skipped, key=lambda s: s.get("line") or 0)))
    if not imported:
        raise typer.Exit(1)


def _skipped_line(batch: Sequence[HistoryRow], skipped: dict[str, Any]) -> dict[str, Any]:
    """The server numbers rows from 1 within the batch it got; name the file's line instead."""
    row = skipped.get("row")
    line = batch[row - 1].line if isinstance(row, int) and 1 <= row <= len(batch) else None
    return {**skipped, "line": line}


@app.command()
@api_command
def replenish(ctx: typer.Context,
              now: Annotated[bool, typer.Option("--now", help="Start a replenishment run now.")] = False,
              wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the run to end, then show "
                                                                         "its decisions.")] = False,
              note: Annotated[str | None, typer.Option(help="Kept with the run.")] = None,
              timeout: Annotated[float, typer.Option(help="Seconds --wait waits.")] = 300.0) -> None:
    """Forecast, decide and send purchase orders now (the schedule does it nightly)."""
    if not now:
        raise _fail("runs start on their schedule; pass --now to start one now")
    with _client(ctx) as client:
        run = client.start_replenishment_run(note)
        out.print(f"run_id: {run['run_id']}")
        if not wait:
            out.print(run_summary(run))
            return
        run = client.wait_for_run(run["run_id"], timeout=timeout)
    _show_run(run)
    if run.get("status") == "FAILED":
        raise typer.Exit(1)


def _show_run(run: dict) -> None:
    out.print(run_summary(run))
    out.print(decisions_table(run.get("decisions") or [], title="decisions"))


@app.command()
@api_command
def runs(ctx: typer.Context, run_id: Annotated[str | None, typer.Argument(help="Show this run's decisions.")] = None,
         limit: Annotated[int, typer.Option(min=1, max=100, help="How many runs, newest first.")] = 20) -> None:
    """List recent replenishment runs, or show one with its per-SKU decisions."""
    with _client(ctx) as client:
        if run_id:
            _show_run(client.get_replenishment_run(run_id))
        else:
            out.print(runs_table(client.list_replenishment_runs(limit)["runs"], title="replenishment runs"))


@app.command()
@api_command
def pos(ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help="Only this status (DRAFT, SENT, ACKNOWLEDGED, ...).")] = None,
        limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 25) -> None:
    """List purchase orders."""
    with _client(ctx) as client:
        page = client.list_purchase_orders(status=status.upper() if status else None, limit=limit)
    out.print(purchase_orders_table(page["purchase_orders"], title="purchase orders"))
    if page.get("next_cursor"):
        out.print("[dim](more purchase orders exist; raise --limit)[/]")


@app.command()
@api_command
def po(ctx: typer.Context, po_id: Annotated[str, typer.Argument(help="Purchase order id.")]) -> None:
    """Show a purchase order: its lines and timeline."""
    with _client(ctx) as client:
        order = client.get_purchase_order(po_id)
    out.print(purchase_order_summary(order))
    out.print(purchase_order_lines_table(order))
    out.print(timeline_table(order, title="timeline"))


@app.command()
@api_command
def report(ctx: typer.Context, run_id: Annotated[str, typer.Argument(help="Replenishment run id.")],
           out_dir: Annotated[Path, typer.Option("--out", help="Directory for index.html.")],
           days: Annotated[int, typer.Option(min=7, max=730, help="Days of history to plot.")] = 182) -> None:
    """Write a run's HTML report: per SKU a plot of history, forecast, interval and reorder point.

    One self-contained page (DIR/index.html) with the decision table; images are embedded."""
    from .report import report_run  # matplotlib: loaded only for this command

    with _client(ctx) as client:
        page, skus = report_run(client, run_id, out_dir, days)
    out.print(f"wrote {page} ({skus} SKUs)", soft_wrap=True)  # a path must stay copyable


app.command()(events)


if __name__ == "__main__":  # pragma: no cover
    app()
