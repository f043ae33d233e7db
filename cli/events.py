"""``orderflow events``: the domain events the stack published, read back from its events log group.

Every event on the bus also lands in a CloudWatch Logs group (template.yaml, DomainEventsToLogsRule),
offline and deployed alike, so this is what an integrator subscribed to the bus would receive.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from .aws import DEFAULT_AWS_ENDPOINT, AwsEndpoint, aws_client, aws_error

DEFAULT_LOG_GROUP = "/orderflow/dev/events"
POLL_SECONDS = 1.0
# The fields that identify what happened, in the order a line shows them.
KEY_FIELDS = ("order_id", "return_id", "po_id", "sku", "customer_id", "supplier_id", "status", "total", "quantity",
              "available", "threshold", "refund_amount", "reason")


def logs_client(endpoint: str) -> Any:
    """CloudWatch Logs of the local stack at ``endpoint``, or of real AWS (default credentials) for ``""``."""
    return aws_client("logs", endpoint)


def read_events(logs: Any, log_group: str, since_ms: int, types: list[str]) -> Iterator[tuple[str, float, dict]]:
    """``(log event id, timestamp, EventBridge event)`` from ``since_ms`` on, in the order they were logged."""
    kwargs: dict[str, Any] = {"logGroupName": log_group, "startTime": since_ms, "interleaved": True}
    if types:
        kwargs["filterPattern"] = "{ " + " || ".join(f'($.detail-type = "{t}")' for t in types) + " }"
    while True:
        page = logs.filter_log_events(**kwargs)
        for entry in page.get("events", []):
            try:
                event = json.loads(entry["message"])
            except ValueError:
                continue
            if isinstance(event, dict) and (not types or event.get("detail-type") in types):
                yield entry["eventId"], entry["timestamp"], event
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def line(event: dict) -> str:
    """One line: when, detail-type, and the detail's key fields."""
    detail = event.get("detail") or {}
    fields = "  ".join(f"{k}={detail[k]}" for k in KEY_FIELDS if detail.get(k) is not None)
    if isinstance(detail.get("lines"), list):
        fields += "  lines=" + ",".join(f"{li.get('sku')}×{li.get('quantity')}" for li in detail["lines"])
    return f"{detail.get('occurred_at') or event.get('time', '')}  {event.get('detail-type', '?'):<22}  {fields}"


def events(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")] = False,
    types: Annotated[list[str] | None, typer.Option("--type", "-t", metavar="DETAIL_TYPE",
                                                    help="Only this detail-type (repeatable), e.g. StockLow.")] = None,
    since: Annotated[float, typer.Option(min=0, metavar="MINUTES", help="Start this many minutes ago.")] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print each whole event as one JSON line.")] = False,
    aws_endpoint: AwsEndpoint = DEFAULT_AWS_ENDPOINT,
    log_group: Annotated[str, typer.Option(envvar="ORDERFLOW_EVENTS_LOG_GROUP", show_envvar=True,
                                           help="The stack's events log group (/orderflow/<stage>/events).")]
    = DEFAULT_LOG_GROUP,
) -> None:
    """Show the domain events published to the event bus (what CRM, ERP and WMS subscribers receive)."""
    from botocore.exceptions import BotoCoreError, ClientError

    logs = logs_client(aws_endpoint)
    start = int((time.time() - since * 60) * 1000)
    seen: dict[str, float] = {}
    try:
        while True:
            for event_id, timestamp, event in read_events(logs, log_group, start, types or []):
                if event_id in seen:
                    continue
                seen[event_id] = timestamp
                typer.echo(json.dumps(event) if as_json else line(event))
            if not follow:
                return
            # Read again from the newest event seen (timestamps may tie), forgetting ids before it.
            start = int(max(seen.values(), default=start))
            seen = {i: t for i, t in seen.items() if t >= start}
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        return
    except (BotoCoreError, ClientError) as exc:
        typer.echo("error: " + aws_error(exc, f"cannot read {log_group}", aws_endpoint), err=True)
        raise typer.Exit(1) from None
