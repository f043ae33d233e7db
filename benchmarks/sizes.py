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
ZIPPED_LIMIT_MB = 50


def _build_sizes() -> Any:
    """scripts/build_sizes.py, which reads the built template (one reading of it, not two)."""
    path = REPO / "scripts" / "build_sizes.py"
    sys.path.insert(0, str(path.parent))  # it imports check_asl from beside itself
    try:
        spec = importlib.util.spec_from_file_location("orderflow_build_sizes", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
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


def run(build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    built = build_dir / "template.yaml"
    if not built.is_file():
        return {"built": False, "build_dir": _shown(build_dir)}
    bs = _build_sizes()
    template = bs.load_template(built)
    resources = template.get("Resources") or {}
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    layers: dict[str, dict[str, Any]] = {}
    functions: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="orderflow-sizes-") as tmp:
        for lid, res in resources.items():
            if (res or {}).get("Type") in bs.LAYER_TYPES:
                props = res.get("Properties") or {}
                path = bs._code_dir(build_dir, lid, props.get("ContentUri") or props.get("Content"))
                layers[lid] = {"unzipped": bs.tree_size(path), "zipped": zipped_size(path, Path(tmp)),
                               "largest": largest_parts(path, bs.tree_size)}
        for fid, res in resources.items():
            if (res or {}).get("Type") not in bs.FUNCTION_TYPES:
                continue
            props = res.get("Properties") or {}
            path = bs._code_dir(build_dir, fid, props.get("CodeUri") or props.get("Code"))
            names = []
            for layer in props.get("Layers", globals_fn.get("Layers")) or []:
                ref = bs.intrinsic(layer)
                if ref and ref[0] == "Ref" and ref[1] in layers:
                    names.append(ref[1])
            own = {"unzipped": bs.tree_size(path), "zipped": zipped_size(path, Path(tmp))}
            functions.append({
                "function": fid, "code": own, "layers": names,
                "total_unzipped": own["unzipped"] + sum(layers[n]["unzipped"] for n in names),
                "total_zipped": own["zipped"] + sum(layers[n]["zipped"] for n in names),
            })
    built_at = built.stat().st_mtime
    return {"built": True, "build_dir": _shown(build_dir), "built_at": built_at,
            "layers": layers, "functions": sorted(functions, key=lambda f: f["function"]),
            "limits_mb": {"unzipped": UNZIPPED_LIMIT_MB, "zipped_direct_upload": ZIPPED_LIMIT_MB}}
