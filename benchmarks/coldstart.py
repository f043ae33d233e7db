"""Figure 1: cold start of each function against its floor, each a fresh interpreter (a subprocess).

- numerator: import the handler module with the function's environment from template.yaml (table
  names are the local stack's, the rest as deployed; Lambda's own variables set so Powertools' Tracer
  runs as it would on Lambda, with aws-xray-sdk patching), then create the AWS clients the function
  uses through ``orderflow.platform.aws.client`` (it builds them lazily, so the first request pays).
- floor (docs/architecture.md, Targets): ``import boto3`` and create the same clients with ``boto3.client``.
- also: plain ``import boto3``.
- first request: after the same cold start, one call of the handler with the function's sample event
  (``events/samples``), timed inside the child. Whatever the cold start defers (the Tracer, a route's
  models, ...) is paid here, so cold start + first request is what the first caller waits for. AWS
  answers without a network: a ``before-send`` hook on each client returns the sample order (a
  DELIVERED one, so every step finds its work done) for ``GetItem`` on the orders table and ``{}`` for
  anything else, so
  requests are still built, signed and parsed as on Lambda.

Every child runs the runtime's Python (template.yaml: python3.12, found by ``scripts/find-python.sh``)
with ``-S`` and a ``sys.path`` like Lambda's: the standard library, the SDK the runtime brings (boto3 at this
virtualenv's version, with the botocore, s3transfer, ... it pulls in) and the core layer's requirements,
``pip install --target``-ed for that Python into ``build/coldstart-site/`` (kept, rebuilt when the requirements
or the versions change), then ``layers/core`` (the ``orderflow`` package). Nothing else (moto, httpx, ...) is
importable, so optional imports (aws-xray-sdk patches httpx when it finds it) behave as on Lambda. Without a
Python 3.12 (or if pip cannot install), the children run this virtualenv's Python on its own packages (symlinked
into a temporary directory) and the results say so (``python_note``).

Each child imports its module (the handler's, or ``boto3`` for a floor) as Lambda's runtime imports a handler:
``python -S -m lambda_bootstrap`` runs awslambdaric's chain (main > run > _get_handler > importlib.import_module,
seven Python frames deep with runpy's two: benchmarks/lambda_bootstrap.py), then the rest of the case (clients,
first request) one call below, where awslambdaric handles a request. Every case, floors included, runs so.

Each case runs ``ROUNDS`` times, interleaved round by round so machine noise hits every case alike,
after one unmeasured warm-up round (file cache). Wall time is measured by the parent from spawn to
exit; the peak RSS is ``resource.getrusage`` in the child at its end, which then leaves with ``os._exit``:
Lambda's init phase ends when the handler is ready, and a sandbox is never shut down inside a request,
so the interpreter's own shutdown (unloading every module, a last garbage collection: 30 ms for the
floor, 50-90 ms for a step function when this was measured) is not timed, for the floor either.
The CPU time each child used (user + system) is kept beside it, with the machine's load average at
the start and the end: on a busy shared machine waiting for a core inflates wall time, much less CPU
time.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from scripts.trim_layer import RUNTIME_SDK

from .common import REPO, log, summary

SAMPLES = REPO / "events" / "samples"

ROUNDS = 9
TARGET_RATIO = 1.5  # docs/architecture.md (Targets): order functions, Logger + Metrics + request validation on
CORE_LAYER = REPO / "layers" / "core"
RUNTIME_VERSION = "3.12"  # template.yaml: Runtime: python3.12
SITE_CACHE = REPO / "build" / "coldstart-site"  # one directory per (Python, requirements) key
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# The AWS clients each function creates (DynamoDB for all).
CLIENTS: dict[str, tuple[str, ...]] = {
    "OrderIntakeFunction": ("dynamodb", "stepfunctions"),
    "PublishEventsFunction": ("dynamodb", "events"),
}
PROFILED = ("OrderIntakeFunction", "ReserveStockFunction")
ORDER = ["OrderIntakeFunction", "WarehouseApiFunction", "ValidateOrderFunction", "CheckCreditFunction",
         "ReserveStockFunction", "AwaitStockFunction", "CompensateOrderFunction", "ExpireOrdersFunction",
         "WakeBackordersFunction", "PublishEventsFunction"]
# Printed by every child last: its peak RSS in KiB (Linux) and its minor page faults; then it exits without the
# interpreter's shutdown.
_RSS = ("import os as _os, resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(_u.ru_maxrss, _u.ru_minflt, "
        "flush=True); _os._exit(0)")
# The first request of each function: its sample event (default: events/samples/<code dir>_<module>.json).
FIRST_REQUEST = {"OrderIntakeFunction": "order_intake_get_order.json",
                 "WarehouseApiFunction": "warehouse_api_pick_list.json",
                 "PublishEventsFunction": "publish_events_stock_low.json"}
# The order every sample event names, as DynamoDB returns it: delivered, so each step has nothing left to do.
SAMPLE_ORDER = {
    "order_id": {"S": "ord-0123456789abcdef0123"}, "customer_id": {"S": "cust-sample"},
    "status": {"S": "DELIVERED"}, "total": {"N": "19.98"}, "channel": {"S": "api"},
    "lines": {"L": [{"M": {"sku": {"S": "SAMPLE-SKU"}, "quantity": {"N": "2"}, "unit_price": {"N": "9.99"}}}]},
    "created_at": {"S": "2026-01-01T00:00:00.000Z"}, "updated_at": {"S": "2026-01-02T00:00:00.000Z"},
    "version": {"N": "6"}, "timeline": {"L": [{"M": {"status": {"S": "DELIVERED"},
                                                     "at": {"S": "2026-01-02T00:00:00.000Z"}}}]},
}
# Child code after the cold start: answer AWS from memory, call the handler once, print its time in ms.
_FIRST = """
import json as _json, time as _time, types as _types
from botocore.awsrequest import AWSResponse as _Response
class _Body:
    def __init__(self, data): self.data = data
    def stream(self, **_): yield self.data
