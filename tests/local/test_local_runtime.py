"""The in-process runtime on its own: environment union, module loading, faults (no moto server)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

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
