"""Every lifecycle is a table, and the rules that move each aggregate stay inside it: whatever a supplier
reply plans for a purchase order, whatever a receipt does to a return, and how runs end."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, ReplyType, SupplierReply
from orderflow.purchasing.lifecycle import PURCHASE_ORDER_LIFECYCLE
from orderflow.purchasing.rules import ReplyRejected, plan_reply
from orderflow.replenishment.lifecycle import RUN_LIFECYCLE
from orderflow.replenishment.runs import RunStatus
from orderflow.returns.domain import ReturnStatus
from orderflow.returns.lifecycle import RETURN_LIFECYCLE
from orderflow.shared.lifecycle import ForbiddenTransition, Lifecycle

AT = "2030-01-01T00:00:00.000Z"
P = PurchaseOrderStatus


def purchase_order(status: PurchaseOrderStatus, quantity: int, confirmed: int | None, received: int) -> PurchaseOrder:
    line = PurchaseOrderLine(sku="SKU-1", quantity=quantity, unit_cost=Decimal("2.50"), confirmed=confirmed,
                             received=received)
    return PurchaseOrder(po_id="po-2030-01-01-SKU-1", supplier_id="acme", cycle="2030-01-01", status=status,
                         lines=[line], total=Decimal(25), created_at=AT, updated_at=AT)


@given(status=st.sampled_from(list(P)), reply_type=st.sampled_from(list(ReplyType)),
       quantity=st.integers(1, 20), confirmed=st.one_of(st.none(), st.integers(0, 20)), received=st.integers(0, 20),
       units=st.integers(0, 25))
def test_no_supplier_reply_plans_a_transition_the_table_forbids(status, reply_type, quantity, confirmed, received,
                                                                  units):
    po = purchase_order(status, quantity, None if confirmed is None else min(confirmed, quantity),
                        min(received, quantity))
    lines = [{"sku": "SKU-1", "quantity": units}] if reply_type != ReplyType.ACKNOWLEDGED else []
    try:
        reply = SupplierReply(schema_version="1", reply_id="r-1", po_id=po.po_id, supplier_id="acme",
                              type=reply_type, lines=lines)
    except ValueError:
        return  # the reply itself is malformed: refused before any rule runs
    try:
        plan = plan_reply(po, reply)
    except ReplyRejected:
        return
    assert PURCHASE_ORDER_LIFECYCLE.allows(status, plan.status), (status.value, reply_type.value, plan.status.value)


def test_a_draft_is_only_sent_held_for_approval_changed_or_cancelled_and_closed_orders_stay_closed():
    assert set(PURCHASE_ORDER_LIFECYCLE.transitions[P.DRAFT]) == {P.DRAFT, P.SENT, P.PENDING_APPROVAL, P.CANCELLED}
    # A purchase order waiting for approval reaches the supplier only through APPROVED.
    assert PURCHASE_ORDER_LIFECYCLE.sources(P.SENT) == [P.DRAFT, P.APPROVED, P.SENT]
    assert PURCHASE_ORDER_LIFECYCLE.sources(P.APPROVED) == [P.PENDING_APPROVAL]
    # Once the supplier ships, the goods come: no cancellation.
    assert not PURCHASE_ORDER_LIFECYCLE.allows(P.SHIPPED, P.CANCELLED)
    assert not PURCHASE_ORDER_LIFECYCLE.allows(P.PARTIALLY_RECEIVED, P.CANCELLED)
    assert PURCHASE_ORDER_LIFECYCLE.final == {P.RECEIVED, P.REJECTED, P.CANCELLED}
    with pytest.raises(ForbiddenTransition) as refused:
        PURCHASE_ORDER_LIFECYCLE.check(P.RECEIVED, P.SENT, "purchase order po-1")
    assert refused.value.http_status == 409 and refused.value.details["allowed"] == []


def test_a_receipt_walks_a_return_through_allowed_steps_only():
    R = ReturnStatus
    for outcome in (R.RESTOCKED, R.SCRAPPED):
        walk = [R.APPROVED, R.RECEIVED, outcome, R.REFUNDED]
        assert all(RETURN_LIFECYCLE.allows(a, b) for a, b in itertools.pairwise(walk))
    assert not RETURN_LIFECYCLE.allows(R.REFUNDED, R.RECEIVED)  # a second receipt of a refunded return
    assert not RETURN_LIFECYCLE.allows(R.APPROVED, R.REFUNDED)  # a refund without the goods


def test_runs_end_once():
    assert RUN_LIFECYCLE.sources(RunStatus.FAILED) == [RunStatus.RUNNING]
    assert RUN_LIFECYCLE.final == {RunStatus.COMPLETED, RunStatus.FAILED}


def test_a_table_that_names_a_status_without_a_row_is_refused():
    with pytest.raises(ValueError, match="no row"):
        Lifecycle("broken", {RunStatus.RUNNING: frozenset({RunStatus.COMPLETED})})
