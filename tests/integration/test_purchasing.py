"""PurchasingService against the offline stack (tables and queues from template.yaml): suppliers and their
queues, drafting within capacity, sending, and supplier replies moving purchase orders and stock.

Suppliers here are ``manual-...``: the offline stack's simulated supplier leaves their queues alone.
"""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal

import pytest

from orderflow import wiring
from orderflow.inventory.adapters.stock import StockRepository
from orderflow.orders.domain import OrderLine
from orderflow.platform.dynamo import apply
from orderflow.purchasing.domain import PurchaseOrder, Supplier, SupplierIn, SupplierReply
from orderflow.purchasing.rules import CapacityExceeded, ReplyRejected
from orderflow.purchasing.service import PurchasingService
from orderflow.shared.errors import NotFound, Unprocessable
from orderflow.shared.settings import get_settings

CYCLE = "2030-01-01"


@pytest.fixture(scope="module")
def purchasing(stack) -> PurchasingService:
    return wiring.purchasing_service()


@pytest.fixture(scope="module")
def stock(stack) -> StockRepository:
    return StockRepository(get_settings().stock_table)


def supplier(purchasing: PurchasingService, capacity: int | None = None) -> Supplier:
    return purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:8]}", SupplierIn(name="Acme",
                                                                                capacity_per_cycle=capacity))


def sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8]}"


def draft(purchasing: PurchasingService, by: Supplier, item: str, quantity: int = 10,
          cycle: str = CYCLE) -> tuple[PurchaseOrder, bool]:
    return purchasing.draft(cycle=cycle, run_id="run-test", supplier=by, sku=item, quantity=quantity,
                            unit_cost=Decimal("2.50"), lead_time_days=2.5)


def sent(purchasing: PurchasingService, quantity: int = 10) -> PurchaseOrder:
    po, _ = draft(purchasing, supplier(purchasing), sku(), quantity)
    return purchasing.send(po.po_id)


def reply(po: PurchaseOrder, type_: str, reply_id: str | None = None, supplier_id: str | None = None,
          **lines: int) -> SupplierReply:
    return SupplierReply(schema_version="1", reply_id=reply_id or uuid.uuid4().hex, po_id=po.po_id,
                         supplier_id=supplier_id or po.supplier_id, type=type_,
                         lines=[{"sku": s, "quantity": q} for s, q in lines.items()])


