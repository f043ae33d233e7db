"""The replenishment story over HTTP and SQS, as a planner and a supplier would live it.

Planner: the HTTP API (``OrderflowClient``). Suppliers: the local stack's simulated supplier, or the
supplier integration kit (``SupplierClient``) for suppliers whose id starts with ``manual-``, which
the simulated supplier leaves alone. Runs decide the whole catalogue, so each test makes its own
SKUs and suppliers and looks only at those.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderflow.purchasing.domain import SCHEMA_VERSION, PurchaseOrderMessage, ReplyType, SupplierReply
from orderflow_cli.supplier import SupplierClient

WAIT = 30.0  # seconds for things that happen in the background

pytestmark = pytest.mark.e2e
RUN_WAIT = 120.0
# How it buys: unit cost 2.40, 25 per order, 25 % a year to hold, 4 days' lead time, packs of 10.
BUYING = {"unit_cost": 2.40, "ordering_cost": 25, "holding_cost_rate": 0.25, "lead_time_days": 4,
          "lead_time_sigma_days": 1, "service_level": 0.95, "moq": 10, "pack_size": 10, "review_period_days": 1}


def _eventually(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


class Buying:
    """One test's suppliers, products and demand history, named with the test's prefix."""

    def __init__(self, shop: Any):
        self.shop = shop
        self.client = shop.client

    def supplier(self, kind: str = "") -> dict:
        """A supplier; ``kind`` "manual-" or "partial-" picks how the simulated supplier treats it. A manual
        supplier's replies come from this process's credentials (registered as its ``reply_principal``);
        the simulated supplier registers its own."""
        supplier_id = f"{kind}{self.shop.prefix}-{uuid.uuid4().hex[:4]}"
        supplier = self.client.put_supplier(supplier_id, "Acme Industrial")
        if kind == "manual-":
            principal = SupplierClient(supplier["queue_url"]).principal()
            supplier = self.client.put_supplier(supplier_id, "Acme Industrial", reply_principal=principal)
        return supplier

    def product(self, name: str, supplier_id: str, daily: float, stock: int = 0) -> str:
        sku = f"{self.shop.prefix}-{name}"
        self.client.put_product(sku, name, 3.90, supplier_id=supplier_id, replenishment=BUYING)
        if stock:
            self.client.adjust_stock(sku, stock, reason="opening stock")
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        rows = [{"sku": sku, "day": (yesterday - timedelta(days=n)).isoformat(),
                 "quantity": round(daily * (1.3 if n % 7 < 5 else 0.3))} for n in range(90)]
        assert self.client.import_history(rows) == {"imported": 90, "skipped": []}
        return sku

    def run(self) -> tuple[dict, dict[str, dict]]:
        started = self.client.start_replenishment_run(note=self.shop.prefix)
        run = self.client.wait_for_run(started["run_id"], timeout=RUN_WAIT)
        assert run["status"] == "COMPLETED", run
        return run, {d["sku"]: d for d in run["decisions"]}

    def purchase_order(self, po_id: str, *statuses: str) -> dict:
        return _eventually(lambda: (po := self.client.get_purchase_order(po_id))["status"] in statuses and po,
                           f"{po_id} to be {'/'.join(statuses)}")


def _timeline(po: dict) -> list[str]:
    return [entry["status"] for entry in po["timeline"]]


# ------------------------------------------------------------------ the simulated supplier
def test_a_run_buys_for_a_backorder_and_the_suppliers_delivery_ships_it(shop):
    buying = Buying(shop)
    supplier = buying.supplier()
    assert supplier["queue_url"].endswith(f"-po-{supplier['supplier_id']}")
    assert supplier["reply_queue_url"]
    bolts = buying.product("bolts", supplier["supplier_id"], daily=12)
    nuts = buying.product("nuts", supplier["supplier_id"], daily=2, stock=400)
    customer = shop.customer()
    order = shop.submit(customer, {bolts: 6})
    shop.wait(order["order_id"], "BACKORDERED")
    assert shop.client.get_stock(bolts)["backordered"] == 6

    run, decided = buying.run()
    bought, kept = decided[bolts], decided[nuts]
    assert bought["outcome"] == "ordered" and bought["inventory_position"] == -6
    assert bought["quantity"] >= bought["reorder_point"] + 6 and bought["quantity"] % 10 == 0
    assert bought["demand_class"] and bought["method"] and bought["reason"]
    assert (kept["outcome"], kept["quantity"], kept["po_id"]) == ("not_needed", 0, None)
    assert kept["inventory_position"] == 400 and "above the reorder point" in kept["reason"]
    assert run["counts"]["sent"] >= 1

    po = buying.purchase_order(bought["po_id"], "RECEIVED")
    assert _timeline(po) == ["DRAFT", "SENT", "ACKNOWLEDGED", "SHIPPED", "RECEIVED"]
    assert [(li["sku"], li["quantity"], li["received"]) for li in po["lines"]] == [
        (bolts, bought["quantity"], bought["quantity"])]
    assert (po["run_id"], po["supplier_id"]) == (run["run_id"], supplier["supplier_id"])

    shop.wait(order["order_id"], "RESERVED")
    shop.client.ship(order["order_id"])
    stock = shop.client.get_stock(bolts)
    assert {k: stock[k] for k in ("on_hand", "reserved", "available", "on_order", "backordered")} == {
        "on_hand": bought["quantity"] - 6, "reserved": 0, "available": bought["quantity"] - 6,
        "on_order": 0, "backordered": 0}

    _, again = buying.run()  # the same day: the same cycle
    assert (again[bolts]["outcome"], again[bolts]["po_id"]) == ("already_ordered", bought["po_id"])
    listed = shop.client.list_purchase_orders(status="RECEIVED", limit=100)["purchase_orders"]
    assert [p["po_id"] for p in listed if p["lines"][0]["sku"] in (bolts, nuts)] == [bought["po_id"]]


def test_a_supplier_that_confirms_half_delivers_half(shop):
    buying = Buying(shop)
    supplier = buying.supplier("partial-")
    sku = buying.product("washers", supplier["supplier_id"], daily=8)

    _, decided = buying.run()
    ordered = decided[sku]["quantity"]
    po = buying.purchase_order(decided[sku]["po_id"], "RECEIVED")

    half = math.ceil(ordered / 2)
    assert _timeline(po) == ["DRAFT", "SENT", "PARTIALLY_CONFIRMED", "SHIPPED", "RECEIVED"]
    assert [(li["quantity"], li["confirmed"], li["received"]) for li in po["lines"]] == [(ordered, half, half)]
    level = shop.client.get_stock(sku)
    assert (level["on_hand"], level["on_order"]) == (half, 0)  # what will never come left on_order


def test_the_nightly_schedule_starts_the_same_run(e2e_stack, api_url, shop):
    if e2e_stack.external:
        pytest.skip("firing the schedule needs the in-process stack")
    buying = Buying(shop)
    sku = buying.product("rivets", buying.supplier()["supplier_id"], daily=5)
    stack = e2e_stack.local  # started by api_url

    arn = stack.schedules.fire("ReplenishmentStateMachine")
    assert stack.wait_for_execution(arn, timeout=RUN_WAIT)["status"] == "SUCCEEDED"

    run = shop.client.get_replenishment_run(arn.rsplit(":", 1)[1])  # the execution's name is the run id
    assert (run["status"], run["trigger"]) == ("COMPLETED", "schedule")
    decided = {d["sku"]: d for d in run["decisions"]}
    assert decided[sku]["outcome"] == "ordered"
    buying.purchase_order(decided[sku]["po_id"], "RECEIVED")


# ------------------------------------------------------------------ a supplier on the kit
def _sqs_for(queue_url: str) -> Any:
    """An SQS client of the stack that serves ``queue_url`` (the kit finds the same endpoint)."""
    return SupplierClient(queue_url).sqs


class DeadLetters:
    """Reads the replies' dead-letter queue without taking anything off it."""

    def __init__(self, sqs: Any, replies_url: str):
        self.sqs = sqs
        self.url = sqs.get_queue_url(QueueName=replies_url.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
        self.seen: dict[str, dict] = {}

    def about(self, po_ids: set[str]) -> list[dict]:
        """Every reply seen so far that names one of ``po_ids``."""
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                                   VisibilityTimeout=5).get("Messages", []):
            self.seen.update({m["MessageId"]: json.loads(m["Body"]) for m in messages})
        return [body for body in self.seen.values() if body.get("po_id") in po_ids]


