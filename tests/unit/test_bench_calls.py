"""The calls bench's request-unit model for writes (benchmarks/calls.py): a write is billed on the larger of
its item before and after it, per KB started, twice inside a transaction. Pure: images are given, no stack."""

from benchmarks.calls import request_units, written_bytes
from benchmarks.harness import Call


def _image(size: int) -> dict:
    """A DynamoDB-JSON item of ``size`` bytes: a 2-byte key ``pk`` and a string ``v`` (1 byte name)."""
    return {"pk": {"S": "o1"}, "v": {"S": "x" * (size - 5)}}


def test_an_update_is_billed_on_the_larger_of_before_and_after():
    grows = Call("F", "UpdateItem", [("T", {"pk": {"S": "o1"}})], images=[(_image(900), _image(1100))])
    shrinks = Call("F", "UpdateItem", [("T", {"pk": {"S": "o1"}})], images=[(_image(1100), _image(900))])

    assert written_bytes(grows, {}) == written_bytes(shrinks, {}) == [1100]
    assert request_units(grows, {}) == request_units(shrinks, {}) == (2, 0)


def test_a_put_of_a_new_item_and_a_delete_are_billed_on_the_item_there_is():
    put = Call("F", "PutItem", [("T", {"pk": {"S": "o1"}})], images=[(None, _image(500))])
    delete = Call("F", "DeleteItem", [("T", {"pk": {"S": "o1"}})], images=[(_image(2000), None)])

    assert request_units(put, {}) == (1, 0)
    assert request_units(delete, {}) == (2, 0)


def test_a_transaction_bills_each_item_twice_and_without_images_falls_back_to_the_final_size():
    items = [("T", {"pk": {"S": "o1"}}), ("T", {"pk": {"S": "o2"}})]
    with_images = Call("F", "TransactWriteItems", items, images=[(_image(100), _image(1030)), (_image(80), _image(80))])
    without = Call("F", "TransactWriteItems", items)
    final = {("T", repr(sorted(k.items()))): 3000 for _, k in items}

    assert request_units(with_images, final) == (2 * 2 + 2 * 1, 0)
    assert request_units(without, final) == (2 * 3 + 2 * 3, 0)
