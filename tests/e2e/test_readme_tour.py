"""The README's five-minute tour, run as written: the blocks fenced ```` ```sh tour ````, in order, in one
bash with ``set -euo pipefail``, against a stack started as ``make up`` starts it (``python -m
orderflow_local up``, here on free ports) and pointed at by the ``export`` line that stack prints.

The working directory is a fresh folder holding the checkout's ``.venv`` and ``samples`` (what the tour
reads), so the files it writes (``report/``, ``sim/``) land there and not in the repository.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TOUR_BLOCK = re.compile(r"^```sh tour\n(.*?)^```$", re.S | re.M)


def tour_blocks() -> list[str]:
    return TOUR_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.fixture
def make_up() -> Iterator[dict[str, str]]:
    """The stack in a process of its own, as `make up` runs it; the variables its export line sets."""
    process = subprocess.Popen([sys.executable, "-m", "orderflow_local", "up", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        exported: dict[str, str] = {}
        for line in process.stdout:
            if line.strip().startswith("export "):
                exported = dict(pair.split("=", 1) for pair in line.split()[1:])
            if line.startswith("Ctrl-C"):
                break
        else:
            pytest.fail("`orderflow_local up` exited before it was ready")
        assert set(exported) == {"ORDERFLOW_API", "ORDERFLOW_AWS_ENDPOINT"}, "make up printed no export line"
        yield exported
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_readme_has_a_tour_of_curl_and_cli_calls() -> None:
    blocks = tour_blocks()
    assert len(blocks) >= 3
    text = "\n".join(blocks)
    assert "/_local/token" in text and "curl" in text and ".venv/bin/orderflow" in text


def test_the_readme_tour_runs_as_written(make_up: dict[str, str], tmp_path: Path) -> None:
    for shipped in (".venv", "samples"):
        (tmp_path / shipped).symlink_to(ROOT / shipped)
    script = "set -euo pipefail\n" + "\n".join(tour_blocks())
    env = {**os.environ, **make_up, "COLUMNS": "80"}
    env.pop("ORDERFLOW_TOKEN", None)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    output = done.stdout
    assert done.returncode == 0, f"the tour stopped:\n{output[-4000:]}\n{done.stderr[-4000:]}"

    # What a reader is told to expect, and what each step should have done.
    assert output.splitlines()[0] == '{"message": "Unauthorized"}'
    product, level = (json.loads(line) for line in output.splitlines()[1:3])
    assert (product["sku"], product["low_stock_threshold"]) == ("MUG", 5)
    assert (level["sku"], level["on_hand"], level["available"]) == ("MUG", 20, 20)
    assert "RESERVED" in output and "DELIVERED" in output and "REFUNDED" in output
    assert re.search(r"^order ord-\S+  RESERVED", output, re.M)
    assert "GET /purchase-orders needs the admin role: --as admin" in done.stderr
    run = re.search(r"^replenishment run (run-\S+)  COMPLETED", output, re.M)
    assert run, output
    assert "<img" in (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "sim" / "simulation.html").exists()
    assert "PurchaseOrderSent" in output
    assert "Traceback" not in done.stderr
