"""A transaction cancelled only by a conflict with another, or a single write refused because a transaction
held its item, is tried again, with jitter, a few times; one whose condition failed is never retried; the
error names what happened."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from orderflow.platform import dynamo
from orderflow.shared.errors import ConditionFailed, TransientError

WRITES = [dynamo.Write("Update", "stock", key={"sku": "A", "record": "LEVEL#main"}, update="ADD on_hand :q",
                       values={":q": 1}),
          dynamo.Write("Update", "orders", key={"order_id": "o-1"}, update="SET v = :v", values={":v": 1})]


def cancelled(*codes: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": c} for c in codes]}, "TransactWriteItems")


class Client:
    def __init__(self, *answers: Exception | None):
        self.answers, self.calls = list(answers), 0

    def transact_write_items(self, **_: object) -> dict:
        self.calls += 1
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer
        return {}

    update_item = transact_write_items


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, "UpdateItem")


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(dynamo.time, "sleep", lambda _: None)


def test_a_conflict_is_tried_again_until_the_transaction_lands(monkeypatch, no_sleep):
    client = Client(cancelled("TransactionConflict", "None"), cancelled("None", "TransactionConflict"), None)
    monkeypatch.setattr(dynamo, "client", lambda: client)
    dynamo.transact(WRITES)
    assert client.calls == 3


def test_a_conflict_that_persists_is_a_transient_error_that_says_so(monkeypatch, no_sleep):
    client = Client(*[cancelled("TransactionConflict", "None")] * dynamo.CONFLICT_ATTEMPTS)
    monkeypatch.setattr(dynamo, "client", lambda: client)
    with pytest.raises(TransientError, match="conflicted with another"):
        dynamo.transact(WRITES)
    assert client.calls == dynamo.CONFLICT_ATTEMPTS


def test_a_failed_condition_is_not_retried_here(monkeypatch, no_sleep):
    alone = Client(cancelled("ConditionalCheckFailed", "None"))
    monkeypatch.setattr(dynamo, "client", lambda: alone)
    with pytest.raises(ConditionFailed) as failure:
        dynamo.transact(WRITES)
    assert alone.calls == 1 and failure.value.failed(0) and not failure.value.failed(1)
    # beside a conflict, the outcome may change once the other transaction is done: the caller decides
    # again on fresh reads (a workflow step's Retry, a request's TRY_AGAIN), this loop does not retry it
    mixed = Client(cancelled("ConditionalCheckFailed", "TransactionConflict"))
    monkeypatch.setattr(dynamo, "client", lambda: mixed)
    with pytest.raises(TransientError):
        dynamo.transact(WRITES)
    assert mixed.calls == 1


def test_throttling_is_left_to_the_caller_s_own_retry(monkeypatch, no_sleep):
    client = Client(cancelled("ThrottlingError", "None"))
    monkeypatch.setattr(dynamo, "client", lambda: client)
    with pytest.raises(TransientError, match="throttled"):
        dynamo.transact(WRITES)
    assert client.calls == 1


def test_a_single_write_that_meets_a_transaction_is_tried_again_until_it_lands(monkeypatch, no_sleep):
    client = Client(refused("TransactionConflictException"), refused("TransactionConflictException"), None)
    monkeypatch.setattr(dynamo, "client", lambda: client)
    dynamo.apply(WRITES[0])
    assert client.calls == 3

    held = Client(*[refused("TransactionConflictException")] * dynamo.CONFLICT_ATTEMPTS)
    monkeypatch.setattr(dynamo, "client", lambda: held)
    with pytest.raises(TransientError, match="TransactionConflictException"):
        dynamo.apply(WRITES[0])
    assert held.calls == dynamo.CONFLICT_ATTEMPTS


@pytest.mark.parametrize("code", ["ConditionalCheckFailedException", "ProvisionedThroughputExceededException"])
def test_a_single_write_s_failed_condition_or_throttle_is_not_retried_here(monkeypatch, no_sleep, code):
    client = Client(refused(code))  # a throttle was retried by botocore already
    monkeypatch.setattr(dynamo, "client", lambda: client)
    with pytest.raises((ConditionFailed, TransientError)):
        dynamo.apply(WRITES[0])
    assert client.calls == 1


def test_a_read_of_items_a_transaction_holds_is_tried_again_and_answers_them(monkeypatch, no_sleep):
    class Reads(Client):
        def transact_get_items(self, **_: object) -> dict:
            self.transact_write_items()
            return {"Responses": [{"Item": {"sku": {"S": "A"}, "on_hand": {"N": "3"}}}, {}]}

    client = Reads(cancelled("TransactionConflict", "None"), None)
    monkeypatch.setattr(dynamo, "client", lambda: client)
    assert dynamo.transact_get("stock", [{"sku": "A"}, {"sku": "B"}]) == [{"sku": "A", "on_hand": 3}]
    assert client.calls == 2
