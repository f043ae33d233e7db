"""``LocalStack``: the whole template running offline in this process.

moto serves AWS on ``127.0.0.1`` (Step Functions executing the real ASL), the
template's functions run in-process, its HTTP API is served on localhost, its
schedules fire on a timer, its SQS consumers are polled as Lambda polls them, and
a simulated supplier answers purchase orders. moto's state is global, so one
stack per process.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import boto3
from botocore.client import BaseClient

from orderflow_local import contention, express, fidelity, identity, streams, supplier_sim
from orderflow_local import faults as faults_module
from orderflow_local.auth import LocalIssuer
from orderflow_local.http_api import HttpApiServer, Route
from orderflow_local.resources import create_resources, render_definition
from orderflow_local.runtime import Invocation, LambdaRuntime, process_environment, set_env
from orderflow_local.schedules import ScheduleTimer
from orderflow_local.template import DEFAULT_STACK_NAME, REGION, Template, read_template, resolve_template
from orderflow_local.transport import InProcess

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
# Applied when the template declares them; moto really sleeps on Retry intervals.
LOCAL_PARAMETER_DEFAULTS: dict[str, str] = {"RetryIntervalSeconds": "1", "RetryMaxDelaySeconds": "4"}
# Seconds before a record an SQS-triggered function failed comes back (the queue's own timeout,
# e.g. 120 s for supplier replies, would make a local retry wait minutes).
LOCAL_SQS_VISIBILITY_TIMEOUT = 2
HOST = "127.0.0.1"
T = TypeVar("T")


def _bindable_port(port: int = 0) -> int:
    """``port`` if it is free on 127.0.0.1 (any free port for 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise RuntimeError(f"port {port} on {HOST} is not free: {exc}") from exc
        return sock.getsockname()[1]


# The stack keeps every emulated item, queue message and execution as Python objects in this process, and
# each order allocates thousands more. With CPython's default thresholds (700, 10, 10) the collector runs
# every 700 net allocations and a full collection ever more often over that growing heap. Rarer
# collections: about 7 % more orders per second, 6 % less CPU per order in the throughput bench
# (docs/offline-stack.md). The process's own thresholds come back when the stack stops.
COLLECTOR_THRESHOLDS = (100_000, 50, 100)


class LocalStack:
    """Boots and tears down the offline stack; a context manager."""

    _active: ClassVar[LocalStack | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        template_path: str | Path = DEFAULT_TEMPLATE,
        api_port: int = 0,
        aws_port: int = 0,
        parameter_overrides: Mapping[str, Any] | None = None,
        log_level: str = "WARNING",
        keep_metrics: bool = False,
        stack_name: str = DEFAULT_STACK_NAME,
        sqs_visibility_timeout: int | None = LOCAL_SQS_VISIBILITY_TIMEOUT,
        simulate_suppliers: bool = True,
        faults: faults_module.Faults | None = None,
    ) -> None:
        """``sqs_visibility_timeout``: see :class:`~orderflow_local.fidelity.SqsEventSources` (``None``
        keeps each queue's). ``simulate_suppliers``: run :mod:`~orderflow_local.supplier_sim` when the
        template has supplier queues. ``faults``: which of AWS's harsher behaviours to switch on
        (:class:`~orderflow_local.faults.Faults`; default: ``ORDERFLOW_LOCAL_FAULTS``, else none)."""
        self.faults = faults if faults is not None else faults_module.Faults.from_env()
        self.faults.check()
        doc = read_template(template_path)
        declared = doc.get("Parameters") or {}
        overrides = {k: v for k, v in LOCAL_PARAMETER_DEFAULTS.items() if k in declared}
        overrides.update(parameter_overrides or {})
        self.resources: Template = resolve_template(doc, template_path, overrides, stack_name)
        self._api_port = api_port
        self._aws_port = aws_port
        self._log_level = log_level
        self._keep_metrics = keep_metrics
        self._sqs_visibility_timeout = sqs_visibility_timeout
        self._simulate_suppliers = simulate_suppliers
        self._exit = ExitStack()
        self._clients: dict[str, BaseClient] = {}
        self._session: boto3.Session | None = None
        self._runtime: LambdaRuntime | None = None
        self._http: HttpApiServer | None = None
        self._timer: ScheduleTimer | None = None
        self._sqs_sources: fidelity.SqsEventSources | None = None
        self._streams: streams.StreamPollers | None = None
        self._dice: faults_module.Dice | None = None
        self._supplier_sim: supplier_sim.SimulatedSuppliers | None = None
        self._endpoint: str | None = None
        self._in_process: InProcess | None = None
        authorizer = next(iter(self.resources.authorizers.values()), None)
        # The issuer of the tokens the API's JWT authorizer accepts offline (local/auth.py).
        self.issuer = LocalIssuer(authorizer.issuer, authorizer.audiences[0]) if authorizer and authorizer.audiences \
            else LocalIssuer()

    def token(self, role: str = "admin", customer_id: str | None = None) -> str:
        """A bearer token the local API accepts: scope ``orderflow/<role>``, acting for ``customer_id``."""
        return self.issuer.token([f"orderflow/{role}"], subject=f"local-{role}", customer_id=customer_id)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        """Start moto, create the resources, install the runtime, serve the API, run the schedules."""
        with LocalStack._active_lock:
            if LocalStack._active is not None:
                raise RuntimeError(
                    f"a LocalStack of {LocalStack._active.resources.path} is already running in this process; "
                    "moto's state is global, so stop it first"
                )
            LocalStack._active = self
        self._exit = ExitStack()
        self._exit.callback(self._release)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._exit.callback(gc.set_threshold, *gc.get_threshold())
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
        port = _bindable_port(self._aws_port)
        self._exit.callback(set_env, "MOTO_PORT", os.environ.get("MOTO_PORT"))
        os.environ["MOTO_PORT"] = str(port)  # read by moto's Step Functions to call Lambda
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        fidelity.install()
        self._dice = faults_module.configure(self.faults)
        self._exit.callback(faults_module.configure, faults_module.Faults())
        self._exit.callback(contention.reset)
        werkzeug = logging.getLogger("werkzeug")
        self._exit.callback(werkzeug.setLevel, werkzeug.level)
        werkzeug.setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        server.start()
        self._exit.callback(server.stop)
        self._endpoint = f"http://{HOST}:{port}"
        self._exit.callback(self._clients.clear)
        self._in_process = InProcess(self._endpoint)
        self._in_process.install()
        self._exit.callback(self._in_process.uninstall)

        executing = default_user_config.get("stepfunctions", {}).get("execute_state_machine", False)
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        self._exit.callback(self._post, "/moto-api/config", {"stepfunctions": {"execute_state_machine": executing}})
        self._exit.callback(self._post, "/moto-api/reset", None)

        env = process_environment(self.resources, self._endpoint, self._log_level, self._keep_metrics)
        self._runtime = LambdaRuntime(self.resources, env)
        self._exit.callback(_clear_environment_caches)
        self._runtime.install()
        self._exit.callback(self._runtime.uninstall)
        _clear_environment_caches()
        self._exit.callback(self._stop_running_executions)
        create_resources(self.resources, self.boto3_client)
        self._sqs_sources = fidelity.SqsEventSources(
            self.boto3_client, self._invoke_by_arn, visibility_timeout=self._sqs_visibility_timeout
        )
        self._exit.callback(self._sqs_sources.stop)
        self._sqs_sources.start()
        if self.faults.stream_poller:
            self._streams = streams.StreamPollers(self.resources, self.boto3_client, self._invoke_by_arn,
                                                  poll_seconds=self.faults.stream_poll_seconds)
            self._exit.callback(self._streams.stop)
            self._streams.start()

        self._http = HttpApiServer(self.resources, self._runtime, self._api_port, HOST, self.issuer)
        self._http.start()
        self._exit.callback(self._http.stop)
        self._timer = ScheduleTimer(self.resources, self._runtime, executions=self)
        self._timer.start()
        self._exit.callback(self._timer.stop)
        if self._simulate_suppliers:
            self._supplier_sim = supplier_sim.for_template(self.resources, self.boto3_client("sqs"),
                                                           onboard=self.onboard_supplier)
        if self._supplier_sim is not None:
            self._exit.callback(self._supplier_sim.stop)
            self._supplier_sim.start()

    def stop(self) -> None:
        """Stop everything :meth:`start` started, in reverse order; safe to call twice."""
        self._exit.close()

    def _release(self) -> None:
        self._runtime = self._http = self._timer = self._sqs_sources = self._supplier_sim = None
        self._streams = None
        self._endpoint = self._in_process = None
        with LocalStack._active_lock:
            LocalStack._active = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ access
    @property
    def runtime(self) -> LambdaRuntime:
        return _started(self._runtime)

    @property
    def schedules(self) -> ScheduleTimer:
        return _started(self._timer)

    @property
    def suppliers(self) -> supplier_sim.SimulatedSuppliers | None:
        """The simulated supplier; ``None`` if the template has no supplier queues or it was turned off."""
        _started(self._runtime)
        return self._supplier_sim

    def set_faults(self, faults: faults_module.Faults) -> None:
        """Change the rates while the stack runs (``stream_poller`` is fixed at start); the dice start
        again from ``faults.seed``."""
        _started(self._runtime)
        if faults.stream_poller != self.faults.stream_poller:
            raise ValueError("stream_poller is chosen when the stack starts")
        self.faults = faults
        self._dice = faults_module.configure(faults)
        contention.reset()

    @property
    def injected(self) -> dict[str, int]:
        """How many faults of each kind :attr:`faults` injected so far (``{}`` with none switched on)."""
        return dict(_started(self._dice).injected)

    @property
    def stream_pollers(self) -> streams.StreamPollers | None:
        """The DynamoDB Streams pollers (``faults.stream_poller``); ``None`` when moto delivers inline."""
        _started(self._runtime)
        return self._streams

    @property
    def api_url(self) -> str:
        """Base URL of the HTTP API, e.g. ``http://127.0.0.1:3000``."""
        return _started(self._http).url

    @property
    def routes(self) -> list[Route]:
        return _started(self._http).routes

    @property
    def in_process(self) -> InProcess:
        """The transport answering this process's requests to :attr:`aws_endpoint` (``answered`` counts them)."""
        return _started(self._in_process)

    @property
    def aws_endpoint(self) -> str:
        """moto's endpoint, for ``aws --endpoint-url`` or boto3's ``endpoint_url``."""
        return _started(self._endpoint)

    def boto3_client(self, service: str) -> BaseClient:
        """A boto3 client of the local AWS endpoint (cached per service)."""
        if service not in self._clients:
            if self._session is None:
                self._session = boto3.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
                )
            self._clients[service] = self._session.client(service, endpoint_url=self.aws_endpoint)
        return self._clients[service]

    def supplier_sqs(self, supplier_id: str) -> tuple[str, BaseClient]:
        """An IAM user of the supplier's own (made on first use, ``identity.supplier_credentials``): its
        principal id, and an SQS client of the local endpoint whose messages carry it as ``SenderId``."""
        principal, credentials = identity.supplier_credentials(self.boto3_client("iam"), supplier_id)
        return principal, boto3.client("sqs", endpoint_url=self.aws_endpoint, region_name=REGION, **credentials)

    def onboard_supplier(self, supplier_id: str) -> BaseClient:
        """:meth:`supplier_sqs`, with the principal registered as the supplier's ``reply_principal`` by an
        administrator (``PUT /suppliers/{id}``): an SQS client whose replies for that supplier count."""
        principal, sqs = self.supplier_sqs(supplier_id)
        identity.register_reply_principal(self.api_url, self.token("admin"), supplier_id, principal)
        return sqs

    # ------------------------------------------------------------------ workflows
    def execution_arn(self, state_machine: str, name: str) -> str:
        """The ARN of execution ``name`` of the state machine with logical id ``state_machine``."""
        arn = self.resources.state_machine(state_machine).arn
        return f"{arn.replace(':stateMachine:', ':execution:')}:{name}"

    def start_execution(self, state_machine: str, name: str, payload: Any) -> str:
        """Start a named execution (moto needs the name) and return its ARN."""
        return self.boto3_client("stepfunctions").start_execution(
            stateMachineArn=self.resources.state_machine(state_machine).arn,
            name=name,
            input=json.dumps(payload),
        )["executionArn"]

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        """``DescribeExecution``'s answer, for an Express execution too: AWS refuses to describe those (as
        the local endpoint does), so the stack reads moto in-process, where AWS would read the
        execution log. For an Express start run more than once, the latest run."""
        if self._express(execution_arn):
            from moto.stepfunctions.responses import get_backend

            described = express.execution(get_backend(moto_account(), REGION), execution_arn)
            if described is None:
                raise LookupError(f"no execution {execution_arn}")
            return described
        return self.boto3_client("stepfunctions").describe_execution(executionArn=execution_arn)

    def list_executions(self, state_machine: str, status: str | None = None) -> list[dict[str, Any]]:
        """The executions of the state machine with logical id ``state_machine`` (each run of an Express
        start run again counts), read in-process: AWS lists no Express executions, and neither does the
        local endpoint."""
        from moto.stepfunctions.responses import get_backend

        arn = self.resources.state_machine(state_machine).arn
        backend = get_backend(moto_account(), REGION)
        runs = [e for m in backend.state_machines if m.arn == arn for e in m.executions]
        return [{"executionArn": e.execution_arn, "name": e.name, "status": e.status} for e in runs
                if status is None or e.status == status]

    def _express(self, execution_arn: str) -> bool:
        prefixes = [m.arn.replace(":stateMachine:", ":execution:") + ":"
                    for m in self.resources.state_machines if m.type == "EXPRESS"]
        return any(execution_arn.startswith(prefix) for prefix in prefixes)

    def wait_for_execution(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """:meth:`describe_execution` once the execution has left RUNNING; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                described = self.describe_execution(execution_arn)
            except LookupError:
                described = {"status": "RUNNING"}  # an Express start not yet recorded
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout}s")
            time.sleep(0.05)

    def wait_for_state(self, execution_arn: str, state_name: str, timeout: float = 30.0) -> dict[str, Any]:
        """The history event of the execution entering ``state_name`` (waits for it)."""
        sfn = self.boto3_client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
            for event in history:
                if event.get("stateEnteredEventDetails", {}).get("name") == state_name:
                    return event
            if sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING":
                raise RuntimeError(f"{execution_arn} ended without entering {state_name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} did not enter {state_name} within {timeout}s")
            time.sleep(0.05)

    def task_runs(self, state_machine: str, **match: Any) -> list[tuple[str, str | None]]:
        """(state, error type or None) of each run of a Task state of ``state_machine`` whose input has the
        fields ``match``, oldest first, from the runtime's journal: what an Express workflow's execution
        log shows on AWS, which moto cannot describe."""
        definition = render_definition(self.resources.state_machine(state_machine))
        by_function = {state["Resource"].split(":")[6]: name for name, state in definition["States"].items()
                       if state["Type"] == "Task" and state["Resource"].startswith("arn:")}
        names = {fn.logical_id: by_function[fn.name] for fn in self.resources.functions if fn.name in by_function}

        def matching(runs: Iterable[Invocation]) -> list[Invocation]:
            return [run for run in runs if run.logical_id in names and isinstance(run.event, dict)
                    and all(run.event.get(k) == v for k, v in match.items())]

        deadline = time.monotonic() + 30  # a run whose writes are visible may not be journaled yet: let it end
        while matching(list(self.runtime.running.values())) and time.monotonic() < deadline:
            time.sleep(0.01)
        return [(names[run.logical_id], run.error) for run in matching(list(self.runtime.journal))]

    # ------------------------------------------------------------------ moto plumbing
    def _invoke_by_arn(self, function_arn: str, event: Any) -> Any:
        name = function_arn.split(":")[6]
        (fn,) = [fn for fn in self.resources.functions if fn.name == name]
        return self.runtime.invoke(fn.logical_id, event)

    def _post(self, path: str, body: Any) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(f"{self.aws_endpoint}{path}", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def _stop_running_executions(self) -> None:
        """Stop Standard executions still running so none outlives the stack (Express ones cannot be
        listed; they end within their five minutes)."""
        sfn = self.boto3_client("stepfunctions")
        for machine in sfn.list_state_machines()["stateMachines"]:
            if machine["type"] != "STANDARD":
                continue
            listed = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
            for execution in listed["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], cause="local stack stopped")


def _clear_environment_caches() -> None:
    """Forget what the ``orderflow`` package cached from the environment (endpoint-bound clients,
    settings), whenever the stack sets or restores it."""
    aws, settings = sys.modules.get("orderflow.platform.aws"), sys.modules.get("orderflow.shared.settings")
    if aws is not None:
        aws.reset()
    if settings is not None:
        settings.get_settings.cache_clear()


def moto_account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def _started(value: T | None) -> T:
    if value is None:
        raise RuntimeError("the LocalStack is not started")
    return value
