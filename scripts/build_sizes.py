#!/usr/bin/env python3
"""Report the unzipped size of each function and layer that ``sam build`` produced; fail above a limit.

Reads ``<build-dir>/template.yaml`` (written by ``sam build``) to learn each function's code
directory and layers (a SAM function's ``Layers`` come after the ``Globals`` ones: SAM adds lists
up), sums file sizes on disk (symlinks are not followed), prints a table and exits 1 if any
function plus its layers is above ``--limit-mb`` (AWS rejects more than 250 MB unzipped; the
default margin is 230 MB), naming the function. MB here means MiB (1,048,576 bytes), as AWS counts it.

Usage: ``python scripts/build_sizes.py [--build-dir .aws-sam/build] [--limit-mb 230]``
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_asl import intrinsic, load_template

MB = 1024 * 1024
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}
LAYER_TYPES = {"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"}


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_size
    return total


def _code_dir(build_dir: Path, logical_id: str, uri: Any) -> Path:
    if isinstance(uri, str) and not uri.startswith("s3://"):
        p = Path(uri)
        return p if p.is_absolute() else (build_dir / p)
    return build_dir / logical_id


def function_layers(resource: dict[str, Any], globals_fn: dict[str, Any]) -> list[Any]:
    """The layers a function runs with: for a SAM function, the Globals' first, then its own."""
    own = (resource.get("Properties") or {}).get("Layers") or []
    if resource.get("Type") == "AWS::Serverless::Function":
        return [*(globals_fn.get("Layers") or []), *own]
    return list(own)


@dataclass
class FunctionSize:
    function: str
    code: Path
    code_bytes: int
    layers: list[str] = field(default_factory=list)  # layers of this template, measured
    external: list[str] = field(default_factory=list)  # layers by ARN: not measured
    total: int = 0


@dataclass
class BuildSizes:
    layer_dirs: dict[str, Path]
    layer_bytes: dict[str, int]
    functions: list[FunctionSize]
    missing: list[str]  # "<function>: build output <dir> does not exist"


def measure(build_dir: Path) -> BuildSizes:
    """Sizes of every layer and function of ``build_dir/template.yaml`` (which must exist)."""
    template = load_template(build_dir / "template.yaml")
    resources = {k: v for k, v in (template.get("Resources") or {}).items() if isinstance(v, dict)}
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    layer_dirs = {}
    for lid, res in resources.items():
        if res.get("Type") in LAYER_TYPES:
            props = res.get("Properties") or {}
            layer_dirs[lid] = _code_dir(build_dir, lid, props.get("ContentUri") or props.get("Content"))
    layer_bytes = {lid: tree_size(path) for lid, path in layer_dirs.items()}
    functions, missing = [], []
    for fid, res in resources.items():
        if res.get("Type") not in FUNCTION_TYPES:
            continue
        props = res.get("Properties") or {}
        code = _code_dir(build_dir, fid, props.get("CodeUri") or props.get("Code"))
        if not code.exists():
            missing.append(f"{fid}: build output {code} does not exist")
            continue
        row = FunctionSize(fid, code, tree_size(code))
        for layer in function_layers(res, globals_fn):
            ref = intrinsic(layer)
            if ref and ref[0] == "Ref" and ref[1] in layer_bytes:
                if ref[1] not in row.layers:
                    row.layers.append(ref[1])
            else:
                row.external.append(str(ref[1] if ref else layer))
        row.total = row.code_bytes + sum(layer_bytes[name] for name in row.layers)
        functions.append(row)
    return BuildSizes(layer_dirs, layer_bytes, sorted(functions, key=lambda f: f.function), missing)


def over_limit(sizes: BuildSizes, limit_mb: float) -> list[str]:
    """One message per function above the limit (or not built), naming it."""
    problems = list(sizes.missing)
    for f in sizes.functions:
        if f.total > limit_mb * MB:
            parts = ", ".join(f"{name} {sizes.layer_bytes[name] / MB:.1f} MB" for name in f.layers) or "no layers"
            problems.append(
                f"{f.function}: {f.total / MB:.1f} MB unzipped with its layers, over the {limit_mb:g} MB limit "
                f"(code {f.code_bytes / MB:.1f} MB, {parts})"
            )
    if not sizes.functions and not sizes.missing:
        problems.append("no functions found in the built template")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=".aws-sam/build", type=Path)
    ap.add_argument("--limit-mb", default=230.0, type=float)
    args = ap.parse_args(argv)

    built = args.build_dir / "template.yaml"
    if not built.is_file():
        print(f"error: {built} not found; run 'sam build' first", file=sys.stderr)
        return 1
    sizes = measure(args.build_dir)
    if sizes.layer_bytes:
        print("Layers:")
        for lid, size in sorted(sizes.layer_bytes.items()):
            print(f"  {lid:<36} {size / MB:8.2f} MB")
    print("Functions (code + layers, unzipped):")
    for f in sizes.functions:
        layer_note = f" + {' + '.join(f.layers)}" if f.layers else ""
        ext_note = f" (+ external layers not measured: {', '.join(f.external)})" if f.external else ""
        print(f"  {f.function:<32} {f.code_bytes / MB:7.2f} MB code{layer_note:<34} = {f.total / MB:8.2f} MB{ext_note}")

    problems = over_limit(sizes, args.limit_mb)
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1
    print(f"OK: every function + layers is within {args.limit_mb:g} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
