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
)
from orderflow.purchasing.rules import CapacityExceeded, ReplyRejected
from orderflow.purchasing.service import PurchasingService

__all__ = ["CapacityExceeded", "PurchaseOrder", "PurchaseOrderStatus", "PurchasingService", "ReplyRejected",
           "Supplier", "SupplierIn", "SupplierReply", "purchase_order_id"]
