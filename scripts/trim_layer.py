#!/usr/bin/env python3
"""Trim a Lambda layer's ``python/`` folder after ``pip install --target`` (used by layers/*/Makefile).

    trim_layer.py constraints CORE_REPORT.json
        print ``name==version`` for every distribution of a ``pip install --dry-run --report`` (the
        core layer's resolution), so the forecasting layer resolves its shared dependencies to the
        very same versions.
    trim_layer.py trim SITE [--without-runtime-sdk] [--without-core CORE_REPORT.json] [--sourceless]
        1. remove whole distributions (their RECORD files): the SDK the python3.12 runtime ships
           (``--without-runtime-sdk``), and what the core layer already ships (``--without-core``);
        2. remove what is never imported at run time: ``tests`` folders, ``conftest.py``, type stubs,
           Cython/C sources and headers, static archives, console scripts (``bin/``), and the data
           files (not the modules) of statsmodels' example data sets;
        3. compile bytecode with this interpreter (run it with the runtime's Python, 3.12):
           ``unchecked-hash`` .pyc next to the sources, or with ``--sourceless`` a legacy .pyc in place
           of each .py (the .py removed).

Never touched: ``*.libs`` folders (the shared libraries auditwheel bundles) and ``.so`` files.
See docs/build.md for why each choice was made and what it saves.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import py_compile
import re
import shutil
import sys
from pathlib import Path

RUNTIME_VERSION = (3, 12)
# What the python3.12 Lambda runtime provides in /var/runtime (on sys.path after /opt/python):
# boto3 and botocore with their dependencies. A copy in a layer would shadow the runtime's own.
RUNTIME_SDK = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
LAYER_MOUNT = "/opt/python"  # where Lambda puts a layer's python/ folder
DEAD_DIRS = frozenset({"tests", "__pycache__"})
DEAD_SUFFIXES = (".pyi", ".pyx", ".pxd", ".pxi", ".pyx.in", ".pxd.in", ".c", ".cpp", ".h", ".hpp", ".a")
DEAD_FILES = frozenset({"conftest.py"})
# Example data sets only examples and tests load (6 MB of CSV and Stata files in statsmodels 0.15).
# Their modules stay, so ``import statsmodels.api`` still works; only ``load()`` of one would fail.
EXAMPLE_DATA = ("statsmodels/datasets",)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def report_distributions(report: Path) -> dict[str, str]:
    """``{canonical name: version}`` of what a ``pip install --report`` would install."""
    data = json.loads(report.read_text())
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in data["install"]}


def protected(path: Path, site: Path) -> bool:
    """A bundled shared library: anything under a ``*.libs`` folder, and every ``.so`` file."""
    rel = path.relative_to(site)
    return path.suffix == ".so" or ".so." in path.name or any(part.endswith(".libs") for part in rel.parts)


def installed(site: Path) -> dict[str, Path]:
    """``{canonical name: dist-info folder}`` of the distributions installed in ``site``."""
    found = {}
    for info in site.glob("*.dist-info"):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        found[canonical(name)] = info
    return found


def remove_distribution(site: Path, info: Path) -> int:
    """Delete every file its RECORD lists (and the folders left empty); returns bytes freed."""
    freed = 0
    folders = set()
    for line in (info / "RECORD").read_text().splitlines():
        rel = line.rsplit(",", 2)[0].strip('"')
        path = (site / rel).resolve()
        if not rel or not path.is_relative_to(site) or not path.is_file():
            continue
        freed += path.stat().st_size
        path.unlink()
        folders.update(p for p in path.parents if p.is_relative_to(site) and p != site)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if info.exists():
        shutil.rmtree(info)
    return freed


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def remove_dead_weight(site: Path) -> dict[str, int]:
    """Remove what no import reads; returns bytes freed per kind."""
    freed = {"tests": 0, "sources, stubs, headers": 0, "console scripts": 0, "example data": 0}
    for folder in EXAMPLE_DATA:
        for path in sorted((site / folder).rglob("*")) if (site / folder).is_dir() else []:
            if path.is_file() and path.suffix != ".py" and not protected(path, site):
                freed["example data"] += path.stat().st_size
                path.unlink()
    if (site / "bin").is_dir():
        freed["console scripts"] += size(site / "bin")
        shutil.rmtree(site / "bin")
    for root, dirs, files in os.walk(site):
        here = Path(root)
        for name in [d for d in dirs if d in DEAD_DIRS or d.endswith("-stubs")]:
            folder = here / name
            if any(protected(f, site) for f in folder.rglob("*")):
                continue  # never happens in the wheels we ship; keep it rather than lose a library
            freed["tests" if name == "tests" else "sources, stubs, headers"] += size(folder)
            shutil.rmtree(folder)
            dirs.remove(name)
        for name in files:
            path = here / name
            if protected(path, site):
                continue
            if name in DEAD_FILES or name.endswith(DEAD_SUFFIXES):
                freed["tests" if name in DEAD_FILES else "sources, stubs, headers"] += path.stat().st_size
                path.unlink()
    return freed


def compile_bytecode(site: Path, sourceless: bool) -> int:
    """Compile every .py with ``unchecked-hash`` validation; returns how many were left uncompiled.

    Unchecked: the .pyc is used without comparing the source's mtime, which a zip keeps only to two
    seconds, and /opt is read-only, so a mismatch would recompile in memory at every cold start.
    Sourceless: the .pyc takes the .py's place (``legacy``) and the .py goes; a file that does not
    compile (code for another Python, never imported) stays as source. Code objects name their files
    as Lambda mounts them (``/opt/python/...``), not as this build machine had them: a sourceless
    module's traceback shows that name as it is.
    """
    compileall.compile_dir(
        site,
        ddir=LAYER_MOUNT,
        quiet=2,
        workers=0,
        legacy=sourceless,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    left = 0
    for path in site.rglob("*.py"):
        compiled = path.with_suffix(".pyc") if sourceless else Path(importlib.util.cache_from_source(str(path)))
        if not compiled.is_file():
            left += 1
            print(f"  not compiled: {path.relative_to(site)}", file=sys.stderr)
        elif sourceless:
            path.unlink()
    return left


def trim(site: Path, without_runtime_sdk: bool, without_core: Path | None, sourceless: bool) -> None:
    site = site.resolve()
    before = size(site)
    drop = set(RUNTIME_SDK) if without_runtime_sdk else set()
    if without_core:
        drop |= set(report_distributions(without_core)) - RUNTIME_SDK  # the core layer ships these itself
    dists = installed(site)
    for name in sorted(drop & set(dists)):
        freed = remove_distribution(site, dists[name])
        print(f"  removed {name} ({freed / 2**20:.1f} MB)")
    for kind, freed in remove_dead_weight(site).items():
        print(f"  removed {kind}: {freed / 2**20:.1f} MB")
    failed = compile_bytecode(site, sourceless)
    after = size(site)
    print(
        f"  {site}: {before / 2**20:.1f} MB -> {after / 2**20:.1f} MB "
        f"({'sourceless .pyc' if sourceless else '.py + .pyc'}, {failed} file(s) left uncompiled)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("constraints", help="print name==version for each distribution of a pip report")
    c.add_argument("report", type=Path)
    t = sub.add_parser("trim", help="remove dead weight and compile bytecode")
    t.add_argument("site", type=Path)
    t.add_argument("--without-runtime-sdk", action="store_true", help=f"remove {', '.join(sorted(RUNTIME_SDK))}")
    t.add_argument(
        "--without-core",
        type=Path,
        metavar="CORE_REPORT.json",
        help="remove what the core layer ships (its resolution, minus the runtime's SDK)",
    )
    t.add_argument("--sourceless", action="store_true", help="ship .pyc only, no .py")
    args = parser.parse_args(argv)
    if args.command == "constraints":
        for name, version in sorted(report_distributions(args.report).items()):
            print(f"{name}=={version}")
        return 0
    if sys.version_info[:2] != RUNTIME_VERSION:
        print(
            f"error: run this with Python {'.'.join(map(str, RUNTIME_VERSION))} (the runtime's), not "
            f"{sys.version.split()[0]}: bytecode is specific to the interpreter's version",
            file=sys.stderr,
        )
        return 1
    if not args.site.is_dir():
        print(f"error: {args.site} is not a folder", file=sys.stderr)
        return 1
    trim(args.site, args.without_runtime_sdk, args.without_core, args.sourceless)
    return 0


if __name__ == "__main__":
    sys.exit(main())
