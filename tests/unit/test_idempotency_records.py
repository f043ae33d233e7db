"""What the idempotency record keeps of a response (orderflow.platform.idempotency): compressed, given
back exactly, and records kept before compression still replay."""

from decimal import Decimal

from orderflow.platform.idempotency import packed_response, unpacked_response


def _order_answer() -> dict:
    entry = {"status": "PENDING", "at": "2026-12-06T14:49:53.193Z", "reason": "received via api", "by": "customer"}
    return {"order_id": "ord-3fcce997ae779ff63cc6", "customer_id": "acme", "status": "PENDING", "total": 30.5,
            "lines": [{"sku": f"SKU-{i}", "quantity": i + 1, "unit_price": 9.5 + i, "name": f"Item {i}"}
                      for i in range(5)],
            "shipping_address": {"name": "Acme Ltd", "line1": "1 Dock Road", "city": "Leeds",
                                 "postal_code": "LS1 4AP", "country": "GB"},
            "timeline": [entry], "shipments": [], "returned": {}, "deadline": "2026-12-06T14:59:53.193Z"}


def test_a_response_comes_back_exactly_and_is_stored_smaller():
    answer = _order_answer()
    stored = packed_response(answer)

    assert unpacked_response(stored) == answer
    assert len(stored["z"]) < 0.8 * len(str(answer))


def test_values_come_back_as_powertools_would_have_stored_them_uncompressed():
    # Powertools' own encoder writes a Decimal as its string; the replay answers what the record held.
    assert unpacked_response(packed_response({"amount": Decimal("12.50"), "n": 3})) == {"amount": "12.50", "n": 3}


def test_a_record_stored_before_compression_replays_as_it_was():
    assert unpacked_response({"order_id": "ord-1", "status": "PENDING"}) == {"order_id": "ord-1", "status": "PENDING"}
