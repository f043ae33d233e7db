"""Powertools wiring shared by every handler: the one module of ``orderflow`` that knows about Lambda.

Logger (JSON, correlation id = order id) and Metrics are built at cold start. The Tracer is built on
the first invocation, and ``once`` defers anything else that only some invocations need
(docs/decisions.md, "Cold start").
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer as PowertoolsTracer


T = TypeVar("T")
# The only library our functions call out through: every AWS call becomes an X-Ray subsegment.
TRACED_MODULES = ("botocore",)

# A request that records no metric is normal (a GET, a no-op retry); Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def once(build: Callable[[], T]) -> Callable[[], T]:
    """``build()`` on the first call only (threads racing for it wait for that one), its value ever after."""
    lock = threading.Lock()
    built: list[T] = []

    @functools.wraps(build)
    def get() -> T:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    return get


class Tracer:
    """Powertools' Tracer, built on the first invocation instead of at import, patching botocore only,
    and never putting a handler's response into the trace (``capture_response=False`` unless asked).

    Building it imports aws-xray-sdk and patches libraries; deferring that keeps the init phase to
    what must be ready before the first request. ``capture_lambda_handler`` and ``capture_method``
    wrap now and trace from the first call; anything else (``put_annotation``, ...) goes to the
    Powertools Tracer itself. Tracing stays off where Powertools turns it off (outside Lambda,
    ``POWERTOOLS_TRACE_DISABLED``)."""

    def __init__(self, service: str):
        self.service = service
        self._tracer = once(self._build)

    def _build(self) -> PowertoolsTracer:
        from aws_lambda_powertools import Tracer as PowertoolsTracer

        return PowertoolsTracer(service=self.service, patch_modules=TRACED_MODULES)

    @property
    def tracer(self) -> PowertoolsTracer:
        return self._tracer()

    def capture_lambda_handler(self, handler: Callable | None = None, **options: Any) -> Callable:
        return self._deferred("capture_lambda_handler", handler, options)

    def capture_method(self, method: Callable | None = None, **options: Any) -> Callable:
        return self._deferred("capture_method", method, options)

    def _deferred(self, decorator: str, function: Callable | None, options: dict[str, Any]) -> Callable:
        if function is None:  # used with options: @tracer.capture_method(capture_response=False)
            return lambda f: self._deferred(decorator, f, options)
        # Responses carry customers' names, credit and orders: traces keep timings and errors, not data.
        options = {"capture_response": False, **options}
        traced = once(lambda: getattr(self.tracer, decorator)(function, **options))

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            return traced()(*args, **kwargs)

        return call

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.tracer, name)


class LineFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line without the function's name, ARN and memory size, which every line would repeat:
    each function logs to a log group of its own, which names it (docs/decisions.md, "Cost per order")."""

    REPEATED = ("function_name", "function_arn", "function_memory_size")

    def serialize(self, log: dict[str, Any]) -> str:
        return super().serialize({k: v for k, v in log.items() if k not in self.REPEATED})


def observability(service: str) -> tuple[Logger, Tracer, Metrics]:
    return Logger(service=service, logger_formatter=LineFormatter()), Tracer(service), Metrics(service=service)


def count(metrics: Metrics, name: str, value: int = 1) -> None:
    """Add ``value`` to the metric ``name``; a zero is not sent: it adds nothing to a sum, and each metric sent
    is a line of the invocation's log (EMF), billed as log ingestion (docs/decisions.md, "Cost per order")."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
