#!/usr/bin/env python3
"""Report the unzipped size of each function and layer that ``sam build`` produced.

Reads ``<build-dir>/template.yaml`` (written by ``sam build``) to learn each function's code
directory and layers, sums file sizes on disk (symlinks are not followed), prints a table and
exits 1 if any function plus its layers is above ``--limit-mb`` (AWS rejects more than 250 MB
unzipped; the default margin is 230 MB). MB here means MiB (1,048,576 bytes), as AWS counts it.

Usage: ``python scripts/build_sizes.py [--build-dir .aws-sam/build] [--limit-mb 230]``
"""

from __future__ import annotations

import argparse
import os
import sys
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=".aws-sam/build", type=Path)
    ap.add_argument("--limit-mb", default=230.0, type=float)
    args = ap.parse_args(argv)

    built = args.build_dir / "template.yaml"
    if not built.is_file():
        print(f"error: {built} not found; run 'sam build' first", file=sys.stderr)
        return 1
    template = load_template(built)
    resources = template.get("Resources") or {}
    globals_fn = (template.get("Globals") or {}).get("Function") or {}

    layer_sizes: dict[str, int] = {}
    for lid, res in resources.items():
        if (res or {}).get("Type") in LAYER_TYPES:
            props = res.get("Properties") or {}
            content = props.get("ContentUri") or props.get("Content")
            layer_sizes[lid] = tree_size(_code_dir(args.build_dir, lid, content))

    rows = []
    problems = []
    for fid, res in resources.items():
        if (res or {}).get("Type") not in FUNCTION_TYPES:
            continue
        props = res.get("Properties") or {}
        code = _code_dir(args.build_dir, fid, props.get("CodeUri") or props.get("Code"))
        if not code.exists():
            problems.append(f"{fid}: build output {code} does not exist")
            continue
        own = tree_size(code)
        layers = props.get("Layers", globals_fn.get("Layers")) or []
        names, external = [], []
        total = own
        for layer in layers:
            ref = intrinsic(layer)
            if ref and ref[0] == "Ref" and ref[1] in layer_sizes:
                names.append(ref[1])
                total += layer_sizes[ref[1]]
            else:
                external.append(str(ref[1] if ref else layer))
        rows.append((fid, own, names, external, total))
        if total > args.limit_mb * MB:
            problems.append(
                f"{fid}: {total / MB:.1f} MB unzipped with its layers ({', '.join(names) or 'none'}), "
                f"over the {args.limit_mb:g} MB limit"
            )

    if layer_sizes:
        print("Layers:")
        for lid, size in sorted(layer_sizes.items()):
            print(f"  {lid:<36} {size / MB:8.2f} MB")
    print("Functions (code + layers, unzipped):")
    for fid, own, names, external, total in sorted(rows):
        layer_note = f" + {', '.join(names)}" if names else ""
        ext_note = f" (+ external layers not measured: {', '.join(external)})" if external else ""
        print(f"  {fid:<36} {own / MB:8.2f} MB code{layer_note:<20} = {total / MB:8.2f} MB{ext_note}")
    if not rows:
        problems.append("no functions found in the built template")

    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1
    print(f"OK: every function + layers is within {args.limit_mb:g} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
