"""Figure 5: package sizes from ``sam build`` output (``.aws-sam/build``; ``make build`` makes it).

Each function's code and each layer, unzipped (bytes on disk, symlinks not followed, as
scripts/build_sizes.py counts them) and zipped (deflated into a temporary directory, as
``sam package`` would upload them). Lambda's limits: 250 MB unzipped for a function and all its
layers; 50 MB zipped for a direct upload (larger zips go through S3). MB = MiB.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from .common import REPO

BUILD_DIR = REPO / ".aws-sam" / "build"
MB = 1024 * 1024
UNZIPPED_LIMIT_MB = 250
GATE_MB = 230  # what `make build` allows (MAX_FUNCTION_MB), a margin under AWS's limit
ZIPPED_LIMIT_MB = 50


def _build_sizes() -> Any:
    """scripts/build_sizes.py, the size gate of ``make build``: one reading of the built template, not two."""
    path = REPO / "scripts" / "build_sizes.py"
    sys.path.insert(0, str(path.parent))  # it imports check_asl from beside itself
    try:
        spec = importlib.util.spec_from_file_location("orderflow_build_sizes", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def zipped_size(directory: Path, into: Path) -> int:
    archive = into / f"{directory.name}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                if not path.is_symlink():
                    zf.write(path, path.relative_to(directory))
    size = archive.stat().st_size
    archive.unlink()
    return size


def _shown(path: Path) -> str:
    return os.path.relpath(path, REPO) if path.is_relative_to(REPO) else str(path)


def largest_parts(layer: Path, size_of: Any, top: int = 4) -> list[dict[str, Any]]:
    """The biggest top-level packages of a layer (under ``python/`` when it has one)."""
    root = layer / "python" if (layer / "python").is_dir() else layer
    parts = [{"name": entry.name, "bytes": size_of(entry)} for entry in root.iterdir()
             if not entry.name.endswith((".dist-info", ".data")) and entry.name != "__pycache__"]
    return sorted(parts, key=lambda p: p["bytes"], reverse=True)[:top]


def kinds(layer: Path) -> dict[str, int]:
    """Bytes by kind: shared libraries (extensions and the ``*.libs`` they load), bytecode, sources, other."""
    totals = dict.fromkeys(("shared libraries", "bytecode", "sources", "other"), 0)
    for root, _dirs, files in os.walk(layer):
        for name in files:
            path = Path(root) / name
            if path.is_symlink():
                continue
            kind = ("shared libraries" if name.endswith(".so") or ".so." in name else
                    "bytecode" if name.endswith(".pyc") else "sources" if name.endswith(".py") else "other")
            totals[kind] += path.stat().st_size
    return totals


def run(build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    built = build_dir / "template.yaml"
    if not built.is_file():
        return {"built": False, "build_dir": _shown(build_dir)}
    bs = _build_sizes()
    measured = bs.measure(build_dir)
    with tempfile.TemporaryDirectory(prefix="orderflow-sizes-") as tmp:
        layers = {lid: {"unzipped": measured.layer_bytes[lid], "zipped": zipped_size(path, Path(tmp)),
                        "largest": largest_parts(path, bs.tree_size), "kinds": kinds(path)}
                  for lid, path in measured.layer_dirs.items()}
        functions = []
        for f in measured.functions:
            own = {"unzipped": f.code_bytes, "zipped": zipped_size(f.code, Path(tmp))}
            functions.append({
                "function": f.function, "code": own, "layers": f.layers,
                "total_unzipped": f.total,
                "total_zipped": own["zipped"] + sum(layers[n]["zipped"] for n in f.layers),
            })
    return {"built": True, "build_dir": _shown(build_dir), "built_at": built.stat().st_mtime,
            "layers": layers, "functions": functions, "gate_mb": GATE_MB,
            "limits_mb": {"unzipped": UNZIPPED_LIMIT_MB, "zipped_direct_upload": ZIPPED_LIMIT_MB}}
