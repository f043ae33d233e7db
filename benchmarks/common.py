"""Shared helpers: where results live, what machine made them, and small statistics."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TEMPLATE = REPO / "template.yaml"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 0
    versions = {}
    for package in ("boto3", "moto", "aws-lambda-powertools", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "arch": platform.machine(),
        "nproc": cores,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "packages": versions,
    }


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_report(path: Path, text: str) -> int:
    """Write a benchmark's own page (a results file it rewrites whole) and print it; exit status 0."""
    path.write_text(text)
    print(text)
    return 0


def save(section: str, command: str, data: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Store one section's results with their provenance; returns what was stored."""
    record = {"section": section, "command": command, "date": now(), "machine": machine(),
              "seconds": round(seconds, 1), "data": data}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{section}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def load(section: str) -> dict[str, Any] | None:
    path = RESULTS / f"{section}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def summary(values: list[float]) -> dict[str, float]:
    """Median, min, max and mean (and n) of a sample."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "mean": statistics.fmean(values), "n": len(values)}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on the sorted sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