def _answer(request, **_):
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    table = _json.loads(request.body or b"{{}}").get("TableName")
    body = {{"Item": {order}}} if target.endswith(".GetItem") and table == {orders!r} else {{}}
    return _Response(request.url, 200, {{"x-amzn-requestid": "bench"}}, _Body(_json.dumps(body).encode()))
for _c in {clients!r}:
    client(_c).meta.events.register("before-send", _answer)
_context = _types.SimpleNamespace(
    function_name={name!r}, function_version="$LATEST", memory_limit_in_mb={memory},
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:" + {name!r},
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef", log_group_name="/aws/lambda/" + {name!r},
    log_stream_name="bench", get_remaining_time_in_millis=lambda: 15000)
_event = _json.loads({event!r})
_start = _time.perf_counter()
{module}.{function}(_event, _context)
print((_time.perf_counter() - _start) * 1000)
"""
FIRST = " + first request"
# The Python frames each child's import runs under (benchmarks/lambda_bootstrap.py, after awslambdaric 4.2.2).
IMPORT_CHAIN = ["runpy._run_module_as_main", "runpy._run_code", "<module>", "main", "run", "_get_handler",
                "importlib.import_module"]


@dataclass(frozen=True)
class Case:
    name: str
    module: str  # imported as Lambda imports a handler (lambda_bootstrap)
    code: str  # run after it, with the module bound to its name
    env: dict[str, str]
    cwd: str
    sample: str = ""  # a first-request case's event (events/samples)
    python: str = sys.executable

    def argv(self, *options: str) -> list[str]:
        return [self.python, "-S", *options, "-m", BOOTSTRAP.stem, self.module, self.code]


@dataclass(frozen=True)
class Tree:
    """A checkout whose functions are measured: its template.yaml, its core layer, and the module its functions
    create AWS clients through (``orderflow.adapters.aws`` before the layer had business areas)."""

    root: Path

    @property
    def template(self) -> Path:
        return self.root / "template.yaml"

    @property
    def layer(self) -> Path:
        return self.root / "layers" / "core"

    @property
    def client_module(self) -> str:
        platform_aws = self.layer / "orderflow" / "platform" / "aws.py"
        return "orderflow.platform.aws" if platform_aws.exists() else "orderflow.adapters.aws"


HERE = Tree(REPO)


@dataclass(frozen=True)
class Runtime:
    """The interpreter the children run, and the directory standing in for the runtime's SDK and the layer's
    requirements on Lambda's ``sys.path``."""

    python: str
    version: str
    site: Path
    note: str = ""  # why it is not the runtime's Python, when it is not


