"""``orderflow``: the command line for the Orderflow API.

Points at the local stack (``make up``, http://127.0.0.1:3000) unless ``--api URL`` or the
``ORDERFLOW_API`` environment variable says otherwise (``make up`` prints the ``export`` line for its
ports). An API or connection error exits with status 1 and prints one line: the error's code and
message, and for a 403 the role the route needs. Listing and showing commands take ``--json`` for
scripts; waits longer than a moment show a spinner on stderr. docs/cli.md has the conventions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console

from .access import error_line
from .addresses import parse_address
from .catalogue import CatalogueError, load_catalogue, seed_catalogue, seed_steps
from .client import ApiError, OrderflowClient, RunWaitTimeout, WaitTimeout
from .events import events
from .history import HistoryFileError, HistoryRow, batches, read_history
from .render import (
    customer_view,
    decisions_table,
    history_skipped_table,
    lines_table,
    order_summary,
    orders_table,
    product_view,
    progress_bar,
    purchase_order_lines_table,
    purchase_order_summary,
    purchase_orders_table,
    return_lines_table,
    return_summary,
    run_summary,
    runs_table,
    stock_table,
    supplier_table,
    timeline_table,
)
from .simulate import simulate
from .streams import streams_app
from .supplier import supplier_app
from .upgrade import upgrade_app

DEFAULT_API = "http://127.0.0.1:3000"
# Statuses an order settles in until a person (customer or warehouse) does something.
SETTLED = ("RESERVED", "PARTIALLY_RESERVED", "BACKORDERED", "SHIPPED", "DELIVERED", "CANCELLED", "REJECTED", "FAILED")

app = typer.Typer(help="Command line for the Orderflow order-management API.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer instead of tables (for scripts).")]


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
    try:
        urlsplit(str(httpx.URL(api))).hostname  # noqa: B018 - raises on a malformed host
    except (httpx.InvalidURL, ValueError) as exc:
        raise typer.BadParameter(f"{api!r} is not a URL: {exc}", param_hint="--api") from None
    kind, colon, customer_id = role.partition(":")
    if not (role in ("admin", "warehouse") or (kind == "customer" and colon and customer_id.strip())):
        # before any request: the local stack's 400 for an unknown role read as "issues no local tokens"
        raise typer.BadParameter(f"{role!r}: admin, warehouse or customer:ID, e.g. --as customer:CUST-ACME",
                                 param_hint="--as")
    ctx.obj = {"api": api, "timeout": timeout, "token": token, "role": role}


def _client(ctx: typer.Context) -> OrderflowClient:
    obj = ctx.obj or {"api": os.environ.get("ORDERFLOW_API", DEFAULT_API), "timeout": 10.0,
                      "token": os.environ.get("ORDERFLOW_TOKEN"), "role": "admin"}
    role, _, customer_id = str(obj.get("role") or "admin").partition(":")
    return OrderflowClient(obj["api"], timeout=obj["timeout"], token=obj.get("token"), role=role,
                           customer_id=customer_id or None)


def _fail(message: str, details: Any = None) -> typer.Exit:
    """One line on stderr (the details, compact JSON, on the same line), and exit status 1."""
    text = message + (f"; details: {json.dumps(details, default=str)}" if details else "")
    err.print("[bold red]error:[/] ", end="")
    err.print(text, soft_wrap=True, markup=False)
    return typer.Exit(1)


def _print_json(body: Any) -> None:
    typer.echo(json.dumps(body, indent=2, default=str))


def _emit(body: Any, as_json: bool, view: Callable[[Any], Any]) -> None:
    """The API's JSON answer (--json), or its view; a view's long values (queue URLs) are never cut."""
    if as_json:
        _print_json(body)
    else:
        out.print(view(body), crop=False)


def api_command(func: F) -> F:
    """Turn API and connection errors into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            raise _fail(error_line(exc), exc.details) from None
        except (WaitTimeout, RunWaitTimeout) as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:  # a file the command reads or writes (report --out, seed FILE, ...)
            raise _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
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


