#!/usr/bin/env python3
"""Check the built layers as Lambda's python3.12 runtime would load them (``make build`` runs this).

Run it with Python 3.12. It checks the layers' contents (no copy of the runtime's SDK in the core
layer, no package in both layers, no ``tests`` folders, the bundled ``*.libs`` present, bytecode
for 3.12 beside every source or in its place), then runs two fresh interpreters whose ``sys.path``
is only the layers plus a stand-in for the runtime's own boto3 (``pip install boto3`` into
``--runtime-sdk``, as Lambda keeps it in /var/runtime, after /opt/python):

- an order function's view (core layer only): ``orderflow``, Powertools' Logger/Tracer/Metrics
  (the Tracer patches the runtime's botocore), a DynamoDB client; numpy must not be imported;
- ReplenishDecideFunction's view (core + forecasting): ``orderflow.forecasting.forecast`` on a
  2-year daily history and an intermittent one, ``forecast_many`` with the global LightGBM model and
  US holidays (lightgbm must load the layer's ``lib/libgomp.so.1``, as on Lambda's
  ``LD_LIBRARY_PATH``), a statsmodels ``ExponentialSmoothing`` fit, and
  ``orderflow.replenishment.policy.decide`` on the forecast; pandas and statsmodels must load from the layer's
  bytecode.

Usage: ``python3.12 scripts/check_layer_imports.py [--build-dir .aws-sam/build]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trim_layer import RUNTIME_SDK, RUNTIME_VERSION, installed

ORDER_SIDE = r"""
import json, sys, time
started = time.perf_counter()
import boto3, botocore
from orderflow.orders import service  # noqa: F401  (the domain every order function imports)
from orderflow.platform.lambda_support import observability
logger, tracer, metrics = observability("layer-check")
tracer_enabled = not tracer.disabled  # (builds Powertools' Tracer where orderflow defers it to the first call)
boto3.client("dynamodb", region_name="us-east-1")
import botocore.client
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 3),
    "botocore": botocore.__file__, "boto3_version": boto3.__version__,
    "tracer_enabled": tracer_enabled,
    "botocore_patched": "Wrapper" in type(botocore.client.BaseClient._make_api_call).__name__,
    "numpy_imported": "numpy" in sys.modules,
    "orderflow_cached": sys.modules["orderflow.orders.service"].__cached__,
}))
"""

REPLENISH_SIDE = r"""
import importlib, json, math, sys, time
started = time.perf_counter()
module, _, name = HANDLER.rpartition(".")
handler = getattr(importlib.import_module(module), name)  # the built function's own module, as Lambda loads it
assert callable(handler), HANDLER
import numpy as np
from orderflow.forecasting import forecast
from orderflow.replenishment.policy import decide
rng = np.random.default_rng(7)
t = np.arange(730)
smooth = rng.poisson(20 * (1 + 0.3 * np.sin(2 * np.pi * t / 7))).astype(float)
intermittent = np.where(rng.random(730) < 0.1, rng.integers(1, 9, 730), 0).astype(float)
results = {}
for name, history in (("smooth", smooth), ("intermittent", intermittent)):
    f = forecast(history, 21, 7)
    mean = np.asarray(f.mean, dtype=float)
    assert mean.shape == (21,) and np.isfinite(mean).all() and mean.min() >= 0, (name, f)
    assert math.isfinite(f.sigma) and f.sigma >= 0, (name, f.sigma)
    d = decide({"sku": name, "mean_daily_demand": float(mean.mean()), "sigma_daily": float(f.sigma),
                "lead_time_days": 14, "review_period_days": 7, "ordering_cost": 50, "unit_cost": 4,
                "holding_cost_rate": 0.25, "target_service_level": 0.95, "on_hand": 10})
    results[name] = {"method": f.method, "mean": round(float(mean.mean()), 3), "order": d.quantity}
