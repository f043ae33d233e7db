"""Injected faults on the order path, then checked for consistency.

- DynamoDB throttling on every workflow step, answered by a botocore hook on the functions' own DynamoDB
  client, so the SDK's retries, ``orderflow.platform.dynamo``'s translation and the ASL's Retry all run
  as they would on AWS;
- step handlers that crash after their write landed but before they returned;
- the intake crashing between "order stored" and "workflow started".

The faults go in through ``LambdaRuntime.inject_fault`` (``FaultPlan``): the injected callable marks its
thread and runs the real handler (``runtime.invoke``), so only that invocation sees the fault.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from reliability_support import SOAK, dynamodb_error

from orderflow.orders.service import order_id_for
from orderflow.platform import aws
from orderflow.shared.errors import TransientError
from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

ORDER_MACHINE = "OrderProcessingStateMachine"
WAIT = 60.0
ASL_ATTEMPTS = 7  # statemachines/order_processing.asl.json: the first try and MaxAttempts 6 retries


class LambdaServiceError(RuntimeError):
    """The invocation failed in Lambda after the code ran (the ASL retries it)."""

    error_type = "Lambda.ServiceException"


class Timeout(RuntimeError):
    """Lambda killed the invocation at its timeout (the ASL does not retry it)."""

    error_type = "Sandbox.Timedout"


class Killed(BaseException):
    """The process dies mid-invocation: no ``except Exception`` (Powertools' included) runs."""


class DynamoFaults:
    """Answers DynamoDB requests of marked threads with throttling errors, before they reach moto.

    ``plan`` per thread: ``"throttle"`` answers the next request ProvisionedThroughputExceededException on
    every SDK attempt (so it surfaces after botocore's retries); ``"throttle-transaction"`` answers the next
    TransactWriteItems TransactionCanceledException with ThrottlingError on its stock and customer items,
    after letting ``skip`` transactions through.
    """

    def __init__(self, orders_table: str) -> None:
        self.orders_table = orders_table
        self.local = threading.local()
        self.answered: Counter[str] = Counter()
        self.sdk_attempts = 0
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[DynamoFaults]:
        client = aws.client("dynamodb")  # the client every function of the local stack shares
        self.sdk_attempts = client.meta.config.retries["total_max_attempts"]
        handler_id = f"reliability-faults-{uuid.uuid4()}"
        client.meta.events.register("before-send.dynamodb", self._before_send, unique_id=handler_id)
        try:
            yield self
        finally:
            client.meta.events.unregister("before-send.dynamodb", unique_id=handler_id)

    @contextmanager
    def plan(self, plan: str, skip: int = 0) -> Iterator[None]:
        self.local.plan, self.local.left = plan, self.sdk_attempts if plan == "throttle" else 1
        self.local.skip = skip
        try:
            yield
        finally:
            self.local.plan = None

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        plan = getattr(self.local, "plan", None)
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rsplit(".", 1)[-1]
        if not plan or self.local.left <= 0:
            return None
        if plan == "throttle-transaction":
            if operation != "TransactWriteItems":
                return None
            if self.local.skip:
                self.local.skip -= 1
                return None
            items = json.loads(request.body)["TransactItems"]
            reasons = [{"Code": "None"} if next(iter(i.values()))["TableName"] == self.orders_table else
                       {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity of your "
                                                              "table or index."} for i in items]
            response = dynamodb_error(request, "TransactionCanceledException",
                                      "Transaction cancelled, please refer cancellation reasons for specific "
                                      f"reasons [{', '.join(r['Code'] for r in reasons)}]",
                                      CancellationReasons=reasons)
        else:
            response = dynamodb_error(request, "ProvisionedThroughputExceededException",
                                      "The level of configured provisioned throughput for the table was exceeded.")
        self.local.left -= 1
        with self._lock:
            self.answered[operation] += 1
        return response


@pytest.fixture(scope="module")
def faults(stack) -> Iterator[DynamoFaults]:
    orders_table = next(t.name for t in stack.resources.tables if t.logical_id == "OrdersTable")
    with DynamoFaults(orders_table).installed() as installed:
        yield installed


@pytest.fixture(scope="module")
def client(stack) -> Iterator[OrderflowClient]:
    with OrderflowClient(stack.api_url, timeout=60) as c:
        yield c


@pytest.fixture
def shop(client):  # type: ignore[no-untyped-def]
    """A fresh SKU with ``stock`` units and a customer with a credit limit of 1,000."""
    prefix = f"F{uuid.uuid4().hex[:8]}"

    def make(stock: int, price: float = 10.0) -> tuple[str, str]:
        sku, customer = f"{prefix}-SKU", f"{prefix}-C"
        client.put_product(sku, sku, price)
        if stock:
            client.adjust_stock(sku, stock, "opening stock")
        client.put_customer(customer, customer, 1000)
        return sku, customer

    return make


# ------------------------------------------------------------------ injecting through the runtime
Fault = Callable[[Any, Callable[[], Any]], Any]
"""``fault(event, real)``: runs in place of a function's handler; ``real()`` runs the real one."""


class FaultPlan:
    """The next invocations' faults, per function, handed to ``LambdaRuntime.inject_fault`` one at a time.

    A fault runs the real handler through ``runtime.invoke``, which would take the next fault queued for
    the same function; so the next one is injected only once the current one has run. ``when(event)``
    picks the invocation a fault is for (the others run unharmed). When the test ends, faults that never
    ran are disarmed (they run the real handler) so they cannot leak into other tests.
    """

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.queued: dict[str, deque[tuple[Fault, Callable[[Any], bool] | None]]] = defaultdict(deque)
        self.armed: set[str] = set()
        self.open = True
        self._lock = threading.RLock()

    def add(self, function: str, fault: Fault, times: int = 1, when: Callable[[Any], bool] | None = None) -> None:
        with self._lock:
            self.queued[function].extend([(fault, when)] * times)
            if function not in self.armed:
                self._arm(function)

    def _arm(self, function: str) -> None:
        self.armed.add(function)

        def run(event: Any, _context: Any) -> Any:
            def real() -> Any:
                return self.runtime.invoke(function, event)

            with self._lock:
                fault, when = self.queued[function][0] if self.queued[function] else (None, None)
                hit = fault is not None and self.open and (when is None or when(event))
                if hit:
                    self.queued[function].popleft()
            try:
                return fault(event, real) if hit else real()  # type: ignore[misc]
            finally:
                with self._lock:
                    self.armed.discard(function)
                    if self.queued[function] and self.open:
                        self._arm(function)

        self.runtime.inject_fault(function, run)


@pytest.fixture
def plan(stack) -> Iterator[FaultPlan]:  # type: ignore[no-untyped-def]
    faults = FaultPlan(stack.runtime)
    yield faults
    faults.open = False


def throttle(faults: DynamoFaults, how: str = "throttle", skip: int = 0) -> Fault:
    """The invocation's first DynamoDB request (``how="throttle"``) or transaction (after ``skip`` of them) is
    throttled."""

    def fault(_event: Any, real: Callable[[], Any]) -> Any:
        with faults.plan(how, skip):
            return real()

    return fault


def crash_after(error: type[Exception]) -> Fault:
    """The invocation does all its work, then fails with ``error`` instead of returning."""

    def fault(_event: Any, real: Callable[[], Any]) -> Any:
        real()
        raise error("crashed after its write")

    return fault


def fail(error: type[Exception]) -> Fault:
    def fault(_event: Any, _real: Callable[[], Any]) -> Any:
        raise error("failed before doing anything")

    return fault


def passes(_event: Any, real: Callable[[], Any]) -> Any:
    return real()


def failures(stack, order_id: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(state, error) of every failed attempt of the order's workflow steps, in order (from the local
    runtime's journal: an Express execution has no history to ask Step Functions for)."""
    return [(state, error) for state, error in stack.task_runs(ORDER_MACHINE, order_id=order_id) if error]


def retry_delays(stack, order_id: str, function: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from each failed attempt of ``function`` to its next attempt (a figure, never asserted)."""
    runs = [run for run in list(stack.runtime.journal)
            if run.logical_id == function and isinstance(run.event, dict) and run.event.get("order_id") == order_id]
    return [after.at - before.at for before, after in pairwise(runs) if before.error]


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def levels(client: OrderflowClient, sku: str, customer: str) -> tuple[dict, float]:
    stock = client.get_stock(sku)
    return {k: stock[k] for k in ("on_hand", "reserved", "available", "backordered")}, client.get_customer(
        customer)["exposure"]


def warehouse_call(path: str) -> Callable[[Any], bool]:
    return lambda event: event["rawPath"].endswith(path)


# ------------------------------------------------------------------ throttling on every step
def test_throttling_on_every_step_is_retried_and_the_order_is_delivered_once(stack, client, faults, plan, shop,
                                                                             figures):
    sku, customer = shop(stock=5)
    for function in ["ValidateOrderFunction", "CheckCreditFunction", "ReserveStockFunction"]:
        plan.add(function, throttle(faults))
    before = sum(faults.answered.values())

    order_id = client.submit_order(customer, [{"sku": sku, "quantity": 3}],
                                   shipping_address=SAMPLE_ADDRESS)[1]["order_id"]
    client.wait_for_status(order_id, "RESERVED", timeout=WAIT)
    assert levels(client, sku, customer) == ({"on_hand": 5, "reserved": 3, "available": 2, "backordered": 0}, 30)
    for path, call in (("/ship", client.ship), ("/deliver", client.deliver)):
        plan.add("OrderIntakeFunction", throttle(faults), when=warehouse_call(path))
        response = client.request("POST", f"/orders/{order_id}{path}", json={}, retry=False)
        assert response.status_code == 503 and response.json()["error"]["code"] == "TRY_AGAIN", response.text
        call(order_id)  # the warehouse's retry

    order = client.get_order(order_id)
    assert [e["status"] for e in order["timeline"]] == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED",
                                                        "SHIPPED", "DELIVERED"]
    assert failures(stack, order_id) == [(state, "TransientError") for state in ("Validate", "CheckCredit", "Reserve")]
    assert levels(client, sku, customer) == ({"on_hand": 2, "reserved": 0, "available": 2, "backordered": 0}, 30)
    throttles = sum(faults.answered.values()) - before
    assert throttles == 5 * faults.sdk_attempts
    figures("4. Faults on the order path", "DynamoDB throttling on every step",
            "3 workflow steps (Validate, CheckCredit, Reserve) and the ship and deliver calls each throttled on all "
            f"{faults.sdk_attempts} SDK attempts ({throttles} throttled requests): each step failed once with "
            "TransientError and Step Functions retried it; each call answered 503 TRY_AGAIN and the retry "
            "landed; the order was DELIVERED with 3 units shipped once")


def test_throttled_backorder_and_compensation_release_everything_exactly_once(stack, client, faults, plan, shop,
                                                                              figures):
    """Backordered (the backorder step throttled), woken by a receipt, then the reserve step keeps failing:
    the ASL gives up and compensates (that step throttled too); every hold comes back once."""
    sku, customer = shop(stock=1)
    plan.add("AwaitStockFunction", throttle(faults))
    order_id = client.submit_order(customer, [{"sku": sku, "quantity": 4}],
                                   shipping_address=SAMPLE_ADDRESS)[1]["order_id"]
    client.wait_for_status(order_id, "BACKORDERED", timeout=WAIT)
    eventually(lambda: ("Backorder", "TransientError") in failures(stack, order_id), "the throttled backorder")
    assert levels(client, sku, customer) == ({"on_hand": 1, "reserved": 0, "available": 1, "backordered": 4}, 40)

    plan.add("ReserveStockFunction", fail(LambdaServiceError), times=ASL_ATTEMPTS)
    plan.add("CompensateOrderFunction", throttle(faults))
    client.adjust_stock(sku, 3, "receipt")

    order = client.wait_for_status(order_id, "FAILED", timeout=WAIT)
    assert [e["status"] for e in order["timeline"]] == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED",
                                                        "FAILED"]
    assert failures(stack, order_id) == [("Reserve", "OutOfStock"), ("Backorder", "TransientError"),
                                         *[("Reserve", "Lambda.ServiceException")] * ASL_ATTEMPTS,
                                         ("Compensate", "TransientError")]
    assert levels(client, sku, customer) == ({"on_hand": 4, "reserved": 0, "available": 4, "backordered": 0}, 0)
    delays = ", ".join(f"{d:.1f}" for d in retry_delays(stack, order_id, "ReserveStockFunction")[1:])
    figures("4. Faults on the order path", "Step Functions' backoff between Reserve's attempts after the receipt",
            f"{delays} s (IntervalSeconds 1 and MaxDelaySeconds 4 locally, BackoffRate 2, full jitter; "
            "not asserted)")
    figures("4. Faults on the order path", "throttled backorder, then a step that keeps failing",
            f"Backorder throttled and retried; after the receipt Reserve failed {ASL_ATTEMPTS} times, Compensate "
            "was throttled and retried: order FAILED, 4 backordered units and 40.00 of credit given back once")


# ------------------------------------------------------------------ contention outlasting the retries
def test_contention_outlasting_a_steps_retries_never_fails_the_order(stack, client, faults, plan, shop, figures):
    """Issue #20 2b: a step whose Retry runs out on TransientError (other orders kept the items busy) is
    not compensated. Validate pauses and runs again; Reserve hands the order to Backorder, which reserves
    at once; and when that reserve is contended too, the order is woken in a new execution, as a receipt
    would wake it. Each order ends RESERVED with its stock and credit held once."""
    sku, customer = shop(stock=9)

    def reserved(quantity: int) -> tuple[str, list[str]]:
        """Submit an order of ``quantity`` units; once RESERVED, its id and the statuses on its timeline."""
        order_id = client.submit_order(customer, [{"sku": sku, "quantity": quantity}],
                                       shipping_address=SAMPLE_ADDRESS)[1]["order_id"]
        client.wait_for_status(order_id, "RESERVED", timeout=WAIT)
        return order_id, [e["status"] for e in client.get_order(order_id)["timeline"]]

    plan.add("ValidateOrderFunction", fail(TransientError), times=ASL_ATTEMPTS)
    validated_late, timeline = reserved(2)
    assert failures(stack, validated_late) == [("Validate", "TransientError")] * ASL_ATTEMPTS
    assert timeline == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED"]

    plan.add("ReserveStockFunction", fail(TransientError), times=ASL_ATTEMPTS)
    backordered_then_reserved, timeline = reserved(3)
    assert failures(stack, backordered_then_reserved) == [("Reserve", "TransientError")] * ASL_ATTEMPTS
    assert timeline == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED", "RESERVED"]

    plan.add("ReserveStockFunction", fail(TransientError), times=ASL_ATTEMPTS)
    # Backorder's own transaction lands; the reserve it then tries is throttled (a transaction cancelled
    # with ThrottlingError is not retried by the SDK).
    plan.add("AwaitStockFunction", throttle(faults, "throttle-transaction", skip=1))
    woken, timeline = reserved(4)
    runs = stack.task_runs(ORDER_MACHINE, order_id=woken)  # the woken Reserve may be journaled before Backorder
    assert runs[:-2][-ASL_ATTEMPTS:] == [("Reserve", "TransientError")] * ASL_ATTEMPTS, runs
    assert sorted(runs[-2:]) == [("Backorder", None), ("Reserve", None)], runs
    assert timeline == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED", "RESERVED"]

    assert levels(client, sku, customer) == ({"on_hand": 9, "reserved": 9, "available": 0, "backordered": 0}, 90)
    figures("4. Faults on the order path", "contention outlasting a step's retries (issue #20 2b)",
            f"Validate failed {ASL_ATTEMPTS} times with TransientError: paused at random and ran again; Reserve "
            f"failed {ASL_ATTEMPTS} times: handed to Backorder, which reserved at once; the same with that "
            "reserve throttled too: the order woken in a new execution and reserved. 3 orders "
            "RESERVED, none FAILED, 9 units and 90.00 held once")


# ------------------------------------------------------------------ crashes after the write
def test_a_step_that_crashes_after_its_write_is_retried_and_changes_nothing_twice(stack, client, plan, shop, figures):
    sku, customer = shop(stock=2)
    for function in ("ValidateOrderFunction", "CheckCreditFunction", "AwaitStockFunction"):
        plan.add(function, crash_after(LambdaServiceError))
    plan.add("ReserveStockFunction", passes)  # out of stock: nothing written
    plan.add("ReserveStockFunction", crash_after(LambdaServiceError))
    order_id = client.submit_order(customer, [{"sku": sku, "quantity": 3}],
                                   shipping_address=SAMPLE_ADDRESS)[1]["order_id"]
    client.wait_for_status(order_id, "BACKORDERED", timeout=WAIT)
    eventually(lambda: [s for s, _ in stack.task_runs(ORDER_MACHINE, order_id=order_id)].count("Backorder") == 2,
               "the crashed backorder step's retry")
    client.adjust_stock(sku, 1, "receipt")
    client.wait_for_status(order_id, "RESERVED", timeout=WAIT)
    eventually(lambda: [s for s, _ in stack.task_runs(ORDER_MACHINE, order_id=order_id)].count("Reserve") == 3,
               "the crashed reserve step's retry")
    client.ship(order_id)
    client.deliver(order_id)

    timeline = [e["status"] for e in client.get_order(order_id)["timeline"]]
    assert timeline == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "BACKORDERED", "RESERVED", "SHIPPED", "DELIVERED"]
    crashed = [state for state, error in failures(stack, order_id) if error == "Lambda.ServiceException"]
    assert crashed == ["Validate", "CheckCredit", "Backorder", "Reserve"]
    assert levels(client, sku, customer) == ({"on_hand": 0, "reserved": 0, "available": 0, "backordered": 0}, 30)
    figures("4. Faults on the order path", "a step crashing after its write (retried)",
            f"{len(crashed)} steps ({', '.join(crashed)}) each crashed once after their write; Step Functions "
            "re-ran each; the re-runs found their work done: order DELIVERED, 3 units reserved and shipped once, "
            "30.00 held once")


def test_a_step_killed_after_its_write_is_compensated_exactly_once(stack, client, plan, shop, figures):
    """A timeout is not retried by the ASL: the order fails and the reservation that did land is given back."""
    sku, customer = shop(stock=5)
    plan.add("ReserveStockFunction", crash_after(Timeout))
    order_id = client.submit_order(customer, [{"sku": sku, "quantity": 2}],
                                   shipping_address=SAMPLE_ADDRESS)[1]["order_id"]

    order = client.wait_for_status(order_id, "FAILED", timeout=WAIT)
    assert [e["status"] for e in order["timeline"]] == ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED",
                                                        "FAILED"]
    assert failures(stack, order_id) == [("Reserve", "Sandbox.Timedout")]
    assert levels(client, sku, customer) == ({"on_hand": 5, "reserved": 0, "available": 5, "backordered": 0}, 0)
    figures("4. Faults on the order path", "a step killed after its write (not retried)",
            "Reserve timed out after reserving: compensated, order FAILED, 2 units and 20.00 given back once")


# ------------------------------------------------------------------ a throttled transaction
def test_a_throttled_transaction_is_retried_not_taken_for_a_business_refusal(stack, client, faults, plan, shop):
    """DynamoDB cancels a transaction with the reason ThrottlingError when an on-demand table is scaling:
    that is worth a retry, not a credit refusal (the workflow) or a 500 (the API)."""
    sku, customer = shop(stock=5)
    plan.add("CheckCreditFunction", throttle(faults, "throttle-transaction"))
    order_id = client.submit_order(customer, [{"sku": sku, "quantity": 2}],
                                   shipping_address=SAMPLE_ADDRESS)[1]["order_id"]
    order = client.wait_for_status(order_id, ("RESERVED", "REJECTED"), timeout=WAIT)
    assert order["status"] == "RESERVED", order["timeline"][-1]

    before = levels(client, sku, customer)
    plan.add("OrderIntakeFunction", throttle(faults, "throttle-transaction"),
             when=lambda event: event["rawPath"].endswith("/ship"))
    response = client.request("POST", f"/orders/{order_id}/ship", json={})
    assert response.status_code == 503 and response.json()["error"]["code"] == "TRY_AGAIN", response.text
    assert levels(client, sku, customer) == before and client.get_order(order_id)["status"] == "RESERVED"
    assert client.ship(order_id)["status"] == "SHIPPED"


# ------------------------------------------------------------------ a submit that died half-way
CRASH_POINTS = ["before", "after"] if SOAK else ["before"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_submit_killed_around_starting_the_workflow_is_finished_by_its_retry(stack, client, plan, shop, figures,
                                                                              point):
    """The intake stored the order and died just before (or after) starting its workflow, leaving Powertools'
    idempotency record INPROGRESS. Retries are told 409 until that record's in-progress expiry (the
    invocation's deadline, from its registered Lambda context), then the retry finishes the job: one order,
    the workflow run once."""
    sku, customer = shop(stock=5, price=3)
    key = f"crash-{uuid.uuid4().hex[:8]}"
    local = threading.local()

    def die(**_: Any) -> None:
        if getattr(local, "dying", False):
            raise Killed

    def killed(_event: Any, real: Callable[[], Any]) -> Any:
        local.dying = True
        try:
            return real()
        except Killed:
            raise Timeout("Task timed out after 15.00 seconds") from None
        finally:
            local.dying = False

    sfn = aws.client("stepfunctions")  # the client the functions share
    event, handler_id = f"{point}-call.sfn.StartExecution", f"kill-{uuid.uuid4()}"
    sfn.meta.events.register(event, die, unique_id=handler_id)
    try:
        plan.add("OrderIntakeFunction", killed)
        first = client.request("POST", "/orders", json={"shipping_address": SAMPLE_ADDRESS, "customer_id": customer,
                                                        "lines": [{"sku": sku, "quantity": 2}]},
                               headers={"Idempotency-Key": key}, retry=False)
    finally:
        sfn.meta.events.unregister(event, unique_id=handler_id)
    order_id = order_id_for(customer, key)
    assert first.status_code == 500
    if point == "before":
        time.sleep(1)
        assert client.get_order(order_id)["status"] == "PENDING"  # stored, and nothing will move it
        assert stack.task_runs(ORDER_MACHINE, order_id=order_id) == []
    else:
        eventually(lambda: client.get_order(order_id)["status"] == "RESERVED", "the started workflow")

    crashed_at = time.monotonic()
    answers: Counter[int] = Counter()
    while True:
        status, body = client.submit_order(customer, [{"sku": sku, "quantity": 2}], idempotency_key=key,
                                           shipping_address=SAMPLE_ADDRESS)
        answers[status] += 1
        if status == 201:
            break
        assert (status, body["error"]["code"]) == (409, "IDEMPOTENCY_IN_PROGRESS"), body
        assert time.monotonic() - crashed_at < 60, "the INPROGRESS record never expired"
        time.sleep(0.5)
    waited = time.monotonic() - crashed_at

    assert body["order_id"] == order_id
    assert client.wait_for_status(order_id, "RESERVED", timeout=WAIT)["status"] == "RESERVED"
    assert [o["order_id"] for o in client.list_all_orders(customer)] == [order_id]
    assert levels(client, sku, customer) == ({"on_hand": 5, "reserved": 2, "available": 3, "backordered": 0}, 6)
    client.cancel(order_id)
    figures("2. One Idempotency-Key, concurrent submissions", f"intake killed {point} StartExecution",
            f"500 to the client; retries answered 409 IDEMPOTENCY_IN_PROGRESS {answers[409]} times over "
            f"{waited:.0f} s (the function's 15 s timeout, not the 24 h key expiry), then 201: one order, "
            "reserved once, RESERVED")