def _purchase_line(text: str) -> dict[str, Any]:
    """``SKU=QTY`` at the product's unit cost from the supplier, or ``SKU=QTY@COST`` at that cost."""
    ordered, at, cost = text.partition("@")
    line = _parse_line(ordered)
    if at:
        try:
            line["unit_cost"] = float(cost)
        except ValueError:
            raise typer.BadParameter(f"{text!r}: the unit cost after @ must be a number, e.g. BOLT=500@0.12") from None
    return line


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
    with _client(ctx) as client, progress_bar(err) as progress:
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
           ship_to: Annotated[str, typer.Option("--ship-to", metavar="NAME, LINE1, CITY, POSTAL_CODE, COUNTRY",
                                                help="Where the order ships: five comma-separated fields, the "
                                                     "country as an ISO code (GB, DE, US).")],
           key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key (default: a new UUID). "
                                                   "Resubmitting with the same key changes nothing.")] = None,
           channel: Annotated[str | None, typer.Option(help="Sales channel recorded on the order.")] = None,
           ship_available: Annotated[bool, typer.Option(
               "--ship-available", help="Ship what is in stock now and backorder the rest (fulfilment_policy "
                                        "ship_available); by default nothing ships until every line can.")] = False,
           wait: Annotated[bool, typer.Option("--wait/--no-wait",
                                              help="Wait until the workflow has reserved, backordered or "
                                                   "rejected the order, then show it.")] = False) -> None:
    """Submit an order."""
    lines = [_parse_line(text) for text in line]
    try:
        address = parse_address(ship_to)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    with _client(ctx) as client:
        status, body = client.submit_order(customer, lines, idempotency_key=key, channel=channel,
                                           shipping_address=address,
                                           fulfilment_policy="ship_available" if ship_available else None)
        if status >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise _fail(error_line(ApiError(status, str(error.get("code", f"HTTP_{status}")),
                                             str(error.get("message", body.get("message", ""))),
                                             method="POST", path="/orders")), error.get("details"))
        if wait:
            with err.status(f"waiting for {body['order_id']} to be reserved, backordered or rejected…"):
                body = client.wait_for_status(body["order_id"], SETTLED)
            _show_order(body)
        else:
            out.print(order_summary(body))
    out.print(f"order_id: {body['order_id']}")


@app.command("order")
@api_command
def show_order(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="Order id.")],
               as_json: AsJson = False) -> None:
    """Show an order: its status, lines and timeline."""
    with _client(ctx) as client:
        order = client.get_order(order_id)
    _print_json(order) if as_json else _show_order(order)


@app.command("orders")
@api_command
def list_orders(ctx: typer.Context,
                customer: Annotated[str, typer.Option("--customer", "-c", help="Customer id.")],
                limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 25,
                as_json: AsJson = False) -> None:
    """List a customer's orders, newest first."""
    with _client(ctx) as client:
        page = client.list_orders(customer, limit=limit)
    if as_json:
        return _print_json(page)
    out.print(orders_table(page["orders"], title=f"orders of {customer}"))
    if page.get("next_cursor"):
        out.print("[dim](more orders exist; raise --limit)[/]")


@app.command()
@api_command
def stock(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")], as_json: AsJson = False) -> None:
    """Show a SKU's stock: on hand, reserved, available, on order, backordered."""
    with _client(ctx) as client:
        level = client.get_stock(sku)
    _print_json(level) if as_json else out.print(stock_table([level]))


@app.command()
@api_command
def adjust(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")],
           quantity: Annotated[int, typer.Argument(help="Units received (positive) or written off (negative).")],
           reason: Annotated[str, typer.Option(help="Why (kept with the adjustment).")] = "manual adjustment",
           key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key.")] = None,
           location: Annotated[str | None, typer.Option("--location", help="Location id (default: main).")] = None
           ) -> None:
    """Receive or write off stock at a location (a receipt releases backordered orders)."""
    with _client(ctx) as client:
        out.print(stock_table([client.adjust_stock(sku, quantity, reason=reason, idempotency_key=key,
                                                   location_id=location)]))


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


# ------------------------------------------------------------------ catalogue, customers, payments, returns
products_app = typer.Typer(help="Products: name, price, supplier, low-stock threshold.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers: credit limit, exposure, payments.", no_args_is_help=True)
returns_app = typer.Typer(help="Returns (RMA): request, receive at the warehouse, show.", no_args_is_help=True)
app.add_typer(products_app, name="products")
app.add_typer(customers_app, name="customers")
app.add_typer(returns_app, name="returns")


@products_app.command("put")
@api_command
def put_product(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")],
                name: Annotated[str, typer.Option("--name", help="Product name.")],
                price: Annotated[float, typer.Option("--price", min=0, metavar="AMOUNT",
                                                     help="Unit price, e.g. 12.50.")],
                supplier: Annotated[str | None, typer.Option("--supplier", help="Supplier id it is bought from.")]
                = None,
                threshold: Annotated[int | None, typer.Option("--threshold", min=0, help="Low-stock threshold: "
                                                              "StockLow is published when available falls to it.")]
                = None,
                active: Annotated[bool | None, typer.Option("--active/--inactive", help="Whether it can be "
                                                            "ordered (default: as it is, active when new).")] = None,
                as_json: AsJson = False) -> None:
    """Create or replace a product (replenishment parameters: `orderflow seed` with a catalogue file)."""
    with _client(ctx) as client:
        product = client.put_product(sku, name, price, supplier_id=supplier, active=active,
                                     low_stock_threshold=threshold)
    _emit(product, as_json, product_view)


@products_app.command("show")
@api_command
def show_product(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="SKU.")], as_json: AsJson = False) -> None:
    """Show a product and its replenishment parameters."""
    with _client(ctx) as client:
        product = client.get_product(sku)
    _emit(product, as_json, product_view)


