"""The offline stack made as harsh as AWS (local/faults.py): each behaviour, switched on, really happens.

One stack of the harsh fixture (tests/local/fixtures/harsh) for the module, started with the stream
poller on and every rate at zero; each test sets the rates it needs (``LocalStack.set_faults``). The
functions' handlers are replaced by :class:`Handlers`, which records each event and answers as the test says.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from local_support import eventually
from typer.testing import CliRunner

from orderflow_cli.main import app as cli
from orderflow_local import contention
from orderflow_local.faults import Faults
from orderflow_local.stack import LocalStack

HARSH_TEMPLATE = Path(__file__).parent / "fixtures" / "harsh" / "template.yaml"
TABLE = "harsh-counters"
BASE = Faults(stream_poller=True, stream_poll_seconds=0.02)
FUNCTIONS = ("ChangesFunction", "JobsFunction", "StepFunction")


class Handlers:
    """Stands in for the fixture's functions: records (function, event) and runs ``answer[function]``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.answer: dict[str, Callable[[Any], Any]] = {}
        self.lock = threading.Lock()

    def of(self, logical_id: str) -> Callable[[Any, Any], Any]:
        def handler(event: Any, context: Any) -> Any:
            with self.lock:
                self.events.append((logical_id, event))
            answer = self.answer.get(logical_id)
            return answer(event) if answer else {}

        return handler

    def seen(self, logical_id: str) -> list[Any]:
        with self.lock:
            return [event for fn, event in self.events if fn == logical_id]


@pytest.fixture(scope="module")
def harsh() -> Iterator[tuple[LocalStack, Handlers]]:
    local = LocalStack(HARSH_TEMPLATE, faults=BASE)
    handlers = Handlers()
    try:
        local.start()
        for fn in FUNCTIONS:
            local.runtime.inject_fault(fn, handlers.of(fn), times=1_000_000)
        yield local, handlers
    finally:
        local.stop()


@pytest.fixture
def stack(harsh: tuple[LocalStack, Handlers]) -> Iterator[LocalStack]:
    local, handlers = harsh
    local.set_faults(BASE)
    handlers.answer.clear()
    with handlers.lock:
        handlers.events.clear()
    yield local
    local.set_faults(BASE)
    handlers.answer.clear()


@pytest.fixture
def handlers(harsh: tuple[LocalStack, Handlers]) -> Handlers:
    return harsh[1]


def no_retries(stack: LocalStack, service: str) -> Any:
    """A client that shows each error AWS answers (botocore would retry throttles and conflicts)."""
    import boto3

    return boto3.client(service, endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def queue_name(stack: LocalStack, logical_id: str) -> str:
    return next(q.name for q in stack.resources.queues if q.logical_id == logical_id)


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def reasons(error: ClientError) -> list[str]:
    return [r["Code"] for r in error.response["CancellationReasons"]]


def put(pk: str, n: int = 0) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "n": {"N": str(n)}}}}


# ---------------------------------------------------------------------- settings
def test_faults_parse_from_the_environment_form() -> None:
    parsed = Faults.parse("duplicate_executions=0.2,transaction_conflicts=0.3,throttles=0.1,sqs_duplicates=0.1")
    assert (parsed.duplicate_executions, parsed.transaction_conflicts, parsed.throttles, parsed.sqs_duplicates) == (
        0.2, 0.3, 0.1, 0.1)
    assert not parsed.stream_poller and parsed.write_units_per_key is None
    harsh = Faults.parse("harsh,seed=7,write_units_per_key=none")
    assert harsh.stream_poller and harsh.express_name_reuse and harsh.seed == 7 and harsh.write_units_per_key is None
    assert not Faults.parse("").any and Faults.parse("harsh").any
    for bad in ("throttles=2", "nonsense=1", "throttles"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


def test_up_takes_the_faults_on_its_command_line() -> None:
    from orderflow_local.__main__ import _parse_args

    assert _parse_args(["up", "--faults", "throttles=0.1,seed=3"]).faults == Faults(throttles=0.1, seed=3)
    assert _parse_args(["up"]).faults is None  # the stack reads ORDERFLOW_LOCAL_FAULTS then
    with pytest.raises(SystemExit):
        _parse_args(["up", "--faults", "throttles=7"])


def test_another_moto_version_refuses_to_boot(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    from orderflow_local import fidelity

    fidelity.check_moto_version()
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(RuntimeError, match=r"moto 5\.3\.0 is installed"):
        fidelity.check_moto_version()


def test_a_transaction_put_without_its_key_is_a_validation_error_not_moto_s_fallback(stack: LocalStack) -> None:
    with pytest.raises(ClientError) as refused:
        stack.boto3_client("dynamodb").transact_write_items(TransactItems=[
            put("fine", 1), {"Put": {"TableName": TABLE, "Item": {"n": {"N": "1"}}}}])
    assert code(refused.value) == "ValidationException"
    assert "Missing the key pk" in refused.value.response["Error"]["Message"]
    assert "Item" not in stack.boto3_client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "fine"}})


