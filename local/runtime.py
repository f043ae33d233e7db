"""In-process Lambda runtime: replaces moto's Docker-bound invoke with a direct handler call.

Each function's handler module is imported once (its cold start) from the
function's CodeUri directory under a module name of its own, so functions that
share a directory or a file name never share module state.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import weakref
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orderflow_local import deadlines
from orderflow_local.deadlines import Clock, FunctionTimedOut
from orderflow_local.template import REGION, Function, Template

logger = logging.getLogger("orderflow_local.runtime")

Handler = Callable[[Any, "LambdaContext"], Any]
Fault = BaseException | type[BaseException] | Handler


class HandlerImportError(RuntimeError):
    """The handler module could not be imported (Lambda's ``Runtime.ImportModuleError``)."""

    error_type = "Runtime.ImportModuleError"


class MarshalError(TypeError):
    """The handler returned something that is not JSON (Lambda's ``Runtime.MarshalError``)."""

    error_type = "Runtime.MarshalError"


@dataclass
class LambdaContext:
    """The subset of Lambda's context object that handlers and Powertools use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    log_group_name: str
    log_stream_name: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    clock: Clock = field(default=time.monotonic, repr=False)
    deadline: float = field(default=0.0, repr=False)  # on ``clock``; the runtime stops the handler there

    def __post_init__(self) -> None:
        self.deadline = self.deadline or self.clock() + self.timeout_seconds

    @classmethod
    def for_function(cls, fn: Function, clock: Clock = time.monotonic) -> LambdaContext:
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        return cls(
            function_name=fn.name,
            invoked_function_arn=fn.arn,
            memory_limit_in_mb=fn.memory_size,
            log_group_name=fn.log_group or f"/aws/lambda/{fn.name}",
            log_stream_name=f"{today}/[$LATEST]{uuid.uuid4().hex}",
            timeout_seconds=fn.timeout,
            clock=clock,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One invocation moto asked for (a Step Functions task, an event source's batch), as an Express
    workflow's execution log on AWS would show it: the event, the error type if it failed, when."""

    logical_id: str
    event: Any
    error: str | None
    at: float


JOURNAL_SIZE = 5000  # the journal keeps the latest invocations only, so a long soak stays bounded


class _PerThread:
    """A data descriptor holding one value per thread (and per object, for ``per_object``)."""

    def __init__(self, default: Callable[[], Any], per_object: bool = False) -> None:
        self.default, self.per_object, self.local = default, per_object, threading.local()

    def _key(self, obj: Any) -> int:
        return id(obj) if self.per_object else 0

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        values = self.local.__dict__.setdefault("values", {})
        key = self._key(obj)
        if key not in values:
            values[key] = self.default()
        return values[key]

    def __set__(self, obj: Any, value: Any) -> None:
        self.local.__dict__.setdefault("values", {})[self._key(obj)] = value


_isolated = False


def isolate_powertools_requests() -> None:
    """Give each thread its own Powertools request state, as each Lambda process has its own.

    Powertools' HTTP resolvers keep the request being handled on the ``BaseRouter`` class
    (``current_event``, ``lambda_context``, assigned at class level) and on the app (``context``, with
    the matched route). In Lambda one process handles one request at a time; here concurrent requests
    share the interpreter and would read each other's (a cancel validated against ship's body,
    ``KeyError: '_route'``). Class-level assignments go through the metaclass, so ``BaseRouter`` gets a
    subclass of its metaclass that stores those two names per thread.

    Idempotency's config, built once per function, holds the invocation's ``lambda_context`` too, and
    reads its remaining time to set the in-progress record's expiry: shared, a request would stamp its
    record with another (older) invocation's clock, expiring it while it still runs. Its persistence
    layer, shared by a function's idempotent operations, is told the operation's name on each call
    (the prefix of the record's key), so that is per thread as well."""
    global _isolated
    if _isolated:
        return
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter
    from aws_lambda_powertools.utilities.idempotency.config import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    names = ("current_event", "lambda_context")
    descriptors = {name: _PerThread(lambda: None) for name in names}
    base_meta = type(BaseRouter)

    class PerThreadRequest(base_meta):  # type: ignore[misc, valid-type]
        def __setattr__(cls, name: str, value: Any) -> None:
            if cls is BaseRouter and name in descriptors:
                descriptors[name].__set__(None, value)
            else:
                super().__setattr__(name, value)

    for name, descriptor in descriptors.items():
        type.__setattr__(BaseRouter, name, descriptor)
    BaseRouter.__class__ = PerThreadRequest
    ApiGatewayResolver.context = _PerThread(dict, per_object=True)  # type: ignore[assignment]
    IdempotencyConfig.lambda_context = _PerThread(lambda: None, per_object=True)  # type: ignore[assignment]
    BasePersistenceLayer.function_name = _PerThread(str, per_object=True)  # type: ignore[assignment]
    _isolated = True


class _PerThreadSet:
    """A data descriptor: each (object, thread) its own value, ``build(obj)``; assignments are dropped (what
    Powertools' ``Metrics`` assigns is the one set it shares between all its instances)."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self.build, self.local = build, threading.local()

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        values = self.local.__dict__.setdefault("values", weakref.WeakKeyDictionary())
        if obj not in values:
            values[obj] = self.build(obj)
        return values[obj]

    def __set__(self, obj: Any, value: Any) -> None:
        pass


class _OwnCopy:
    """A data descriptor: each object keeps its own copy of the mapping assigned to it."""

    def __init__(self, name: str) -> None:
        self.name = f"_own_{name}"

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else obj.__dict__.setdefault(self.name, {})

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = dict(value)


_metrics_isolated = False


def isolate_powertools_metrics() -> None:
    """Give each function's invocations their own metric set, as each Lambda process has its own.

    Powertools' ``Metrics`` keeps the metrics, dimensions and metadata added before a flush in dicts at
    class level, shared by every instance (so that a function's modules all add to one set), and hands
    them to its EMF provider. In Lambda only one function, one invocation at a time, uses them; here a
    metric added by one function's invocation would be flushed by whichever invocation flushed next (of
    another function, under its ``service`` dimension). The provider's sets are kept per provider (one per
    ``Metrics(...)`` of a function's code) and per thread (per invocation), and default dimensions per
    provider, so an invocation flushes only its own metrics, with its own service and dimensions."""
    global _metrics_isolated
    if _metrics_isolated:
        return
    from aws_lambda_powertools.metrics import Metrics
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider as Emf

    def defaults(provider: Any) -> dict[str, str]:
        return {name: str(value) for name, value in provider.default_dimensions.items()}

    for name, build in (("metric_set", lambda _: {}), ("metadata_set", lambda _: {}),
                        ("dimension_sets", lambda _: []), ("dimension_set", defaults)):
        setattr(Emf, name, _PerThreadSet(build))
    for cls in (Emf, Metrics):
        cls.default_dimensions = _OwnCopy("default_dimensions")  # type: ignore[assignment]
    _metrics_isolated = True


def error_payload(exc: BaseException) -> dict[str, Any]:
    """Lambda's error response; Step Functions raises ``errorType`` as the ASL error name."""
    return {
        "errorType": getattr(exc, "error_type", type(exc).__name__),
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def process_environment(
    template: Template, aws_endpoint: str, log_level: str = "WARNING", keep_metrics: bool = False
) -> dict[str, str | None]:
    """The variables to set process-wide (``None`` = unset): every function's, plus the local ones.

    Raises ``RuntimeError`` if two functions give one variable different values, since
    ``os.environ`` cannot hold both.
    """
    env: dict[str, str | None] = {}
    owner: dict[str, str] = {}
    for fn in template.functions:
        for key, value in fn.environment.items():
            if key in env and env[key] != value:
                raise RuntimeError(
                    f"environment variable {key} is {env[key]!r} in {owner[key]} but {value!r} in "
                    f"{fn.logical_id}; the local stack runs all functions in one process, so "
                    "functions must agree on shared variables"
                )
            env[key], owner[key] = value, fn.logical_id
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": log_level,
        }
    )
    if not keep_metrics:
        env["POWERTOOLS_METRICS_DISABLED"] = "true"
    return env


