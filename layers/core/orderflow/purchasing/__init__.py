"""Purchasing: suppliers, purchase orders, and the suppliers' replies that turn into stock.

Public surface for other areas: this module.
"""

from orderflow.purchasing.domain import (
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierIn,
    SupplierReply,
    purchase_order_id,
    run_order_id,
)
from orderflow.purchasing.drafting import MAX_RUN_LINES, DraftLine
from orderflow.purchasing.rules import CapacityExceeded, ReplyRejected
from orderflow.purchasing.service import PurchasingService

__all__ = ["MAX_RUN_LINES", "CapacityExceeded", "DraftLine", "PurchaseOrder", "PurchaseOrderStatus",
           "PurchasingService", "ReplyRejected", "Supplier", "SupplierIn", "SupplierReply", "purchase_order_id",
           "run_order_id"]