def test_a_condition_comparing_mismatched_types_is_false_not_a_server_error(stack: LocalStack) -> None:
    dynamodb = stack.boto3_client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "typed"}, "n": {"N": "1"}})
    for condition, values in (("n < :s", {":s": {"S": "a"}}), ("n >= :s", {":s": {"S": "a"}}),
                              ("n BETWEEN :a AND :b", {":a": {"S": "a"}, ":b": {"S": "z"}})):
        with pytest.raises(ClientError) as refused:
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "typed"}, "n": {"N": "2"}},
                              ConditionExpression=condition, ExpressionAttributeValues=values)
        assert code(refused.value) == "ConditionalCheckFailedException", condition
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "typed"}, "n": {"N": "2"}}, ConditionExpression="n < :two",
                      ExpressionAttributeValues={":two": {"N": "2"}})  # same types still compare


# ---------------------------------------------------------------------- Step Functions, Express
def test_an_express_start_with_a_used_name_runs_again_as_on_aws(stack: LocalStack, handlers: Handlers) -> None:
    sfn = stack.boto3_client("stepfunctions")
    machine = stack.resources.state_machine("QuickStateMachine").arn
    sfn.start_execution(stateMachineArn=machine, name="same", input=json.dumps({"run": 1}))
    eventually(lambda: handlers.seen("StepFunction"), timeout=20)
    with pytest.raises(ClientError) as refused:  # moto's answer, when the behaviour is off
        sfn.start_execution(stateMachineArn=machine, name="same", input=json.dumps({"run": 2}))
    assert code(refused.value) == "ExecutionAlreadyExists"

    stack.set_faults(Faults(stream_poller=True, express_name_reuse=True))
    sfn.start_execution(stateMachineArn=machine, name="same", input=json.dumps({"run": 3}))
    eventually(lambda: {3} <= {e["run"] for e in handlers.seen("StepFunction")})


def test_a_duplicated_express_start_runs_twice_concurrently(stack: LocalStack, handlers: Handlers) -> None:
    stack.set_faults(Faults(stream_poller=True, duplicate_executions=1.0))
    entered = threading.Barrier(2, timeout=10)
    handlers.answer["StepFunction"] = lambda event: entered.wait() and {}  # both runs inside the step at once
    machine = stack.resources.state_machine("QuickStateMachine").arn
    stack.boto3_client("stepfunctions").start_execution(stateMachineArn=machine, name="twice",
                                                        input=json.dumps({"run": "twice"}))
    eventually(lambda: len(handlers.seen("StepFunction")) == 2)
    assert stack.injected["duplicate_executions"] == 1


