"""Starting and stopping stacks: one per process, clean teardown even after a failed start."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orderflow_local.stack import COLLECTOR_THRESHOLDS, LocalStack
from orderflow_local.template import TemplateError

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "stack"
FIXTURE_TEMPLATE = FIXTURE_DIR / "template.yaml"


def test_one_stack_per_process_and_stop_is_idempotent() -> None:
    endpoint_before = os.environ.get("AWS_ENDPOINT_URL")
    collector_before = gc.get_threshold()
    first = LocalStack(FIXTURE_TEMPLATE, parameter_overrides={"Stage": "one"})
    try:
        first.start()
        with pytest.raises(RuntimeError, match="already running"):
            LocalStack(FIXTURE_TEMPLATE).start()
        assert httpx.put(f"{first.api_url}/items/x", json={}).status_code == 201
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS  # a server process: collections are rarer
    finally:
        first.stop()
    first.stop()
    assert os.environ.get("AWS_ENDPOINT_URL") == endpoint_before
    assert gc.get_threshold() == collector_before
    with pytest.raises(RuntimeError, match="not started"):
        _ = first.api_url

    with LocalStack(FIXTURE_TEMPLATE, parameter_overrides={"Stage": "one"}) as second:  # moto was reset
        assert httpx.get(f"{second.api_url}/items/x").status_code == 404


def test_failed_start_cleans_up(tmp_path: Path) -> None:
    broken = tmp_path / "stack"
    shutil.copytree(FIXTURE_DIR, broken)
    asl = broken / "statemachines" / "work.asl.json"
    asl.write_text(asl.read_text().replace("${StepTwoArn}", "${NoSuchSubstitution}"))
    moto_port_before = os.environ.get("MOTO_PORT")
    stack = LocalStack(broken / "template.yaml")
    with pytest.raises(TemplateError, match="NoSuchSubstitution"):
        stack.start()
    assert os.environ.get("MOTO_PORT") == moto_port_before
    assert "ITEMS_TABLE" not in os.environ
    with LocalStack(FIXTURE_TEMPLATE) as working:  # the guard was released
        assert working.routes


def test_up_command_serves_until_sigterm() -> None:
    env = {**os.environ, "PORT": "0", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "orderflow_local", "up", "--template", str(FIXTURE_TEMPLATE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert process.stdout is not None
        while not lines or not lines[-1].startswith("Ctrl-C"):
            line = process.stdout.readline()
            assert line, f"up exited early: {process.stderr.read() if process.stderr else ''}"
            lines.append(line.strip())
        api_url = next(line.split()[-1] for line in lines if line.startswith("HTTP API"))
        assert any(line.startswith("AWS endpoint   http://127.0.0.1:") for line in lines)
        assert any("/items/{id}" in line and "ApiFunction" in line for line in lines)
        assert "Schedule       WorkStateMachine.Hourly  rate(1 hour) UTC" in lines
        assert "Schedule       TickFunction.Nightly  cron(0 2 * * ? *) (disabled)" in lines
        assert not any(line.startswith("Suppliers") for line in lines)  # the fixture has no supplier queues
        aws_endpoint = next(line.split()[2] for line in lines if line.startswith("AWS endpoint"))
        # The line to paste into another terminal names this stack's ports, not the defaults.
        assert f"export ORDERFLOW_API={api_url} ORDERFLOW_AWS_ENDPOINT={aws_endpoint}" in lines
        assert not any("}}" in line for line in lines)
        assert httpx.get(f"{api_url}/nowhere").status_code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