def site_requirements(boto3_version: str, layer_lines: list[str]) -> list[str]:
    """What ``pip install --target`` gets for Lambda's ``sys.path``: the layer's requirements without the runtime's
    SDK (pinned there only to resolve, the layer does not ship them), and boto3 at ``boto3_version`` with what it
    pulls in, as the runtime ships it."""
    from packaging.requirements import Requirement

    kept = [line for line in (raw.split("#")[0].strip() for raw in layer_lines)
            if line and Requirement(line).name.lower() not in RUNTIME_SDK]
    return [*kept, f"boto3=={boto3_version}"]


def site_key(python_version: str, requirements: list[str]) -> str:
    """The cache directory's name: a new Python or any changed requirement builds a new site."""
    return hashlib.sha256("\n".join([python_version, *requirements]).encode()).hexdigest()[:16]


def runtime_site(python: str, python_version: str, cache: Path = SITE_CACHE, core_layer: Path = CORE_LAYER) -> Path:
    """The site for ``python`` and ``core_layer``'s requirements, installed once per key under ``cache`` (older keys
    are removed)."""
    layer = (core_layer / "requirements.txt").read_text().splitlines()
    requirements = site_requirements(metadata.version("boto3"), layer)
    home = cache / site_key(python_version, requirements)
    if (home / "complete").exists():
        return home / "python"
    shutil.rmtree(cache, ignore_errors=True)
    home.mkdir(parents=True)
    log(f"  coldstart: installing Lambda's packages for Python {python_version} into {home}")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
                    "--root-user-action=ignore", "--only-binary=:all:", "--target", str(home / "python"),
                    *requirements], check=True, capture_output=True, text=True, timeout=600)
    (home / "complete").write_text("\n".join(requirements) + "\n")
    return home / "python"


def find_runtime_python() -> str | None:
    done = subprocess.run([str(REPO / "scripts" / "find-python.sh"), RUNTIME_VERSION], capture_output=True, text=True)
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else None


def runtime(tmp: Path) -> Runtime:
    """The runtime's Python with its site, or (with a note saying why) this virtualenv's Python and packages."""
    python = find_runtime_python()
    problem = f"no Python {RUNTIME_VERSION} found (scripts/find-python.sh)"
    if python is not None:
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        try:
            return Runtime(python, version, runtime_site(python, version))
        except subprocess.CalledProcessError as failed:
            problem = f"pip could not install Lambda's packages for Python {version}: {failed.stderr.strip()[-300:]}"
    note = (f"{problem}; the children ran this virtualenv's Python {platform.python_version()} instead of the "
            f"runtime's {RUNTIME_VERSION}")
    log(f"  coldstart: {note}")
    return Runtime(sys.executable, platform.python_version(), lambda_site(tmp), note)


def _requirements() -> list[str]:
    """The core layer's requirement lines, plus boto3 (the runtime provides it)."""
    lines = (CORE_LAYER / "requirements.txt").read_text().splitlines()
    return ["boto3", *(line.split("#")[0].strip() for line in lines if line.split("#")[0].strip())]