def test_express_executions_cannot_be_listed_described_or_traced_as_on_aws(stack: LocalStack) -> None:
    sfn = stack.boto3_client("stepfunctions")
    machine = stack.resources.state_machine("QuickStateMachine").arn
    arn = sfn.start_execution(stateMachineArn=machine, name="quiet", input="{}")["executionArn"]
    with pytest.raises(ClientError) as listed:
        sfn.list_executions(stateMachineArn=machine)
    assert code(listed.value) == "StateMachineTypeNotSupported"
    for call in (sfn.describe_execution, sfn.get_execution_history):
        with pytest.raises(ClientError) as refused:
            call(executionArn=arn)
        assert code(refused.value) == "InvalidArn"
    assert stack.wait_for_execution(arn)["status"] == "SUCCEEDED"  # the stack reads it in-process
    assert sfn.describe_state_machine(stateMachineArn=machine)["tracingConfiguration"] == {"enabled": True}


def test_tables_report_the_encryption_the_template_turns_on(stack: LocalStack) -> None:
    described = stack.boto3_client("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert described["SSEDescription"]["Status"] == "ENABLED"


# ---------------------------------------------------------------------- DynamoDB transactions
def test_a_transaction_holding_an_item_cancels_a_concurrent_one_with_transaction_conflict(stack: LocalStack) -> None:
    stack.set_faults(Faults(stream_poller=True, transaction_window=2.0))
    dynamodb = no_retries(stack, "dynamodb")
    first: list[Any] = []
    holder = threading.Thread(target=lambda: first.append(dynamodb.transact_write_items(
        TransactItems=[put("held", 1), put("other-1", 1)])))
    holder.start()
    eventually(lambda: contention.held() == 2)  # the first transaction now holds its items (for 2 s)
    with pytest.raises(ClientError) as second:
        dynamodb.transact_write_items(TransactItems=[put("other-2", 2), put("held", 2)])
    assert code(second.value) == "TransactionCanceledException"
    assert reasons(second.value) == ["None", "TransactionConflict"]
    with pytest.raises(ClientError) as single:
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "held"}, "n": {"N": "3"}})
    assert code(single.value) == "TransactionConflictException"
    holder.join()
    assert first  # the holder committed; nothing of the cancelled ones was written
    assert dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "held"}})["Item"]["n"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "other-2"}})
    dynamodb.transact_write_items(TransactItems=[put("held", 4)])  # released once committed


def test_injected_transaction_conflicts_follow_the_rate_and_the_seed(stack: LocalStack) -> None:
    dynamodb = no_retries(stack, "dynamodb")

    def outcomes() -> list[bool]:
        stack.set_faults(Faults(stream_poller=True, transaction_conflicts=0.5, seed=20))
        results = []
        for n in range(40):
            try:
                dynamodb.transact_write_items(TransactItems=[put(f"seeded-{n}", n), put(f"seeded-b-{n}", n)])
                results.append(True)
            except ClientError as exc:
                assert code(exc) == "TransactionCanceledException"
                assert sorted(reasons(exc)) == ["None", "TransactionConflict"]
                results.append(False)
        return results

    once = outcomes()
    assert 5 < once.count(False) < 35
    assert outcomes() == once  # the same seed, the same conflicts


# ---------------------------------------------------------------------- DynamoDB throughput
def test_a_hot_partition_key_is_throttled_and_spread_keys_are_not(stack: LocalStack) -> None:
    stack.set_faults(Faults(stream_poller=True, write_units_per_key=5.0, read_units_per_key=15.0))
    dynamodb = no_retries(stack, "dynamodb")

    def throttled(keys: list[str]) -> int:
        count = 0
        for pk in keys:
            try:
                dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "n": {"N": "1"}})
            except ClientError as exc:
                assert code(exc) == "ProvisionedThroughputExceededException"
                assert exc.response["ThrottlingReasons"][0]["reason"] == "TableWriteKeyRangeThroughputExceeded"
                count += 1
        return count

    assert throttled([f"spread-{n}" for n in range(100)]) == 0
    assert throttled(["hot"] * 100) >= 30  # 5 units a second: fewer than 30 only if 100 writes took over 13 s


def test_injected_throttles_answer_provisioned_throughput_exceeded(stack: LocalStack) -> None:
    stack.set_faults(Faults(stream_poller=True, throttles=1.0))
    dynamodb = no_retries(stack, "dynamodb")
    with pytest.raises(ClientError) as throttled:
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "any"}})
    assert code(throttled.value) == "ProvisionedThroughputExceededException"
    assert stack.injected["throttles"] == 1


