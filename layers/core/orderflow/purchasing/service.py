"""Buying: suppliers, purchase orders, and the suppliers' replies turned into stock.

Like orders, every change is one conditional write or one transaction whose first item is the purchase
order's own write, guarded by its status and version: drafting puts it (only if new) together with the
SKU's ``on_order`` and the supplier's capacity for the cycle; each supplier reply moves it together
with the stock it affects, and records the reply's id, so a redelivered reply changes nothing twice.
``purchasing.rules`` is the rule book (pure); ``PurchasingService`` reads, writes and retries lost races.

``PurchasingService`` is assembled from one module per responsibility: this one holds suppliers, sending,
approval and cancellation, the reads, and the race loop they all share; ``drafting`` the nightly run's
drafts, ``by_hand`` purchase orders made and changed by hand, ``replies`` the suppliers' replies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from orderflow.inventory import InventoryService
from orderflow.purchasing.by_hand import BuyingByHand
from orderflow.purchasing.domain import (
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierIn,
)
from orderflow.purchasing.drafting import Drafting
from orderflow.purchasing.ports import Locations, Products, PurchaseOrders, StockOnOrder, SupplierQueues, Suppliers
from orderflow.purchasing.replies import SupplierReplies
from orderflow.purchasing.rules import (
    BEFORE_SHIPPING,
    CANCELLABLE,
    OPEN,
    NotPendingApproval,
    cancellation_message,
    purchase_order_message,
    was_sent,
)
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, TransientError
from orderflow.shared.ports import Change, Store
from orderflow.shared.settings import Settings
from orderflow.shared.types import utc_now

P = PurchaseOrderStatus
T = TypeVar("T")
RACE_ATTEMPTS = 8
SEND_BATCH = 10  # purchase orders put on a supplier's queue by one SendMessageBatch request


STUCK_APPROVAL_SECONDS = 300


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _hours_from_now(hours: int) -> str:
    return _timestamp(datetime.now(UTC) + timedelta(hours=hours))

# ------------------------------------------------------------------ the service
class PurchasingService(Drafting, BuyingByHand, SupplierReplies):
    def __init__(self, settings: Settings, store: Store, suppliers: Suppliers, purchase_orders: PurchaseOrders,
                 stock: StockOnOrder, queues: SupplierQueues, inventory: InventoryService | None = None,
                 products: Products | None = None, locations: Locations | None = None):
        self.settings, self.store = settings, store
        self.suppliers, self.purchase_orders, self.stock, self.queues = suppliers, purchase_orders, stock, queues
        self.inventory, self.products, self.locations = inventory, products, locations

    # ------------------------------------------------------------------ suppliers
    def put_supplier(self, supplier_id: str, data: SupplierIn) -> Supplier:
        """Register or update a supplier; its purchase-order queue is created the first time. A body without
        ``reply_principal`` keeps the one registered (changing a name must not cut the supplier off); an
        explicit ``null`` removes it."""
        if "reply_principal" not in data.model_fields_set and (stored := self.suppliers.get(supplier_id)):
            data = data.model_copy(update={"reply_principal": stored.reply_principal})
        supplier = self.suppliers.put(supplier_id, data, self.queues.ensure(supplier_id))
        return self._with_reply_queue(supplier)

    def get_supplier(self, supplier_id: str) -> Supplier:
        supplier = self.suppliers.get(supplier_id)
        if supplier is None:
            raise NotFound(f"supplier {supplier_id} not found")
        return self._with_reply_queue(supplier)

    def _with_reply_queue(self, supplier: Supplier) -> Supplier:
        return supplier.model_copy(update={"reply_queue_url": self.settings.supplier_replies_queue_url})

    # ------------------------------------------------------------------ purchase orders
    def send(self, po_id: str, by: str = "replenishment") -> PurchaseOrder:
        """Put a DRAFT purchase order on its supplier's queue and mark it SENT, unless it is worth more than
        the approval threshold: then it waits in PENDING_APPROVAL. An APPROVED one is sent. Later statuses
        are left as they are. A crash between the queue and the write sends it again on retry: suppliers
        deduplicate on ``po_id``."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status not in (P.DRAFT, P.APPROVED):
                return po
            supplier = self.get_supplier(po.supplier_id)
            write, after = self._send_write(po, supplier, by)
            if after.status == P.SENT:
                self.queues.send(supplier.queue_url, self._message(po))
            self.store.commit([write])
            return after

        return self._race(po_id, attempt, missing=NotFound)

    def send_many(self, po_ids: list[str], by: str = "replenishment") -> list[PurchaseOrder]:
        """:meth:`send` for a batch of purchase orders in fewer requests: they are read together (BatchGetItem),
        each supplier once, and a supplier's messages go on its queue ten a request (SendMessageBatch); each
        order is then marked SENT (or PENDING_APPROVAL) by its own conditional write, as :meth:`send` does.
        One that changed since it was read, or whose message SQS refused, goes through :meth:`send` alone. A
        throttled write does not stop the others (it is raised after them), so the retried step sends again
        only what was not marked."""
        found = self.purchase_orders.get_many(po_ids)
        done: dict[str, PurchaseOrder] = {}
        alone = [po_id for po_id in dict.fromkeys(po_ids) if po_id not in found]  # send() says it is not found
        suppliers: dict[str, Supplier] = {}
        to_queue: dict[str, list[tuple[PurchaseOrder, Change, PurchaseOrder]]] = {}
        busy: list[TransientError] = []

        def mark(po: PurchaseOrder, write: Change, after: PurchaseOrder) -> None:
            try:
                self.store.commit([write])
                done[po.po_id] = after
            except ConditionFailed:
                alone.append(po.po_id)
            except TransientError as exc:
                busy.append(exc)

        for po in (found[po_id] for po_id in dict.fromkeys(po_ids) if po_id in found):
            if po.status not in (P.DRAFT, P.APPROVED):
                done[po.po_id] = po
                continue
            if po.supplier_id not in suppliers:
                suppliers[po.supplier_id] = self.get_supplier(po.supplier_id)
            write, after = self._send_write(po, suppliers[po.supplier_id], by)
            if after.status == P.SENT:
                to_queue.setdefault(po.supplier_id, []).append((po, write, after))
            else:
                mark(po, write, after)
        for supplier_id, orders in to_queue.items():
            url = suppliers[supplier_id].queue_url
            for start in range(0, len(orders), SEND_BATCH):  # a failed request leaves at most ten unmarked
                chunk = orders[start:start + SEND_BATCH]
                taken = self.queues.send_batch(url, [self._message(po) for po, _, _ in chunk])
                for (po, write, after), ok in zip(chunk, taken, strict=True):
                    if ok:
                        mark(po, write, after)
                    else:
                        alone.append(po.po_id)
        for po_id in alone:
            done[po_id] = self.send(po_id, by)
        if busy:
            raise busy[0]
        return [done[po_id] for po_id in po_ids]

    def _send_write(self, po: PurchaseOrder, supplier: Supplier, by: str) -> tuple[Change, PurchaseOrder]:
        """The write that ends sending a DRAFT or APPROVED purchase order: SENT (after its message is on the
        queue), or PENDING_APPROVAL for a draft worth more than the approval threshold."""
        threshold = self.approval_threshold(supplier)
        if po.status == P.DRAFT and po.total > threshold:
            expires = _hours_from_now(self.settings.purchase_approval_hours)
            return self.purchase_orders.transition(
                po, P.PENDING_APPROVAL, by=by, fields={"approval_expires_at": expires},
                reason=f"worth {po.total}, above the approval threshold {threshold}: waits for approval until "
                       f"{expires}")
        return self.purchase_orders.transition(po, P.SENT, by=by, reason=f"on queue {supplier.queue_url}")

    def _message(self, po: PurchaseOrder) -> str:
        return purchase_order_message(po, self.settings.supplier_replies_queue_url).model_dump_json()

    def approval_threshold(self, supplier: Supplier) -> Decimal:
        """The value above which a purchase order to ``supplier`` waits for approval."""
        if supplier.approval_threshold is not None:
            return supplier.approval_threshold
        return self.settings.purchase_approval_threshold

    def approve(self, po_id: str, *, by: str) -> PurchaseOrder:
        """PENDING_APPROVAL → APPROVED → SENT. The approval is one conditional write: of two approvals at once
        one lands and sends the purchase order, the other is refused (409), so the supplier gets it once.
        One whose approval expired is cancelled instead (409)."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status != P.PENDING_APPROVAL:
                raise NotPendingApproval(f"purchase order {po.po_id} is {po.status.value}, not PENDING_APPROVAL: "
                                         "there is nothing to approve", {"po_id": po.po_id,
                                                                         "status": po.status.value})
            if po.approval_expires_at and po.approval_expires_at <= utc_now():
                self._cancel(po, by="replenishment", reason=f"approval expired at {po.approval_expires_at}")
                raise NotPendingApproval(f"purchase order {po.po_id}'s approval expired at "
                                         f"{po.approval_expires_at}; it is cancelled and the next run decides again",
                                         {"po_id": po.po_id, "status": P.CANCELLED.value})
            write, after = self.purchase_orders.transition(po, P.APPROVED, by=by, reason=f"approved by {by}")
            self.store.commit([write])
            return after

        self._race(po_id, attempt, missing=NotFound)
        return self.send(po_id, by=by)

    def cancel(self, po_id: str, *, by: str, reason: str | None = None) -> PurchaseOrder:
        """Cancel a purchase order whose goods have not left the supplier: its open units leave ``on_order``
        in the same transaction, and a supplier that was sent it gets a cancellation message. Cancelling a
        CANCELLED one changes nothing (and tells the supplier again, if it was told before)."""
        why = reason or f"cancelled by {by}"

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status == P.CANCELLED:
                return po
            if po.status not in CANCELLABLE:
                raise Conflict(f"purchase order {po.po_id} is {po.status.value}: it can be cancelled only until the "
                               "supplier ships it", {"po_id": po.po_id, "status": po.status.value})
            return self._cancel(po, by=by, reason=why)

        after = self._race(po_id, attempt, missing=NotFound)
        if after.status == P.CANCELLED and was_sent(after):
            said = next((e for e in reversed(after.timeline) if e.status == P.CANCELLED), None)
            message = cancellation_message(after, said.reason if said and said.reason else why,
                                           said.by if said else by)
            self.queues.send(self.get_supplier(after.supplier_id).queue_url, message.model_dump_json())
        return after

    def expire_approvals(self, now: str | None = None) -> int:
        """Cancel the purchase orders whose approval expired (their units leave ``on_order``; the next run
        decides those SKUs again), and send the approved ones a crash left unsent (approved more than
        ``STUCK_APPROVAL_SECONDS`` ago: a younger one is still being sent by its approval). Returns how many
        expired."""
        moment, expired, cursor = now or utc_now(), 0, None
        stuck_before = _timestamp(_parse(moment) - timedelta(seconds=STUCK_APPROVAL_SECONDS))
        while True:
            waiting, cursor = self.purchase_orders.list_by_status([P.PENDING_APPROVAL, P.APPROVED], 100, cursor)
            for po in waiting:
                if po.status == P.APPROVED:
                    if po.updated_at < stuck_before:
                        self.send(po.po_id)
                elif po.approval_expires_at and po.approval_expires_at <= moment:
                    after = self._race(po.po_id, lambda fresh: fresh if fresh.status != P.PENDING_APPROVAL else
                                       self._cancel(fresh, by="replenishment",
                                                    reason=f"approval expired at {fresh.approval_expires_at}"),
                                       missing=NotFound)
                    expired += after.status == P.CANCELLED
            if not cursor:
                return expired

    def cancel_unshipped_overdue(self, today: str) -> list[str]:
        """Cancel the purchase orders the supplier still has not shipped ``purchase_order_grace_days`` after
        the day they were expected (SENT, ACKNOWLEDGED, PARTIALLY_CONFIRMED): the supplier is told, their
        units leave ``on_order`` and the next run decides again. Goods already shipped are never cancelled by
        a clock (the overdue alert asks a buyer). Returns the ids cancelled."""
        last_day = (date.fromisoformat(today) - timedelta(days=self.settings.purchase_order_grace_days)).isoformat()
        cancelled, cursor = [], None
        while True:
            waiting, cursor = self.purchase_orders.list_by_status(list(BEFORE_SHIPPING), 100, cursor)
            for po in waiting:
                if po.expected_by and po.expected_by < last_day:
                    reason = (f"not shipped {self.settings.purchase_order_grace_days} days after it was expected "
                              f"({po.expected_by})")
                    with contextlib.suppress(Conflict):  # shipped meanwhile: left to the supplier
                        if self.cancel(po.po_id, by="deadline", reason=reason).status == P.CANCELLED:
                            cancelled.append(po.po_id)
            if not cursor:
                return cancelled

    def _cancel(self, po: PurchaseOrder, *, by: str, reason: str) -> PurchaseOrder:
        write, after = self.purchase_orders.transition(po, P.CANCELLED, by=by, reason=reason)
        self.store.commit([write, *(self.stock.order(line.sku, -line.open, po.deliver_to)
                                    for line in po.lines if line.open)])
        return after

    def cancel_draft(self, po_id: str, reason: str) -> PurchaseOrder:
        """A DRAFT never sent becomes CANCELLED and its units leave ``on_order``, in one transaction; any
        other status is left as it is (a draft sent meanwhile is the supplier's now)."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status != P.DRAFT:
                return po
            return self._cancel(po, by="replenishment", reason=reason)

        return self._race(po_id, attempt, missing=NotFound)

    def get_purchase_order(self, po_id: str) -> PurchaseOrder:
        po = self.purchase_orders.get(po_id)
        if po is None:
            raise NotFound(f"purchase order {po_id} not found")
        return po

    def find_purchase_orders(self, po_ids: list[str]) -> dict[str, PurchaseOrder]:
        """Those of ``po_ids`` that exist, by id (batched reads; an id not in the answer does not exist)."""
        return self.purchase_orders.get_many(po_ids)

    def list_purchase_orders(self, status: PurchaseOrderStatus | None, limit: int,
                             cursor: str | None) -> tuple[list[PurchaseOrder], str | None]:
        """By status, newest first; without a status, the open ones (DRAFT to PARTIALLY_RECEIVED)."""
        return self.purchase_orders.list_by_status(status or OPEN, limit, cursor)


    def _race(self, po_id: str, attempt: Callable[[PurchaseOrder], T],
              missing: Callable[[str], Exception]) -> T:
        """Run ``attempt`` on a fresh read of the purchase order until its conditional writes land."""
        for _ in range(RACE_ATTEMPTS):
            po = self.purchase_orders.get(po_id)
            if po is None:
                raise missing(f"purchase order {po_id} not found")
            try:
                return attempt(po)
            except ConditionFailed as failure:
                if not failure.failed(0):
                    raise
        raise TransientError(f"purchase order {po_id} kept changing; try again")