# ------------------------------------------------------------------ suppliers
def test_a_supplier_gets_an_encrypted_queue_once_and_is_told_where_to_reply(stack, purchasing):
    first = supplier(purchasing, capacity=50)
    again = purchasing.put_supplier(first.supplier_id, SupplierIn(name="Acme Ltd", capacity_per_cycle=60))

    assert again.queue_url == first.queue_url
    assert (again.name, again.capacity_per_cycle) == ("Acme Ltd", 60)
    assert first.reply_queue_url == get_settings().supplier_replies_queue_url is not None
    stored = purchasing.get_supplier(first.supplier_id)
    assert (stored.name, stored.queue_url, stored.reply_queue_url) == ("Acme Ltd", first.queue_url,
                                                                      first.reply_queue_url)
    sqs = stack.boto3_client("sqs")
    assert sqs.get_queue_url(QueueName=f"orderflow-dev-po-{first.supplier_id}")["QueueUrl"].endswith(
        first.queue_url.rsplit("/", 1)[1])
    attributes = sqs.get_queue_attributes(QueueUrl=first.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_an_unknown_supplier_is_not_found(purchasing):
    with pytest.raises(NotFound, match="supplier nobody"):
        purchasing.get_supplier("nobody")


# ------------------------------------------------------------------ drafting
def test_a_draft_puts_the_order_on_order_and_takes_supplier_capacity_in_one_go(purchasing, stock):
    acme, item = supplier(purchasing, capacity=25), sku()
    po, created = draft(purchasing, acme, item, quantity=10)

    assert created
    assert (po.po_id, po.status, po.total, po.expected_by) == (f"po-{CYCLE}-{item}", "DRAFT", Decimal(25),
                                                              "2030-01-04")
    assert purchasing.get_purchase_order(po.po_id).lines[0].quantity == 10
    assert stock.get(item).on_order == 10
    assert purchasing.remaining_capacity(acme, CYCLE) == 15
    assert purchasing.remaining_capacity(acme, "2030-01-02") == 25


def test_a_second_draft_of_the_same_cycle_and_sku_creates_nothing(purchasing, stock):
    acme, item = supplier(purchasing, capacity=25), sku()
    first, _ = draft(purchasing, acme, item, quantity=10)
    again, created = draft(purchasing, acme, item, quantity=7)

    assert not created
    assert again.po_id == first.po_id and again.lines[0].quantity == 10
    assert stock.get(item).on_order == 10
    assert purchasing.remaining_capacity(acme, CYCLE) == 15


def test_a_draft_beyond_capacity_is_refused_with_what_is_left_and_writes_nothing(purchasing, stock):
    acme, item = supplier(purchasing, capacity=12), sku()
    draft(purchasing, acme, sku(), quantity=8)
    with pytest.raises(CapacityExceeded) as refused:
        draft(purchasing, acme, item, quantity=5)

    assert refused.value.remaining == 4
    assert stock.get(item).on_order == 0
    with pytest.raises(NotFound):
        purchasing.get_purchase_order(f"po-{CYCLE}-{item}")
    with pytest.raises(CapacityExceeded) as too_big:
        draft(purchasing, supplier(purchasing, capacity=3), item, quantity=4)
    assert too_big.value.remaining == 3


def test_concurrent_drafts_on_a_capped_supplier_never_exceed_its_capacity(purchasing, stock):
    acme, items = supplier(purchasing, capacity=10), [sku() for _ in range(8)]
    drafted, refused = [], []

    def attempt(item: str) -> None:
        try:
            drafted.append(draft(purchasing, acme, item, quantity=3)[0])
        except CapacityExceeded as exc:
            refused.append(exc.remaining)

    threads = [threading.Thread(target=attempt, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(drafted) == 3 and len(refused) == 5
    assert all(remaining < 3 for remaining in refused)
    assert purchasing.remaining_capacity(acme, CYCLE) == 1
    on_order = stock.get_many(items)
    assert sum(level.on_order for level in on_order.values()) == 9
    assert {po.lines[0].sku for po in drafted} == {s for s, level in on_order.items() if level.on_order}


def test_unlimited_suppliers_have_no_capacity_and_bad_drafts_are_refused(purchasing):
    unlimited = supplier(purchasing)
    assert draft(purchasing, unlimited, sku(), quantity=100_000)[1]
    assert purchasing.remaining_capacity(unlimited, CYCLE) is None
    with pytest.raises(Unprocessable):
        draft(purchasing, unlimited, sku(), quantity=0)
    inactive = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:8]}", SupplierIn(name="Gone", active=False))
    with pytest.raises(Unprocessable, match="not active"):
        draft(purchasing, inactive, sku())


# ------------------------------------------------------------------ sending
def test_send_puts_the_order_on_the_suppliers_queue_once_and_marks_it_sent(stack, purchasing):
    acme, item = supplier(purchasing), sku()
    po, _ = draft(purchasing, acme, item, quantity=6)

    assert purchasing.send(po.po_id).status == "SENT"
    assert purchasing.send(po.po_id).version == 1  # already sent: nothing happens

    sqs = stack.boto3_client("sqs")
    messages = sqs.receive_message(QueueUrl=acme.queue_url, MaxNumberOfMessages=10)["Messages"]
    (message,) = [json.loads(m["Body"]) for m in messages]
    assert {k: message[k] for k in ("schema_version", "type", "po_id", "supplier_id", "cycle", "expected_by")} == {
        "schema_version": "1", "type": "PurchaseOrder", "po_id": po.po_id, "supplier_id": acme.supplier_id,
        "cycle": CYCLE, "expected_by": "2030-01-04"}
    assert message["lines"] == [{"sku": item, "quantity": 6, "unit_cost": 2.5}]
    assert message["reply_to"] == acme.reply_queue_url
    with pytest.raises(NotFound):
        purchasing.send("po-2030-01-01-nothing")


def queued(stack, queue_url: str) -> list[str]:
    """The po_id of every message on the queue (read until it is empty)."""
    sqs, found = stack.boto3_client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"])["po_id"] for m in messages]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return found


def test_send_many_puts_each_draft_on_its_suppliers_queue_once_ten_a_request(stack, purchasing, monkeypatch):
    acme, other = supplier(purchasing), supplier(purchasing)
    big = purchasing.put_supplier(f"manual-{uuid.uuid4().hex[:8]}", SupplierIn(name="Big", approval_threshold=100))
    drafts = [draft(purchasing, acme, sku())[0] for _ in range(23)] + [draft(purchasing, other, sku())[0]]
    costly = draft(purchasing, big, sku(), quantity=50)[0]  # worth 125: waits for approval
    already = purchasing.send(drafts[0].po_id)
    requests = []
    real = purchasing.queues.send_batch
    monkeypatch.setattr(purchasing.queues, "send_batch",
                        lambda url, messages: requests.append(len(messages)) or real(url, messages))

    after = purchasing.send_many([po.po_id for po in drafts] + [costly.po_id])

    assert [po.status for po in after] == ["SENT"] * 24 + ["PENDING_APPROVAL"]
    assert after[0].version == already.version == 1  # sent before: left as it was
    assert sorted(requests) == [1, 2, 10, 10]  # acme's 22 drafts in three requests, the other's one
    assert sorted(queued(stack, acme.queue_url)) == sorted(po.po_id for po in drafts[:23])
    assert queued(stack, other.queue_url) == [drafts[23].po_id]
    assert queued(stack, big.queue_url) == []
    assert [po.status for po in purchasing.send_many([drafts[1].po_id, costly.po_id])] == ["SENT",
                                                                                           "PENDING_APPROVAL"]
    assert queued(stack, acme.queue_url) == []  # sent once: a second Send changes nothing
    with pytest.raises(NotFound):
        purchasing.send_many([drafts[1].po_id, "po-2030-01-01-nothing"])


def test_send_many_sends_a_refused_message_alone_and_a_throttled_mark_again_only(stack, purchasing, monkeypatch):
    from orderflow.shared.errors import TransientError

    acme = supplier(purchasing)
    drafts = [draft(purchasing, acme, sku())[0] for _ in range(5)]
    real_batch, real_commit = purchasing.queues.send_batch, purchasing.store.commit

    def refuse_the_second(url, messages):  # SQS fails one entry of the batch (a failed entry, not an error)
        taken = real_batch(url, messages[:1] + messages[2:])
        return [*taken[:1], False, *taken[1:]]

    def throttle_the_fourth(writes):
        if writes[0].key == {"po_id": drafts[3].po_id} and not throttled:
            throttled.append(drafts[3].po_id)
            raise TransientError("throttled")
        return real_commit(writes)

    throttled: list[str] = []
    monkeypatch.setattr(purchasing.queues, "send_batch", refuse_the_second)
    monkeypatch.setattr(purchasing.store, "commit", throttle_the_fourth)
    with pytest.raises(TransientError):
        purchasing.send_many([po.po_id for po in drafts])
    assert [purchasing.get_purchase_order(po.po_id).status for po in drafts] == ["SENT"] * 3 + ["DRAFT", "SENT"]
    monkeypatch.setattr(purchasing.queues, "send_batch", real_batch)

    assert [po.status for po in purchasing.send_many([po.po_id for po in drafts])] == ["SENT"] * 5  # the retry
    assert sorted(queued(stack, acme.queue_url)) == sorted([po.po_id for po in drafts] + [drafts[3].po_id])


# ------------------------------------------------------------------ replies
def test_a_receipt_adds_stock_lowers_on_order_and_completes_the_order(purchasing, stock):
    po = sent(purchasing, quantity=10)
    item = po.lines[0].sku

    partial = purchasing.apply_reply(reply(po, "RECEIVED", **{item: 4}))
    assert (partial.status, partial.lines[0].received) == ("PARTIALLY_RECEIVED", 4)
    level = stock.get(item)
    assert (level.on_hand, level.available, level.on_order) == (4, 4, 6)

    done = purchasing.apply_reply(reply(po, "RECEIVED", **{item: 6}))
    assert done.status == "RECEIVED"
    level = stock.get(item)
    assert (level.on_hand, level.available, level.on_order) == (10, 10, 0)


def test_a_redelivered_reply_is_applied_once(purchasing, stock):
    po = sent(purchasing, quantity=10)
    item = po.lines[0].sku
    receipt = reply(po, "RECEIVED", reply_id="rcv-1", **{item: 3})

    first = purchasing.apply_reply(receipt)
    again = purchasing.apply_reply(receipt)

    assert again.version == first.version == 2
    assert stock.get(item).on_hand == 3
    stored = purchasing.get_purchase_order(po.po_id)
    assert [e.reply_id for e in stored.timeline if e.reply_id] == ["rcv-1"]


def test_concurrent_receipts_each_land_once_however_they_race(purchasing, stock):
    po = sent(purchasing, quantity=10)
    item = po.lines[0].sku
    duplicate = reply(po, "RECEIVED", reply_id="rcv-dup", **{item: 2})
    replies = [duplicate] * 4 + [reply(po, "RECEIVED", **{item: 2}) for _ in range(4)]
    errors: list[Exception] = []

    def apply(answer: SupplierReply) -> None:
        try:
            purchasing.apply_reply(answer)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(answer,)) for answer in replies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    stored = purchasing.get_purchase_order(po.po_id)
    assert (stored.status, stored.lines[0].received, len(stored.applied_replies)) == ("RECEIVED", 10, 5)
    level = stock.get(item)
    assert (level.on_hand, level.on_order) == (10, 0)


