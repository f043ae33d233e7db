"""The Orderflow demo: the whole order life cycle, offline, over HTTP.

``python -m orderflow_cli.demo`` (``make demo``) boots the local stack from ``template.yaml`` (or
talks to a running one with ``--api URL``), seeds a small catalogue, then plays customer and
warehouse through these scenarios:

a. a happy order: reserved, shipped, delivered;
b. an order over the customer's credit limit: rejected;
c. an order with an unknown SKU: 422, nothing stored;
d. an order larger than the stock: backordered, released by a stock receipt, shipped, delivered;
e. an order cancelled after reservation: its stock comes back, it can no longer ship;
f. the same submission twice with one Idempotency-Key: one order; the key with another body: refused;
g. a return of part of the happy order: received as resellable, restocked, refunded;
h. replenishment: a supplier and two products with replenishment parameters and generated demand
   history; an order backorders for lack of stock; a replenishment run forecasts, decides and sends
   a purchase order; the simulated supplier (part of the local stack) acknowledges, ships and
   delivers it; the goods turn into stock and the backordered order ships. A second run the same
   day (the nightly schedule, fired now, when the demo runs its own stack) orders nothing again.
i. who may do what; j. a policy simulation;
k. buyers and alerts: a purchase order above its supplier's approval threshold waits, is approved and
   sent; a SKU with two suppliers is bought from the cheaper, and after it rejects, from the other; the
   alerts (approval waiting, supplier rejected) are read back from GET /alerts.
l. the live KPIs of the day (GET /kpis): fill rate, on-time shipment, stock-outs, backorders, suppliers.
m. fulfilment across two warehouses and a store (``demo_fulfilment``): an order filled from one, picked,
   packed, shipped and delivered from its pick list; an order split across two warehouses; a partial
   shipment whose remainder is sourced again at the store; a ship_available order shipped in two parts (the
   rest released where a receipt came); a return received at the store; stock checked at each location.

When it started the stack itself, it also lists the domain events the stack published (read back
from the events log group, as an integrator subscribed to the bus would receive them).

It prints each order's timeline, the stock before and after, and a checklist of expected against
actual outcomes. Exit status 0 only if every check holds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from .addresses import SAMPLE_ADDRESS
from .catalogue import DEMO_CATALOGUE, load_catalogue, seed_catalogue
from .client import ApiError, OrderflowClient, RunWaitTimeout, WaitTimeout
from .demo_fulfilment import fulfilment
from .events import DEFAULT_LOG_GROUP, logs_client, read_events
from .render import (
    STATUS_STYLES,
    STOCK_FIELDS,
    decisions_table,
    order_summary,
    purchase_order_lines_table,
    purchase_order_summary,
    run_summary,
    status_text,
    supplier_table,
    timeline_table,
)

HAPPY_CUSTOMER = "CUST-ACME"  # generous credit limit (delivered orders stay on it until paid)
SMALL_CUSTOMER = "CUST-CORNER"  # credit limit 50
UNKNOWN_SKU = "NO-SUCH-SKU"
# What the scenarios above must have published, at least once each.
EXPECTED_EVENTS = ("OrderCreated", "OrderReserved", "OrderBackordered", "OrderShipped", "OrderDelivered",
                   "OrderCancelled", "OrderRejected", "StockReceived", "StockLow", "ReturnRequested", "ReturnReceived",
                   "ReturnRefunded", "PurchaseOrderSent", "PurchaseOrderAcknowledged", "PurchaseOrderReceived")
# The replenishment story: a supplier the local stack's simulated supplier answers (any id that does not
# start with "manual-"), and how its products are bought (orderflow.catalogue.requests.ReplenishmentIn).
SUPPLIER = "SUP-ACME"
REPLENISHMENT = {"unit_cost": 2.40, "ordering_cost": 25, "holding_cost_rate": 0.25, "lead_time_days": 4,
                 "lead_time_sigma_days": 1, "service_level": 0.95, "moq": 100, "pack_size": 50,
                 "review_period_days": 1}
HISTORY_DAYS = 120
PO_PATH = ["DRAFT", "SENT", "ACKNOWLEDGED", "SHIPPED", "RECEIVED"]


def generated_history(sku: str, mean: float, days: int = HISTORY_DAYS, seed: int = 7) -> list[dict]:
    """Daily demand up to yesterday (UTC): a weekly pattern (quiet weekends) with noise, reproducible."""
    rng = random.Random(f"{seed}-{mean}")
    today = datetime.now(UTC).date()
    rows = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        level = mean * (0.4 if day.weekday() >= 5 else 1.2)
        rows.append({"sku": sku, "day": day.isoformat(), "quantity": max(0, round(rng.gauss(level, level / 3)))})
    return rows


@dataclass
class Check:
    scenario: str
    what: str
    expected: Any
    actual: Any
    ok: bool


@dataclass
class Demo:
    client: OrderflowClient
    console: Console
    wait_timeout: float = 30.0
    aws_endpoint: str | None = None  # set when the demo runs its own stack: the events can be read back
    # Set when the demo runs its own stack: fires the nightly replenishment schedule now, returns the run id.
    scheduled_run: Callable[[], str] | None = None
    checks: list[Check] = field(default_factory=list)
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)  # scenario -> (expected, actual)
    orders: dict[str, dict] = field(default_factory=dict)  # scenario label -> final order
    received: dict[str, int] = field(default_factory=dict)  # sku -> units received during the demo
    shipped: dict[str, int] = field(default_factory=dict)  # sku -> units shipped during the demo
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    report_dir: Path = Path("demo-report")  # where the replenishment run's HTML report is written

    # ------------------------------------------------------------------ bookkeeping
    def check(self, scenario: str, what: str, expected: Any, actual: Any, ok: bool | None = None) -> bool:
        passed = (expected == actual) if ok is None else ok
        self.checks.append(Check(scenario, what, expected, actual, passed))
        if passed:
            self.console.print(f"  [green]✔[/] {what}: {actual}", soft_wrap=True)
        else:
            self.console.print(f"  [bold red]✘ {what}: expected {expected}, got {actual}[/]", soft_wrap=True)
        return passed

    def outcome(self, scenario: str, expected: str, actual: str) -> None:
        """The scenario's headline for the checklist."""
        self.outcomes[scenario] = (expected, actual)

    def key(self, label: str) -> str:
        return f"demo-{self.run_id}-{label}"

    def submit(self, scenario: str, customer: str, lines: list[dict], key: str | None = None) -> dict | None:
        """Submit and check the 201; the created order, or None if the API refused it."""
        code, body = self.client.submit_order(customer, lines, idempotency_key=key or self.key(scenario),
                                              shipping_address=SAMPLE_ADDRESS)
        described = ", ".join(f"{li['sku']}×{li['quantity']}" for li in lines)
        self.console.print(f"  submitted {customer}: {described} → HTTP {code}"
                           + (f" [bold]{body.get('order_id')}[/]" if code == 201 else ""), soft_wrap=True)
        answer = f"{code} {body.get('status') if code == 201 else body.get('error', {}).get('code')}"
        if not self.check(scenario, "POST /orders answers 201 PENDING", "201 PENDING", answer):
            return None
        return body

    def wait(self, scenario: str, order_id: str, wanted: str) -> dict | None:
        try:
            order = self.client.wait_for_status(order_id, wanted, timeout=self.wait_timeout)
        except WaitTimeout as exc:
            self.check(scenario, f"order reaches {wanted}", wanted, exc.status)
            return None
        self.check(scenario, f"order reaches {wanted}", wanted, order["status"])
        return order

    def warehouse(self, scenario: str, order_id: str, carrier: str, tracking: str) -> dict | None:
        """Ship and deliver a RESERVED order; the order as delivered, or None on the first surprise."""
        try:
            shipped = self.client.ship(order_id, carrier=carrier, tracking=tracking)
        except ApiError as exc:
            self.check(scenario, "warehouse ships it", "SHIPPED", f"{exc.status} {exc.code}")
            return None
        if not self.check(scenario, "warehouse ships it", "SHIPPED", shipped["status"]):
            return None
        for line in shipped["lines"]:
            self.shipped[line["sku"]] = self.shipped.get(line["sku"], 0) + line["quantity"]
        try:
            delivered = self.client.deliver(order_id)
        except ApiError as exc:
            self.check(scenario, "carrier delivers it", "DELIVERED", f"{exc.status} {exc.code}")
            return None
        self.check(scenario, "carrier delivers it", "DELIVERED", delivered["status"])
        return delivered

    def final(self, label: str, order_id: str) -> dict:
        order = self.client.get_order(order_id)
        self.orders[label] = order
        return order

    def stock(self, skus: Sequence[str]) -> dict[str, dict]:
        return {sku: self.client.get_stock(sku) for sku in skus}

    # ------------------------------------------------------------------ scenarios
    def happy(self) -> None:
        s = "a. happy"
        order = self.submit(s, HAPPY_CUSTOMER, [{"sku": "WIDGET-RED", "quantity": 2},
                                                {"sku": "GADGET-PRO", "quantity": 1}])
        if not order:
            return
        delivered = None
        if self.wait(s, order["order_id"], "RESERVED"):
            delivered = self.warehouse(s, order["order_id"], "DHL", f"JD0001{self.run_id}")
        self.check(s, "total = 2×12.50 + 1×89.00", 114.0, float(order["total"]))
        if delivered:  # delivered is owed until paid: the ERP's payment takes it off the exposure
            owed = float(self.client.get_customer(HAPPY_CUSTOMER)["exposure"])
            paid = self.client.record_payment(HAPPY_CUSTOMER, 114.0, f"INV-{order['order_id']}")
            self.check(s, "payment clears the delivered order's exposure", owed - 114.0, float(paid["exposure"]))
        final = self.final(s, order["order_id"])
        path = [e["status"] for e in final["timeline"]]
        expected = ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED", "SHIPPED", "DELIVERED"]
        self.check(s, "timeline walks the happy path", " → ".join(expected), " → ".join(path))
        self.outcome(s, "DELIVERED", final["status"])

    def over_credit(self) -> None:
        s = "b. over credit"
        exposure_before = float(self.client.get_customer(SMALL_CUSTOMER)["exposure"])
        order = self.submit(s, SMALL_CUSTOMER, [{"sku": "GADGET-PRO", "quantity": 1}])  # 89.00 > limit 50
        if not order:
            return
        self.wait(s, order["order_id"], "REJECTED")
        final = self.final(s, order["order_id"])
        reason = final["timeline"][-1].get("reason") or ""
        self.check(s, "rejection reason mentions credit", "…credit…", reason, ok="credit" in reason.lower())
        exposure = float(self.client.get_customer(SMALL_CUSTOMER)["exposure"])
        self.check(s, "nothing held on the customer's credit", exposure_before, exposure)
        self.outcome(s, "REJECTED (credit)", final["status"] + (" (credit)" if "credit" in reason.lower() else ""))

    def unknown_sku(self) -> None:
        s = "c. unknown SKU"
        before = self.client.list_all_orders(HAPPY_CUSTOMER)
        lines = [{"sku": "WIDGET-RED", "quantity": 1}, {"sku": UNKNOWN_SKU, "quantity": 1}]
        code, body = self.client.submit_order(HAPPY_CUSTOMER, lines, idempotency_key=self.key(s),
                                              shipping_address=SAMPLE_ADDRESS)
        error = body.get("error", {})
        self.console.print(f"  submitted {HAPPY_CUSTOMER}: WIDGET-RED×1, {UNKNOWN_SKU}×1 → HTTP {code} "
                           f"{error.get('code')}: {error.get('message')}", soft_wrap=True)
        self.check(s, "POST /orders answers 422 UNPROCESSABLE", "422 UNPROCESSABLE", f"{code} {error.get('code')}")
        self.check(s, "error names the unknown SKU", [UNKNOWN_SKU], (error.get("details") or {}).get("unknown_skus"))
        after = self.client.list_all_orders(HAPPY_CUSTOMER)
        self.check(s, "no order stored", "customer's orders unchanged", _change(before, after))
        self.outcome(s, "422 UNPROCESSABLE, no order", f"{code} {error.get('code')}, "
                     + ("no order" if len(after) == len(before) else f"{len(after) - len(before)} order(s) stored"))

    def backorder(self) -> None:
        s = "d. backorder"
        level = self.client.get_stock("SPROCKET-XL")
        wanted = level["available"] + 4  # more than there is
        order = self.submit(s, HAPPY_CUSTOMER, [{"sku": "SPROCKET-XL", "quantity": wanted}])
        if not order:
            return
        if not self.wait(s, order["order_id"], "BACKORDERED"):
            self.outcome(s, "BACKORDERED → RESERVED → DELIVERED", self.final(s, order["order_id"])["status"])
            return
        waiting = self.client.get_stock("SPROCKET-XL")
        self.check(s, "stock shows the backorder", level["backordered"] + wanted, waiting["backordered"])
        receipt = 20
        self.client.adjust_stock("SPROCKET-XL", receipt, reason="supplier delivery PO-DEMO",
                                 idempotency_key=self.key("receipt"))
        self.received["SPROCKET-XL"] = self.received.get("SPROCKET-XL", 0) + receipt
        self.console.print(f"  received {receipt} × SPROCKET-XL from the supplier")
        if self.wait(s, order["order_id"], "RESERVED"):
            self.warehouse(s, order["order_id"], "UPS", f"1Z999{self.run_id}")
        final = self.final(s, order["order_id"])
        path = [e["status"] for e in final["timeline"] if e["status"] in ("BACKORDERED", "RESERVED", "DELIVERED")]
        self.check(s, "timeline", "BACKORDERED → RESERVED → DELIVERED", " → ".join(path))
        self.outcome(s, "BACKORDERED → RESERVED → DELIVERED", " → ".join(path))

    def cancelled(self) -> None:
        s = "e. cancel"
        before = self.client.get_stock("GIZMO-MINI")
        order = self.submit(s, HAPPY_CUSTOMER, [{"sku": "GIZMO-MINI", "quantity": 3}])
        if not order:
            return
        oid = order["order_id"]
        if self.wait(s, oid, "RESERVED"):
            held = self.client.get_stock("GIZMO-MINI")
            self.check(s, "3 units held while RESERVED", before["available"] - 3, held["available"])
        cancelled = self.client.cancel(oid, reason="customer changed their mind")
        self.check(s, "cancel answers CANCELLED", "CANCELLED", cancelled["status"])
        after = self.client.get_stock("GIZMO-MINI")
        self.check(s, "its stock is available again", before["available"], after["available"])
        again = self.client.cancel(oid)
        self.check(s, "a second cancel is still 200 CANCELLED", "CANCELLED", again["status"])
        try:
            self.client.ship(oid)
            outcome: Any = "200 (shipped!)"
        except ApiError as exc:
            outcome = exc.status
        self.check(s, "shipping a cancelled order is refused", 409, outcome)
        final = self.final(s, oid)
        stock_back = "stock back" if after["available"] == before["available"] else "stock NOT back"
        self.outcome(s, "CANCELLED, stock back, ship → 409", f"{final['status']}, {stock_back}, ship → {outcome}")

    def duplicate(self) -> None:
        s = "f. idempotency"
        key = self.key("dup")
        lines = [{"sku": "WIDGET-RED", "quantity": 1}]
        first = self.submit(s, HAPPY_CUSTOMER, lines, key=key)
        if not first:
            return
        code, second = self.client.submit_order(HAPPY_CUSTOMER, lines, idempotency_key=key,
                                                shipping_address=SAMPLE_ADDRESS)
        self.console.print(f"  resubmitted with the same key → HTTP {code} {second.get('order_id')}")
        self.check(s, "same key + same body → same order", first["order_id"], second.get("order_id"))
        listed = [o["order_id"] for o in self.client.list_all_orders(HAPPY_CUSTOMER)]
        self.check(s, "the customer's order list holds it once", 1, listed.count(first["order_id"]))
        code, third = self.client.submit_order(HAPPY_CUSTOMER, [{"sku": "WIDGET-RED", "quantity": 2}],
                                               idempotency_key=key, shipping_address=SAMPLE_ADDRESS)
        error = third.get("error", {})
        self.console.print(f"  same key, different body → HTTP {code} {error.get('code')}")
        self.check(s, "same key + different body → 4xx", "4xx", f"{code} {error.get('code')}",
                   ok=400 <= code < 500 and code != 404)
        listed_again = [o["order_id"] for o in self.client.list_all_orders(HAPPY_CUSTOMER)]
        self.check(s, "still no second order", "customer's orders unchanged", _change(listed, listed_again))
        self.outcome(s, "one order; key reuse → 4xx",
                     f"{listed_again.count(first['order_id'])} order"
                     + ("" if second.get("order_id") == first["order_id"] else " + a second one")
                     + f"; key reuse → {code}")
        if self.wait(s, first["order_id"], "RESERVED"):  # play it out, so its stock and credit settle
            self.warehouse(s, first["order_id"], "DPD", f"DPD{self.run_id}")
        self.final(s, first["order_id"])

    def return_part(self) -> None:
        s = "g. return"
        happy = self.orders.get("a. happy")
        if not happy or happy["status"] != "DELIVERED":
            self.outcome(s, "REFUNDED, restocked", "skipped: the happy order was not delivered")
            return
        exposure_before = float(self.client.get_customer(HAPPY_CUSTOMER)["exposure"])
        rma = self.client.request_return(happy["order_id"], [{"sku": "WIDGET-RED", "quantity": 1,
                                                                "reason": "wrong colour"}],
                                         idempotency_key=self.key("return"))
        self.check(s, "return approved by policy", "APPROVED", rma["status"])
        received = self.client.receive_return(rma["return_id"], [{"sku": "WIDGET-RED", "quantity": 1,
                                                                  "condition": "resellable"}])
        self.received["WIDGET-RED"] = self.received.get("WIDGET-RED", 0) + 1
        self.check(s, "return received, restocked and refunded", "REFUNDED", received["status"])
        exposure = float(self.client.get_customer(HAPPY_CUSTOMER)["exposure"])
        self.check(s, "refund of 12.50 given back to the customer's credit", exposure_before - 12.5, exposure)
        order = self.final(s, happy["order_id"])
        self.check(s, "order shows the return", rma["return_id"], (order.get("returns") or [{}])[-1].get("return_id"))
        self.console.print("  return " + rma["return_id"] + ": " +
                           " → ".join(e["status"] for e in received["timeline"]), soft_wrap=True)
        self.outcome(s, "REFUNDED, restocked", f"{received['status']}, order {order['status']}")

    def replenishment(self) -> None:
        s = "h. replenishment"
        c = self.console
        bolt, nut = f"BOLT-{self.run_id}", f"NUT-{self.run_id}"  # new SKUs: a new purchase order each demo
        supplier = self.client.put_supplier(SUPPLIER, "Acme Industrial Supply", capacity_per_cycle=100_000)
        c.print(supplier_table(supplier), crop=False)
        self.check(s, "supplier has its purchase-order queue", f"…po-{SUPPLIER}",
                   supplier.get("queue_url"), ok=str(supplier.get("queue_url", "")).endswith(f"po-{SUPPLIER}"))
        for sku, name, stock in ((bolt, "M8 bolts, box of 100", 0), (nut, "M8 nuts, box of 100", 500)):
            product = self.client.put_product(sku, name, 3.90, supplier_id=SUPPLIER, replenishment=REPLENISHMENT)
            self.check(s, f"PUT /products/{sku} with replenishment parameters", REPLENISHMENT["lead_time_days"],
                       product.get("replenishment", {}).get("lead_time_days"))
            if stock:
                self.client.adjust_stock(sku, stock, reason="opening stock", idempotency_key=self.key(f"open-{sku}"))
        rows = generated_history(bolt, 14) + generated_history(nut, 3)
        imported = sum(self.client.import_history(rows[i:i + 500])["imported"] for i in range(0, len(rows), 500))
        c.print(f"  imported {len(rows)} days of demand history ({HISTORY_DAYS} per SKU, up to yesterday)")
        self.check(s, "POST /demand/history imports every row", len(rows), imported)

        order = self.submit(s, HAPPY_CUSTOMER, [{"sku": bolt, "quantity": 8}])
        if not order or not self.wait(s, order["order_id"], "BACKORDERED"):
            self.outcome(s, "ordered → supplier delivers → order ships", "the order did not backorder")
            return

        started = self.client.start_replenishment_run(note="demo")
        c.print(f"  POST /replenishment/runs → run [bold]{started['run_id']}[/] {started['status']}")
        run = self.client.wait_for_run(started["run_id"], timeout=self.wait_timeout * 4)
        c.print(run_summary(run))
        self.check(s, "the run completes", "COMPLETED", run["status"])
        decisions = {d["sku"]: d for d in run.get("decisions") or []}
        c.print(decisions_table([decisions[k] for k in (bolt, nut) if k in decisions]))
        bought, kept = decisions.get(bolt, {}), decisions.get(nut, {})
        self.check(s, f"{bolt}: ordered", "ordered", bought.get("outcome"))
        self.check(s, f"{nut}: plenty in stock, not ordered", "not_needed", kept.get("outcome"))
        from .report import plotted, report_run  # matplotlib: only when the demo gets here

        page, _ = report_run(self.client, run["run_id"], self.report_dir)
        c.print(f"  planners' report (orderflow report {run['run_id']} --out {self.report_dir}): {page}")
        # the run decided every SKU of the stack with replenishment parameters, the demo's and any others (a SKU
        # without history or forecast gets a note, not a plot): the demo's two, with their history, are drawn
        self.check(s, "HTML report: a plot for each of the demo's SKUs", f"{bolt}, {nut}",
                   ", ".join(sorted({bolt, nut} & plotted(page.read_text(encoding="utf-8")))))
        po_id = bought.get("po_id")
        if not po_id:
            self.outcome(s, "ordered → supplier delivers → order ships", f"{bolt} {bought.get('outcome')}")
            return

        po = self.wait_for_purchase_order(po_id, "RECEIVED")
        c.print(Panel(Group(purchase_order_summary(po), purchase_order_lines_table(po), timeline_table(po)),
                      title=f"GET /purchase-orders/{po_id}", title_align="left", expand=False))
        path = [e["status"] for e in po["timeline"]]
        self.check(s, "supplier replies move the purchase order", " → ".join(PO_PATH), " → ".join(path))
        quantity = bought["quantity"]
        self.received[bolt] = po["lines"][0].get("received", 0)
        self.check(s, "the whole quantity arrived", quantity, self.received[bolt])

        if self.wait(s, order["order_id"], "RESERVED"):
            self.warehouse(s, order["order_id"], "DHL", f"JD0002{self.run_id}")
        final = self.final(s, order["order_id"])
        level = self.client.get_stock(bolt)
        self.check(s, f"{bolt} stock: received − shipped, nothing left on order or backordered",
                   f"on hand {quantity - 8}, on order 0, backordered 0",
                   f"on hand {level['on_hand']}, on order {level.get('on_order')}, backordered {level['backordered']}")

        if self.scheduled_run:
            c.print("  the nightly schedule fires now (same day, same cycle):")
            again = self.client.get_replenishment_run(self.scheduled_run())
        else:
            again = self.client.wait_for_run(self.client.start_replenishment_run(note="demo, again")["run_id"],
                                             timeout=self.wait_timeout * 4)
        c.print(run_summary(again))
        second = {d["sku"]: d for d in again.get("decisions") or []}
        self.check(s, f"second run: {bolt} already ordered this cycle", f"already_ordered {po_id}",
                   f"{second.get(bolt, {}).get('outcome')} {second.get(bolt, {}).get('po_id')}")
        self.check(s, "second run: no purchase order", 0,
                   sum(second.get(k, {}).get("outcome") == "ordered" for k in (bolt, nut)))
        self.outcome(s, "ordered → supplier delivers → order ships; no second PO",
                     f"{quantity} ordered → PO {po['status']} → order {final['status']}; second run: "
                     f"{second.get(bolt, {}).get('outcome')}")

    def simulation(self) -> None:
        s = "j. simulation"
        skus = [f"BOLT-{self.run_id}", f"NUT-{self.run_id}"]
        started = self.client.start_simulation({"days": 90, "seed": 7, "skus": skus, "targets": []},
                                               idempotency_key=self.key("simulation"))
        self.console.print(f"  POST /replenishment/simulations → {started['simulation_id']} {started['status']} "
                           f"(replays the last 90 days of {', '.join(skus)})")
        done = self.client.wait_for_simulation(started["simulation_id"], timeout=self.wait_timeout * 4)
        self.check(s, "the simulation completes", "COMPLETED", done["status"])
        totals = (done.get("result") or {}).get("totals") or {}
        table = Table("policy", "cycle service level", "fill rate", "average stock value", "purchase orders",
                      box=None, pad_edge=False)
        for policy, m in totals.items():
            table.add_row(policy, _share(m.get("cycle_service_level")), _share(m.get("fill_rate")),
                          f"{m.get('average_inventory_value', 0):,.0f}", str(m.get("purchase_orders", 0)))
        self.console.print(table)
        self.check(s, "Orderflow's policy and a min/max rule replayed on the same demand", ["minmax", "orderflow"],
                   sorted(totals))
        replayed = sorted(r["sku"] for r in (done.get("result") or {}).get("skus") or [])
        self.check(s, "both SKUs replayed", sorted(skus), replayed)
        self.outcome(s, "the policy replayed through the demo's history, beside min/max",
                     f"{done['status']}: " + ", ".join(f"{p} fill rate {_share(m.get('fill_rate'))}"
                                                        for p, m in totals.items()))

    def buyers(self) -> None:
        """k. A buyer's purchase order above the approval threshold waits, is approved and sent; a SKU with two
        suppliers is bought from the cheaper, and from the other once the first rejects; the alerts tell it."""
        s = "k. buyers and alerts"
        c = self.console
        pricey, cheap, backup = (f"manual-{name}-{self.run_id}" for name in ("pricey", "cheap", "backup"))
        self.client.put_supplier(pricey, "Precision Gears Ltd", approval_threshold=500)
        for supplier_id, name in ((cheap, "Budget Fasteners"), (backup, "Reliable Fasteners")):
            self.client.put_supplier(supplier_id, name)
        gear, washer = f"GEAR-{self.run_id}", f"WASHER-{self.run_id}"
        self.client.put_product(gear, "Gear, 40 teeth", 45.0, supplier_id=pricey,
                                replenishment={**REPLENISHMENT, "unit_cost": 18.0})
        po = self.client.create_purchase_order(pricey, [{"sku": gear, "quantity": 60}], note="trade show stock",
                                               idempotency_key=self.key("gear-po"))
        c.print(f"  POST /purchase-orders → {po['po_id']} worth {po['total']:,.2f}: {status_text(po['status'])}")
        self.check(s, "a 1,080.00 purchase order to a supplier whose threshold is 500 waits", "PENDING_APPROVAL",
                   po["status"])
        approved = self.client.approve_purchase_order(po["po_id"])
        self.check(s, "approved, then sent", "PENDING_APPROVAL → APPROVED → SENT",
                   " → ".join(e["status"] for e in approved["timeline"][1:]))
        try:
            self.client.approve_purchase_order(po["po_id"])
            again = "200"
        except ApiError as exc:
            again = f"{exc.status} {exc.code}"
        self.check(s, "approving it again", "409 NOT_PENDING_APPROVAL", again)

        self.client.put_product(washer, "M8 washers, box of 100", 1.20, replenishment={
            "ordering_cost": 25, "holding_cost_rate": 0.25, "service_level": 0.95, "review_period_days": 1},
            suppliers=[{"supplier_id": cheap, "unit_cost": 0.40, "lead_time_days": 4},
                       {"supplier_id": backup, "unit_cost": 0.55, "lead_time_days": 3}])
        self.client.import_history(generated_history(washer, 20))
        first = self.decided(washer, "demo: two suppliers")
        self.check(s, f"{washer}: bought from the cheaper supplier", cheap, first.get("supplier_id"))
        c.print(f"  why: {first.get('supplier_choice')}", soft_wrap=True)
        if not self.aws_endpoint or not first.get("po_id"):
            self.outcome(s, "approval; cheaper supplier, then fallback; alerts", "fallback skipped (needs the "
                         "offline stack's queues)")
            return
        from .supplier import SupplierClient

        queue = self.client.get_supplier(cheap)["queue_url"]
        kit = SupplierClient(queue, endpoint_url=self.aws_endpoint, long_poll_seconds=0)
        # Replies count only from the principal registered for the supplier (docs/security.md).
        self.client.put_supplier(cheap, "Budget Fasteners", reply_principal=kit.principal())
        kit.poll(lambda message: kit.reject(message, "out of stock until next month"))
        rejected = self.wait_for_purchase_order(first["po_id"], "REJECTED")
        self.check(s, f"{cheap} rejects it", "REJECTED", rejected["status"])
        second = self.decided(washer, "demo: after the rejection")
        self.check(s, "the next run buys from the fallback supplier", backup, second.get("supplier_id"))
        c.print(f"  why: {second.get('supplier_choice')}", soft_wrap=True)

        wanted = {f"po-approval:{po['po_id']}", f"po-rejected:{first['po_id']}"}
        told = self.alerts_about(wanted)
        for alert in told:
            c.print(Panel(f"{alert['what']}\nWhat to do: {alert['action']}", title=alert["title"],
                          title_align="left", expand=False))
        self.check(s, "alerts told: approval waiting, supplier rejected", sorted(wanted),
                   sorted(a["subject"] for a in told))
        self.outcome(s, "approval → sent; fallback after a rejection; alerts",
                     f"{approved['status']}; {second.get('supplier_id')}; {len(told)} alerts")

    def kpis(self) -> None:
        """l. The live KPIs of today, from the events the scenarios above published."""
        s = "l. KPIs"
        shipped = len({order["order_id"] for order in self.orders.values()
                       if order.get("status") in ("SHIPPED", "DELIVERED", "RETURN_REQUESTED", "RETURNED")})
        deadline = time.monotonic() + self.wait_timeout
        while True:  # the events reach the KPIs a moment after each change
            k = self.client.kpis()
            if (k["orders_shipped"] >= shipped and k["backorders"]["filled"] >= 2) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        from .render import kpis_view

        self.console.print(kpis_view(k))
        self.check(s, "every order the demo shipped is counted", f"at least {shipped}", k["orders_shipped"],
                   ok=k["orders_shipped"] >= shipped)
        self.check(s, "the two backorders (d, h) were filled", "at least 2", k["backorders"]["filled"],
                   ok=k["backorders"]["filled"] >= 2)
        fill = k["fill_rate"]["orders"]  # today's shop-wide: an order split or shipped in part counts short
        self.check(s, "fill rate of the orders shipped today", "above 0, at most 1", fill,
                   ok=fill is not None and 0 < fill <= 1)
        self.outcome(s, "fill rate, on-time, stock-outs, backorders, suppliers from the events",
                     f"fill {k['fill_rate']['orders']}, on time {k['on_time_shipment_rate']}, "
                     f"{k['backorders']['filled']} backorders filled")

    def decided(self, sku: str, note: str) -> dict:
        run = self.client.wait_for_run(self.client.start_replenishment_run(note=note)["run_id"],
                                       timeout=self.wait_timeout * 4)
        return next((d for d in run.get("decisions") or [] if d["sku"] == sku), {})

    def alerts_about(self, subjects: set[str]) -> list[dict]:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            told = [a for a in self.client.list_alerts(limit=500)["alerts"] if a["subject"] in subjects]
            if len(told) >= len(subjects) or time.monotonic() > deadline:
                return told
            time.sleep(0.2)

    def access(self) -> None:
        s = "i. access"
        order_id = self.orders.get("a. happy", {}).get("order_id")
        if not order_id or not self.client.issues_local_tokens:
            self.outcome(s, "customers see only their own orders", "skipped (needs the offline stack's tokens)")
            return
        base = self.client.base_url
        with OrderflowClient(base, role="customer", customer_id=HAPPY_CUSTOMER) as owner, \
                OrderflowClient(base, role="customer", customer_id=SMALL_CUSTOMER) as other:
            self.check(s, f"{HAPPY_CUSTOMER}'s token reads its own order", order_id,
                       owner.get_order(order_id)["order_id"])
            self.check(s, f"{SMALL_CUSTOMER}'s token: that order does not exist", 404,
                       other.request("GET", f"/orders/{order_id}").status_code)
            self.check(s, f"{SMALL_CUSTOMER}'s token cannot order in {HAPPY_CUSTOMER}'s name", "403 FORBIDDEN",
                       _answer(other.request("POST", "/orders", json={"shipping_address": SAMPLE_ADDRESS,
                                                                      "customer_id": HAPPY_CUSTOMER, "lines": [
                           {"sku": "WIDGET-RED", "quantity": 1}]}, headers={"Idempotency-Key": self.key("access")})))
            self.check(s, "a customer's token cannot adjust stock (admin scope)", 403,
                       owner.request("POST", "/stock/WIDGET-RED/adjustments",
                                     json={"quantity": 1000, "reason": "mine now"}).status_code)
        no_token = httpx.get(f"{base}/stock/WIDGET-RED", timeout=10).status_code
        self.check(s, "no token at all", 401, no_token)
        self.outcome(s, "customers see only their own orders; staff routes need staff scopes",
                     f"other customer 404, wrong scope 403, no token {no_token}")

    def wait_for_purchase_order(self, po_id: str, wanted: str) -> dict:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            po = self.client.get_purchase_order(po_id)
            if po["status"] == wanted or time.monotonic() > deadline:
                return po
            time.sleep(0.1)

    def published_events(self) -> None:
        s = "events"
        if not self.aws_endpoint:
            return
        logs = logs_client(self.aws_endpoint)
        counts: dict[str, int] = {}
        deadline = time.monotonic() + 5
        while True:  # the rule delivers to the log group as each write lands; give the last ones a moment
            counts.clear()
            for _, _, event in read_events(logs, DEFAULT_LOG_GROUP, 0, []):
                counts[event.get("detail-type", "?")] = counts.get(event.get("detail-type", "?"), 0) + 1
            if all(counts.get(t) for t in EXPECTED_EVENTS) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        table = Table("detail-type", "published", show_edge=False, pad_edge=False)
        for name, count in sorted(counts.items()):
            table.add_row(name, str(count))
        self.console.print(table)
        missing = [t for t in EXPECTED_EVENTS if not counts.get(t)]
        self.check(s, "every kind of change was published", "none missing", ", ".join(missing) or "none missing")
        self.outcome(s, "OrderCreated … ReturnRefunded on the bus", f"{sum(counts.values())} events, "
                     f"{len(counts)} kinds" + (f", missing {', '.join(missing)}" if missing else ""))

    # ------------------------------------------------------------------ the run
    def run(self, catalogue: dict[str, Any]) -> bool:
        c = self.console
        c.print(Rule("seeding the catalogue over HTTP"))
        seeded = seed_catalogue(self.client, catalogue, reason="demo seed")
        c.print(f"  {seeded.products} products, {seeded.customers} customers, stock for {len(seeded.stock)} SKUs")
        skus = list(catalogue["stock"])
        before = self.stock(skus)

        scenarios: list[tuple[str, Callable[[], None]]] = [
            ("a. happy order: reserve → ship → deliver", self.happy),
            ("b. over the customer's credit limit", self.over_credit),
            ("c. unknown SKU", self.unknown_sku),
            ("d. more than in stock: backorder → receipt → ship → deliver", self.backorder),
            ("e. cancelled after reservation", self.cancelled),
            ("f. duplicate submission (same Idempotency-Key)", self.duplicate),
            ("g. part of the happy order comes back: return, restock, refund", self.return_part),
            ("h. replenishment: forecast → purchase order → supplier → stock → the backorder ships",
             self.replenishment),
            ("i. who may do what: customers' tokens, scopes, no token", self.access),
            ("j. policy simulation: the last 90 days replayed through the policy and a min/max rule",
             self.simulation),
            ("k. buyers and alerts: approval, a fallback supplier, the alerts that tell people", self.buyers),
            ("l. live KPIs of today, from the domain events", self.kpis),
            ("m. fulfilment: two warehouses and a store; one location, a split, a partial shipment re-sourced, "
             "ship_available in two parts, a return at the store", lambda: fulfilment(self)),
        ]
        for title, scenario in scenarios:
            # the rule holds the scenario's name; what it plays goes below it, where it wraps rather than
            # being cut with "…" at the rule's width
            name, _, plays = title.partition(": ")
            c.print(Rule(name))
            if plays:
                c.print(Padding(Text(plays, style="italic"), (0, 0, 0, 2)))
            try:
                scenario()
            except (ApiError, WaitTimeout, RunWaitTimeout) as exc:
                self.check(title[:2] + " …", "no unexpected API error", "none", str(exc), ok=False)

        if self.aws_endpoint:
            c.print(Rule("domain events published (read back from the events log group)"))
            self.published_events()

        c.print(Rule("orders: final status and timeline"))
        for label, order in self.orders.items():
            c.print(Panel(Group(order_summary(order), timeline_table(order)), title=label, title_align="left",
                          expand=False))

        c.print(Rule("stock before and after"))
        after = self.stock(skus)
        c.print(self.stock_table(before, after))
        self.check_stock(before, after)

        c.print(Rule("checklist"))
        c.print(self.checklist())
        passed = all(ch.ok for ch in self.checks) and bool(self.checks)
        if not passed:
            c.print(self.failures())
        failed = sum(not ch.ok for ch in self.checks)
        c.print(Text(f"{len(self.checks) - failed}/{len(self.checks)} checks passed",
                     style="bold green" if passed else "bold red"))
        return passed

    def check_stock(self, before: dict[str, dict], after: dict[str, dict]) -> None:
        s = "stock"

        def shown(on_hand: int, reserved: int, available: int, backordered: int) -> str:
            return f"on hand {on_hand}, reserved {reserved}, available {available}, backordered {backordered}"

        good = 0
        for sku, level in after.items():
            start = before[sku]
            on_hand = start["on_hand"] + self.received.get(sku, 0) - self.shipped.get(sku, 0)
            expected = shown(on_hand, start["reserved"], on_hand - start["reserved"], start["backordered"])
            actual = shown(level["on_hand"], level["reserved"], level["available"], level["backordered"])
            negative = [f for f in STOCK_FIELDS if level.get(f, 0) < 0]
            good += self.check(s, f"{sku} adds up", expected, actual + (f" NEGATIVE {negative}" if negative else ""))
        self.outcome(s, "every SKU: on hand = before + received − shipped, nothing left held",
                     f"{good}/{len(after)} SKUs add up")

    def stock_table(self, before: dict[str, dict], after: dict[str, dict]) -> Table:
        fields = ("on_hand", "reserved", "available", "backordered")
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("sku", no_wrap=True)
        for name in fields:
            table.add_column(name.replace("_", " "), justify="right", no_wrap=True)
        table.add_column("received", justify="right")
        table.add_column("shipped", justify="right")
        for sku in after:
            cells = []
            for name in fields:
                b, a = before[sku].get(name, 0), after[sku].get(name, 0)
                cells.append(f"{b} → {a}" if a != b else str(a))
            table.add_row(sku, *cells, str(self.received.get(sku, 0)), str(self.shipped.get(sku, 0)))
        return table

    def checklist(self) -> Table:
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("")
        table.add_column("scenario", no_wrap=True)
        table.add_column("expected", overflow="fold")  # an id longer than the column folds, never cut
        table.add_column("actual", overflow="fold")
        table.add_column("checks", justify="right", no_wrap=True)
        scenarios = list(dict.fromkeys(ch.scenario for ch in self.checks))
        for name in scenarios:
            mine = [ch for ch in self.checks if ch.scenario == name]
            ok = all(ch.ok for ch in mine) and name in self.outcomes
            expected, actual = self.outcomes.get(name, ("(scenario finished)", "(stopped early)"))
            table.add_row(Text("✔", style="green") if ok else Text("✘", style="bold red"), name, expected, actual,
                          f"{sum(ch.ok for ch in mine)}/{len(mine)}", style=None if ok else "red")
        return table

    def failures(self) -> Table:
        table = Table(title="failed checks", title_justify="left", show_edge=False, pad_edge=False, style="red")
        for column in ("scenario", "check", "expected", "actual"):
            table.add_column(column, overflow="fold")
        for ch in self.checks:
            if not ch.ok:
                table.add_row(ch.scenario, ch.what, _show(ch.expected), _show(ch.actual))
        return table