class LambdaRuntime:
    """Runs the template's functions in this process, for moto and for the local fronts."""

    def __init__(self, template: Template, environment: Mapping[str, str | None],
                 clock: Clock = time.monotonic) -> None:
        """``clock``: what the functions' deadlines are measured on (a test's own clock, stepped by hand)."""
        self.template = template
        self.clock = clock
        self.environment = dict(environment)
        self.invocations: Counter[str] = Counter()
        self.journal: deque[Invocation] = deque(maxlen=JOURNAL_SIZE)
        self._invocation_ids = itertools.count()
        self.running: dict[int, Invocation] = {}  # under way: their writes show before the journal does
        self._by_name = {fn.name: fn for fn in template.functions}
        self._handlers: dict[str, Handler] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()
        self._saved_env: dict[str, str | None] = {}
        self._code_dirs = list(dict.fromkeys(fn.code_dir for fn in template.functions))
        self._patched: tuple[type, Any] | None = None

    # ------------------------------------------------------------------ lifecycle
    def install(self) -> None:
        """Set the environment, put the code directories on ``sys.path`` and patch moto's Lambda."""
        from moto.awslambda.models import LambdaFunction

        self._check_module_names()
        for key, value in self.environment.items():
            self._saved_env[key] = os.environ.get(key)
            set_env(key, value)
        sys.path[:0] = [str(d) for d in self._code_dirs]
        runtime = self

        def _invoke_lambda(fn_model: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime._invoke_for_moto(fn_model.function_name, event)

        self._patched = (LambdaFunction, LambdaFunction.__dict__["_invoke_lambda"])
        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
        isolate_powertools_requests()
        isolate_powertools_metrics()

    def uninstall(self) -> None:
        """Undo :meth:`install` and forget every imported handler module; safe to call twice."""
        if self._patched:
            cls, original = self._patched
            cls._invoke_lambda = original  # type: ignore[attr-defined]
            self._patched = None
        for key, value in self._saved_env.items():
            set_env(key, value)
        self._saved_env.clear()
        for d in map(str, self._code_dirs):
            if d in sys.path:
                sys.path.remove(d)
        prefixes = tuple(os.path.join(d, "") for d in self._code_dirs)
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(prefixes):
                del sys.modules[name]
        self._handlers.clear()

    def _check_module_names(self) -> None:
        """Helper modules are found through ``sys.path``, so two directories must not both have one."""
        handlers = {(fn.code_dir, fn.handler_module.split(".")[0].split("/")[0]) for fn in self.template.functions}
        seen: dict[str, Path] = {}
        for code_dir in (d for d in self._code_dirs if d.is_dir()):
            for entry in code_dir.iterdir():
                name = entry.stem if entry.suffix == ".py" else entry.name if (entry / "__init__.py").exists() else ""
                if not name or (code_dir, name) in handlers:
                    continue
                if name in seen:
                    raise RuntimeError(f"module {name!r} exists in both {seen[name]} and {code_dir}; rename one")
                seen[name] = code_dir

    # ------------------------------------------------------------------ test hooks
    def inject_fault(self, logical_id: str, exc_or_callable: Fault, times: int = 1) -> None:
        """Make the next ``times`` invocations of a function raise ``exc_or_callable`` (an exception
        or its class), or run ``exc_or_callable(event, context)`` in place of the handler."""
        self.template.function(logical_id)
        with self._lock:
            self._faults.setdefault(logical_id, []).extend([exc_or_callable] * times)

    # ------------------------------------------------------------------ invocation
    def invoke(self, logical_id: str, event: Any) -> Any:
        """Call a function's handler directly; its exceptions propagate."""
        return self._run(self.template.function(logical_id), event)

    def _invoke_for_moto(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        """moto's ``_invoke_lambda`` contract: ``(payload, errored, logs)``."""
        fn = self._by_name.get(function_name)
        started = time.time()
        key = next(self._invocation_ids)  # not the thread: a write inside a handler runs its stream
        # consumers inline on the same thread, and they would take the outer invocation's place
        try:
            if fn is None:
                raise HandlerImportError(f"function {function_name} is not in {self.template.path}")
            if isinstance(event, str | bytes):
                event = json.loads(event or "{}")
            event = {} if event is None else event
            with self._lock:
                self.running[key] = Invocation(fn.logical_id, event, None, started)
            result = self._run(fn, event)
            try:
                payload = json.dumps(result)
            except (TypeError, ValueError) as exc:
                raise MarshalError(f"Unable to marshal response: {exc}") from exc
            self.journal.append(Invocation(fn.logical_id, event, None, started))
            return payload, False, ""
        except Exception as exc:
            logger.info("%s failed: %s: %s", function_name, type(exc).__name__, exc)
            error = error_payload(exc)
            self.journal.append(Invocation(fn.logical_id if fn else function_name, event, error["errorType"], started))
            return json.dumps(error), True, ""
        finally:
            with self._lock:
                self.running.pop(key, None)

    def _run(self, fn: Function, event: Any) -> Any:
        with self._lock:
            self.invocations[fn.logical_id] += 1
        handler = self._handler(fn)
        with self._lock:
            faults = self._faults.get(fn.logical_id)
            fault = faults.pop(0) if faults else None
        context = LambdaContext.for_function(fn, self.clock)
        if isinstance(fault, BaseException) or (isinstance(fault, type) and issubclass(fault, BaseException)):
            raise fault
        try:
            return _within_timeout(fault or handler, event, context)
        except FunctionTimedOut:
            logger.warning("%s ran longer than its Timeout of %ss: stopped", fn.logical_id, fn.timeout)
            raise

    def _handler(self, fn: Function) -> Handler:
        handler = self._handlers.get(fn.logical_id)
        if handler is not None:
            return handler
        with self._import_lock:
            if fn.logical_id not in self._handlers:
                self._handlers[fn.logical_id] = _import_handler(fn)
        return self._handlers[fn.logical_id]


def _within_timeout(handler: Handler, event: Any, context: LambdaContext) -> Any:
    """``handler(event, context)``, stopped at the context's deadline as Lambda stops it
    (:mod:`~orderflow_local.deadlines`): then the caller gets :class:`FunctionTimedOut`."""
    result, error, deadline = deadlines.run(lambda: handler(event, context), context.clock, context.deadline)
    if deadline.passed():
        raise FunctionTimedOut(context.aws_request_id, context.timeout_seconds) from None
    if error is not None:
        raise error
    return result


def _import_handler(fn: Function) -> Handler:
    file = fn.code_dir / (fn.handler_module.replace(".", "/") + ".py")
    name = f"_orderflow_local_fn_{fn.logical_id}"
    try:
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return getattr(module, fn.handler_function)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise HandlerImportError(f"{fn.logical_id}: cannot load handler {fn.handler} from {file}: {exc}") from exc


def set_env(key: str, value: str | None) -> None:
    """Set ``key`` in ``os.environ``, or unset it for ``None``."""
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