from statsmodels.tsa.holtwinters import ExponentialSmoothing
fit = ExponentialSmoothing(smooth, trend="add", seasonal="add", seasonal_periods=7).fit()
ahead = fit.forecast(14)
assert np.isfinite(ahead).all() and abs(float(ahead.mean()) - smooth[-56:].mean()) < 10, ahead
import datetime
from orderflow.forecasting import forecast_many
panel = {f"sku{i}": rng.poisson(5 + i, 120).astype(float) for i in range(20)}
many = forecast_many(panel, 14, 7, methods=["gbm", "snaive"], last_dates=datetime.date(2026, 12, 1), country="US")
assert all(np.isfinite(r.mean).all() and "gbm" in r.details["backtest_mse"] for r in many.values()), many
gomp = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line})
import holidays, lightgbm, pandas, scipy, statsmodels
modules = (np, pandas, scipy, statsmodels, lightgbm, holidays)
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 3), "forecasts": results,
    "ets_mean": round(float(ahead.mean()), 3), "gbm_series": len(many), "libgomp": gomp,
    "loaders": {m.__name__: type(m.__spec__.loader).__name__ for m in modules},
    "files": {m.__name__: m.__file__ for m in modules},
}))
"""


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(f"check failed: {message.rstrip()}")
    print(f"  ok: {message.rstrip()}")


def top_level(site: Path) -> set[str]:
    return {p.name for p in site.iterdir() if p.name != "__pycache__"}


def check_contents(core: Path, forecasting: Path) -> None:
    shipped = set(installed(core))
    sdk = ", ".join(sorted(RUNTIME_SDK))
    check(not shipped & RUNTIME_SDK, f"the core layer ships none of the runtime's SDK ({sdk})")
    both = top_level(core) & top_level(forecasting)
    check(not both, f"no package is in both layers{f' (in both: {sorted(both)})' if both else ''}")
    tests = [str(p.relative_to(forecasting)) for p in forecasting.rglob("tests") if p.is_dir()]
    check(not tests, f"the forecasting layer has no tests folders{f' ({tests[:5]})' if tests else ''}")
    for libs in ("numpy.libs", "scipy.libs"):
        folder = forecasting / libs
        check(folder.is_dir() and any(folder.iterdir()), f"the bundled {libs} is there")
    sources = [str(p.relative_to(forecasting)) for p in forecasting.rglob("*.py")]
    check(not sources, f"the forecasting layer is bytecode only{f' (sources left: {sources[:5]})' if sources else ''}")
    missing = [
        str(p.relative_to(core))
        for p in core.rglob("*.py")
        if not Path(importlib.util.cache_from_source(str(p))).is_file()
    ]
    tag = sys.implementation.cache_tag
    check(
        not missing, f"every source in the core layer has its {tag} bytecode{f' (not: {missing[:5]})' * bool(missing)}"
    )


def ensure_runtime_sdk(target: Path) -> Path:
    """boto3 with botocore, as the runtime ships them (installed once, reused)."""
    if not (target / "boto3").is_dir():
        print(f"==> installing boto3 into {target} (the stand-in for the runtime's /var/runtime)")
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--root-user-action=ignore",
                "--only-binary=:all:",
                "--target",
                str(target),
                "boto3",
            ],
            capture_output=True,
            text=True,
        )
        if pip.returncode != 0:
            raise CheckFailed(f"pip could not install boto3:\n{pip.stderr.strip()[-3000:]}")
    return target


def decide_function(build_dir: Path, logical_id: str) -> tuple[Path, str]:
    """The built code folder (Lambda's /var/task) and handler of the function that uses both layers."""
    from check_asl import load_template

    built = build_dir / "template.yaml"
    resources = load_template(built).get("Resources") or {} if built.is_file() else {}
    if logical_id not in resources:
        raise CheckFailed(f"{logical_id} is not in {built}; run 'make build' first")
    props = (resources[logical_id] or {}).get("Properties") or {}
    return (build_dir / str(props.get("CodeUri") or logical_id)).resolve(), str(props["Handler"])


def run_side(code: str, path: list[Path], env: dict[str, str], handler: str = "") -> dict:
    """A fresh interpreter with no site-packages, no user site and no PYTHONPATH: only ``path``."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in path]!r}; HANDLER = {handler!r}\n"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", prelude + code], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise CheckFailed(f"the interpreter failed:\n{proc.stderr.strip()[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--core", default="CoreLayer", help="the core layer's logical id (its build folder)")
    parser.add_argument("--forecasting", default="ForecastingLayer", help="the forecasting layer's logical id")
    parser.add_argument("--function", default="ReplenishDecideFunction", help="the function with both layers")
    parser.add_argument(
        "--runtime-sdk",
        type=Path,
        default=Path(".aws-sam/runtime-sdk"),
        help="where boto3 is installed to stand in for the runtime's",
    )
    args = parser.parse_args(argv)
    if sys.version_info[:2] != RUNTIME_VERSION:
        print(f"error: run this with Python 3.12 (the runtime's), not {sys.version.split()[0]}", file=sys.stderr)
        return 1
    core = args.build_dir / args.core / "python"
    forecasting = args.build_dir / args.forecasting / "python"
    for site in (core, forecasting):
        if not site.is_dir():
            print(f"error: {site} not found; run 'make build' first", file=sys.stderr)
            return 1
    # Tracer patches botocore only inside Lambda; these make it believe it is (nothing is sent anywhere).
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": "layer-check",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        sdk = ensure_runtime_sdk(args.runtime_sdk.resolve())
        print(f"==> contents of {core} and {forecasting}")
        check_contents(core.resolve(), forecasting.resolve())
        functions = sorted(p for p in args.build_dir.glob("*Function") if p.is_dir())
        uncompiled = [str(py.relative_to(args.build_dir)) for fn in functions for py in fn.rglob("*.py")
                      if not Path(importlib.util.cache_from_source(str(py))).exists()]
        check(bool(functions) and not uncompiled,
              f"the {len(functions)} functions' own modules ship as bytecode (without: {uncompiled or 'none'})")
        print("==> an order function's view: core layer + the runtime's boto3")
        order = run_side(ORDER_SIDE, [core.resolve(), sdk], env)
        check(order["botocore"].startswith(str(sdk)), f"botocore comes from the runtime ({order['boto3_version']})")
        check(order["tracer_enabled"], "Powertools' Tracer is on, as inside Lambda")
        check(order["botocore_patched"], "and it patched the runtime's botocore (X-Ray subsegments for AWS calls)")
        check(not order["numpy_imported"], "the order side imports no numpy")
        check(order["orderflow_cached"].endswith(".pyc"), "orderflow loads from its bytecode")
        print(f"     (imports and clients: {order['seconds']} s)")
        print("==> ReplenishDecideFunction's view: core + forecasting layers + the runtime's boto3")
        code, handler = decide_function(args.build_dir, args.function)
        # Lambda puts /opt/lib (the layer's lib/) on LD_LIBRARY_PATH: lightgbm's libgomp.so.1 comes from there
        lib_env = {**env, "LD_LIBRARY_PATH": str((forecasting / ".." / "lib").resolve())}
        rep = run_side(REPLENISH_SIDE, [code, core.resolve(), forecasting.resolve(), sdk], lib_env, handler)
        check(True, f"{args.function}'s handler {handler} imports from {code}")
        for name, r in rep["forecasts"].items():
            check(
                True,
                f"forecast() of the {name} 2-year daily history: {r['method']}, mean {r['mean']}/day, "
                f"policy orders {r['order']}",
            )
        check(True, f"statsmodels ExponentialSmoothing fit, 14-day forecast mean {rep['ets_mean']}")
        check(True, f"forecast_many() with the global LightGBM model and US holidays on {rep['gbm_series']} series")
        layer_lib = str((forecasting / ".." / "lib").resolve())
        check(bool(rep["libgomp"]) and all(path.startswith(layer_lib) for path in rep["libgomp"]),
              f"lightgbm loads the layer's libgomp.so.1 ({rep['libgomp']})")
        sourceless = {m: loader for m, loader in rep["loaders"].items() if loader != "SourcelessFileLoader"}
        check(not sourceless, "numpy, pandas, scipy, statsmodels, lightgbm and holidays load from the layer's "
                              f"bytecode {sourceless or ''}")
        outside = {m: f for m, f in rep["files"].items() if not f.startswith(str(forecasting.resolve()))}
        check(not outside, f"and from the forecasting layer {outside or ''}")
        print(f"     (imports, two forecasts and a fit: {rep['seconds']} s)")
    except CheckFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    print("OK: the layers import and forecast under Python 3.12")
    return 0


if __name__ == "__main__":
    sys.exit(main())
