"""A simulated supplier for the offline stack (never deployed: it is not in ``template.yaml``).

Built on the supplier integration kit (``orderflow_cli.supplier``). A thread finds the supplier
queues (``SUPPLIER_QUEUE_PREFIX`` + supplier id, created by ``PUT /suppliers/{id}``) and answers
every purchase order on them, by the supplier id:

- ``manual-...``: left alone, for a person or a test to answer with the kit;
- ``partial-...``: confirms half of each line (rounded up), ships, and delivers what it confirmed;
- any other: acknowledges, ships and delivers every line in full.

A purchase order delivered twice (SQS delivers at least once) is answered once: like a real
supplier, it deduplicates on ``po_id``.

Replies count only when SQS says they come from the supplier's registered principal
(docs/security.md), so before answering a supplier's first purchase order the simulator onboards it
as a supplier and an administrator would: ``onboard(supplier_id)`` gives it an IAM user of its own,
registers that user as the supplier's ``reply_principal`` and returns an SQS client signing as it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from orderflow.purchasing.domain import PurchaseOrderMessage, SupplierReply
from orderflow_cli.supplier import SupplierClient, fulfil
from orderflow_local.template import Template

logger = logging.getLogger("orderflow_local.supplier_sim")

MANUAL_PREFIX = "manual-"
PARTIAL_PREFIX = "partial-"


def reply_to(client: SupplierClient, po: PurchaseOrderMessage) -> list[SupplierReply]:
    """What the simulated supplier answers to one purchase order."""
    if po.supplier_id.startswith(PARTIAL_PREFIX):
        confirmed = {line.sku: math.ceil(line.quantity / 2) for line in po.lines}
        return [
            client.confirm_partially(po, confirmed, reason="simulated supplier: half of each line"),
            client.ship(po),
            client.receive(po, confirmed),
        ]
    return fulfil(client, po)


class SimulatedSuppliers:
    """Polls every supplier queue whose name starts with ``queue_prefix`` and answers what arrives."""

    def __init__(self, sqs: Any, queue_prefix: str, reply_queue_url: str, idle_seconds: float = 0.5,
                 onboard: Callable[[str], Any] | None = None) -> None:
        self.queue_prefix = queue_prefix
        self._onboard = onboard
        self.reply_queue_url = reply_queue_url
        self.replies: list[SupplierReply] = []
        self._answered: set[str] = set()
        self._sqs = sqs
        self._idle_seconds = idle_seconds
        self._clients: dict[str, SupplierClient] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orderflow-supplier-sim", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def poll_once(self) -> int:
        """One pass over every supplier queue; the number of purchase orders answered."""
        listed = self._sqs.list_queues(QueueNamePrefix=self.queue_prefix, MaxResults=1000).get("QueueUrls", [])
        handled = 0
        for url in listed:
            supplier_id = url.rsplit("/", 1)[1].removeprefix(self.queue_prefix)
            if supplier_id.startswith(MANUAL_PREFIX):
                continue
            client = self._clients.get(url)
            if client is None:
                sqs = self._onboard(supplier_id) if self._onboard else self._sqs
                client = self._clients[url] = SupplierClient(url, self.reply_queue_url, sqs_client=sqs,
                                                             long_poll_seconds=0)  # the stack's timer polls again
            handled += client.poll(lambda po, c=client: self._answer(c, po))
        return handled

    def _answer(self, client: SupplierClient, po: PurchaseOrderMessage) -> None:
        if po.po_id not in self._answered:
            self.replies.extend(reply_to(client, po))
            self._answered.add(po.po_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once():
                    continue
            except Exception:
                logger.exception("simulated supplier: polling failed; trying again")
            self._stop.wait(self._idle_seconds)


def for_template(template: Template, sqs: Any, onboard: Callable[[str], Any] | None = None,
                 ) -> SimulatedSuppliers | None:
    """The simulated supplier of a template whose functions name supplier queues, else ``None``."""
    for fn in template.functions:
        prefix = fn.environment.get("SUPPLIER_QUEUE_PREFIX")
        replies = fn.environment.get("SUPPLIER_REPLIES_QUEUE_URL")
        if prefix and replies:
            return SimulatedSuppliers(sqs, prefix, replies, onboard=onboard)
    return None
