"""Figure 1's set-up (benchmarks/coldstart.py, benchmarks/lambda_bootstrap.py): the children import as Lambda's runtime
does, on the runtime's Python and packages, or say plainly that they do not. No timing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import coldstart, report

PROBE = """
import sys
frames, frame = [], sys._getframe()
while frame is not None:
    frames.append([frame.f_code.co_name, frame.f_globals.get("__name__")])
    frame = frame.f_back
"""
# After the import: where the rest of a case runs, and the module bound to its name.
AFTER = "import json, sys\nprint(json.dumps({'frames': probe.frames, 'caller': sys._getframe(1).f_code.co_name}))\n"


def run_bootstrap(tmp_path: Path) -> dict:
    (tmp_path / "probe.py").write_text(PROBE)
    case = coldstart.Case("probe", "probe", AFTER, {"PYTHONPATH": os.pathsep.join(
        [str(tmp_path), str(coldstart.bootstrap_dir(str(tmp_path)))])}, str(tmp_path))
    done = subprocess.run(case.argv(), env=case.env, cwd=case.cwd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_child_imports_its_module_under_awslambdarics_chain_and_runs_the_rest_below_run(tmp_path):
    seen = run_bootstrap(tmp_path)
    names = [name for name, _ in seen["frames"]]
    start = names.index("import_module")
    outward = seen["frames"][start:]
    # innermost first: import_module < _get_handler < run < main < <module> < runpy's two
    assert [name for name, _ in outward] == [frame.rsplit(".", 1)[-1] for frame in reversed(coldstart.IMPORT_CHAIN)]
    assert outward[0][1] == "importlib" and {module for _, module in outward[-2:]} == {"runpy"}
    assert seen["caller"] == "run"


def test_the_site_gets_the_layers_requirements_and_the_runtimes_boto3_not_the_layers_resolver_pins():
    lines = ["# a comment", "aws-lambda-powertools[tracer]==3.37.0", "pydantic==2.14.3  # why", "",
             "botocore==1.44.5", "jmespath==1.1.0", "python-dateutil==2.9.0.post0", "six==1.17.0", "urllib3==2.8.0"]
    wanted = coldstart.site_requirements("1.44.18", lines)
    assert wanted == ["aws-lambda-powertools[tracer]==3.37.0", "pydantic==2.14.3", "boto3==1.44.18"]
    real = coldstart.site_requirements("1.44.18", (coldstart.CORE_LAYER / "requirements.txt").read_text().splitlines())
    names = {line.split("=")[0].split("[")[0] for line in real}
    assert "pydantic" in names and not names & {"botocore", "jmespath", "urllib3", "six", "python-dateutil"}


def test_the_cached_site_is_rebuilt_when_python_or_a_requirement_changes():
    base = coldstart.site_key("3.12.1", ["pydantic==2.14.3", "boto3==1.44.18"])
    assert coldstart.site_key("3.12.1", ["pydantic==2.14.3", "boto3==1.44.18"]) == base
    assert coldstart.site_key("3.12.2", ["pydantic==2.14.3", "boto3==1.44.18"]) != base
    assert coldstart.site_key("3.12.1", ["pydantic==2.14.4", "boto3==1.44.18"]) != base


def test_a_complete_site_is_reused_and_an_old_one_replaced(tmp_path, monkeypatch):
    installs = []

    def pip(argv, **_):
        installs.append(argv)
        Path(argv[argv.index("--target") + 1]).mkdir(parents=True)
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(coldstart.subprocess, "run", pip)
    (tmp_path / "old-key").mkdir()
    site = coldstart.runtime_site("python3.12", "3.12.1", cache=tmp_path)
    assert site.is_dir() and not (tmp_path / "old-key").exists() and len(installs) == 1
    assert coldstart.runtime_site("python3.12", "3.12.1", cache=tmp_path) == site
    assert len(installs) == 1


def test_without_the_runtimes_python_the_children_run_this_one_and_the_results_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(coldstart, "find_runtime_python", lambda: None)
    children = coldstart.runtime(tmp_path)
    assert children.python == sys.executable
    assert "no Python 3.12 found" in children.note and (children.site / "boto3").exists()


def test_a_failed_install_falls_back_with_pips_message(tmp_path, monkeypatch):
    def failed(*_, **__):
        raise subprocess.CalledProcessError(1, "pip", stderr="ERROR: No matching distribution found for boto3")

    monkeypatch.setattr(coldstart, "find_runtime_python", lambda: sys.executable)
    monkeypatch.setattr(coldstart, "runtime_site", failed)
    children = coldstart.runtime(tmp_path)
    assert children.python == sys.executable and "No matching distribution" in children.note


@pytest.mark.parametrize(("python", "note", "says"), [
    ("3.12.1", "", "so the children run that Python"),
    ("3.11.7", "no Python 3.12 found", "**Not the runtime's Python:** no Python 3.12 found"),
    ("3.11.7", "", "**Not the runtime's Python**"),
])
def test_the_section_names_the_python_the_children_ran(python, note, says):
    text = report._coldstart_children({"python": python, "python_note": note, "import_chain": coldstart.IMPORT_CHAIN})
    assert f"Python {python}" in text and says in text
    assert "`runpy._run_module_as_main` → `runpy._run_code`" in text and "the 7th Python frame" in text


def test_the_baseline_compares_only_the_functions_both_templates_define_in_figure_1s_order():
    from benchmarks.coldstart_baseline import paired

    both, skipped = paired({"B", "A", "Old"}, {"A", "B", "C", "New"}, wanted=["A", "C", "B", "D"])
    assert both == ["A", "B"]
    assert skipped == ["C", "D"]
