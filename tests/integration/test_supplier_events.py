"""SupplierEventsFunction, the consumer of supplier replies: batches with partial failures, duplicates, forged
senders, and a receipt that resumes a backordered order's workflow (submitted over HTTP, the reply put on the
real queue)."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from sqs_support import SENDER_ID, drain, sqs_batch

from orderflow import wiring
from orderflow.purchasing.domain import PurchaseOrder, SupplierIn, SupplierReply
from orderflow.purchasing.service import PurchasingService

FUNCTION = "SupplierEventsFunction"
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "samples" / "supplier_events_reply.json"


@pytest.fixture(scope="module")
def purchasing(stack) -> PurchasingService:
    return wiring.purchasing_service()


def sent_order(purchasing: PurchasingService, sku: str, quantity: int = 10,
               reply_principal: str | None = SENDER_ID) -> PurchaseOrder:
    """A purchase order on the queue of a new ``manual-`` supplier (the offline simulated supplier ignores it)
    whose replies come from ``reply_principal``."""
    acme = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:8]}",
                                   SupplierIn(name="Acme", reply_principal=reply_principal))
    po, _ = purchasing.draft(cycle="2030-02-01", run_id="run-test", supplier=acme, sku=sku, quantity=quantity,
                             unit_cost=Decimal("1.25"), lead_time_days=1)
    return purchasing.send(po.po_id)


def body(po: PurchaseOrder, type_: str, reply_id: str | None = None, **lines: int) -> str:
    return json.dumps({"schema_version": "1", "reply_id": reply_id or uuid.uuid4().hex, "po_id": po.po_id,
                       "supplier_id": po.supplier_id, "type": type_,
                       "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]})


def batch(*bodies: str, sender_id: str = SENDER_ID) -> tuple[dict, list[str]]:
    return sqs_batch("orderflow-dev-supplier-replies", *bodies, sender_id=sender_id)


def failures(stack, event: dict) -> list[str]:
    return [f["itemIdentifier"] for f in stack.runtime.invoke(FUNCTION, event)["batchItemFailures"]]


def test_malformed_records_fail_alone_and_the_rest_of_the_batch_is_applied(stack, api, purchasing):
    sku = api.product()
    po = sent_order(purchasing, sku)
    event, ids = batch(
        "not json at all",
        json.dumps({"schema_version": "1", "po_id": po.po_id, "supplier_id": po.supplier_id, "type": "SHIPPED"}),
        body(po, "RECEIVED"),  # a receipt without lines
        body(po, "RECEIVED", **{sku: 4}),
        body(po, "RECEIVED", **{sku: 7}),  # only 6 still expected
    )

    assert failures(stack, event) == [ids[0], ids[1], ids[2], ids[4]]
    assert api.stock(sku)["on_hand"] == 4
    assert purchasing.get_purchase_order(po.po_id).status == "PARTIALLY_RECEIVED"


def test_a_reply_delivered_twice_is_applied_once(stack, api, purchasing):
    sku = api.product()
    po = sent_order(purchasing, sku)
    receipt = body(po, "RECEIVED", reply_id="acme-receipt-1", **{sku: 5})

    assert failures(stack, batch(receipt, receipt)[0]) == []
    assert failures(stack, batch(receipt)[0]) == []

    level = api.stock(sku)
    assert (level["on_hand"], level["on_order"]) == (5, 5)


def test_unknown_and_out_of_order_replies_fail_for_redelivery(stack, api, purchasing):
    sku = api.product()
    po = sent_order(purchasing, sku)
    rejected, shipped_late, unknown = (body(po, "REJECTED"), body(po, "SHIPPED"),
                                       body(po.model_copy(update={"po_id": "po-2030-02-01-nowhere"}), "ACKNOWLEDGED"))
    event, ids = batch(rejected, shipped_late, unknown)

    assert failures(stack, event) == [ids[1], ids[2]]  # nothing may follow a rejection
    assert api.stock(sku)["on_order"] == 0


def test_the_sample_event_is_a_valid_reply_and_a_batch_of_only_failures_is_retried_whole(stack, api, purchasing):
    sample = json.loads(SAMPLE.read_text())["Records"][0]
    assert SupplierReply.model_validate_json(sample["body"]).type == "RECEIVED"
    sku = api.product()
    po = sent_order(purchasing, sku)
    event, _ = batch(body(po, "ACKNOWLEDGED"))
    event["Records"].insert(0, sample)  # names a purchase order that does not exist here

    assert failures(stack, event) == [sample["messageId"]]
    assert purchasing.get_purchase_order(po.po_id).status == "ACKNOWLEDGED"
    with pytest.raises(BatchProcessingError):  # Powertools fails the invocation: SQS redelivers the batch
        stack.runtime.invoke(FUNCTION, {"Records": [sample]})


def test_a_receipt_on_the_replies_queue_resumes_a_backordered_order(stack, api, purchasing):
    sku, customer = api.product(price=3), api.customer()
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "BACKORDERED"
    po = sent_order(purchasing, sku, quantity=5)
    assert api.stock(sku)["on_order"] == 5

    principal, sqs = stack.supplier_sqs(po.supplier_id)
    purchasing.put_supplier(po.supplier_id, SupplierIn(name="Acme", reply_principal=principal))
    replies = sqs.get_queue_url(QueueName="orderflow-dev-supplier-replies")["QueueUrl"]
    sqs.send_message(QueueUrl=replies, MessageBody=body(po, "RECEIVED", **{sku: 5}))

    assert api.wait_for(order_id, {"RESERVED"})["status"] == "RESERVED"
    level = api.stock(sku)
    assert (level["on_hand"], level["reserved"], level["available"], level["on_order"], level["backordered"]) == (
        5, 2, 3, 0, 0)
    assert purchasing.get_purchase_order(po.po_id).status == "RECEIVED"


def test_a_receipt_lands_where_the_po_delivers_to_and_resumes_backorders(stack, api, purchasing):
    """A purchase order to a store: its on_order is the store's, the supplier's receipt puts the goods on the
    store's shelf (not main's), and a backordered order is then reserved from the store."""
    from orderflow.fulfilment import LocationIn

    store = f"store-{uuid.uuid4().hex[:8]}"
    wiring.fulfilment_service().put_location(store, LocationIn.model_validate({
        "name": "Corner shop", "kind": "store",
        "address": {"name": "Shop", "line1": "1 High St", "city": "York", "postal_code": "YO1 1AA", "country": "GB"}}))
    sku, customer = api.product(price=3), api.customer()
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    assert api.wait_for(order_id)["status"] == "BACKORDERED"
    acme = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:8]}", SupplierIn(name="Acme",
                                                                              reply_principal=SENDER_ID))
    po, _ = purchasing.draft(cycle="2030-02-01", run_id="run-test", supplier=acme, sku=sku, quantity=6,
                             unit_cost=Decimal("1.25"), lead_time_days=1, deliver_to=store)
    po = purchasing.send(po.po_id)
    assert api.stock_at(sku, store)["on_order"] == 6

    assert failures(stack, batch(body(po, "RECEIVED", **{sku: 6}))[0]) == []

    assert api.wait_for(order_id, {"RESERVED"})["status"] == "RESERVED"
    at_store, at_main = api.stock_at(sku, store), api.stock_at(sku, "main")
    assert (at_store["on_hand"], at_store["reserved"], at_store["on_order"]) == (6, 2, 0)
    assert at_main.get("on_hand", 0) == 0 and at_main.get("on_order", 0) == 0


def test_a_reply_not_sent_by_the_suppliers_registered_principal_changes_nothing(stack, api, purchasing, caplog):
    sku = api.product()
    po = sent_order(purchasing, sku)
    unregistered = sent_order(purchasing, api.product(), reply_principal=None)
    forged, _ = batch(body(po, "RECEIVED", **{sku: 10}), sender_id="AIDAOTHERSUPPLIER0001")
    as_role, _ = batch(body(po, "ACKNOWLEDGED"), sender_id=f"{SENDER_ID}:supplier-session")  # a role's session
    nobody, _ = batch(body(unregistered, "REJECTED"))

    for event in (forged, nobody):  # a supplier without a registered principal accepts no reply
        with pytest.raises(BatchProcessingError):  # every record failed: SQS redelivers them, then the DLQ
            stack.runtime.invoke(FUNCTION, event)
    assert [r.message for r in caplog.records if r.message == "forged reply refused"] == ["forged reply refused"] * 2
    level = api.stock(sku)
    assert (level["on_hand"], level["on_order"]) == (0, 10)
    assert purchasing.get_purchase_order(po.po_id).status == "SENT"
    assert purchasing.get_purchase_order(unregistered.po_id).status == "SENT"
    assert failures(stack, as_role) == []
    assert purchasing.get_purchase_order(po.po_id).status == "ACKNOWLEDGED"


def test_a_forged_reply_on_the_queue_ends_in_the_dead_letter_queue(stack, api, purchasing):
    sku = api.product()
    po = sent_order(purchasing, sku, quantity=5)
    principal, supplier_sqs = stack.supplier_sqs(po.supplier_id)
    purchasing.put_supplier(po.supplier_id, SupplierIn(name="Acme", reply_principal=principal))
    _, intruder_sqs = stack.supplier_sqs("manual-intruder")
    sqs = stack.boto3_client("sqs")
    replies, dlq = (sqs.get_queue_url(QueueName=f"orderflow-dev-supplier-replies{suffix}")["QueueUrl"]
                    for suffix in ("", "-dlq"))
    forged = body(po, "RECEIVED", reply_id="forged-1", **{sku: 5})
    intruder_sqs.send_message(QueueUrl=replies, MessageBody=forged)  # another supplier's credentials
    sqs.send_message(QueueUrl=replies, MessageBody=body(po, "REJECTED", reply_id="forged-2"))  # the stack's own

    dead: list[dict] = []
    for _ in range(120):  # 5 receives, 2 s apart offline
        dead += drain(sqs, dlq)
        if len(dead) == 2:
            break
        time.sleep(0.5)
    assert sorted(d["reply_id"] for d in dead) == ["forged-1", "forged-2"]
    assert purchasing.get_purchase_order(po.po_id).status == "SENT"
    assert (api.stock(sku)["on_hand"], api.stock(sku)["on_order"]) == (0, 5)

    supplier_sqs.send_message(QueueUrl=replies, MessageBody=body(po, "ACKNOWLEDGED", reply_id="real-1"))
    for _ in range(60):
        if purchasing.get_purchase_order(po.po_id).status == "ACKNOWLEDGED":
            break
        time.sleep(0.5)
    assert purchasing.get_purchase_order(po.po_id).status == "ACKNOWLEDGED"


def test_updating_a_supplier_keeps_its_principal_unless_it_is_removed(purchasing):
    supplier_id = f"manual-{uuid.uuid4().hex[:8]}"
    purchasing.put_supplier(supplier_id, SupplierIn(name="Acme", reply_principal=SENDER_ID))
    renamed = purchasing.put_supplier(supplier_id, SupplierIn(name="Acme Ltd", capacity_per_cycle=50))
    assert (renamed.name, renamed.reply_principal) == ("Acme Ltd", SENDER_ID)
    assert purchasing.get_supplier(supplier_id).reply_principal == SENDER_ID
    removed = purchasing.put_supplier(supplier_id, SupplierIn.model_validate({"name": "Acme Ltd",
                                                                               "reply_principal": None}))
    assert removed.reply_principal is None and purchasing.get_supplier(supplier_id).reply_principal is None
