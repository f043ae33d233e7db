"""The size gate of `make build` (scripts/build_sizes.py): a function whose code and layers are over the
limit fails the build, named; and the real build, when there is one, is within Lambda's limit."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REAL_BUILD = ROOT / ".aws-sam" / "build"
KB = 1024


def _load_build_sizes():
    sys.path.insert(0, str(ROOT / "scripts"))  # it imports check_asl from beside itself
    spec = importlib.util.spec_from_file_location("build_sizes", ROOT / "scripts" / "build_sizes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build_sizes = _load_build_sizes()


def _fake_build(root: Path, *, layers: dict[str, int], functions: dict[str, tuple[int, list[str]]],
                global_layers: list[str]) -> Path:
    """A `sam build` output: the built template plus one folder of `bytes` per layer and function."""
    resources = {}
    for name, size in layers.items():
        (root / name / "python").mkdir(parents=True)
        (root / name / "python" / "blob.bin").write_bytes(b"\0" * size)
        resources[name] = {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": name}}
    for name, (size, own_layers) in functions.items():
        (root / name).mkdir()
        (root / name / "app.py").write_bytes(b"#" * size)
        props = {"CodeUri": name, "Handler": "app.handler"}
        if own_layers:
            props["Layers"] = [{"Ref": layer} for layer in own_layers]
        resources[name] = {"Type": "AWS::Serverless::Function", "Properties": props}
    template = {"Transform": "AWS::Serverless-2016-10-31",
                "Globals": {"Function": {"Runtime": "python3.12", "Layers": [{"Ref": n} for n in global_layers]}},
                "Resources": resources}
    (root / "template.yaml").write_text(yaml.safe_dump(template))
    return root


def test_a_function_over_the_limit_with_its_global_and_own_layers_fails_the_build_by_name(tmp_path, capsys):
    # Each layer alone fits in 1 MB; the forecasting function gets the global core layer *and* its own.
    build = _fake_build(tmp_path, layers={"CoreLayer": 600 * KB, "ForecastingLayer": 600 * KB},
                        functions={"OrderFunction": (10 * KB, []), "ForecastFunction": (10 * KB, ["ForecastingLayer"])},
                        global_layers=["CoreLayer"])

    assert build_sizes.main(["--build-dir", str(build), "--limit-mb", "1"]) == 1

    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: ForecastFunction: 1.2 MB unzipped with its layers, over the 1 MB limit")
    assert "CoreLayer 0.6 MB" in errors[0] and "ForecastingLayer 0.6 MB" in errors[0]
    assert "ForecastFunction" in out and "CoreLayer + ForecastingLayer" in out  # the table shows both layers


def test_functions_within_the_limit_pass(tmp_path, capsys):
    build = _fake_build(tmp_path, layers={"CoreLayer": 300 * KB, "ForecastingLayer": 300 * KB},
                        functions={"OrderFunction": (10 * KB, []), "ForecastFunction": (10 * KB, ["ForecastingLayer"])},
                        global_layers=["CoreLayer"])

    assert build_sizes.main(["--build-dir", str(build), "--limit-mb", "1"]) == 0

    out, err = capsys.readouterr()
    assert "OK: every function + layers is within 1 MB" in out
    assert "error" not in err
    sizes = build_sizes.measure(build)
    totals = {f.function: f.total for f in sizes.functions}
    assert totals == {"OrderFunction": 310 * KB, "ForecastFunction": 610 * KB}


def test_a_function_missing_from_the_build_fails_naming_it(tmp_path, capsys):
    build = _fake_build(tmp_path, layers={"CoreLayer": KB}, functions={"OrderFunction": (KB, [])},
                        global_layers=["CoreLayer"])
    (build / "OrderFunction" / "app.py").unlink()
    (build / "OrderFunction").rmdir()

    assert build_sizes.main(["--build-dir", str(build)]) == 1
    assert "error: OrderFunction: build output" in capsys.readouterr().err


def test_no_build_at_all_says_to_build_first(tmp_path, capsys):
    assert build_sizes.main(["--build-dir", str(tmp_path)]) == 1
    assert "run 'sam build' first" in capsys.readouterr().err


def _no_build(reason: str) -> None:
    """Outside CI a missing or stale build is skipped; in CI `make test` builds first, so it is a failure."""
    (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


def test_the_real_build_fits_every_function_within_230_mb(capsys):
    if not (REAL_BUILD / "template.yaml").is_file():
        _no_build(f"{REAL_BUILD.relative_to(ROOT)} does not exist: run `make build` (sam build with Python 3.12) "
                  "to check the real package sizes")
    source = build_sizes.load_template(ROOT / "template.yaml")
    wanted = {k for k, v in source["Resources"].items() if v.get("Type") in build_sizes.FUNCTION_TYPES}
    built = {f.function for f in build_sizes.measure(REAL_BUILD).functions}
    if wanted - built:
        _no_build(f"the build in {REAL_BUILD.relative_to(ROOT)} is older than template.yaml (no "
                  f"{', '.join(sorted(wanted - built))}): run `make build` again")

    rc = build_sizes.main(["--build-dir", str(REAL_BUILD), "--limit-mb", "230"])

    assert rc == 0, capsys.readouterr().err


# ---------------------------------------------------------------- trimming a layer (scripts/trim_layer.py)
def _load_trim_layer():
    spec = importlib.util.spec_from_file_location("trim_layer", ROOT / "scripts" / "trim_layer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


trim_layer = _load_trim_layer()


def _distribution(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """An installed distribution as pip leaves it: its files and a dist-info whose RECORD lists them."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    records = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{rel},,\n" for rel in records))