def _change(before: Sequence[Any], after: Sequence[Any]) -> str:
    return "customer's orders unchanged" if len(after) == len(before) else f"{len(after) - len(before):+d} order(s)"


def _show(value: Any) -> Text | str:
    return status_text(value) if isinstance(value, str) and value in STATUS_STYLES else str(value)


@contextlib.contextmanager
def api_base(api: str | None, console: Console, template: Path | None = None) -> Iterator[tuple[str, Any]]:
    """The API to talk to and, when the demo starts it, the ``LocalStack`` (``None`` for ``api``)."""
    if api:
        console.print(f"using the API at [bold]{api}[/]")
        yield api, None
        return
    from orderflow_local.stack import LocalStack  # imported late: moto is slow to import

    started = time.monotonic()
    stack = LocalStack(template, api_port=0) if template else LocalStack(api_port=0)
    with console.status("starting the offline stack from template.yaml…"):
        stack.start()
    try:
        console.print(f"offline stack up in {time.monotonic() - started:.1f} s")
        console.print(f"  API          [bold]{stack.api_url}[/]   (orderflow --api {stack.api_url} ...)",
                      soft_wrap=True)
        console.print(f"  AWS endpoint [bold]{stack.aws_endpoint}[/]   boto3 endpoint_url / aws --endpoint-url",
                      soft_wrap=True)
        yield stack.api_url, stack
    finally:
        stack.stop()