@customers_app.command("put")
@api_command
def put_customer(ctx: typer.Context, customer_id: Annotated[str, typer.Argument(help="Customer id.")],
                 name: Annotated[str, typer.Option("--name", help="Customer name.")],
                 credit_limit: Annotated[float, typer.Option("--credit-limit", min=0, metavar="AMOUNT",
                                                           help="Most they may owe for approved orders.")],
                 as_json: AsJson = False) -> None:
    """Create or update a customer (exposure is kept)."""
    with _client(ctx) as client:
        customer = client.put_customer(customer_id, name, credit_limit)
    _emit(customer, as_json, customer_view)


@customers_app.command("show")
@api_command
def show_customer(ctx: typer.Context, customer_id: Annotated[str, typer.Argument(help="Customer id.")],
                  as_json: AsJson = False) -> None:
    """Show a customer: credit limit, exposure and credit available."""
    with _client(ctx) as client:
        customer = client.get_customer(customer_id)
    _emit(customer, as_json, customer_view)


@customers_app.command("pay")
@api_command
def pay(ctx: typer.Context, customer_id: Annotated[str, typer.Argument(help="Customer id.")],
        amount: Annotated[float, typer.Argument(metavar="AMOUNT", min=0.01, help="Amount paid, e.g. 25.00.")],
        reference: Annotated[str, typer.Option("--reference", help="The payment's reference (from the ERP): "
                                               "posting it again counts once.")],
        as_json: AsJson = False) -> None:
    """Record a payment (as the ERP would): it lowers the customer's exposure."""
    with _client(ctx) as client:
        customer = client.record_payment(customer_id, amount, reference)
    _emit(customer, as_json, customer_view)


def _parse_receipt_line(text: str) -> dict[str, Any]:
    line, _, condition = text.partition(":")
    condition = condition.strip().lower() or "resellable"
    if condition not in ("resellable", "damaged"):
        raise typer.BadParameter(f"{text!r}: the condition after ':' is resellable or damaged")
    return {**_parse_line(line), "condition": condition}


@returns_app.command("request")
@api_command
def request_return(ctx: typer.Context, order_id: Annotated[str, typer.Argument(help="The delivered order.")],
                   line: Annotated[list[str], typer.Option("--line", "-l", metavar="SKU=QTY",
                                                           help="A line to send back; repeat for more.")],
                   reason: Annotated[str, typer.Option("--reason", help="Why it comes back (every line).")],
                   exchange: Annotated[list[str] | None, typer.Option("--exchange", metavar="SKU=QTY",
                                                                      help="Goods wanted instead (a new order).")]
                   = None,
                   key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key.")] = None,
                   as_json: AsJson = False) -> None:
    """Request a return of a delivered order (approved within the return window)."""
    lines = [{**_parse_line(text), "reason": reason} for text in line]
    swaps = [_parse_line(text) for text in exchange or []]
    with _client(ctx) as client:
        rma = client.request_return(order_id, lines, idempotency_key=key, exchange=swaps or None)
    if as_json:
        return _print_json(rma)
    out.print(return_summary(rma))
    out.print(f"return_id: {rma['return_id']}")


@returns_app.command("receive")
@api_command
def receive_return(ctx: typer.Context, return_id: Annotated[str, typer.Argument(help="Return id.")],
                   line: Annotated[list[str], typer.Option("--line", "-l", metavar="SKU=QTY[:damaged]",
                                                           help="What arrived and its condition (default "
                                                                "resellable); repeat for more.")],
                   as_json: AsJson = False) -> None:
    """Warehouse: receive a return's goods and refund the customer.

    Resellable goods are restocked, damaged ones scrapped."""
    lines = [_parse_receipt_line(text) for text in line]
    with _client(ctx) as client:
        rma = client.receive_return(return_id, lines)
    _print_json(rma) if as_json else _show_return(rma)


