"""The in-process runtime on its own: environment union, module loading, faults (no moto server)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from orderflow_local.deadlines import WATCHDOG, FunctionTimedOut
from orderflow_local.runtime import HandlerImportError, LambdaRuntime, error_payload, process_environment
from orderflow_local.template import Template, load_template


def _template(tmp_path: Path, functions: dict[str, str], files: dict[str, str]) -> Template:
    """A template whose functions are ``{logical id: "codedir/module.func"}`` (plus VAR from an env block)."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    body = "Resources:\n"
    for logical_id, spec in functions.items():
        code_dir, handler = spec.split("/")
        body += (
            f"  {logical_id}:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{CodeUri: {code_dir}/, Handler: {handler}, Timeout: 2,\n"
            f"                  Environment: {{Variables: {{VAR: {logical_id.lower()}}}}}}}\n"
        )
    (tmp_path / "template.yaml").write_text(body)
    return load_template(tmp_path / "template.yaml")


def test_environment_union_and_local_settings(tmp_path: Path) -> None:
    template = load_template(Path(__file__).parent / "fixtures" / "stack" / "template.yaml")
    env = process_environment(template, "http://127.0.0.1:9", log_level="DEBUG")
    assert env["ITEMS_TABLE"] == "fixture-items-test"
    assert env["WORK_STATE_MACHINE_ARN"].endswith(":stateMachine:fixture-work-test")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("us-east-1", "us-east-1")
    assert (env["POWERTOOLS_TRACE_DISABLED"], env["POWERTOOLS_METRICS_DISABLED"]) == ("true", "true")
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert env["AWS_PROFILE"] is None  # unset, so a developer's profile cannot leak in
    assert "POWERTOOLS_METRICS_DISABLED" not in process_environment(template, "http://x", keep_metrics=True)


def test_conflicting_environments_are_refused(tmp_path: Path) -> None:
    template = _template(tmp_path, {"One": "src/app.handler", "Two": "src/app.handler"}, {})
    with pytest.raises(RuntimeError, match="VAR is 'one' in One but 'two' in Two"):
        process_environment(template, "http://127.0.0.1:9")


def test_handlers_load_once_per_function_and_see_siblings(tmp_path: Path) -> None:
    files = {
        "a/app.py": """
            import helper_a
            LOADS = helper_a.count()
            def handler(event, context):
                return {"module": __name__, "loads": LOADS, "fn": context.function_name,
                        "left": context.get_remaining_time_in_millis(), "event": event}
            def other(event, context):
                return __name__
        """,
        "a/helper_a.py": """
            n = 0
            def count():
                global n
                n += 1
                return n
        """,
        "b/app.py": "def handler(event, context):\n    return 'b'\n",
    }
    template = _template(tmp_path, {"First": "a/app.handler", "Second": "a/app.other", "Third": "b/app.handler"}, files)
    runtime = LambdaRuntime(template, {})
    runtime.install()
    try:
        first = runtime.invoke("First", {"x": 1})
        assert first["module"] != runtime.invoke("Second", {})  # one module instance per function
        assert runtime.invoke("First", {})["loads"] == first["loads"]  # imported once (cold start)
        assert first["fn"] == "orderflow-First" and 0 < first["left"] <= 2000 and first["event"] == {"x": 1}
        assert runtime.invoke("Third", {}) == "b"  # another dir's app.py
        assert runtime.invocations == {"First": 2, "Second": 1, "Third": 1}
    finally:
        runtime.uninstall()
    assert str(tmp_path / "a") not in sys.path
    assert "helper_a" not in sys.modules


def test_faults_then_the_handler_again(tmp_path: Path) -> None:
    template = _template(tmp_path, {"Fn": "src/app.handler"}, {"src/app.py": "def handler(e, c):\n    return 'ok'\n"})
    runtime = LambdaRuntime(template, {})

    class Transient(Exception):
        pass

    runtime.inject_fault("Fn", Transient, times=2)
    runtime.inject_fault("Fn", lambda event, context: "replaced")
    try:
        for _ in range(2):
            with pytest.raises(Transient):
                runtime.invoke("Fn", {})
        assert runtime.invoke("Fn", {}) == "replaced"
        assert runtime.invoke("Fn", {}) == "ok"
        assert runtime.invocations["Fn"] == 4
    finally:
        runtime.uninstall()
    with pytest.raises(KeyError):
        runtime.inject_fault("Nope", Transient)


def test_import_errors_and_error_payloads(tmp_path: Path) -> None:
    template = _template(tmp_path, {"Fn": "src/missing.handler"}, {"src/app.py": ""})
    runtime = LambdaRuntime(template, {})
    with pytest.raises(HandlerImportError) as exc_info:
        runtime.invoke("Fn", {})
    payload = error_payload(exc_info.value)
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "missing" in payload["errorMessage"] and payload["stackTrace"]
    assert error_payload(ValueError("bad"))["errorType"] == "ValueError"