def test_a_partial_confirmation_lowers_on_order_and_caps_what_can_be_received(purchasing, stock):
    po = sent(purchasing, quantity=10)
    item = po.lines[0].sku

    confirmed = purchasing.apply_reply(reply(po, "PARTIALLY_CONFIRMED", **{item: 6}))
    assert (confirmed.status, confirmed.lines[0].confirmed) == ("PARTIALLY_CONFIRMED", 6)
    assert stock.get(item).on_order == 6

    with pytest.raises(ReplyRejected, match="only 6 are still expected"):
        purchasing.apply_reply(reply(po, "RECEIVED", **{item: 7}))
    assert purchasing.apply_reply(reply(po, "RECEIVED", **{item: 6})).status == "RECEIVED"
    assert (stock.get(item).on_hand, stock.get(item).on_order) == (6, 0)


def test_a_rejection_gives_back_on_order_and_nothing_can_follow_it(purchasing, stock):
    po = sent(purchasing, quantity=8)
    item = po.lines[0].sku
    purchasing.apply_reply(reply(po, "ACKNOWLEDGED"))

    rejected = purchasing.apply_reply(reply(po, "REJECTED"))
    assert rejected.status == "REJECTED"
    assert stock.get(item).on_order == 0
    with pytest.raises(ReplyRejected, match="already REJECTED") as refused:
        purchasing.apply_reply(reply(po, "SHIPPED"))
    assert refused.value.details["problem"] == "out_of_order"