def lambda_site(into: Path) -> Path:
    """A directory of symlinks to every distribution Lambda would have (runtime + layer), from this venv."""
    from packaging.requirements import Requirement

    site = into / "python"
    site.mkdir()
    pending = [Requirement(r) for r in _requirements()]
    seen: set[str] = set()
    while pending:
        req = pending.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(req.name)
        for dep in map(Requirement, dist.requires or []):
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                pending.append(dep)
        root = Path(str(dist.locate_file("")))
        for top in {f.parts[0] for f in dist.files or [] if f.parts and not f.parts[0].startswith("..")}:
            if top.endswith((".dist-info", ".data")) or top in ("__pycache__", "bin"):
                continue
            link = site / top
            if not link.exists() and (root / top).exists():
                link.symlink_to(root / top)
    return site


def clients_of(logical_id: str) -> tuple[str, ...]:
    return CLIENTS.get(logical_id, ("dynamodb",))


def bootstrap_dir(tmp: str) -> Path:
    """A directory holding only lambda_bootstrap.py, last on the children's path (as /var/runtime is on Lambda's)."""
    where = Path(tmp) / "runtime"
    where.mkdir(exist_ok=True)
    shutil.copy(BOOTSTRAP, where / BOOTSTRAP.name)
    return where


def base_env(tmp: str, site: Path) -> dict[str, str]:
    """A clean environment like Lambda's: credentials in variables, no config files, no metadata service."""
    return {
        "PYTHONPATH": os.pathsep.join([str(site), str(bootstrap_dir(tmp))]),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tmp,
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def cases(tmp: str, runtime: Runtime, tree: Tree = HERE, first_requests: bool = True,
          names: list[str] = ORDER) -> list[Case]:
    """The floors, then each function of ``names`` in ``tree`` (and its first request, if ``first_requests``)."""
    from orderflow_local.template import load_template

    template = load_template(tree.template)
    functions = {fn.logical_id: fn for fn in template.functions}
    env = base_env(tmp, runtime.site)
    site, bootstrap = env["PYTHONPATH"].split(os.pathsep)
    floors = {clients for clients in map(clients_of, names)}
    out = [Case("import boto3", "boto3", _RSS, env, tmp, python=runtime.python)]
    for clients in sorted(floors, key=len):
        made = "".join(f"boto3.client({c!r})\n" for c in clients)
        out.append(Case(floor_name(clients), "boto3", made + _RSS, env, tmp, python=runtime.python))
    for logical_id in names:
        fn = functions[logical_id]
        fn_env = {
            **env, **fn.environment,
            # Lambda's own variables; Powertools' Tracer is enabled only when LAMBDA_TASK_ROOT is set.
            "LAMBDA_TASK_ROOT": str(fn.code_dir),
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "_HANDLER": fn.handler,
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            # The layer's own package, as Lambda puts /opt/python on the path.
            "PYTHONPATH": os.pathsep.join([site, str(tree.layer), bootstrap]),
        }
        made = "".join(f"client({c!r})\n" for c in clients_of(logical_id))
        code = f"from {tree.client_module} import client\n{made}"
        module = fn.handler_module
        out.append(Case(logical_id, module, code + _RSS, fn_env, str(fn.code_dir), python=runtime.python))
        if not first_requests:
            continue
        sample = SAMPLES / FIRST_REQUEST.get(logical_id, f"{fn.code_dir.name}_{fn.handler_module}.json")
        first = _FIRST.format(order=json.dumps(SAMPLE_ORDER), orders=fn_env.get("ORDERS_TABLE", "orders"),
                              clients=clients_of(logical_id), name=fn.name,
                              memory=fn.memory_size, event=sample.read_text(), module=fn.handler_module,
                              function=fn.handler_function)
        # Lambda sets the invocation's trace header, so the X-Ray SDK records the request's subsegments.
        traced = {**fn_env, "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;"
                                                "Parent=53995c3f42cd8ad8;Sampled=1"}
        out.append(Case(logical_id + FIRST, module, code + first + _RSS, traced, str(fn.code_dir), sample.name,
                        python=runtime.python))
    return out


def floor_name(clients: tuple[str, ...]) -> str:
    return "import boto3 + " + " + ".join(f"{c} client" for c in clients)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(case: Case) -> tuple[float, int, float, int]:
    """Wall time of the child in s (for a first-request case: the handler call's, as the child timed it),
    its peak RSS in KiB, the CPU time (user + system) it used in s, which other processes on a busy
    machine inflate far less than wall time, and its minor page faults (the interpreter's frame chunks
    mapped and unmapped show there: docs/decisions.md, "Cold start")."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(case.argv(), env=case.env, cwd=case.cwd, capture_output=True, text=True, timeout=120)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{case.name}: the child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    if case.name.endswith(FIRST):
        elapsed = float(lines[-2]) / 1000
    peak, faults = map(int, lines[-1].split())
    return elapsed, peak, cpu, faults


def import_profile(case: Case, top: int = 8) -> list[dict[str, Any]]:
    """One extra run with ``-X importtime``: import time (self) summed by top-level package, largest first."""
    done = subprocess.run(case.argv("-X", "importtime"), env=case.env, cwd=case.cwd, capture_output=True, text=True,
                          timeout=120)
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|", 2))
        if not self_us.isdigit():
            continue
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
    ranked = sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)
    return [{"package": p, "ms": ms} for p, ms in ranked[:top]]


def run(rounds: int = ROUNDS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orderflow-coldstart-") as tmp:
        children = runtime(Path(tmp))
        all_cases = cases(tmp, children)
        samples = {c.name: c.sample for c in all_cases}
        times: dict[str, list[float]] = {c.name: [] for c in all_cases}
        cpu: dict[str, list[float]] = {c.name: [] for c in all_cases}
        rss: dict[str, list[int]] = {c.name: [] for c in all_cases}
        faults: dict[str, list[float]] = {c.name: [] for c in all_cases}
        load = [os.getloadavg()[0]]
        for case in all_cases:  # warm-up round: file cache, bytecode
            run_once(case)
        profiles = {c.name: import_profile(c) for c in all_cases if c.name in PROFILED}
        log(f"  coldstart: {len(all_cases)} cases, {rounds} rounds")
        for round_no in range(rounds):
            log(f"  coldstart round {round_no + 1}/{rounds}")
            for case in all_cases:
                elapsed, peak, used, faulted = run_once(case)
                times[case.name].append(elapsed * 1000)
                cpu[case.name].append(used * 1000)
                rss[case.name].append(peak)
                faults[case.name].append(faulted)
        load.append(os.getloadavg()[0])
    stats = {name: summary(values) for name, values in times.items()}
    cpu_stats = {name: summary(values) for name, values in cpu.items()}
    rows = []
    for logical_id in ORDER:
        floor = floor_name(clients_of(logical_id))
        rows.append({
            "function": logical_id,
            "clients": list(clients_of(logical_id)),
            "ms": stats[logical_id],
            "floor": floor,
            "floor_ms": stats[floor],
            "ratio": stats[logical_id]["median"] / stats[floor]["median"],
            "ratio_vs_boto3": stats[logical_id]["median"] / stats["import boto3"]["median"],
            "rss_mb": max(rss[logical_id]) / 1024,
            "minor_faults": summary(faults[logical_id])["median"],
            "floor_minor_faults": summary(faults[floor])["median"],
            "cpu_ms": cpu_stats[logical_id],
            "cpu_ratio": cpu_stats[logical_id]["median"] / cpu_stats[floor]["median"],
            "first_request": samples[logical_id + FIRST],
            "first_request_ms": stats[logical_id + FIRST],
            "first_request_rss_mb": max(rss[logical_id + FIRST]) / 1024,
        })
    floors = [{"case": name, "ms": stats[name], "cpu_ms": cpu_stats[name], "rss_mb": max(rss[name]) / 1024,
               "minor_faults": summary(faults[name])["median"]} for name in times if name.startswith("import boto3")]
    return {"rounds": rounds, "target_ratio": TARGET_RATIO, "functions": rows, "floors": floors,
            "import_profiles": profiles, "load_average": {"start": load[0], "end": load[1]},
            "python": children.version, "python_note": children.note, "import_chain": IMPORT_CHAIN}


if __name__ == "__main__":
    print(json.dumps(run(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS), indent=1))
