"""Every table and view of the CLI at 80 columns: ids stay whole on one line, so they can be copied into
the next command; nothing is wider than the terminal. Then the same through the commands themselves."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from orderflow_cli import main, render

WIDTH = 80
RUN_ID = "run-20261206T091629-a1b2c3"
ORDER_ID = "ord-3f9a0c2e7b41d8e6a5c0"
RETURN_ID = "ret-9c1d2e3f4a5b6c7d8e9f"
SKUS = ("WIDGET-RED", "GADGET-PRO-XL-2026", "SPROCKET-XL")
PO_IDS = tuple(f"po-2026-12-06-{sku}" for sku in SKUS)
SUPPLIERS = ("SUP-ACME", "SUP-GLOBEX-INTERNATIONAL", "SUP-INITECH")
REASON = ("the inventory position 12 is at or below the reorder point 31 (safety stock 9 + 4.3/day over a lead "
          "time of 5 days), so 60 units were ordered: the EOQ 57 rounded up to the pack size of 12")
AT = "2026-12-06T09:16:29.123Z"


def decision(sku: str, po_id: str | None) -> dict[str, Any]:
    return {"sku": sku, "outcome": "ordered" if po_id else "not_needed", "demand_class": "smooth",
            "method": "hw+hw_damped+hw_mul", "forecast_daily": 4.3127, "sigma_daily": 1.2566,
            "safety_stock": 2114.5, "reorder_point": 31250.0, "inventory_position": -1208.0,
            "quantity": 60 if po_id else 0, "po_id": po_id, "reason": REASON}


RUN = {"run_id": RUN_ID, "status": "COMPLETED", "cycle": "2026-12-06", "trigger": "schedule", "started_at": AT,
       "counts": {"skus": 1250, "ordered": 312, "not_needed": 900, "already_ordered": 10, "not_due": 20,
                  "skipped": 8, "sent": 312, "units_ordered": 123456},
       "decisions": [decision(sku, po) for sku, po in zip(SKUS, (*PO_IDS[:2], None), strict=True)]}
PURCHASE_ORDERS = [{"po_id": po, "supplier_id": sup, "status": status, "total": 123456.78, "cycle": "2026-12-06",
                    "expected_by": "2026-12-13", "created_at": AT, "run_id": RUN_ID,
                    "lines": [{"sku": sku, "quantity": 1200, "unit_cost": 4.5, "confirmed": 600, "received": 0}],
                    "timeline": [{"status": status, "at": AT, "by": "supplier", "reason": REASON}]}
                   for po, sup, sku, status in zip(PO_IDS, SUPPLIERS, SKUS,
                                                   ("PARTIALLY_CONFIRMED", "SENT", "ACKNOWLEDGED"), strict=True)]
ORDER = {"order_id": ORDER_ID, "customer_id": "CUST-CORNER-SHOP-LONDON", "status": "CREDIT_APPROVED", "total": 12.5,
         "created_at": AT, "lines": [{"sku": sku, "quantity": 12, "unit_price": 1234.5, "name": "A product "
                                      "with a long name"} for sku in SKUS],
         "timeline": [{"status": "REJECTED", "at": AT, "by": "workflow", "reason": REASON}]}
RETURN = {"return_id": RETURN_ID, "order_id": ORDER_ID, "customer_id": "CUST-ACME", "status": "REFUNDED",
          "refund_amount": 24.5, "exchange": [{"sku": SKUS[1], "quantity": 1}], "exchange_order_id": ORDER_ID,
          "lines": [{"sku": sku, "quantity": 2, "reason": "arrived scratched and the box was open", "refund": 25.0,
                     "restocked": 1, "scrapped": 1} for sku in SKUS],
          "timeline": [{"status": "APPROVED", "at": AT, "by": "customer:CUST-ACME", "reason": REASON}]}
SUPPLIER = {"supplier_id": SUPPLIERS[1], "name": "Globex", "capacity_per_cycle": 5000, "active": True,
            "queue_url": f"https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-dev-po-{SUPPLIERS[1]}",
            "reply_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-dev-supplier-replies"}

RENDERINGS = {
    "timeline": (lambda: render.timeline_table(ORDER, title="timeline"), ()),
    "order lines": (lambda: render.lines_table(ORDER), SKUS),
    "order summary": (lambda: render.order_summary(ORDER), (ORDER_ID,)),
    "stock": (lambda: render.stock_table([{"sku": sku, "on_hand": 123456, "reserved": 12345, "available": 111111,
                                           "on_order": 99999, "backordered": 12} for sku in SKUS]), SKUS),
    "orders": (lambda: render.orders_table([ORDER] * 3, title="orders of CUST-CORNER-SHOP-LONDON"), (ORDER_ID,)),
    "supplier": (lambda: render.supplier_table(SUPPLIER),
                 (SUPPLIERS[1], SUPPLIER["queue_url"], SUPPLIER["reply_queue_url"])),
    "purchase orders": (lambda: render.purchase_orders_table(PURCHASE_ORDERS, title="purchase orders"),
                        PO_IDS + SUPPLIERS),
    "purchase order": (lambda: render.purchase_order_summary(PURCHASE_ORDERS[1]), (PO_IDS[1], RUN_ID)),
    "purchase order lines": (lambda: render.purchase_order_lines_table(PURCHASE_ORDERS[1]), (SKUS[1],)),
    "runs": (lambda: render.runs_table([RUN] * 3, title="replenishment runs"), (RUN_ID,)),
    "run": (lambda: render.run_summary(RUN), (RUN_ID,)),
    "decisions": (lambda: render.decisions_table(RUN["decisions"], title="decisions"),
                  SKUS + PO_IDS[:2] + ("hw+hw_damped+hw_mul",)),
    "history skipped": (lambda: render.history_skipped_table(
        [{"line": 12345, "sku": sku, "problem": REASON} for sku in SKUS]), SKUS),
    "product": (lambda: render.product_view({"sku": SKUS[1], "name": "Gadget", "unit_price": 89.0,
                                             "supplier_id": SUPPLIERS[1], "low_stock_threshold": 5,
                                             "replenishment": {"unit_cost": 40, "lead_time_days": 5}}),
                (SKUS[1], SUPPLIERS[1])),
    "customer": (lambda: render.customer_view({"customer_id": "CUST-CORNER-SHOP-LONDON", "name": "Corner",
                                               "credit_limit": 50, "exposure": -12.5, "credit_available": 62.5}),
                 ("CUST-CORNER-SHOP-LONDON",)),
    "return": (lambda: render.return_summary(RETURN), (RETURN_ID, ORDER_ID)),
    "return lines": (lambda: render.return_lines_table(RETURN), SKUS),
}


def at_80(renderable: Any) -> list[str]:
    console = Console(width=WIDTH, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable, crop=False)  # as the CLI prints the views of one thing
    return console.export_text().splitlines()


def assert_whole(lines: list[str], ids: tuple[str, ...] | list[str]) -> None:
    """Every id on one line, nothing cut with '…'; only a line holding an id longer than the terminal (a
    queue URL) may run past its edge, where the terminal wraps it softly and copying keeps it whole."""
    too_long = [line for line in lines if len(line) > WIDTH]
    assert all(any(len(i) > WIDTH - 20 and i in line for i in ids) for line in too_long), "\n".join(lines)
    for an_id in ids:
        assert any(an_id in line for line in lines), f"{an_id} is cut or wrapped:\n" + "\n".join(lines)
    assert "…" not in "\n".join(lines)


@pytest.mark.parametrize("name", RENDERINGS)
def test_each_rendering_keeps_ids_whole_at_80_columns(name: str) -> None:
    make, ids = RENDERINGS[name]
    assert_whole(at_80(make()), ids)


def test_the_decisions_say_outcome_method_and_purchase_order_on_one_line_per_sku() -> None:
    lines = at_80(render.decisions_table(RUN["decisions"]))
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {SKUS[0]} ordered"))
    assert lines[start].startswith(f"  {SKUS[0]} ordered (smooth, hw+hw_damped+hw_mul) → {PO_IDS[0]}:")
    # The reason wraps as a paragraph, not one word per line.
    assert len(lines[start + 1].split()) > 5


# ------------------------------------------------------------------ through the commands, at COLUMNS=80
def run80(*args: str) -> Any:
    return CliRunner().invoke(main.app, list(args), env={"COLUMNS": str(WIDTH)})


def test_runs_pos_and_a_run_keep_their_ids_whole_at_80_columns(api: Any) -> None:
    api.routes[("GET", "/replenishment/runs")] = httpx.Response(200, json={"runs": [RUN] * 2})
    api.routes[("GET", f"/replenishment/runs/{RUN_ID}")] = httpx.Response(200, json=RUN)
    api.routes[("GET", "/purchase-orders")] = httpx.Response(200, json={"purchase_orders": PURCHASE_ORDERS})
    api.routes[("GET", f"/purchase-orders/{PO_IDS[0]}")] = httpx.Response(200, json=PURCHASE_ORDERS[0])
    for args, ids in ((("runs",), (RUN_ID,)), (("runs", RUN_ID), (RUN_ID, *PO_IDS[:2], *SKUS)),
                      (("pos",), PO_IDS + SUPPLIERS), (("po", PO_IDS[0]), (PO_IDS[0], RUN_ID, SKUS[0]))):
        result = run80(*args)
        assert result.exit_code == 0, result.output
        assert_whole(result.stdout.splitlines(), ids)


def test_replenish_starts_a_run_without_flags_and_wait_shows_whole_ids(api: Any) -> None:
    api.routes[("POST", "/replenishment/runs")] = httpx.Response(202, json={**RUN, "status": "RUNNING",
                                                                            "decisions": []})
    api.routes[("GET", f"/replenishment/runs/{RUN_ID}")] = httpx.Response(200, json=RUN)
    started = run80("replenish")
    assert started.exit_code == 0, started.output
    assert f"run_id: {RUN_ID}" in started.stdout
    waited = run80("replenish", "--wait")
    assert waited.exit_code == 0, waited.output
    assert_whole(waited.stdout.splitlines(), (RUN_ID, *PO_IDS[:2]))
    assert [r.method for r in api.requests].count("POST") == 2


@pytest.mark.parametrize(("args", "route", "body", "key"), [
    (("orders", "-c", "C1"), ("GET", "/orders"), {"orders": [ORDER], "next_cursor": None}, "orders"),
    (("runs",), ("GET", "/replenishment/runs"), {"runs": [RUN]}, "runs"),
    (("runs", RUN_ID), ("GET", f"/replenishment/runs/{RUN_ID}"), RUN, "decisions"),
    (("pos",), ("GET", "/purchase-orders"), {"purchase_orders": PURCHASE_ORDERS}, "purchase_orders"),
    (("po", PO_IDS[0]), ("GET", f"/purchase-orders/{PO_IDS[0]}"), PURCHASE_ORDERS[0], "lines"),
    (("order", ORDER_ID), ("GET", f"/orders/{ORDER_ID}"), ORDER, "timeline"),
    (("returns", "show", RETURN_ID), ("GET", f"/returns/{RETURN_ID}"), RETURN, "lines"),
])
def test_json_prints_the_apis_answer_for_scripts(api: Any, args: tuple[str, ...], route: tuple[str, str],
                                                 body: dict, key: str) -> None:
    api.routes[route] = httpx.Response(200, json=body)
    result = run80(*args, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[key] == body[key]


def test_a_products_unset_replenishment_fields_are_left_out_not_shown_as_none() -> None:
    lines = at_80(render.product_view({"sku": SKUS[0], "name": "Widget", "unit_price": 12.5, "replenishment": {
        "unit_cost": 6.0, "lead_time_days": 5.0, "forecast_methods": None, "locations": None}}))
    assert "replenishment: unit cost 6.0, lead time days 5.0" in lines
    assert "None" not in "\n".join(lines)


def test_the_simulations_totals_keep_every_policy_metric_and_figure_whole_at_80_columns() -> None:
    from types import SimpleNamespace

    from orderflow.replenishment.simulation.replay import Metrics
    from orderflow_cli.simulate import CONSOLE_COLUMNS, POLICY_LABELS, totals_table

    metrics = Metrics(skus=1234, cycles=40, stockout_cycles=1, demand=1000, served=990, purchase_orders=11,
                      average_inventory_value=1_234_567, ordering_cost=98_765, holding_cost=43_210,
                      backorder_days=12_345)
    lines = at_80(totals_table(SimpleNamespace(totals={policy: metrics for policy in POLICY_LABELS})))
    assert_whole(lines, [*POLICY_LABELS.values(), *CONSOLE_COLUMNS, "1,234,567", "141,975", "97.5%"])


def test_a_timeline_reason_longer_than_its_column_folds_and_loses_nothing_at_80_columns() -> None:
    """A purchase order's SENT entry names its queue URL; the reason column used to end it with '…'."""
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-dev-po-SUP-ACME"
    lines = at_80(render.timeline_table({"timeline": [
        {"status": "DRAFT", "at": "2026-12-07T04:40:29.865Z", "by": "replenishment", "reason": f"run {RUN_ID}"},
        {"status": "SENT", "at": "2026-12-07T04:40:29.888Z", "by": "replenishment", "reason": f"on queue {url}"},
        {"status": "ACKNOWLEDGED", "at": "2026-12-07T04:40:30.117Z", "by": "supplier SUP-ACME",
         "reason": "supplier replied ACKNOWLEDGED"}]}))
    assert "…" not in "\n".join(lines)
    assert all(len(line) <= WIDTH for line in lines)
    reasons = "".join(line.rsplit("│", 1)[-1].strip() for line in lines[2:])
    assert url in reasons and RUN_ID in reasons