def test_helper_modules_must_not_collide_across_directories(tmp_path: Path) -> None:
    files = {"a/app.py": "", "a/util.py": "", "b/app.py": "", "b/util.py": ""}
    template = _template(tmp_path, {"A": "a/app.handler", "B": "b/app.handler"}, files)
    runtime = LambdaRuntime(template, {"SOME_VAR": "x"})
    with pytest.raises(RuntimeError, match="'util' exists in both"):
        runtime.install()
    runtime.uninstall()
    assert "SOME_VAR" not in os.environ


def test_each_thread_sees_its_own_powertools_request() -> None:
    """Powertools keeps the current request on the BaseRouter class and the app's context; concurrent
    requests in this one interpreter must not read each other's, as separate Lambda processes cannot."""
    import threading

    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, BaseRouter

    from orderflow_local.runtime import isolate_powertools_requests

    isolate_powertools_requests()
    app = APIGatewayHttpResolver()
    BaseRouter.current_event = "this thread's request"
    app.context["_route"] = "this thread's route"
    seen: list[tuple] = []

    def other() -> None:
        seen.append((BaseRouter.current_event, dict(app.context)))
        BaseRouter.current_event = "another request"
        app.context["_route"] = "another route"

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [(None, {})]
    assert (BaseRouter.current_event, app.context["_route"]) == ("this thread's request", "this thread's route")


def test_each_thread_stamps_idempotency_records_with_its_own_invocation() -> None:
    """One idempotency config and persistence layer serve every request of a function; a request must
    set its in-progress expiry from its own invocation's remaining time and key its record by its own
    operation, whatever a concurrent request registered meanwhile."""
    import threading

    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    from orderflow_local.runtime import LambdaContext, isolate_powertools_requests

    isolate_powertools_requests()
    config = IdempotencyConfig(event_key_jmespath="key")
    persistence = DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=object())
    mine = LambdaContext("fn", "arn", 512, "group", "stream", timeout_seconds=15)
    config.register_lambda_context(mine)
    persistence.configure(config, "submit")
    seen: list = []

    def other() -> None:
        seen.append((config.lambda_context, persistence.function_name))
        config.register_lambda_context(LambdaContext("fn", "arn", 512, "group", "stream", timeout_seconds=1))
        persistence.configure(config, "adjust")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [(None, "")]
    assert config.lambda_context is mine
    assert persistence.function_name.endswith(".submit")


# ------------------------------------------------------------------ the function's Timeout
def _timed_runtime(tmp_path: Path, clock: Any) -> LambdaRuntime:
    """A runtime of one function ``Fn`` (Timeout: 2 s) on the test's ``clock``; tests stand in for its handler."""
    template = _template(tmp_path, {"Fn": "src/app.handler"},
                         {"src/app.py": "def handler(e, c):\n    return c.get_remaining_time_in_millis()\n"})
    return LambdaRuntime(template, {}, clock=clock)


def _invoke_past_the_deadline(runtime: LambdaRuntime, clock: Any, reached: threading.Event,
                              seconds: float, release: threading.Event | None = None) -> list[Any]:
    """Invoke ``Fn`` as a caller on another thread; once its handler has ``reached`` a point, move the clock
    on by ``seconds`` (and ``release`` it); the caller's result or the exception it got."""
    outcome: list[Any] = []

    def call() -> None:
        try:
            outcome.append(runtime.invoke("Fn", {}))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    assert reached.wait(10)
    clock.now += seconds
    if release is not None:
        release.set()
    thread.join(10)
    assert not thread.is_alive(), "the handler ran on past its Timeout"
    return outcome


def test_remaining_time_counts_down_from_the_functions_timeout(tmp_path: Path, clock: Any) -> None:
    runtime = _timed_runtime(tmp_path, clock)

    def stepping(_event: Any, context: Any) -> list[int]:
        first = context.get_remaining_time_in_millis()
        clock.now += 1.25
        return [first, context.get_remaining_time_in_millis()]

    runtime.inject_fault("Fn", stepping)
    try:
        assert runtime.invoke("Fn", {}) == [2000, 750]
        assert runtime.invoke("Fn", {}) == 2000  # the next invocation has the whole Timeout again
    finally:
        runtime.uninstall()