# ---------------------------------------------------------------------- DynamoDB Streams
def changes_mapping(stack: LocalStack) -> str:
    lambda_ = stack.boto3_client("lambda")
    (mapping,) = [m for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
                  if ":dynamodb:" in m["EventSourceArn"]]
    return mapping["UUID"]


def write_while_paused(stack: LocalStack, names: list[str]) -> None:
    """Put an item per name while the stream's mapping is disabled, then enable it: one batch waits."""
    lambda_ = stack.boto3_client("lambda")
    uuid = changes_mapping(stack)
    lambda_.update_event_source_mapping(UUID=uuid, Enabled=False)
    time.sleep(0.2)  # the poller has seen the mapping disabled
    for pk in names:
        stack.boto3_client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": pk}})
    lambda_.update_event_source_mapping(UUID=uuid, Enabled=True)


def keys(events: list[Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for event in events for r in event["Records"]]


def test_the_stream_is_read_after_the_write_returns_in_batches(stack: LocalStack, handlers: Handlers) -> None:
    release = threading.Event()
    handlers.answer["ChangesFunction"] = lambda event: release.wait(10) and {}
    dynamodb = stack.boto3_client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "async-0"}})  # returns while the consumer waits
    eventually(lambda: "async-0" in keys(handlers.seen("ChangesFunction")))
    release.set()
    expected = [f"async-{n}" for n in range(1, 13)]
    write_while_paused(stack, expected)
    eventually(lambda: keys(handlers.seen("ChangesFunction"))[-12:] == expected)
    batches = [len(e["Records"]) for e in handlers.seen("ChangesFunction")
               if any(k in expected for k in keys([e]))]
    assert batches == [10, 2]  # BatchSize 10, in order
    record = handlers.seen("ChangesFunction")[-1]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventSourceARN"].endswith(
        "/stream/" + record["eventSourceARN"].rsplit("/", 1)[1])


