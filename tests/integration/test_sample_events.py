"""events/samples/ holds one sample event per handler, for `sam local invoke -e` and for reading.
They must stay parseable by the handlers they are for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parents[2] / "events" / "samples"


def test_every_step_handler_has_a_sample(stack):
    handlers = {fn.handler_module for fn in stack.resources.functions if fn.code_dir.name == "process_order"}
    assert {f"process_order_{h}.json" for h in handlers} <= {p.name for p in SAMPLES.iterdir()}


API_FUNCTIONS = {"order_intake": "OrderIntakeFunction", "warehouse_api": "WarehouseApiFunction"}


@pytest.mark.parametrize("sample", sorted(p.name for prefix in API_FUNCTIONS for p in SAMPLES.glob(f"{prefix}_*.json")))
def test_api_samples_reach_their_route(stack, sample):
    event = json.loads((SAMPLES / sample).read_text())
    function = next(name for prefix, name in API_FUNCTIONS.items() if sample.startswith(f"{prefix}_"))
    result = stack.runtime.invoke(function, event)
    body = json.loads(result["body"])
    assert result["statusCode"] != 500
    if result["statusCode"] >= 400:  # the sample's order or customer does not exist here: a domain answer
        assert body["error"]["code"] in {"NOT_FOUND", "UNPROCESSABLE"}
