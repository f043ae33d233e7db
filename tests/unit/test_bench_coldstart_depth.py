"""The depth diagnostic behind docs/decisions.md, "Cold start" (benchmarks/coldstart_depth.py): a case's code run
some calls deeper is the same code, its names still the module's. No timing."""

import sys

import pytest

from benchmarks.coldstart_depth import nested

CODE = "import sys\ndepth = len(__import__('inspect').stack())\nvalue = 42\n"


@pytest.mark.parametrize("calls", [0, 1, 3])
def test_the_code_runs_that_many_calls_deeper_and_leaves_its_names_in_the_module(calls):
    top, deeper = {"__name__": "case"}, {"__name__": "case"}
    exec(compile(nested(CODE, 0), "<case>", "exec"), top)
    exec(compile(nested(CODE, calls), "<case>", "exec"), deeper)
    assert deeper["depth"] - top["depth"] == calls
    assert deeper["value"] == 42 and deeper["sys"] is sys
