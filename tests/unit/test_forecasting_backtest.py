"""``python -m orderflow.forecasting.backtest`` on small CSVs, and the order path's import hygiene."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from orderflow.forecasting.backtest import main, read_long_csv, run_backtest

REPO = Path(__file__).resolve().parents[2]


def write_csv(path: Path, series: dict[str, list[float]], start: date = date(2024, 1, 1),
              skip: dict[str, set[int]] | None = None) -> Path:
    lines = ["series_id,date,value"]
    for sid, values in series.items():
        for i, value in enumerate(values):
            if skip and i in skip.get(sid, set()):
                continue
            lines.append(f"{sid},{(start + timedelta(days=i)).isoformat()},{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


def panel() -> dict[str, list[float]]:
    rng = np.random.default_rng(7)
    t = np.arange(70)
    weekly = (20 + 8 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, 70)).round(1)
    sparse = np.where(rng.random(70) < 0.2, rng.integers(1, 6, 70), 0)
    return {"fast": weekly.tolist(), "slow": sparse.tolist(), "flat": [3.0] * 70}


def test_cli_json_reports_every_method_and_auto(tmp_path, capsys):
    csv = write_csv(tmp_path / "demand.csv", panel())
    code = main([str(csv), "--horizon", "7", "--season", "7", "--json", "--methods", "ses", "hw", "sba"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["series"] == 3 and report["horizon"] == 7 and report["season"] == 7
    assert list(report["results"]) == ["snaive", "ses", "hw", "sba", "auto"]
    for row in report["results"].values():
        assert row["forecasts"] == 3 and row["series_per_s"] > 0
        assert row["unscaled"] == 1  # "flat" has no in-sample seasonal-naive error
        assert row["mase"] is not None and row["rmsse"] is not None
    assert report["results"]["snaive"]["mase_vs_snaive"] == pytest.approx(1.0)
    assert sum(report["results"]["auto"]["chosen"].values()) == 3


def test_cli_table_and_origins(tmp_path, capsys):
    csv = write_csv(tmp_path / "demand.csv", panel())
    assert main([str(csv), "--horizon", "7", "--season", "7", "--origins", "3", "--methods", "ses", "sba"]) == 0
    out = capsys.readouterr().out
    assert "3 series, horizon 7, season 7, 3 origin(s) every 7 periods" in out
    for name in ("snaive", "ses", "sba", "auto"):
        assert any(line.startswith(name) for line in out.splitlines())
    assert "auto chose:" in out


def test_bad_series_are_skipped_with_a_reason(tmp_path, capsys):
    data = panel()
    data["returns"] = [1.0, -2.0] + [1.0] * 20
    data["tiny"] = [1.0, 2.0]
    csv = write_csv(tmp_path / "demand.csv", data)
    assert main([str(csv), "--horizon", "7", "--season", "7", "--json", "--methods", "ses"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["series"] == 3
    assert "negative values at positions 1" in report["skipped"]["returns"]
    assert "too short" in report["skipped"]["tiny"]


def test_missing_column_and_duplicates_are_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,date,quantity\nA,2024-01-01,1\n")
    assert main([str(bad), "--horizon", "2", "--season", "1"]) == 2
    assert "missing column(s) series_id, value" in capsys.readouterr().err
    dup = tmp_path / "dup.csv"
    dup.write_text("series_id,date,value\nA,2024-01-01,1\nA,2024-01-02,1\nA,2024-01-01,2\n")
    assert main([str(dup), "--horizon", "1", "--season", "1"]) == 2
    assert "line 2: series 'A' has more than one row for 2024-01-01" in capsys.readouterr().err


def test_fill_zero_fills_missing_days(tmp_path):
    csv = write_csv(tmp_path / "gaps.csv", {"A": [1, 2, 3, 4, 5, 6], "B": [1, 1, 1, 1, 1, 1]}, skip={"A": {2, 3}})
    assert read_long_csv(csv, fill_zero=True)["A"].tolist() == [1, 2, 0, 0, 5, 6]
    assert read_long_csv(csv)["A"].tolist() == [1, 2, 5, 6]


def test_quarters_parse(tmp_path):
    csv = tmp_path / "q.csv"
    csv.write_text("series_id,date,value\nX,1998 Q2,2\nX,1998 Q1,1\nX,1998 Q3,3\n")
    assert read_long_csv(csv)["X"].tolist() == [1, 2, 3]


def test_run_backtest_from_python():
    report = run_backtest(panel(), horizon=7, season_length=7, methods=["ses"], each=False)
    assert list(report["results"]) == ["snaive", "auto"]


def test_a_method_fitted_with_the_yearly_wave_is_not_counted_as_a_fallback():
    """Three years with a yearly wave: hw and mean are fitted on the history with the wave divided out ("hw
    (yearly)"), which is the method asked for; a multiplicative method on a history with zeros is a fallback."""
    t = np.arange(3 * 365 + 28)
    wave = np.random.default_rng(4).poisson(40 + 12 * np.sin(2 * np.pi * t / 365) + 6 * (t % 7 == 5)).astype(float)
    report = run_backtest({"wave": wave.tolist()}, horizon=28, season_length=7, methods=["hw", "mean"])
    assert all(method.endswith("(yearly)") for method in report["results"]["auto"]["chosen"])
    assert {name: row["fallbacks"] for name, row in report["results"].items()} == {
        "snaive": 0, "hw": 0, "mean": 0, "auto": 0}

    zeros = [0.0, 5.0, 0.0, 3.0, 0.0, 0.0, 4.0] * 10
    report = run_backtest({"zeros": zeros}, horizon=7, season_length=7, methods=["hw_mul"])
    assert report["results"]["hw_mul"]["fallbacks"] == 1


# ------------------------------------------------------------------ import hygiene

HEAVY = ("pandas", "statsmodels", "scipy")

PROBE = """
import importlib.util, json, sys
from pathlib import Path
repo = Path(sys.argv[1])
loaded = {}
handlers = [repo / "functions" / "order_intake" / "app.py", repo / "functions" / "warehouse_api" / "app.py"]
handlers += sorted((repo / "functions" / "process_order").glob("*.py"))
for path in handlers:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"handler_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded[str(path.relative_to(repo))] = sorted(m for m in {HEAVY} if m in sys.modules)
print(json.dumps(loaded))
"""


def test_order_handlers_never_load_the_forecasting_stack():
    env = {**os.environ, "ORDERS_TABLE": "x", "STOCK_TABLE": "x", "CUSTOMERS_TABLE": "x", "PRODUCTS_TABLE": "x",
           "DEMAND_TABLE": "x", "RETURNS_TABLE": "x", "IDEMPOTENCY_TABLE": "x", "EVENT_BUS_NAME": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "test"}
    code = PROBE.replace("{HEAVY}", repr(HEAVY))
    result = subprocess.run([sys.executable, "-c", code, str(REPO)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"functions/order_intake/app.py", "functions/warehouse_api/app.py"} <= set(loaded) and len(loaded) >= 8
    assert all(not heavy for heavy in loaded.values()), loaded


def test_importing_the_forecasting_package_loads_numpy_only():
    code = ("import sys, orderflow.forecasting, orderflow.forecasting.backtest; "
            f"print(sorted(m for m in {HEAVY!r} + ('numpy',) if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['numpy']"


# The replenish side (the run, the simulation) may use the forecaster; nothing on the order path may.
REPLENISH_SIDE = {"forecasting", "replenishment"}  # the areas of the layer that may import it


def _imports_forecasting(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        if any(name.startswith(("orderflow.forecasting", ".forecasting", "..forecasting")) for name in names):
            return True
    return False


def test_only_the_replenish_side_imports_forecasting():
    package = REPO / "layers" / "core" / "orderflow"
    offenders = [str(path.relative_to(REPO)) for path in package.rglob("*.py")
                 if not REPLENISH_SIDE & set(path.relative_to(package).parts)
                 and _imports_forecasting(path)]
    handlers = [str(path.relative_to(REPO)) for path in (REPO / "functions").rglob("*.py")
                if "replenish" not in path.parts and _imports_forecasting(path)]
    assert not offenders and not handlers, offenders + handlers


# ------------------------------------------------------------------ benchmark data


def _benchmark_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmarks_forecasting", REPO / "benchmarks" / "forecasting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_panels_load_offline_from_the_wheel():
    bench = _benchmark_module()
    retail, tourism = bench.load_aus_retail(), bench.load_tourism()
    assert len(retail) == 152 and len(tourism) == 304
    assert all(len(y) == 80 for y in tourism.values())
    assert max(len(y) for y in retail.values()) == 441
    daily = bench.generate_daily_intermittent(20)
    assert all(len(y) == 758 for y in daily.values())
    assert np.mean([np.mean(y == 0) for y in daily.values()]) > 0.5  # mostly zeros
    again = bench.generate_daily_intermittent(20)
    assert all(np.array_equal(daily[k], again[k]) for k in daily)  # seeded
