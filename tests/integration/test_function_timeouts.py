"""The real workflow when a step outlives its function's Timeout (local/deadlines.py): as on AWS, the task
fails with Lambda's ``Sandbox.Timedout``, which the order workflow's retriers (Lambda's service errors and
``TransientError``) do not match and its ``States.ALL`` catch sends to compensation.

The runtime's clock is stepped by the test, so the deadline passes when the test says, not after 15 real seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

ORDER_MACHINE = "OrderProcessingStateMachine"


def test_a_reservation_that_outlives_its_timeout_fails_the_order_and_its_stock_is_released(stack, api,
                                                                                            stack_clock):
    """ReserveStock's transaction lands, then the function runs on past its 15 s: the workflow is told
    Sandbox.Timedout once (not retried), compensates, and nothing stays reserved for the failed order."""
    sku, customer = api.product(stock=5), api.customer()
    reserved, timeout = threading.Event(), stack.resources.function("ReserveStockFunction").timeout

    def slow(event: Any, _context: Any) -> Any:
        result = stack.runtime.invoke("ReserveStockFunction", event)  # the real handler: its reservation lands
        reserved.set()
        for _ in range(3000):  # then it runs on (30 s at most, so a runtime that never stops it fails the test)
            time.sleep(0.01)
        return result

    stack.runtime.inject_fault("ReserveStockFunction", slow)
    order_id = api.submit(customer, {sku: 2}).json()["order_id"]
    assert reserved.wait(30)
    assert api.stock(sku)["reserved"] == 2  # the reservation landed before the deadline
    stack_clock.now += timeout
    order = api.wait_for(order_id, {"FAILED"})
    assert order["status"] == "FAILED"
    assert stack.task_runs(ORDER_MACHINE, order_id=order_id)[-2:] == [("Reserve", "Sandbox.Timedout"),
                                                                      ("Compensate", None)]
    stock = api.stock(sku)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 0, 5)
