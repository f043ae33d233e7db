"""``python -m orderflow_local up``: run the offline stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from orderflow_local.faults import ENV, Faults
from orderflow_local.stack import DEFAULT_TEMPLATE, LocalStack


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orderflow_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run template.yaml offline: HTTP API, workflows, schedules")
    up.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "3000")),
        help="HTTP API port on 127.0.0.1 (default: $PORT or 3000; 0 = any free port)",
    )
    up.add_argument(
        "--aws-port",
        type=int,
        default=None,
        help="local AWS endpoint port (default: the HTTP API port + 1, e.g. 3001, where `orderflow events` looks; "
        "any free port when --port is 0)",
    )
    up.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of the handlers (POWERTOOLS_LOG_LEVEL) and of Python logging",
    )
    up.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template to run")
    up.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="template parameter override (repeatable)"
    )
    up.add_argument(
        "--no-simulated-supplier",
        dest="simulate_suppliers",
        action="store_false",
        help="do not answer purchase orders on the suppliers' queues (answer them with `orderflow supplier listen`)",
    )
    up.add_argument(
        "--faults",
        type=Faults.parse,
        default=None,
        metavar="SPEC",
        help="AWS's harsher behaviours to switch on: 'harsh' and/or name=value,... (docs/offline-stack.md); "
        f"default ${ENV}, else none",
    )
    args = parser.parse_args(argv)
    if args.aws_port is None:
        args.aws_port = args.port + 1 if args.port else 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("orderflow_local").setLevel(logging.INFO)  # one line per request
    for chatty in ("botocore", "boto3", "urllib3"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    overrides = dict(p.split("=", 1) for p in args.param)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    with LocalStack(
        args.template, args.port, args.aws_port, overrides, args.log_level, simulate_suppliers=args.simulate_suppliers,
        faults=args.faults,
    ) as stack:
        print(f"Orderflow local stack ({stack.resources.path})")
        if stack.faults.any:
            print(f"  Faults         {stack.faults}")
        print(f"  HTTP API       {stack.api_url}")
        print(f"  Console        {stack.api_url}/console/   (sign in by picking a role: admin, warehouse, customer)")
        print(f"  AWS endpoint   {stack.aws_endpoint}   (aws --endpoint-url / boto3 endpoint_url;")
        print("                 region us-east-1, any access key)")
        for group in _event_log_groups(stack):
            print(f"  Domain events  log group {group}   (orderflow events --follow)")
        for schedule in stack.schedules.schedules:
            when = schedule.event.expression + (" UTC" if schedule.event.enabled else " (disabled)")
            print(f"  Schedule       {schedule.target}.{schedule.event.event_name}  {when}")
        if sim := stack.suppliers:
            print(f"  Suppliers      simulated: queues {sim.queue_prefix}* are answered (ids manual-* are left")
            print("                 for `orderflow supplier listen`); replies go to " + sim.reply_queue_url)
        print(f"  Tokens         POST {stack.api_url}/_local/token {{\"role\": \"admin\"|\"warehouse\"|\"customer\", "
              "\"customer_id\": ID for a customer} (offline only;")
        print("                 the CLI asks for one itself: orderflow --as customer:ID ...)")
        print("  Routes:")
        for route in sorted(stack.routes, key=lambda r: (r.path, r.method)):
            print(f"    {route.method:7} {stack.api_url}{route.path}  -> {route.function}")
        print("Point the CLI (and the README's curl calls) at this stack, in another terminal:")
        print(f"  {export_line(stack.api_url, stack.aws_endpoint)}")
        print("Ctrl-C to stop.", flush=True)
        stopping.wait()
        print("Stopping...", flush=True)
    return 0


def export_line(api_url: str, aws_endpoint: str) -> str:
    """The shell line that points ``orderflow`` (--api, --aws-endpoint) and curl at a stack."""
    return f"export ORDERFLOW_API={api_url} ORDERFLOW_AWS_ENDPOINT={aws_endpoint}"


def _event_log_groups(stack: LocalStack) -> list[str]:
    """Log groups that the template's EventBridge rules deliver events to."""
    arns = {t["Arn"].removesuffix(":*") for rule in stack.resources.rules for t in rule.properties.get("Targets", [])}
    return [g.name for g in stack.resources.log_groups if any(a.endswith(f":log-group:{g.name}") for a in arns)]


if __name__ == "__main__":
    sys.exit(main())