def test_a_handler_still_running_at_its_timeout_is_stopped_and_its_caller_told(tmp_path: Path, clock: Any) -> None:
    """As Lambda's ``Task timed out``: the caller gets Sandbox.Timedout, and what the handler would have
    done next never happens, though it catches every Exception."""
    runtime = _timed_runtime(tmp_path, clock)
    started, go_on, effects = threading.Event(), threading.Event(), []

    def endless(_event: Any, _context: Any) -> str:
        try:
            effects.append("started")
            started.set()
            while not go_on.is_set():  # still working (in Python) when the deadline comes
                go_on.wait(0.01)
            effects.append("went on")
        except Exception:
            effects.append("swallowed")
        effects.append("returned")
        return "done"

    runtime.inject_fault("Fn", endless)
    try:
        (error,) = _invoke_past_the_deadline(runtime, clock, started, 2.0)
        assert isinstance(error, FunctionTimedOut)
        payload = error_payload(error)
        assert payload["errorType"] == "Sandbox.Timedout"
        assert "Task timed out" in payload["errorMessage"]  # Lambda's own words for it
        go_on.set()
        assert effects == ["started"]
        assert runtime.invoke("Fn", {}) == 2000  # the function serves the next invocation as before
    finally:
        go_on.set()
        runtime.uninstall()


def test_an_aws_call_under_way_at_the_deadline_completes_and_the_handler_stops_after_it(tmp_path: Path,
                                                                                       clock: Any) -> None:
    """moto answering in-process is never interrupted half-way (its tables would be half-written): the call
    takes effect, as a request the sandbox sent before it stopped does on AWS, and the handler stops when it
    returns, before using its answer."""
    runtime = _timed_runtime(tmp_path, clock)
    in_call, answer, effects = threading.Event(), threading.Event(), []

    def calling(_event: Any, _context: Any) -> str:
        with WATCHDOG.service_call():  # what the in-process transport wraps moto's answer in
            in_call.set()
            answer.wait()  # blocked in the call at the deadline
            effects.append("the call's write")
        effects.append("used the answer")
        return "done"

    runtime.inject_fault("Fn", calling)
    try:
        outcome = _invoke_past_the_deadline(runtime, clock, in_call, 5.0, release=answer)
        assert [type(error) for error in outcome] == [FunctionTimedOut]
        assert effects == ["the call's write"]
    finally:
        answer.set()
        runtime.uninstall()


def test_a_handler_that_calls_another_function_stops_when_that_one_returns(tmp_path: Path, clock: Any) -> None:
    """The test stand-ins call the real handler through ``invoke`` (a nested invocation on the same
    thread): the outer invocation's deadline stops the outer handler, not the inner one."""
    runtime = _timed_runtime(tmp_path, clock)
    effects: list[Any] = []

    def outer(_event: Any, _context: Any) -> str:
        clock.now += 1.5
        effects.append(runtime.invoke("Fn", {}))  # 0.5 s left to the outer, the inner has 2 s of its own
        effects.append("went on")
        return "done"

    def inner(_event: Any, context: Any) -> int:
        clock.now += 1.0  # past the outer's deadline, within the inner's
        effects.append(f"inner ran, {context.get_remaining_time_in_millis()} ms left")
        return 0

    runtime.inject_fault("Fn", outer)
    runtime.inject_fault("Fn", inner)
    try:
        with pytest.raises(FunctionTimedOut):
            runtime.invoke("Fn", {})
        assert effects == ["inner ran, 1000 ms left"]  # the outer stopped on its return, before using it
    finally:
        runtime.uninstall()


# ------------------------------------------------------------------ Powertools Metrics
METRICS_APP = """
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(service="{service}", namespace="Fixture")
metrics.set_default_dimensions(function="{service}")


@metrics.log_metrics
def handler(event, context):
    metrics.add_metric(name="{service}_seen", unit=MetricUnit.Count, value=1)
    if "added" in event:  # hold the flush until the test says
        event["added"].set()
        event["go_on"].wait(10)
    return "{service}"
"""


def test_each_functions_invocation_flushes_only_its_own_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Powertools' Metrics keeps the metrics added before a flush at class level; in Lambda one function's
    one invocation uses them. Here an invocation of Alpha is still running when one of Beta flushes: Beta's
    metric line must hold Beta's metric under Beta's service and dimensions, and Alpha's its own."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    files = {f"{name}/app.py": METRICS_APP.format(service=name) for name in ("alpha", "beta")}
    runtime = LambdaRuntime(_template(tmp_path, {"Alpha": "alpha/app.handler", "Beta": "beta/app.handler"}, files), {})
    runtime.install()
    added, go_on = threading.Event(), threading.Event()
    alpha = threading.Thread(target=runtime.invoke, args=("Alpha", {"added": added, "go_on": go_on}))
    try:
        alpha.start()
        assert added.wait(10)
        assert runtime.invoke("Beta", {}) == "beta"
        go_on.set()
        alpha.join(10)
        assert runtime.invoke("Beta", {}) == "beta"
    finally:
        go_on.set()
        runtime.uninstall()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]

    def flushed(line: dict[str, Any]) -> tuple[str, str, list[str]]:
        names = [m["Name"] for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        return line["service"], line["function"], names

    assert sorted(map(flushed, lines)) == [("alpha", "alpha", ["alpha_seen"]),
                                           ("beta", "beta", ["beta_seen"]), ("beta", "beta", ["beta_seen"])]