def test_over_receipt_is_rejected_and_changes_nothing(purchasing, stock):
    po = sent(purchasing, quantity=5)
    item = po.lines[0].sku
    purchasing.apply_reply(reply(po, "SHIPPED"))

    with pytest.raises(ReplyRejected, match=f"purchase order {po.po_id}: it receives 6 of {item}"):
        purchasing.apply_reply(reply(po, "RECEIVED", **{item: 6}))

    stored = purchasing.get_purchase_order(po.po_id)
    assert (stored.status, stored.version, stored.lines[0].received) == ("SHIPPED", 2, 0)
    level = stock.get(item)
    assert (level.on_hand, level.on_order) == (0, 5)


def test_a_late_acknowledgement_is_recorded_and_changes_nothing_else(purchasing):
    po = sent(purchasing)
    purchasing.apply_reply(reply(po, "SHIPPED"))
    late = purchasing.apply_reply(reply(po, "ACKNOWLEDGED"))

    assert late.status == "SHIPPED"
    assert "late ACKNOWLEDGED" in (purchasing.get_purchase_order(po.po_id).timeline[-1].reason or "")


def test_replies_for_unknown_orders_or_from_another_supplier_are_rejected(purchasing, stock):
    po = sent(purchasing)
    with pytest.raises(ReplyRejected, match="does not exist") as unknown:
        purchasing.apply_reply(reply(po.model_copy(update={"po_id": "po-2030-01-01-missing"}), "ACKNOWLEDGED"))
    assert unknown.value.details["problem"] == "unknown_po"
    with pytest.raises(ReplyRejected, match=f"belongs to supplier {po.supplier_id}"):
        purchasing.apply_reply(reply(po, "RECEIVED", supplier_id="manual-intruder", **{po.lines[0].sku: 1}))
    assert stock.get(po.lines[0].sku).on_hand == 0


# ------------------------------------------------------------------ listing
def test_listing_by_status_pages_through_everything_and_refuses_a_forged_cursor(purchasing):
    acme = supplier(purchasing)
    cycle = f"2031-{uuid.uuid4().int % 12 + 1:02d}-{uuid.uuid4().int % 28 + 1:02d}"
    drafted = {draft(purchasing, acme, sku(), cycle=cycle)[0].po_id for _ in range(3)}
    sent_one = purchasing.send(sorted(drafted)[0])

    seen, cursor = [], None
    while True:
        page, cursor = purchasing.list_purchase_orders(None, 2, cursor)
        assert len(page) <= 2
        seen += [po.po_id for po in page]
        if cursor is None:
            break
    assert drafted <= set(seen)
    assert len(seen) == len(set(seen))
    sent_ids = [po.po_id for po in purchasing.list_purchase_orders("SENT", 1000, None)[0]]
    assert sent_one.po_id in sent_ids and not (drafted - {sent_one.po_id}) & set(sent_ids)
    with pytest.raises(Unprocessable, match="cursor"):
        purchasing.list_purchase_orders(None, 2, "not-a-cursor")


def test_every_waiting_backorder_is_listed_oldest_first_past_a_page(stock: StockRepository) -> None:
    """A receipt offers its stock to every order waiting, not only to the first page of them."""
    item = sku()
    for n in range(7):
        apply(stock.wait(OrderLine(sku=item, quantity=1, unit_price=Decimal("1"), name=item),
                         f"ord-{n}", f"2030-01-01T00:00:0{n}Z"))
    assert [w["order_id"] for w in stock.waiting(item, page_size=3)] == [f"ord-{n}" for n in range(7)]