@returns_app.command("show")
@api_command
def show_return(ctx: typer.Context, return_id: Annotated[str, typer.Argument(help="Return id.")],
                as_json: AsJson = False) -> None:
    """Show a return: its lines, refund and timeline."""
    with _client(ctx) as client:
        rma = client.get_return(return_id)
    _print_json(rma) if as_json else _show_return(rma)


def _show_return(rma: dict) -> None:
    out.print(return_summary(rma))
    out.print(return_lines_table(rma))
    out.print(timeline_table(rma, title="timeline"))


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
                                                                   "default unlimited.")] = None,
                 reply_principal: Annotated[str | None, typer.Option(
                     "--reply-principal", help="The AWS principal id the supplier's replies come from (its "
                                               "`aws sts get-caller-identity` UserId); replies from any other "
                                               "are refused.")] = None,
                 as_json: AsJson = False) -> None:
    """Register or update a supplier; creates its purchase-order queue."""
    with _client(ctx) as client:
        supplier = client.put_supplier(supplier_id, name, capacity_per_cycle=capacity,
                                       reply_principal=reply_principal)
    _emit(supplier, as_json, supplier_table)


@suppliers_app.command("show")
@api_command
def show_supplier(ctx: typer.Context, supplier_id: Annotated[str, typer.Argument(help="Supplier id.")],
                  as_json: AsJson = False) -> None:
    """Show a supplier, its capacity and its queues."""
    with _client(ctx) as client:
        supplier = client.get_supplier(supplier_id)
    _emit(supplier, as_json, supplier_table)


@history_app.command("import")
@api_command
def import_history(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="CSV with the columns sku,date,quantity "
                                                             "(date YYYY-MM-DD), and optionally location_id "
                                                             "(default main).")]) -> None:
    """Load daily demand history; importing a file twice changes nothing.

    The file is checked first: a SKU with a problem on any of its lines is left out whole and named with
    the line and field; the other SKUs are imported, and rows of unknown SKUs are skipped and listed by
    the server. An imported day replaces what was recorded for it (it does not add). Exits 1 when nothing
    was imported."""
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
    with _client(ctx) as client, progress_bar(err) as progress:
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
              now: Annotated[bool, typer.Option("--now", hidden=True, help="Accepted for older scripts: "
                                                "`replenish` always starts a run now.")] = False,
              wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the run to end, then show "
                                                                         "its decisions.")] = False,
              note: Annotated[str | None, typer.Option(help="Kept with the run.")] = None,
              timeout: Annotated[float, typer.Option(help="Seconds --wait waits.")] = 300.0,
              as_json: AsJson = False) -> None:
    """Start a replenishment run now: forecast, decide and send purchase orders.

    The schedule runs one nightly; a second run the same day buys nothing twice."""
    with _client(ctx) as client:
        run = client.start_replenishment_run(note)
        if not as_json:
            out.print(f"run_id: {run['run_id']}")
        if wait:
            with err.status(f"waiting for run {run['run_id']} (up to {timeout:g} s)…"):
                run = client.wait_for_run(run["run_id"], timeout=timeout)
    if as_json:
        _print_json(run)
    elif wait:
        _show_run(run)
    else:
        out.print(run_summary(run))
    if run.get("status") == "FAILED":
        raise typer.Exit(1)


def _show_run(run: dict) -> None:
    out.print(run_summary(run))
    out.print(decisions_table(run.get("decisions") or [], title="decisions"))


@app.command()
@api_command
def runs(ctx: typer.Context, run_id: Annotated[str | None, typer.Argument(help="Show this run's decisions.")] = None,
         limit: Annotated[int, typer.Option(min=1, max=100, help="How many runs, newest first.")] = 20,
         as_json: AsJson = False) -> None:
    """List recent replenishment runs, or show one with its per-SKU decisions."""
    with _client(ctx) as client:
        found = client.get_replenishment_run(run_id) if run_id else client.list_replenishment_runs(limit)
    if as_json:
        _print_json(found)
    elif run_id:
        _show_run(found)
    else:
        out.print(runs_table(found["runs"], title="replenishment runs"))


@app.command()
@api_command
def pos(ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help="Only this status (DRAFT, SENT, ACKNOWLEDGED, ...).")] = None,
        limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 25,
        as_json: AsJson = False) -> None:
    """List purchase orders (the open ones, or those of --status)."""
    with _client(ctx) as client:
        page = client.list_purchase_orders(status=status.upper() if status else None, limit=limit)
    if as_json:
        return _print_json(page)
    out.print(purchase_orders_table(page["purchase_orders"], title="purchase orders"))
    if page.get("next_cursor"):
        out.print("[dim](more purchase orders exist; raise --limit)[/]")


