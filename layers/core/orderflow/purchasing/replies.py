"""Suppliers' replies turned into purchase-order moves and stock: each reply in one transaction with the stock
it affects, recorded by id on the purchase order so a redelivered reply changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orderflow.purchasing.domain import PurchaseOrder, ReplyType, SupplierReply
from orderflow.purchasing.rules import ReplyRejected, check_sender, plan_reply
from orderflow.shared.ports import Change

if TYPE_CHECKING:
    from orderflow.inventory import InventoryService
    from orderflow.purchasing.ports import PurchaseOrders, StockOnOrder, Suppliers
    from orderflow.shared.ports import Store


class SupplierReplies:
    """The supplier-replies part of ``PurchasingService``: ``authenticate_reply`` and ``apply_reply``."""

    store: Store
    suppliers: Suppliers
    purchase_orders: PurchaseOrders
    stock: StockOnOrder
    inventory: InventoryService | None
    _race: Callable[..., Any]  # PurchasingService._race

    def authenticate_reply(self, reply: SupplierReply, sender_id: str | None) -> None:
        """Raise ``ReplyForged`` unless SQS's ``SenderId`` is the principal registered for the reply's supplier
        (``rules.check_sender``). The SQS consumer calls this before :meth:`apply_reply`."""
        check_sender(reply, self.suppliers.get(reply.supplier_id), sender_id)

    def apply_reply(self, reply: SupplierReply) -> PurchaseOrder:
        """Apply one supplier reply in one transaction (purchase order + stock). A reply already applied
        changes nothing. A receipt then resumes the backordered orders its stock can serve."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if reply.reply_id in po.applied_replies:
                return po
            plan = plan_reply(po, reply)
            write, after = self.purchase_orders.transition(
                po, plan.status, by=f"supplier {reply.supplier_id}", reason=plan.reason, reply_id=reply.reply_id,
                lines=plan.lines)
            where = po.deliver_to  # the goods land where they were ordered to, and leave its on_order
            writes: list[Change] = [write, *(self.stock.order(sku, q, where) for sku, q in plan.on_order.items()),
                                   *(self.stock.receive(sku, q, where) for sku, q in plan.received.items())]
            self.store.commit(writes)
            return after

        def unknown(_: str) -> ReplyRejected:
            return ReplyRejected(f"{reply.type.value} reply {reply.reply_id} names purchase order {reply.po_id}, "
                                 "which does not exist",
                                 {"po_id": reply.po_id, "reply_id": reply.reply_id, "problem": "unknown_po"})

        po = self._race(reply.po_id, attempt, missing=unknown)
        if reply.type == ReplyType.RECEIVED and self.inventory is not None:
            # Also after a redelivery: it finishes an announcement that failed after the receipt was committed.
            self.inventory.stock_arrived(sorted({line.sku for line in reply.lines if line.quantity}))
        return po
