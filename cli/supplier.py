"""The supplier integration kit: what a supplier runs to take Orderflow's purchase orders and answer them.

Orderflow puts each purchase order on the supplier's own SQS queue (``PurchaseOrderMessage``,
``events/schemas/purchase-order.v1.json``), and a cancellation when a buyer calls one off
(``purchase-order.v2.json``); the supplier answers on the replies queue
(``SupplierReply``, ``events/schemas/supplier-reply.v1.json``). ``SupplierClient`` does both with
boto3 and the two message models, nothing else of Orderflow::

    client = SupplierClient(queue_url)
    def handle(po: PurchaseOrderMessage) -> None:
        client.acknowledge(po)
    client.listen(handle)              # long polls until stopped; deletes each message once handled

``orderflow supplier listen --queue URL [--auto]`` does the same from the command line.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from rich.console import Console

from orderflow.purchasing.domain import (
    SCHEMA_VERSION,
    PurchaseOrderCancellation,
    PurchaseOrderMessage,
    ReplyLine,
    ReplyType,
    SupplierReply,
)

from .aws import DEFAULT_AWS_ENDPOINT, aws_client, aws_error

logger = logging.getLogger("orderflow_cli.supplier")

Handler = Callable[[PurchaseOrderMessage], Any]
CancellationHandler = Callable[[PurchaseOrderCancellation], Any]


class NoReplyQueue(ValueError):
    """Neither the client nor the purchase order says where replies go."""


def _region_and_endpoint(queue_url: str) -> tuple[str, str | None]:
    """``sqs.<region>.amazonaws.com`` URLs name their region; any other host (a local stack) is the endpoint."""
    parts = urlsplit(queue_url)
    host = parts.hostname or ""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if host.endswith(".amazonaws.com"):
        labels = host.split(".")
        return (labels[1] if labels[0] == "sqs" and len(labels) > 3 else region), None
    return region, f"{parts.scheme}://{parts.netloc}"


class SupplierClient:
    """Receives a supplier's purchase orders and sends its replies.

    ``reply_queue_url`` defaults to each purchase order's ``reply_to``. ``sqs_client`` defaults to a
    boto3 client for the queue's region, or, for a queue URL that is not on AWS, for that host
    (``endpoint_url`` overrides it; ``AWS_ENDPOINT_URL`` is honoured as boto3 does). Each receive long-polls
    up to ``long_poll_seconds`` (SQS's longest, 20, by default; 0 answers at once with what is there).
    ``on_cancel`` is called for each cancellation of a purchase order sent earlier (``purchase-order.v2.json``);
    without it a cancellation is logged and deleted.
    """

    def __init__(
        self,
        queue_url: str,
        reply_queue_url: str | None = None,
        sqs_client: Any = None,
        endpoint_url: str | None = None,
        long_poll_seconds: int = 20,
        on_cancel: CancellationHandler | None = None,
    ) -> None:
        self.queue_url = queue_url
        self.on_cancel = on_cancel
        self.long_poll_seconds = long_poll_seconds
        self.reply_queue_url = reply_queue_url
        if sqs_client is None:
            region, inferred = _region_and_endpoint(queue_url)
            endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or inferred
            sqs_client = boto3.client("sqs", region_name=region, endpoint_url=endpoint)
        self.sqs = sqs_client
        self._reply_to: dict[str, str] = {}  # po_id -> reply_to of the purchase orders received

    def principal(self) -> str:
        """The principal id SQS stamps on this client's replies as ``SenderId`` (``GetCallerIdentity``'s
        ``UserId``, without a role's ``:session``): give it to the buyer, who registers it as the supplier's
        ``reply_principal``; replies from any other principal are refused."""
        credentials = self.sqs._request_signer._credentials.get_frozen_credentials()
        sts = boto3.client("sts", region_name=self.sqs.meta.region_name, endpoint_url=self._sts_endpoint(),
                           aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                           aws_session_token=credentials.token)
        return str(sts.get_caller_identity()["UserId"]).split(":", 1)[0]

    def _sts_endpoint(self) -> str | None:
        endpoint = self.sqs.meta.endpoint_url
        return None if endpoint.rstrip("/").endswith(".amazonaws.com") else endpoint

    # ------------------------------------------------------------------ purchase orders in
    def poll(self, handler: Handler, max_messages: int = 10) -> int:
        """One receive (long polling up to ``long_poll_seconds``): ``handler`` is called for each purchase
        order and its message deleted when it returns. A handler that raises leaves the message on the
        queue (it comes back after the queue's visibility timeout); so does a message that is not a v1
        purchase order (logged), for a kit that understands it. Returns the number handled."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=self.long_poll_seconds
        ).get("Messages", [])
        handled = 0
        for message in received:
            if '"PurchaseOrderCancellation"' in message["Body"] and self._cancelled(message):
                continue
            try:
                po = PurchaseOrderMessage.model_validate_json(message["Body"])
            except ValidationError as exc:
                logger.warning("message %s on %s is not a v1 purchase order, left on the queue: %s",
                               message["MessageId"], self.queue_url, exc)
                continue
            if po.reply_to:
                self._reply_to[po.po_id] = po.reply_to
            try:
                handler(po)
            except Exception:
                logger.exception("handling %s failed; it comes back after the visibility timeout", po.po_id)
                continue
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        return handled

    def _cancelled(self, message: dict[str, Any]) -> bool:
        """A cancellation handled (``on_cancel``, or logged) and deleted; False when the body is not one."""
        try:
            cancellation = PurchaseOrderCancellation.model_validate_json(message["Body"])
        except ValidationError:
            return False
        try:
            if self.on_cancel is not None:
                self.on_cancel(cancellation)
            else:
                logger.info("purchase order %s was cancelled by the buyer: %s", cancellation.po_id,
                            cancellation.reason)
        except Exception:
            logger.exception("handling the cancellation of %s failed; it comes back after the visibility timeout",
                             cancellation.po_id)
            return True
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def listen(self, handler: Handler, stop: threading.Event | None = None) -> None:
        """:meth:`poll` until ``stop`` is set (or for ever)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.poll(handler)

    # ------------------------------------------------------------------ replies out
    def acknowledge(self, po: PurchaseOrderMessage, reason: str | None = None) -> SupplierReply:
        return self._reply(po, ReplyType.ACKNOWLEDGED, reason=reason)

    def reject(self, po: PurchaseOrderMessage, reason: str) -> SupplierReply:
        return self._reply(po, ReplyType.REJECTED, reason=reason)

    def confirm_partially(
        self, po: PurchaseOrderMessage, confirmed: Mapping[str, int], reason: str | None = None
    ) -> SupplierReply:
        """The units per SKU the supplier will deliver (less than ordered)."""
        return self._reply(po, ReplyType.PARTIALLY_CONFIRMED, confirmed, reason)

    def ship(self, po: PurchaseOrderMessage) -> SupplierReply:
        return self._reply(po, ReplyType.SHIPPED)

    def receive(self, po: PurchaseOrderMessage, delivered: Mapping[str, int] | None = None) -> SupplierReply:
        """The goods arrived: units per SKU (default: every line in full). Several partial receipts
        may follow each other."""
        return self._reply(po, ReplyType.RECEIVED, delivered or {line.sku: line.quantity for line in po.lines})

    def send(self, reply: SupplierReply, reply_queue_url: str | None = None) -> SupplierReply:
        """Put a reply on the replies queue as it is: ``reply_queue_url``, the client's, or the ``reply_to``
        of the purchase order it answers (when this client received it)."""
        url = reply_queue_url or self.reply_queue_url or self._reply_to.get(reply.po_id)
        if not url:
            raise NoReplyQueue(f"no reply queue for {reply.po_id}: pass reply_queue_url")
        self.sqs.send_message(QueueUrl=url, MessageBody=reply.model_dump_json(exclude_none=True))
        return reply

    def _reply(
        self,
        po: PurchaseOrderMessage,
        kind: ReplyType,
        lines: Mapping[str, int] | None = None,
        reason: str | None = None,
    ) -> SupplierReply:
        reply = SupplierReply(
            schema_version=SCHEMA_VERSION,
            reply_id=uuid.uuid4().hex,
            po_id=po.po_id,
            supplier_id=po.supplier_id,
            type=kind,
            lines=[ReplyLine(sku=sku, quantity=quantity) for sku, quantity in (lines or {}).items()],
            reason=reason,
            sent_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return self.send(reply, self.reply_queue_url or po.reply_to)


def fulfil(client: SupplierClient, po: PurchaseOrderMessage) -> list[SupplierReply]:
    """The happy path: acknowledge, ship and receive every line in full."""
    return [client.acknowledge(po), client.ship(po), client.receive(po)]


# ------------------------------------------------------------------ command line
supplier_app = typer.Typer(help="Supplier integration kit: receive purchase orders, send replies.",
                           no_args_is_help=True)
_out = Console(highlight=False)


@supplier_app.callback()
def _supplier() -> None:
    """Supplier integration kit: receive purchase orders, send replies."""


@supplier_app.command()
def listen(
    queue: Annotated[str, typer.Option("--queue", metavar="URL", help="The supplier's purchase-order queue.")],
    reply_queue: Annotated[str | None, typer.Option("--reply-queue", metavar="URL",
                                                    help="Replies queue (default: each order's reply_to).")] = None,
    auto: Annotated[bool, typer.Option("--auto", help="Reply ACKNOWLEDGED, SHIPPED and RECEIVED in full to "
                                                      "each purchase order.")] = False,
    aws_endpoint: Annotated[str, typer.Option(
        "--aws-endpoint", "--endpoint-url", envvar="ORDERFLOW_AWS_ENDPOINT", show_envvar=True, metavar="URL",
        help="SQS endpoint: the local stack's AWS endpoint (`make up` prints it; any key works), or '' for real "
             "AWS with your credentials (then a queue URL that is not on AWS names its own host).",
    )] = DEFAULT_AWS_ENDPOINT,
    count: Annotated[int | None, typer.Option("--count", min=1, help="Stop after this many purchase orders.")] = None,
    wait: Annotated[int, typer.Option("--wait", min=0, max=20, help="Long-poll seconds per receive.")] = 20,
) -> None:
    """Print each purchase order that arrives on the queue (and, with --auto, fulfil it). Ctrl-C stops."""
    region, _ = _region_and_endpoint(queue)
    sqs = aws_client("sqs", aws_endpoint, region) if aws_endpoint else None
    client = SupplierClient(queue, reply_queue, sqs_client=sqs, long_poll_seconds=wait)
    stop = threading.Event()
    seen = 0

    def handle(po: PurchaseOrderMessage) -> None:
        nonlocal seen
        lines = ", ".join(f"{line.sku}×{line.quantity} @ {line.unit_cost}" for line in po.lines)
        _out.print(f"[bold]{po.po_id}[/] from cycle {po.cycle} for {po.supplier_id}: {lines}; total {po.total}"
                   + (f", expected by {po.expected_by}" if po.expected_by else ""), soft_wrap=True)
        if auto:
            for reply in fulfil(client, po):
                _out.print(f"  replied {reply.type.value} ({reply.reply_id})")
        seen += 1
        if count is not None and seen >= count:
            stop.set()

    _out.print(f"listening on {queue}" + (" (replying automatically)" if auto else "") + "; Ctrl-C stops",
               soft_wrap=True)  # the URL stays whole
    try:
        while not stop.is_set():
            client.poll(handle, max_messages=min(10, count - seen) if count else 10)
    except KeyboardInterrupt:
        pass
    except (BotoCoreError, ClientError) as exc:
        typer.echo("error: " + aws_error(exc, f"cannot receive from {queue}", aws_endpoint), err=True)
        raise typer.Exit(1) from None
