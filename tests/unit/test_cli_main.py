"""The ``orderflow`` commands with a fake API (httpx.MockTransport): output and exit codes."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from orderflow_cli import main
from orderflow_cli.client import OrderflowClient

ORDER = {
    "order_id": "ord-1", "customer_id": "C1", "status": "RESERVED", "total": 25.0,
    "lines": [{"sku": "A", "quantity": 2, "unit_price": 12.5, "name": "Apple"}],
    "timeline": [{"status": "PENDING", "at": "2025-01-01T10:00:00.000Z", "by": "customer", "reason": "received"},
                 {"status": "VALIDATED", "at": "2025-01-01T10:00:00.100Z", "by": "workflow"},
                 {"status": "CREDIT_APPROVED", "at": "2025-01-01T10:00:00.200Z", "reason": "25 held on credit"},
                 {"status": "RESERVED", "at": "2025-01-01T10:00:00.300Z", "by": "workflow"}],
}


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main.app, list(args), env={"COLUMNS": "160", **(env or {})})


def test_order_prints_status_lines_and_timeline(api):
    api.routes[("GET", "/orders/ord-1")] = httpx.Response(200, json=ORDER)
    result = run("order", "ord-1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ord-1" in out and "RESERVED" in out and "Apple" in out
    assert out.index("PENDING") < out.index("VALIDATED") < out.index("CREDIT_APPROVED")
    assert "25 held on credit" in out and "10:00:00.300" in out


def test_submit_sends_lines_and_key_and_prints_the_order_id(api):
    api.routes[("POST", "/orders")] = httpx.Response(201, json={**ORDER, "status": "PENDING"})
    result = run("submit", "--customer", "C1", "--line", "A=2", "--line", "B=1", "--key", "k-9",
                 "--ship-to", "Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, gb")
    assert result.exit_code == 0, result.output
    assert "order_id: ord-1" in result.stdout
    sent = api.requests[0]
    assert sent.headers["idempotency-key"] == "k-9"
    assert json.loads(sent.content) == {"customer_id": "C1", "lines": [{"sku": "A", "quantity": 2},
                                                                       {"sku": "B", "quantity": 1}],
                                        "shipping_address": {"name": "Acme Ltd", "line1": "1 Dock Road",
                                                             "city": "Leeds", "postal_code": "LS1 4AP",
                                                             "country": "gb"}}  # the API checks and normalises it


def test_submit_ship_available_sends_the_policy(api):
    api.routes[("POST", "/orders")] = httpx.Response(201, json={**ORDER, "status": "PENDING"})
    result = run("submit", "-c", "C1", "-l", "A=2", "--ship-available",
                 "--ship-to", "Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, gb")
    assert result.exit_code == 0, result.output
    assert json.loads(api.requests[0].content)["fulfilment_policy"] == "ship_available"


def test_submit_without_five_address_fields_is_one_line_and_sends_nothing(api):
    result = run("submit", "-c", "C1", "-l", "A=1", "--ship-to", "Acme Ltd, Leeds")
    assert result.exit_code == 1 and "--ship-to wants 5 comma-separated fields" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("line", ["A", "=2", "A=two"])
def test_submit_refuses_lines_that_are_not_sku_equals_qty(api, line):
    result = run("submit", "--customer", "C1", "--line", line, "--ship-to", "Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, gb")
    assert result.exit_code == 2
    assert api.requests == []


def test_api_errors_exit_1_with_code_and_message(api):
    api.routes[("POST", "/orders")] = httpx.Response(
        422, json={"error": {"code": "UNPROCESSABLE", "message": "cannot be ordered",
                             "details": {"unknown_skus": ["GHOST"]}}})
    result = run("submit", "-c", "C1", "-l", "GHOST=1", "--ship-to", "Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, gb")
    assert result.exit_code == 1
    assert "UNPROCESSABLE" in result.stderr and "cannot be ordered" in result.stderr and "GHOST" in result.stderr

    result = run("ship", "ord-404")
    assert result.exit_code == 1 and "NOT_FOUND" in result.stderr


def test_api_url_comes_from_option_then_env_then_default(api):
    api.routes[("GET", "/stock/A")] = httpx.Response(200, json={"sku": "A", "on_hand": 1, "reserved": 0,
                                                                "available": 1, "on_order": 0, "backordered": 0})
    assert run("stock", "A", env={"ORDERFLOW_API": None}).exit_code == 0
    assert run("stock", "A", env={"ORDERFLOW_API": "http://env.test"}).exit_code == 0
    assert run("--api", "http://flag.test", "stock", "A", env={"ORDERFLOW_API": "http://env.test"}).exit_code == 0
    assert api.base_urls == [main.DEFAULT_API, "http://env.test", "http://flag.test"]


def test_unreachable_api_exits_1_with_a_hint():
    result = run("--api", "http://127.0.0.1:9", "stock", "A")
    assert result.exit_code == 1
    assert "cannot reach the API at http://127.0.0.1:9" in result.stderr


def test_seed_with_a_broken_file_exits_1(api, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"products": []}')
    result = run("seed", str(bad))
    assert result.exit_code == 1 and "products" in result.stderr
    assert api.requests == []


def test_seed_sends_each_products_replenishment_parameters(api, tmp_path):
    buying = {"unit_cost": 2.5, "ordering_cost": 20, "holding_cost_rate": 0.25, "lead_time_days": 4}
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps({"products": {"A": {"name": "Apple", "unit_price": 1.2, "supplier_id": "S1",
                                                        "replenishment": buying}}, "customers": {}, "stock": {}}))
    api.routes[("PUT", "/products/A")] = httpx.Response(200, json={"sku": "A"})
    result = run("seed", str(catalogue))
    assert result.exit_code == 0, result.output
    [put] = api.requests
    assert json.loads(put.content) == {"name": "Apple", "unit_price": 1.2, "supplier_id": "S1", "replenishment": buying}
    # stderr is not a terminal here: no progress bar, not even the finished one, in a script's output or a log
    assert "seeded 1 products" in result.output and "━" not in result.output and "0:00" not in result.output


def test_demo_exits_1_when_the_api_is_unreachable():
    from rich.console import Console

    from orderflow_cli import demo

    console = Console(record=True, width=120)
    assert demo.main(["--api", "http://127.0.0.1:9"], console=console) == 1
    assert "demo aborted" in console.export_text()


def test_demo_exits_1_when_the_api_answers_errors(monkeypatch):
    from rich.console import Console

    from orderflow_cli import demo

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"code": "INTERNAL", "message": "boom", "details": {}}})

    console = Console(record=True, width=120)
    monkeypatch.setattr(demo, "OrderflowClient",
                        lambda url: OrderflowClient(url, transport=httpx.MockTransport(broken)))
    assert demo.main(["--api", "http://api.test"], console=console) == 1
    assert "INTERNAL" in console.export_text()


def test_a_403_names_the_role_the_route_needs_from_the_template(api):
    forbidden = httpx.Response(403, json={"message": "Forbidden"})
    api.routes[("POST", "/orders/ord-1/ship")] = forbidden
    api.routes[("POST", "/orders")] = forbidden
    api.routes[("GET", "/purchase-orders")] = forbidden

    shipped = run("--as", "customer:C1", "ship", "ord-1")
    assert shipped.exit_code == 1
    assert shipped.stderr.count("\n") == 1, shipped.stderr  # one line
    assert ("HTTP_403 (403): Forbidden - POST /orders/{order_id}/ship needs the warehouse or admin role: "
            "--as warehouse") in shipped.stderr

    submitted = run("--as", "warehouse", "submit", "-c", "C1", "-l", "A=1",
                    "--ship-to", "Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, gb")
    assert "POST /orders needs the customer or admin role: --as customer:ID" in submitted.stderr

    listed = run("--as", "warehouse", "pos")
    assert "GET /purchase-orders needs the admin role: --as admin" in listed.stderr


def test_an_error_with_details_is_still_one_line(api):
    api.routes[("PUT", "/products/A")] = httpx.Response(422, json={"error": {
        "code": "VALIDATION_FAILED", "message": "the request is not valid",
        "details": {"errors": [{"field": "unit_price", "problem": "must be at least 0"}]}}})
    result = run("products", "put", "A", "--name", "Apple", "--price", "1")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "VALIDATION_FAILED (422): the request is not valid; details: " in result.stderr
    assert '"must be at least 0"' in result.stderr


def test_products_customers_payments_and_returns_commands_send_what_they_say(api):
    product = {"sku": "A", "name": "Apple", "unit_price": 1.25, "supplier_id": "S1", "low_stock_threshold": 5}
    customer = {"customer_id": "C1", "name": "Cafe", "credit_limit": 500.0, "exposure": 20.0,
                "credit_available": 480.0}
    rma = {"return_id": "ret-1", "order_id": "ord-1", "customer_id": "C1", "status": "APPROVED",
           "refund_amount": 2.5, "lines": [{"sku": "A", "quantity": 2, "reason": "bruised", "refund": 2.5}],
           "timeline": [{"status": "APPROVED", "at": "2025-01-01T10:00:00.000Z"}]}
    api.routes[("PUT", "/products/A")] = httpx.Response(200, json=product)
    api.routes[("PUT", "/customers/C1")] = httpx.Response(200, json=customer)
    api.routes[("POST", "/customers/C1/payments")] = httpx.Response(200, json=customer)
    api.routes[("POST", "/orders/ord-1/returns")] = httpx.Response(201, json=rma)
    api.routes[("POST", "/returns/ret-1/receive")] = httpx.Response(200, json={**rma, "status": "REFUNDED"})

    assert run("products", "put", "A", "--name", "Apple", "--price", "1.25", "--supplier", "S1",
               "--threshold", "5").exit_code == 0
    assert run("customers", "put", "C1", "--name", "Cafe", "--credit-limit", "500").exit_code == 0
    paid = run("customers", "pay", "C1", "20", "--reference", "INV-7")
    assert paid.exit_code == 0 and "credit available: 480.00" in paid.stdout
    requested = run("returns", "request", "ord-1", "--line", "A=2", "--reason", "bruised", "--key", "k-1")
    assert requested.exit_code == 0 and "return_id: ret-1" in requested.stdout
    received = run("returns", "receive", "ret-1", "--line", "A=1", "--line", "A=1:damaged")
    assert received.exit_code == 0 and "REFUNDED" in received.stdout

    bodies = [(r.method, r.url.path, json.loads(r.content or b"null"), r.headers.get("idempotency-key"))
              for r in api.requests]
    assert bodies == [
        ("PUT", "/products/A", {"name": "Apple", "unit_price": 1.25, "supplier_id": "S1", "low_stock_threshold": 5},
         None),
        ("PUT", "/customers/C1", {"name": "Cafe", "credit_limit": 500.0}, None),
        ("POST", "/customers/C1/payments", {"amount": 20.0, "reference": "INV-7"}, None),
        ("POST", "/orders/ord-1/returns", {"lines": [{"sku": "A", "quantity": 2, "reason": "bruised"}]}, "k-1"),
        ("POST", "/returns/ret-1/receive", {"lines": [{"sku": "A", "quantity": 1, "condition": "resellable"},
                                                      {"sku": "A", "quantity": 1, "condition": "damaged"}]}, None),
    ]


def test_a_receipt_line_with_an_unknown_condition_is_refused_before_any_request(api):
    result = run("returns", "receive", "ret-1", "--line", "A=1:broken")
    assert result.exit_code == 2 and "resellable or damaged" in result.output
    assert api.requests == []


def test_a_malformed_api_url_is_a_usage_error_not_a_traceback():
    result = run("--api", "http://[::1", "stock", "A")
    assert result.exit_code == 2 and "is not a URL" in result.output


@pytest.mark.parametrize(("extra", "body"), [
    ((), {"quantity": 5, "reason": "receipt"}),
    (("--location", "wh-2"), {"quantity": 5, "reason": "receipt", "location_id": "wh-2"}),
])
def test_adjust_counts_the_stock_at_the_location_given(api, extra, body):
    api.routes[("POST", "/stock/A/adjustments")] = httpx.Response(200, json={
        "sku": "A", "on_hand": 5, "reserved": 0, "available": 5, "on_order": 0, "backordered": 0})
    result = run("adjust", "A", "5", "--reason", "receipt", *extra)
    assert result.exit_code == 0, result.output
    assert json.loads(api.requests[0].content) == body  # without --location the API counts it at main


def test_each_commands_summary_in_help_is_one_unbroken_paragraph():
    """``orderflow --help`` and a group's ``--help`` list each command with the first paragraph of its help;
    a line break inside it shows as a break in the middle of a sentence (``buy`` and ``alerts`` did)."""
    import typer.main

    def commands(group, prefix=""):
        for name, command in group.commands.items():
            yield prefix + name, command
            yield from commands(command, f"{prefix}{name} ") if hasattr(command, "commands") else ()

    broken = [name for name, command in commands(typer.main.get_command(main.app))
              if "\n" in (command.help or "").strip().split("\n\n")[0]]
    assert broken == [], f"commands whose summary has a hard line break: {broken}"


def test_buy_sends_a_lines_unit_cost_when_given_and_refuses_a_bad_one_before_any_request(api):
    """A product with no unit cost from the supplier is refused by the API ("give unit_cost"): the command
    line can give one."""
    api.routes[("POST", "/purchase-orders")] = httpx.Response(201, json={
        "po_id": "po-m-1", "supplier_id": "manual-acme", "status": "SENT", "deliver_to": "main", "total": 15.0,
        "lines": [{"sku": "MUG", "quantity": 5, "unit_cost": 3.0}, {"sku": "CUP", "quantity": 2, "unit_cost": 1.0}]})
    result = run("buy", "manual-acme", "--line", "MUG=5@3", "--line", "CUP=2", "--key", "k-1")
    assert result.exit_code == 0, result.output
    assert "po_id: po-m-1" in result.stdout
    assert json.loads(api.requests[0].content)["lines"] == [{"sku": "MUG", "quantity": 5, "unit_cost": 3.0},
                                                            {"sku": "CUP", "quantity": 2}]
    refused = run("buy", "manual-acme", "--line", "MUG=5@cheap")
    assert refused.exit_code == 2 and "the unit cost after @ must be a number" in refused.output
    assert len(api.requests) == 1


@pytest.mark.parametrize("role", ["nobody", "customer", "customer:", "Admin"])
def test_an_unknown_role_is_a_usage_error_before_any_request(api, role):
    """The local stack refuses such a role with a 400, which read as "issues no local tokens"."""
    result = run("--as", role, "stock", "A")
    assert result.exit_code == 2 and "admin, warehouse or customer:ID" in result.output
    assert api.requests == []


@pytest.mark.parametrize("role", ["admin", "warehouse", "customer:C1"])
def test_the_roles_the_help_names_are_taken(api, role):
    api.routes[("GET", "/stock/A")] = httpx.Response(200, json={"sku": "A", "on_hand": 1, "reserved": 0,
                                                                 "available": 1, "locations": []})
    result = run("--as", role, "stock", "A")
    assert result.exit_code == 0, result.output
    assert [r.url.path for r in api.requests] == ["/stock/A"]