def schedule_firer(stack: Any, timeout: float) -> Callable[[], str] | None:
    """Fires the replenishment state machine's schedule now and waits for its execution; the run id."""
    machine = "ReplenishmentStateMachine"
    if stack is None or not any(s.target == machine for s in stack.schedules.schedules):
        return None

    def fire() -> str:
        arn = stack.schedules.fire(machine)
        stack.wait_for_execution(arn, timeout=timeout)
        return arn.rsplit(":", 1)[1]  # the execution name is the run id

    return fire


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orderflow_cli.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", metavar="URL", help="use a running Orderflow API instead of starting the local stack")
    parser.add_argument("--catalogue", type=Path, default=DEMO_CATALOGUE, help="catalogue JSON to seed")
    parser.add_argument("--template", type=Path, help="SAM template for the local stack (default: the repo's)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each workflow step")
    parser.add_argument("--report-dir", type=Path, default=Path("demo-report"),
                        help="where the replenishment run's HTML report is written (default: demo-report/)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parse_args(argv)
    console = console or Console(highlight=False)
    started = time.monotonic()
    console.print(Panel("Orderflow demo: orders and replenishment end to end over HTTP, offline", style="bold",
                        expand=False))
    catalogue = load_catalogue(args.catalogue)
    try:
        with api_base(args.api, console, args.template) as (api, stack), OrderflowClient(api) as client:
            demo = Demo(client, console, wait_timeout=args.timeout, aws_endpoint=stack.aws_endpoint if stack else None,
                        scheduled_run=schedule_firer(stack, args.timeout * 4), report_dir=args.report_dir)
            passed = demo.run(catalogue)
    except ApiError as exc:
        console.print(f"[bold red]demo aborted:[/] {exc}")
        return 1
    except (httpx.HTTPError, OSError) as exc:
        console.print(f"[bold red]demo aborted:[/] {exc}")
        return 1
    console.print(f"done in {time.monotonic() - started:.1f} s — "
                  + ("[bold green]every outcome as expected[/]" if passed else "[bold red]SOME OUTCOMES WRONG[/]"))
    print_next_steps(console, args.report_dir / "index.html", started_stack=not args.api, api=args.api)
    return 0 if passed else 1


def print_next_steps(console: Console, report: Path, started_stack: bool, api: str | None = None) -> None:
    """The last lines of the demo: where its report is, what to try next, and the console's address."""
    if report.exists():
        console.print(f"report: [bold]{report.resolve()}[/] (open it in a browser)", soft_wrap=True)
    if started_stack:
        console.print("next: the demo's stack has stopped. Run [bold]make up[/] and, in a second terminal, the "
                      "README's five-minute tour: tokens and curl, then [bold].venv/bin/orderflow --help[/].",
                      soft_wrap=True)
    else:
        console.print("next: [bold].venv/bin/orderflow --help[/] against the same API (--api URL).", soft_wrap=True)
    console.print(console_line(api), soft_wrap=True)


def console_line(api: str | None) -> str:
    """Where the operations console is and how to sign in (docs/console.md). The demo's own stack has stopped
    by now, so without ``--api`` it is the address ``make up`` serves it at."""
    url = f"{api.rstrip('/')}/console/" if api else f"http://127.0.0.1:{os.environ.get('PORT', '3000')}/console/"
    where = url if api else f"{url} after [bold]make up[/]"
    return (f"console: {where} — sign in by picking a role: admin (customer service and buyer), warehouse, "
            "or customer with a customer ID")



def _share(value: float | None) -> str:
    """A share as a percentage; none (e.g. no replenishment cycle completed in the replay) as n/a."""
    return "n/a" if value is None else f"{value:.1%}"


def _answer(response: httpx.Response) -> str:
    """``status CODE`` of an error answer, for a check."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "?"
    return f"{response.status_code} {code}"


if __name__ == "__main__":
    sys.exit(main())