def test_a_supplier_on_the_kit_and_the_replies_that_cannot_apply(shop):
    buying = Buying(shop)
    supplier, other = buying.supplier("manual-"), buying.supplier("manual-")  # a run orders per supplier
    kept, refused = buying.product("hinges", supplier["supplier_id"], daily=6), buying.product(
        "handles", other["supplier_id"], daily=6)
    _, decided = buying.run()

    # reply_to comes with each purchase order
    kit, other_kit = (SupplierClient(s["queue_url"], long_poll_seconds=1) for s in (supplier, other))
    received: dict[str, PurchaseOrderMessage] = {}

    def both_arrived() -> bool:
        for each in (kit, other_kit):
            each.poll(lambda po: received.update({po.lines[0].sku: po}))
        return len(received) == 2

    _eventually(both_arrived, "both purchase orders on the supplier's queue")
    assert {po.po_id for po in received.values()} == {decided[kept]["po_id"], decided[refused]["po_id"]}
    hinges, handles = received[kept], received[refused]
    assert hinges.reply_to == supplier["reply_queue_url"] and hinges.lines[0].quantity == decided[kept]["quantity"]

    acknowledged = kit.acknowledge(hinges)
    kit.send(acknowledged)  # the same reply twice: applied once
    kit.ship(hinges)
    ordered = hinges.lines[0].quantity
    kit.receive(hinges, {kept: ordered - 4})
    other_kit.reject(handles, "discontinued")
    po = buying.purchase_order(hinges.po_id, "PARTIALLY_RECEIVED")
    assert _timeline(po) == ["DRAFT", "SENT", "ACKNOWLEDGED", "SHIPPED", "PARTIALLY_RECEIVED"]
    assert buying.purchase_order(handles.po_id, "REJECTED")["timeline"][-1]["reason"] == "supplier: discontinued"
    assert shop.client.get_stock(refused)["on_order"] == 0  # given back

    # Replies that cannot apply: never applied, retried, then kept in the dead-letter queue.
    sqs = _sqs_for(supplier["queue_url"])
    late = SupplierReply(schema_version=SCHEMA_VERSION, reply_id=uuid.uuid4().hex, po_id=handles.po_id,
                         supplier_id=handles.supplier_id, type=ReplyType.SHIPPED)  # after REJECTED
    other_kit.send(late, supplier["reply_queue_url"])
    too_many = kit.receive(hinges, {kept: 5})  # 4 are still expected
    ghost = late.model_copy(update={"reply_id": uuid.uuid4().hex, "po_id": f"po-{shop.prefix}-nothing"})
    other_kit.send(ghost, supplier["reply_queue_url"])
    malformed = {"schema_version": SCHEMA_VERSION, "reply_id": uuid.uuid4().hex, "po_id": hinges.po_id,
                 "supplier_id": hinges.supplier_id, "type": "RECEIVED"}  # a receipt without lines
    sqs.send_message(QueueUrl=supplier["reply_queue_url"], MessageBody=json.dumps(malformed))
    kit.receive(hinges, {kept: 4})  # and a good one among them: applied

    po = buying.purchase_order(hinges.po_id, "RECEIVED")
    assert [(li["quantity"], li["received"]) for li in po["lines"]] == [(ordered, ordered)]
    assert _timeline(po).count("ACKNOWLEDGED") == 1
    assert shop.client.get_stock(kept)["on_hand"] == ordered
    dead_letters = DeadLetters(sqs, supplier["reply_queue_url"])
    ours = {hinges.po_id, handles.po_id, ghost.po_id}
    dead = _eventually(lambda: len(found := dead_letters.about(ours)) >= 4 and found,
                       "the four bad replies in the dead-letter queue", timeout=90)
    assert {d["reply_id"] for d in dead} == {late.reply_id, too_many.reply_id, ghost.reply_id, malformed["reply_id"]}
    assert buying.purchase_order(handles.po_id, "REJECTED")["status"] == "REJECTED"
    assert shop.client.get_stock(kept)["on_hand"] == ordered  # the over-receipt added nothing