def test_a_failing_record_is_bisected_retried_then_sent_to_the_failure_destination(
        stack: LocalStack, handlers: Handlers) -> None:
    def fail_on_poison(event: Any) -> Any:
        if "poison" in keys([event]):
            raise RuntimeError("cannot publish")
        return {}

    handlers.answer["ChangesFunction"] = fail_on_poison
    names = ["b-0", "b-1", "b-2", "poison", "b-4", "b-5", "b-6", "b-7"]
    write_while_paused(stack, names)
    sqs = stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name(stack, "ChangesFailureQueue"))["QueueUrl"]
    message = eventually(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))[0]
    info = json.loads(message["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["batchSize"] == 1  # bisected down to the poison record alone
    def delivered() -> list[str]:  # the rest of the batch goes on after the poison record is discarded
        return sorted({k for e in handlers.seen("ChangesFunction") if "poison" not in keys([e]) for k in keys([e])})

    eventually(lambda: delivered() == sorted(n for n in names if n != "poison"))
    sizes = [len(e["Records"]) for e in handlers.seen("ChangesFunction")]
    assert sizes[:3] == [8, 4, 2]  # the whole batch, then halves down to the poison record
    assert sum(keys([e]) == ["poison"] for e in handlers.seen("ChangesFunction")) == 3  # alone: 1 + 2 retries


def test_a_discarded_batch_is_redriven_from_the_stream_within_its_retention(
        stack: LocalStack, handlers: Handlers) -> None:
    """The pointer names the records; ``orderflow streams redrive`` reads them back from the stream (which
    keeps them 24 hours), invokes the function with them and deletes the pointer once they are handled."""
    broken = {"yes": True}

    def fail_while_broken(event: Any) -> Any:
        if broken["yes"] and "lost-1" in keys([event]):
            raise RuntimeError("the bus is down")
        return {}

    handlers.answer["ChangesFunction"] = fail_while_broken
    write_while_paused(stack, ["kept-0", "lost-1", "kept-2"])
    queue = queue_name(stack, "ChangesFailureQueue")
    sqs = stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    eventually(lambda: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                           ["Attributes"]["ApproximateNumberOfMessages"]) >= 1)
    eventually(lambda: "kept-2" in keys(handlers.seen("ChangesFunction")))  # the shard went on without it
    broken["yes"] = False
    before = len(handlers.seen("ChangesFunction"))

    redrive = ["streams", "redrive", "--queue", queue, "--aws-endpoint", stack.aws_endpoint]
    result = CliRunner().invoke(cli, redrive)
    assert result.exit_code == 0, result.output
    assert "redriven" in result.output
    (redriven,) = [e for e in handlers.seen("ChangesFunction")[before:] if keys([e]) == ["lost-1"]]
    sequence = redriven["Records"][0]["dynamodb"]["SequenceNumber"]  # the skipped record, read back
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages") or []
    assert sequence not in {json.loads(m["Body"])["DDBStreamBatchInfo"]["startSequenceNumber"] for m in left}


def test_reported_item_failures_are_retried_from_the_checkpoint(stack: LocalStack, handlers: Handlers) -> None:
    failed_once: list[str] = []

    def report_third(event: Any) -> Any:
        records = event["Records"]
        if len(records) >= 3 and not failed_once:
            failed_once.append(records[2]["dynamodb"]["SequenceNumber"])
            return {"batchItemFailures": [{"itemIdentifier": records[2]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    handlers.answer["ChangesFunction"] = report_third
    write_while_paused(stack, [f"c-{n}" for n in range(5)])
    eventually(lambda: len(handlers.seen("ChangesFunction")) >= 2)
    first, second = (keys([e]) for e in handlers.seen("ChangesFunction")[:2])
    assert first == [f"c-{n}" for n in range(5)]
    assert second == ["c-2", "c-3", "c-4"]


# ---------------------------------------------------------------------- SQS
def test_an_sqs_message_is_delivered_again_at_the_duplicate_rate(stack: LocalStack, handlers: Handlers) -> None:
    stack.set_faults(Faults(stream_poller=True, sqs_duplicates=1.0))
    sqs = stack.boto3_client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name(stack, "JobsQueue"))["QueueUrl"]
    message_id = sqs.send_message(QueueUrl=url, MessageBody="once")["MessageId"]

    def deliveries() -> list[Any]:
        return [r for e in handlers.seen("JobsFunction") for r in e["Records"] if r["messageId"] == message_id]

    eventually(lambda: len(deliveries()) >= 2, timeout=30)  # again after the (local 2 s) visibility timeout
    assert stack.injected["sqs_duplicates"] >= 1
    stack.set_faults(BASE)
    assert {r["body"] for r in deliveries()} == {"once"}
    assert int(deliveries()[1]["attributes"]["ApproximateReceiveCount"]) >= 2


def test_a_stream_poller_gathers_records_for_the_batching_window_or_until_the_batch_is_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``MaximumBatchingWindowInSeconds``: records wait from when they are first seen, on a stepping clock."""
    from orderflow_local.streams import _Poller

    now = [0.0]
    monkeypatch.setattr("orderflow_local.streams.time.monotonic", lambda: now[0])
    poller = _Poller(owner=None, mapping_uuid="u", function_arn="arn", table=None)  # type: ignore[arg-type]

    assert poller.gather(3, 100, window=0) == 0  # no window: invoked at once
    assert poller.gather(3, 100, window=5) == 5  # first seen now
    now[0] = 4.0
    assert poller.gather(7, 100, window=5) == 1  # more arrived: still gathering
    now[0] = 5.0
    assert poller.gather(9, 100, window=5) == 0  # the window is over: invoked
    assert poller.gather(1, 100, window=5) == 5  # the next ones start a window of their own
    now[0] = 6.0
    assert poller.gather(100, 100, window=5) == 0  # a full batch goes at once
    assert poller.gather(2, 100, window=5) == 5