def _site(root: Path) -> Path:
    site = root / "python"
    _distribution(site, "stats", "1.0", {
        "stats/__init__.py": "from .model import fit\nVALUE = 42\n",
        "stats/model.py": "def fit(values):\n    return sum(values) / len(values)\n",
        "stats/tests/__init__.py": "", "stats/tests/test_model.py": "def test(): pass\n",
        "stats/conftest.py": "", "stats/model.pyi": "def fit(values: list) -> float: ...\n",
        "stats/_fast.pyx": "# cython\n", "stats/include/fast.h": "/* header */\n",
        "stats/_fast.cpython-312-x86_64-linux-gnu.so": "ELF", "stats/linalg/tests/_helper.so": "ELF",
        "stats.libs/libopenblas-1a2b.so.0": "ELF", "bin/stats-cli": "#!/bin/sh\n"})
    _distribution(site, "wrapt", "2.5.2", {"wrapt/__init__.py": ""})
    _distribution(site, "botocore", "1.44.5", {"botocore/__init__.py": "", "botocore/data/endpoints.json": "{}"})
    _distribution(site, "python-dateutil", "2.9.0.post0", {"dateutil/__init__.py": ""})
    return site


def _core_report(path: Path) -> Path:
    """What `pip install --dry-run --report` says the core layer resolves to."""
    install = [{"metadata": {"name": n, "version": v}} for n, v in
               (("aws-xray-sdk", "2.15.0"), ("wrapt", "2.5.2"), ("botocore", "1.44.5"),
                ("python-dateutil", "2.9.0.post0"))]
    path.write_text(json.dumps({"version": "1", "install": install}))
    return path


def test_the_forecasting_trim_drops_dead_weight_and_core_packages_keeps_libraries_and_still_imports(tmp_path):
    site = _site(tmp_path)

    trim_layer.trim(site, without_runtime_sdk=False, without_core=_core_report(tmp_path / "core.json"),
                    sourceless=True)

    left = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert not any(p.startswith("wrapt") for p in left)  # the core layer ships it
    assert "dateutil/__init__.pyc" in left  # the runtime's SDK is not the core layer's: pandas needs its own
    assert "botocore/__init__.pyc" in left
    assert not any("/tests/test_" in p or p.endswith((".pyi", ".pyx", ".h", "conftest.pyc")) for p in left)
    assert not any(p.startswith("bin/") for p in left)
    assert {"stats/_fast.cpython-312-x86_64-linux-gnu.so", "stats.libs/libopenblas-1a2b.so.0",
            "stats/linalg/tests/_helper.so"} <= left  # shared libraries stay, even inside a tests folder
    assert not any(p.endswith(".py") for p in left)
    assert {"stats/__init__.pyc", "stats/model.pyc"} <= left
    imported = subprocess.run([sys.executable, "-I", "-S", "-B", "-c",
                               f"import sys; sys.path.insert(0, {str(site)!r}); import stats; "
                               "print(stats.VALUE, stats.fit([1, 2, 3]), type(stats.__spec__.loader).__name__)"],
                              capture_output=True, text=True, check=True)
    assert imported.stdout.split() == ["42", "2.0", "SourcelessFileLoader"]
    code = marshal.loads((site / "stats" / "model.pyc").read_bytes()[16:])
    assert code.co_filename == "/opt/python/stats/model.py"  # tracebacks name the file where Lambda mounts it


def test_the_trim_drops_statsmodels_example_data_but_keeps_its_modules(tmp_path):
    site = tmp_path / "python"
    _distribution(site, "statsmodels", "0.15.0", {
        "statsmodels/__init__.py": "", "statsmodels/datasets/__init__.py": "from . import nile\n",
        "statsmodels/datasets/nile/__init__.py": "", "statsmodels/datasets/nile/nile.csv": "year,volume\n",
        "statsmodels/datasets/nile/src/nile.dta": "binary", "statsmodels/tsa/data.csv": "kept\n"})

    trim_layer.trim(site, without_runtime_sdk=False, without_core=None, sourceless=True)

    left = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert {"statsmodels/datasets/__init__.pyc", "statsmodels/datasets/nile/__init__.pyc"} <= left
    assert not any(p.endswith((".csv", ".dta")) and "datasets" in p for p in left)
    assert "statsmodels/tsa/data.csv" in left  # data elsewhere is read at run time: kept
    imported = subprocess.run([sys.executable, "-I", "-S", "-B", "-c",
                               f"import sys; sys.path.insert(0, {str(site)!r}); import statsmodels.datasets"],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr


def test_the_core_trim_drops_the_runtime_sdk_and_compiles_unchecked_bytecode_beside_the_sources(tmp_path):
    site = _site(tmp_path)

    trim_layer.trim(site, without_runtime_sdk=True, without_core=None, sourceless=False)

    assert not (site / "botocore").exists() and not (site / "dateutil").exists()
    assert not list(site.glob("botocore-*.dist-info")) and not list(site.glob("python_dateutil-*.dist-info"))
    assert (site / "wrapt" / "__init__.py").is_file()
    source = site / "stats" / "model.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert source.is_file() and cached.is_file()
    flags = int.from_bytes(cached.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked: used without looking at the source's mtime (PEP 552)


def test_constraints_pin_every_package_of_the_core_resolution(tmp_path, capsys):
    assert trim_layer.main(["constraints", str(_core_report(tmp_path / "core.json"))]) == 0
    assert capsys.readouterr().out.split() == ["aws-xray-sdk==2.15.0", "botocore==1.44.5",
                                               "python-dateutil==2.9.0.post0", "wrapt==2.5.2"]
