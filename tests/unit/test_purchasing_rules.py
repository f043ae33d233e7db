"""orderflow.purchasing rules without AWS: what each supplier reply does to a purchase order and to stock,
which replies are refused, and how supplier queues are named."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from orderflow.purchasing.adapters.supplier_queues import MAX_QUEUE_NAME, SupplierQueues
from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierIn, SupplierReply
from orderflow.purchasing.rules import (
    CapacityExceeded,
    ReplyForged,
    ReplyRejected,
    cancellation_message,
    check_sender,
    plan_reply,
    purchase_order_message,
)

AT = "2030-01-01T00:00:00.000Z"
EVENTS = Path(__file__).resolve().parents[2] / "events"


def po(status: str = "SENT", **lines: int | tuple[int, int | None, int]) -> PurchaseOrder:
    """A purchase order of supplier ``acme``; each line is ``quantity`` or ``(quantity, confirmed, received)``."""
    lines = lines or {"SKU-1": 10}
    built = []
    for sku, spec in lines.items():
        quantity, confirmed, received = spec if isinstance(spec, tuple) else (spec, None, 0)
        built.append(PurchaseOrderLine(sku=sku, quantity=quantity, unit_cost=Decimal("2.50"), confirmed=confirmed,
                                       received=received))
    return PurchaseOrder(po_id="po-2030-01-01-SKU-1", supplier_id="acme", cycle="2030-01-01", status=status,
                         lines=built, total=Decimal(25), created_at=AT, updated_at=AT)


def reply(type_: str, supplier: str = "acme", reason: str | None = None, **lines: int) -> SupplierReply:
    return SupplierReply(schema_version="1", reply_id="r-1", po_id="po-2030-01-01-SKU-1", supplier_id=supplier,
                         type=type_, lines=[{"sku": s, "quantity": q} for s, q in lines.items()], reason=reason)


def refusal(order: PurchaseOrder, answer: SupplierReply) -> dict:
    with pytest.raises(ReplyRejected) as caught:
        plan_reply(order, answer)
    assert caught.value.http_status == 409 and order.po_id in caught.value.message
    return caught.value.details


# ------------------------------------------------------------------ what each reply does
def test_acknowledged_moves_a_sent_order_and_touches_no_stock() -> None:
    plan = plan_reply(po("SENT"), reply("ACKNOWLEDGED"))
    assert (plan.status, plan.on_order, plan.received) == ("ACKNOWLEDGED", {}, {})


def test_a_partial_confirmation_sets_confirmed_and_gives_back_what_will_not_come() -> None:
    plan = plan_reply(po("ACKNOWLEDGED", **{"SKU-1": 10, "SKU-2": 4}), reply("PARTIALLY_CONFIRMED", **{"SKU-1": 6}))
    assert plan.status == "PARTIALLY_CONFIRMED"
    assert [(li.sku, li.confirmed, li.expected) for li in plan.lines] == [("SKU-1", 6, 6), ("SKU-2", None, 4)]
    assert plan.on_order == {"SKU-1": -4}


def test_a_rejection_gives_back_everything_still_on_order() -> None:
    plan = plan_reply(po("PARTIALLY_CONFIRMED", **{"SKU-1": (10, 6, 0), "SKU-2": 4}),
                      reply("REJECTED", reason="factory closed"))
    assert plan.status == "REJECTED"
    assert plan.on_order == {"SKU-1": -6, "SKU-2": -4}
    assert "factory closed" in plan.reason


def test_receipts_fill_lines_partially_then_fully() -> None:
    first = plan_reply(po("SHIPPED", **{"SKU-1": 10, "SKU-2": 4}), reply("RECEIVED", **{"SKU-1": 7}))
    assert first.status == "PARTIALLY_RECEIVED"
    assert first.received == {"SKU-1": 7}
    assert [li.received for li in first.lines] == [7, 0]

    rest = po("PARTIALLY_RECEIVED", **{"SKU-1": (10, None, 7), "SKU-2": 4})
    second = plan_reply(rest, reply("RECEIVED", **{"SKU-1": 3, "SKU-2": 4}))
    assert second.status == "RECEIVED"
    assert second.received == {"SKU-1": 3, "SKU-2": 4}


def test_a_receipt_counts_against_the_confirmed_quantity_and_may_skip_shipping() -> None:
    plan = plan_reply(po("PARTIALLY_CONFIRMED", **{"SKU-1": (10, 6, 0)}), reply("RECEIVED", **{"SKU-1": 6}))
    assert plan.status == "RECEIVED"


def test_late_but_harmless_replies_only_add_to_the_timeline() -> None:
    late_ack = plan_reply(po("SHIPPED"), reply("ACKNOWLEDGED"))
    assert (late_ack.status, late_ack.on_order, late_ack.received) == ("SHIPPED", {}, {})
    assert "late ACKNOWLEDGED" in late_ack.reason
    assert plan_reply(po("PARTIALLY_RECEIVED", **{"SKU-1": (10, None, 3)}), reply("SHIPPED")).status == (
        "PARTIALLY_RECEIVED")


def test_shipping_follows_any_reply_before_it() -> None:
    for before in ("SENT", "ACKNOWLEDGED", "PARTIALLY_CONFIRMED"):
        assert plan_reply(po(before), reply("SHIPPED")).status == "SHIPPED"


# ------------------------------------------------------------------ what is refused
@pytest.mark.parametrize(("status", "type_"), [
    ("RECEIVED", "RECEIVED"), ("REJECTED", "ACKNOWLEDGED"), ("CANCELLED", "SHIPPED"), ("DRAFT", "ACKNOWLEDGED"),
    ("SHIPPED", "REJECTED"), ("PARTIALLY_RECEIVED", "PARTIALLY_CONFIRMED"),
])
def test_out_of_order_replies_are_refused(status, type_) -> None:
    lines = {"SKU-1": 1} if type_ in ("RECEIVED", "PARTIALLY_CONFIRMED") else {}
    details = refusal(po(status), reply(type_, **lines))
    assert (details["problem"], details["status"]) == ("out_of_order", status)


def test_receiving_more_than_is_still_expected_is_refused_naming_the_numbers() -> None:
    order = po("PARTIALLY_RECEIVED", **{"SKU-1": (10, 8, 5)})
    with pytest.raises(ReplyRejected, match=r"receives 4 of SKU-1 but only 3 are still expected"):
        plan_reply(order, reply("RECEIVED", **{"SKU-1": 4}))
    assert refusal(order, reply("RECEIVED", **{"SKU-1": 4}))["problem"] == "over_receipt"


def test_another_suppliers_reply_and_unknown_skus_are_refused() -> None:
    assert refusal(po(), reply("ACKNOWLEDGED", supplier="other"))["problem"] == "wrong_supplier"
    assert refusal(po("SHIPPED"), reply("RECEIVED", **{"SKU-9": 1}))["problem"] == "unknown_sku"
    assert refusal(po(), reply("PARTIALLY_CONFIRMED", **{"SKU-1": 11}))["problem"] == "over_confirmation"
    assert refusal(po("SHIPPED"), reply("RECEIVED", **{"SKU-1": 0}))["problem"] == "nothing_received"


def test_a_receipt_naming_a_sku_twice_counts_both() -> None:
    answer = SupplierReply(schema_version="1", reply_id="r-2", po_id="po-2030-01-01-SKU-1", supplier_id="acme",
                           type="RECEIVED", lines=[{"sku": "SKU-1", "quantity": 6}, {"sku": "SKU-1", "quantity": 5}])
    assert refusal(po("SHIPPED"), answer)["problem"] == "over_receipt"


def test_capacity_exceeded_is_a_conflict_carrying_what_is_left() -> None:
    error = CapacityExceeded("no room", 4)
    assert (error.http_status, error.code, error.remaining, error.details) == (409, "CAPACITY_EXCEEDED", 4,
                                                                              {"remaining": 4})


# ------------------------------------------------------------------ queue names
def test_queue_names_are_the_prefix_and_id_or_a_safe_unique_form_of_it() -> None:
    queues = SupplierQueues("orderflow-dev-po-")
    assert queues.name("acme_2") == "orderflow-dev-po-acme_2"
    dotted, coloned = queues.name("acme.eu"), queues.name("acme:eu")
    assert dotted != coloned
    assert dotted.startswith("orderflow-dev-po-acme-eu-") and coloned.startswith("orderflow-dev-po-acme-eu-")
    long_ids = [queues.name("x" * 64), queues.name("x" * 63 + "y")]
    assert all(len(n) <= MAX_QUEUE_NAME and n.startswith("orderflow-dev-po-") for n in long_ids)
    assert long_ids[0] != long_ids[1]


# ------------------------------------------------------------------ the messages exchanged with suppliers
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((EVENTS / "schemas" / f"{name}.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_purchase_order_message_matches_its_published_schema() -> None:
    order = po("DRAFT", **{"SKU-1": 10, "SKU-2": 4}).model_copy(update={"expected_by": "2030-01-04"})
    message = json.loads(purchase_order_message(order, "https://sqs.example/replies").model_dump_json())
    validator("purchase-order.v1").validate(message)
    assert (message["reply_to"], [line["quantity"] for line in message["lines"]]) == (
        "https://sqs.example/replies", [10, 4])


def test_a_purchase_order_and_its_cancellation_match_the_v2_queue_schema() -> None:
    order = po("SENT", **{"SKU-1": 10}).model_copy(update={"note": "rush", "deliver_to": "main"})
    v2 = validator("purchase-order.v2")
    v2.validate(json.loads(purchase_order_message(order, None).model_dump_json()))
    cancellation = json.loads(cancellation_message(order, "promo called off", "buyer-1").model_dump_json())
    v2.validate(cancellation)
    assert (cancellation["type"], cancellation["schema_version"], cancellation["reason"]) == (
        "PurchaseOrderCancellation", "2", "promo called off")
    assert not v2.is_valid({**cancellation, "po_id": ""})
    assert not validator("purchase-order.v1").is_valid(cancellation)  # a v1 reader does not take it for an order


def test_the_sample_reply_matches_the_reply_schema_and_model() -> None:
    body = json.loads((EVENTS / "samples" / "supplier_events_reply.json").read_text())["Records"][0]["body"]
    validator("supplier-reply.v1").validate(json.loads(body))
    assert SupplierReply.model_validate_json(body).type == "RECEIVED"


ACME_USER = "AIDAACMESUPPLIER00001"


@pytest.mark.parametrize(("registered", "sender_id", "problem"), [
    (ACME_USER, "AIDAOTHERSUPPLIER0001", "wrong_sender"),  # another supplier's IAM user
    (ACME_USER, None, "wrong_sender"),
    (ACME_USER, f"{ACME_USER}X", "wrong_sender"),  # a prefix is not the principal
    (None, ACME_USER, "no_registered_principal"),  # nobody registered: nobody may claim acme
])
def test_a_reply_from_another_principal_than_the_registered_one_is_forged(registered, sender_id, problem) -> None:
    acme = Supplier(supplier_id="acme", name="Acme", queue_url="https://sqs/po-acme", reply_principal=registered)
    with pytest.raises(ReplyForged) as refused:
        check_sender(reply("ACKNOWLEDGED"), acme, sender_id)
    assert refused.value.details["problem"] == problem and isinstance(refused.value, ReplyRejected)
    with pytest.raises(ReplyForged) as unknown:
        check_sender(reply("ACKNOWLEDGED"), None, ACME_USER)
    assert unknown.value.details["problem"] == "unknown_supplier"


def test_the_registered_principal_is_accepted_as_a_user_or_as_a_role_session() -> None:
    acme = Supplier(supplier_id="acme", name="Acme", queue_url="https://sqs/po-acme",
                    reply_principal="AROAACMEROLE00000001")
    check_sender(reply("ACKNOWLEDGED"), acme, "AROAACMEROLE00000001")
    check_sender(reply("ACKNOWLEDGED"), acme, "AROAACMEROLE00000001:erp-sender")


@pytest.mark.parametrize("principal", ["", "short", "AIDA ACME", "arn:aws:iam::123456789012:user/acme", "A" * 129])
def test_a_reply_principal_is_a_principal_id(principal) -> None:
    with pytest.raises(ValueError):
        SupplierIn(name="Acme", reply_principal=principal)