@app.command()
@api_command
def buy(ctx: typer.Context, supplier_id: Annotated[str, typer.Argument(help="Supplier id.")],
        line: Annotated[list[str], typer.Option("--line", "-l", metavar="SKU=QTY[@COST]",
                                                help="A line, at the product's unit cost from this supplier or at "
                                                     "COST (needed where the product has none); repeat for "
                                                     "more.")],
        deliver_to: Annotated[str, typer.Option("--deliver-to", metavar="LOCATION",
                                                help="The location the goods go to: its on_order counts them "
                                                     "and the supplier's receipt lands there.")] = "main",
        expected_by: Annotated[str | None, typer.Option("--expected-by", metavar="DAY",
                                                        help="Day the goods are expected (YYYY-MM-DD); default "
                                                             "today + the longest lead time.")] = None,
        note: Annotated[str | None, typer.Option(help="A note for the supplier.")] = None,
        key: Annotated[str | None, typer.Option("--key", help="Idempotency-Key (default: a new UUID). The same "
                                                "key again returns the same purchase order.")] = None,
        as_json: AsJson = False) -> None:
    """Make a purchase order by hand (docs/purchasing.md).

    It is sent to the supplier at once, or waits for approval when worth more than the supplier's threshold."""
    lines = [_purchase_line(text) for text in line]
    with _client(ctx) as client:
        order = client.create_purchase_order(supplier_id, lines, idempotency_key=key, deliver_to=deliver_to,
                                             expected_by=expected_by, note=note)
    if as_json:
        return _print_json(order)
    out.print(purchase_order_summary(order))
    out.print(purchase_order_lines_table(order))
    out.print(f"po_id: {order['po_id']}")


@app.command()
@api_command
def po(ctx: typer.Context, po_id: Annotated[str, typer.Argument(help="Purchase order id.")],
       as_json: AsJson = False) -> None:
    """Show a purchase order: its lines and timeline."""
    with _client(ctx) as client:
        order = client.get_purchase_order(po_id)
    if as_json:
        return _print_json(order)
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

    with _client(ctx) as client, err.status(f"fetching run {run_id} and each SKU's history, plotting…"):
        page, skus = report_run(client, run_id, out_dir, days)
    out.print(f"wrote {page} ({skus} SKUs)", soft_wrap=True)  # a path must stay copyable


app.command()(events)
app.add_typer(streams_app, name="streams")
app.add_typer(upgrade_app, name="upgrade")


@app.command()
@api_command
def kpis(ctx: typer.Context,
         first: Annotated[str | None, typer.Option("--from", metavar="DAY", help="First UTC day (YYYY-MM-DD).")] = None,
         last: Annotated[str | None, typer.Option("--to", metavar="DAY", help="Last UTC day, included.")] = None,
         location: Annotated[str | None, typer.Option("--location", help="Stock-out rate at this location.")] = None,
         as_json: AsJson = False) -> None:
    """The live KPIs: fill rate, on-time shipment, stock-out rate, backorders, suppliers (docs/kpis.md)."""
    from .render import kpis_view

    with _client(ctx) as client:
        _emit(client.kpis(first, last, location), as_json, kpis_view)


@app.command()
@api_command
def alerts(ctx: typer.Context,
           follow: Annotated[bool, typer.Option("--follow", "-f", help="Print new alerts until Ctrl-C.")] = False,
           since: Annotated[str, typer.Option(help="From when: 30m, 2h, 1d or an ISO 8601 time.")] = "1d",
           as_json: AsJson = False) -> None:
    """The alerts the stack told people, oldest first; --follow prints new ones as they come.

    Stock low, purchase orders rejected, overdue or waiting for approval, failed runs and orders, dead letters."""
    from .alerts import follow_alerts, since_moment, text

    def show(alert: dict) -> None:
        if as_json:
            typer.echo(json.dumps(alert, default=str))
        else:
            out.print(text(alert), soft_wrap=True, markup=False)

    with _client(ctx) as client:
        try:
            shown = follow_alerts(lambda moment: client.list_alerts(since=moment), since_moment(since), show, follow)
        except KeyboardInterrupt:
            return
    if not shown and not as_json:
        err.print(f"no alerts since {since}")


if __name__ == "__main__":  # pragma: no cover
    app()
