"""The buying side's deadlines (ReplenishSweepFunction): a run whose execution was lost is FAILED and its
drafts decided again, and a purchase order the supplier never shipped is cancelled long after it was
expected, while goods already shipped are never cancelled by a clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from orderflow import wiring
from orderflow.purchasing.domain import ReplyType, SupplierIn, SupplierReply
from orderflow.replenishment.runs import ReplenishmentRun, RunStatus
from orderflow.shared.settings import get_settings


@pytest.fixture(scope="module")
def services(stack):
    return wiring.purchasing_service(), wiring.replenishment_service()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _sent(purchasing, supplier, cycle: str, sku: str):
    po, _ = purchasing.draft(cycle=cycle, run_id=None, supplier=supplier, sku=sku, quantity=10,
                             unit_cost=Decimal("1.00"), lead_time_days=1)
    return purchasing.send(po.po_id)


def test_a_run_past_its_deadline_is_failed_and_its_drafts_decided_again(stack, api, services):
    purchasing, replenishment = services
    now = datetime.now(UTC)
    timeout = get_settings().replenishment_run_timeout_seconds
    lost, young = (f"run-lost-{uuid.uuid4().hex[:6]}", f"run-young-{uuid.uuid4().hex[:6]}")
    for run_id, started in ((lost, now - timedelta(seconds=timeout + 60)), (young, now - timedelta(minutes=5))):
        replenishment.runs.start(ReplenishmentRun(run_id=run_id, cycle="2021-03-01", status=RunStatus.RUNNING,
                                                  started_at=_stamp(started)))
    supplier = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:6]}", SupplierIn(name="Acme"))
    sku, other = api.product(), api.product()
    draft, _ = purchasing.draft(cycle="2021-03-01", run_id=lost, supplier=supplier, sku=sku, quantity=5,
                                unit_cost=Decimal("2.00"), lead_time_days=3)
    kept, _ = purchasing.draft(cycle="2021-03-01", run_id=young, supplier=supplier, sku=other, quantity=5,
                               unit_cost=Decimal("2.00"), lead_time_days=3)

    swept = replenishment.sweep(_stamp(now))

    assert lost in swept["runs_failed"] and young not in swept["runs_failed"]
    run = replenishment.get_run(lost)[0]
    assert run.status == RunStatus.FAILED and run.error.startswith("RunTimedOut")
    assert replenishment.get_run(young)[0].status == RunStatus.RUNNING  # still within its deadline
    assert purchasing.get_purchase_order(draft.po_id).status == "CANCELLED"
    assert purchasing.get_purchase_order(kept.po_id).status == "DRAFT"  # its run may still send it
    assert (api.stock(sku)["on_order"], api.stock(other)["on_order"]) == (0, 5)
    assert replenishment.sweep(_stamp(now))["runs_failed"] == []  # a FAILED run stays as it is


def test_a_purchase_order_never_shipped_is_cancelled_after_its_grace_and_shipped_goods_never(stack, api, services):
    purchasing, replenishment = services
    supplier = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:6]}", SupplierIn(name="Acme"))
    grace = get_settings().purchase_order_grace_days
    today = date.today()
    long_ago = (today - timedelta(days=grace + 10)).isoformat()
    recent = (today - timedelta(days=grace // 2)).isoformat()
    late, soon, gone = api.product(), api.product(), api.product()
    overdue = _sent(purchasing, supplier, long_ago, late)
    within = _sent(purchasing, supplier, recent, soon)
    shipped = _sent(purchasing, supplier, long_ago, gone)
    purchasing.apply_reply(SupplierReply(schema_version="1", reply_id=uuid.uuid4().hex, po_id=shipped.po_id,
                                         supplier_id=supplier.supplier_id, type=ReplyType.SHIPPED))
    sqs = stack.boto3_client("sqs")
    while sqs.receive_message(QueueUrl=supplier.queue_url, MaxNumberOfMessages=10).get("Messages"):
        pass  # the purchase orders themselves: read, left to expire

    swept = replenishment.sweep()

    assert overdue.po_id in swept["unshipped_cancelled"]
    after = purchasing.get_purchase_order(overdue.po_id)
    assert after.status == "CANCELLED" and after.timeline[-1].by == "deadline"
    assert purchasing.get_purchase_order(within.po_id).status == "SENT"
    assert purchasing.get_purchase_order(shipped.po_id).status == "SHIPPED"
    assert (api.stock(late)["on_order"], api.stock(soon)["on_order"], api.stock(gone)["on_order"]) == (0, 10, 10)
    told = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=supplier.queue_url, MaxNumberOfMessages=10,
                                                                VisibilityTimeout=0).get("Messages", [])]
    assert [(m.get("type"), m["po_id"]) for m in told if m.get("type") == "PurchaseOrderCancellation"] == [
        ("PurchaseOrderCancellation", overdue.po_id)]


def test_the_sweep_runs_on_its_schedule(stack):
    assert set(stack.schedules.fire("ReplenishSweepFunction")) == {
        "runs_failed", "stale_drafts_cancelled", "approvals_expired", "unshipped_cancelled"}
