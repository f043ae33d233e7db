"""``orderflow upgrade``: one-off steps a deployment runs on its data when it upgrades.

``upgrade due``: orders stored before the ``by-deadline`` index was sharded carry a ``deadline`` but no ``due``
(``<status>#<shard>``, the index's partition key), so the expiry never sees them. This scans the orders table for
them (a Scan: an upgrade tool run once, never a request path) and sets ``due`` as the current code would
(``due()`` in the orders area), each with a conditional UpdateItem: only while the order is still in the status
and at the version the scan read, and still has no ``due``. An order that moved meanwhile was rewritten by the
current code, which set or left out ``due`` itself, so it is left alone; a second run finds nothing to do.
An order whose deadline is its open shipments' (``indexed`` is false) keeps it without ``due``, as today.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from .aws import DEFAULT_AWS_ENDPOINT, AwsEndpoint, aws_client, aws_error

_TABLE_SUFFIX = "-OrdersTable"  # CloudFormation names it <stack>-OrdersTable-<random>; the local stack without the tail


@dataclass
class DueCounts:
    """What ``set_due`` found and did."""

    missing: int = 0  # orders with a deadline and no ``due``
    set: int = 0  # ``due`` written (with ``dry_run``: would be)
    held_by_shipments: int = 0  # the deadline is the open shipments': no ``due``, as the current code keeps it
    moved: int = 0  # changed since the scan read it (or another run set ``due`` first): left alone
    unreadable: list[str] = field(default_factory=list)  # ids of items the current Order model refuses: left alone


def _missing_due(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every stored order (wire format) with a ``deadline`` and no ``due``, page by page."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True,
                              "FilterExpression": "attribute_exists(deadline) AND attribute_not_exists(due)"}
    while True:
        page = dynamodb.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def set_due(dynamodb: Any, table: str, dry_run: bool = False) -> DueCounts:
    """Give ``due`` to every order of ``table`` that has a deadline the expiry should see and lacks it."""
    from pydantic import ValidationError

    from orderflow.orders import Order
    from orderflow.orders.adapters.table import due, indexed
    from orderflow.platform.dynamo import from_item

    counts = DueCounts()
    for item in _missing_due(dynamodb, table):
        counts.missing += 1
        try:
            order = Order.model_validate(from_item(item))
        except ValidationError:
            counts.unreadable.append(item["order_id"]["S"])
            continue
        if not indexed(order):
            counts.held_by_shipments += 1
            continue
        if dry_run:
            counts.set += 1
            continue
        same_version = "version = :version" if "version" in item else "attribute_not_exists(version)"
        values = {":due": {"S": due(order.status, order.order_id)}, ":status": item["status"]}
        if "version" in item:
            values[":version"] = item["version"]
        try:
            dynamodb.update_item(
                TableName=table, Key={"order_id": item["order_id"]}, UpdateExpression="SET due = :due",
                ConditionExpression=f"#status = :status AND {same_version} AND attribute_exists(deadline)"
                                    " AND attribute_not_exists(due)",
                ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues=values)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            counts.moved += 1
            continue
        counts.set += 1
    return counts


def orders_table(dynamodb: Any) -> str:
    """The one orders table the endpoint holds; ``typer.BadParameter`` when there is none or more than one."""
    names: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        names += [n for n in page["TableNames"] if n.endswith(_TABLE_SUFFIX) or f"{_TABLE_SUFFIX}-" in n]
    if len(names) != 1:
        found = ", ".join(names) or "none"
        raise typer.BadParameter(f"cannot tell which orders table to upgrade (found: {found}); pass --table NAME",
                                 param_hint="--table")
    return names[0]


upgrade_app = typer.Typer(help="One-off steps a deployment runs on its data when it upgrades.",
                          no_args_is_help=True)


@upgrade_app.command("due")
def upgrade_due(
    table: Annotated[str | None, typer.Option(
        envvar="ORDERFLOW_ORDERS_TABLE", show_envvar=True,
        help="The orders table; by default the one table named *-OrdersTable* at the endpoint.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; write nothing.")] = False,
    aws_endpoint: AwsEndpoint = DEFAULT_AWS_ENDPOINT,
) -> None:
    """Set `due` on orders stored before the by-deadline index was sharded, so the expiry sees them again."""
    from botocore.exceptions import BotoCoreError, ClientError

    dynamodb = aws_client("dynamodb", aws_endpoint)
    try:
        table = table or orders_table(dynamodb)
        counts = set_due(dynamodb, table, dry_run=dry_run)
    except (BotoCoreError, ClientError) as exc:
        typer.echo("error: " + aws_error(exc, f"cannot upgrade {table or 'the orders table'}", aws_endpoint),
                   err=True)
        raise typer.Exit(1) from None
    verb = "would set" if dry_run else "set"
    typer.echo(f"{table}: {counts.missing} order(s) with a deadline and no due; {verb} due on {counts.set}, "
               f"{counts.held_by_shipments} held by their shipments (no due, as today), "
               f"{counts.moved} moved meanwhile (left alone)")
    if counts.unreadable:
        typer.echo(f"{len(counts.unreadable)} order(s) the current code cannot read, left alone: "
                   + ", ".join(counts.unreadable), err=True)
        raise typer.Exit(1)
