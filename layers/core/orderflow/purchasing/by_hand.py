"""Purchase orders made and changed by hand (docs/purchasing.md): priced from the supplier's terms,
delivered to an active location, in one transaction with the ``on_order`` of their SKUs."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from orderflow.purchasing.domain import (
    ManualLine,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    order_value,
)
from orderflow.purchasing.rules import EDITABLE, on_order_moves
from orderflow.shared.errors import ConditionFailed, Conflict, NotFound, Unprocessable
from orderflow.shared.types import MAIN_LOCATION, utc_now

if TYPE_CHECKING:
    from orderflow.purchasing.ports import Locations, Products, PurchaseOrders, StockOnOrder, Suppliers
    from orderflow.shared.ports import Store

P = PurchaseOrderStatus


class BuyingByHand:
    """The by-hand part of ``PurchasingService``: ``create`` and ``change``."""

    store: Store
    suppliers: Suppliers
    purchase_orders: PurchaseOrders
    stock: StockOnOrder
    products: Products | None
    locations: Locations | None
    send: Callable[..., PurchaseOrder]  # PurchasingService.send
    _race: Callable[..., Any]  # PurchasingService._race

    def create(self, *, po_id: str, supplier_id: str, lines: list[ManualLine], by: str,
               expected_by: date | None = None, deliver_to: str = MAIN_LOCATION, note: str | None = None
               ) -> PurchaseOrder:
        """A purchase order made by hand, in one transaction with the ``on_order`` of its SKUs; then sent,
        or left PENDING_APPROVAL when it is worth more than the threshold. ``po_id`` names it after the
        request (:func:`manual_purchase_order_id`): a retry finds it and finishes what the first began."""
        supplier = self._orderable_supplier(supplier_id)
        priced = self._priced(supplier, lines)
        self._deliverable(deliver_to)
        now = utc_now()
        po = PurchaseOrder(
            po_id=po_id, supplier_id=supplier_id, cycle=now[:10], status=P.DRAFT, lines=priced,
            total=order_value(priced), created_by=by, deliver_to=deliver_to, note=note,
            expected_by=(expected_by.isoformat() if expected_by else
                         self._default_expected_by(supplier_id, priced, now[:10])),
            created_at=now, updated_at=now,
            timeline=[PurchaseOrderEvent(status=P.DRAFT, at=now, by=by, reason="made by hand")],
        )
        thresholds = self._thresholds([line.sku for line in priced], deliver_to)
        try:
            self.store.commit([self.purchase_orders.create(po),
                               *(self.stock.order(line.sku, line.quantity, deliver_to, thresholds.get(line.sku))
                                 for line in priced)])
        except ConditionFailed as failure:
            if not failure.failed(0):
                raise
        return self.send(po_id, by=by)

    def change(self, po_id: str, *, by: str, lines: list[ManualLine] | None = None, expected_by: date | None = None,
               deliver_to: str | None = None, note: str | None = None) -> PurchaseOrder:
        """Change a DRAFT or PENDING_APPROVAL purchase order: its lines (``on_order`` moves by the difference,
        in the same transaction), delivery day, location (its units move to the new location's ``on_order``)
        or note. It keeps its status: one waiting for approval still needs it."""

        def attempt(po: PurchaseOrder) -> PurchaseOrder:
            if po.status not in EDITABLE:
                raise Conflict(f"purchase order {po.po_id} is {po.status.value}: only a DRAFT or PENDING_APPROVAL "
                               "one can be changed; cancel it instead", {"po_id": po.po_id,
                                                                         "status": po.status.value})
            fields: dict[str, object] = {}
            said = []
            new_lines = None
            before = {line.sku: line.quantity for line in po.lines}
            after_q = before
            if lines is not None:
                new_lines = self._priced(self._orderable_supplier(po.supplier_id), lines)
                fields["total"] = order_value(new_lines)
                after_q = {line.sku: line.quantity for line in new_lines}
                changed = sorted(sku for sku in {*before, *after_q} if after_q.get(sku, 0) != before.get(sku, 0))
                said.append("lines " + ", ".join(f"{sku} {before.get(sku, 0)}→{after_q.get(sku, 0)}"
                                                 for sku in changed) if changed else "prices")
            self._deliverable(deliver_to)
            for name, value in (("expected_by", expected_by and expected_by.isoformat()),
                                ("deliver_to", deliver_to), ("note", note)):
                if value is not None:
                    fields[name] = value
                    said.append(f"{name} {value}")
            write, after = self.purchase_orders.transition(po, po.status, by=by, lines=new_lines, fields=fields,
                                                           reason="changed: " + "; ".join(said))
            target = deliver_to or po.deliver_to
            moves = on_order_moves(before, po.deliver_to, after_q, target)
            thresholds = self._thresholds([sku for (sku, where), q in moves if q > 0], target)
            self.store.commit([write, *(self.stock.order(sku, q, where, thresholds.get(sku) if q > 0 else None)
                                        for (sku, where), q in moves)])
            return after

        return self._race(po_id, attempt, missing=NotFound)

    def _deliverable(self, location_id: str | None) -> None:
        """A purchase order may be delivered only to an active location."""
        if location_id is None or self.locations is None:
            return
        try:
            location = self.locations.get_location(location_id)
        except NotFound:
            raise Unprocessable(f"unknown location {location_id}", {"deliver_to": location_id,
                                                                   "problem": "unknown_location"}) from None
        if not getattr(location, "active", True):
            raise Unprocessable(f"location {location_id} is not active", {"deliver_to": location_id,
                                                                         "problem": "inactive_location"})

    def _thresholds(self, skus: list[str], location: str) -> dict[str, int]:
        """The products' low-stock thresholds, for a location other than main (main's is set with the product)."""
        if location == MAIN_LOCATION or self.products is None or not skus:
            return {}
        products = self.products.get_many(skus)
        return {sku: p.low_stock_threshold for sku, p in products.items() if p.low_stock_threshold is not None}

    def _orderable_supplier(self, supplier_id: str) -> Supplier:
        supplier = self.suppliers.get(supplier_id)
        if supplier is None:
            raise Unprocessable(f"unknown supplier {supplier_id}", {"supplier_id": supplier_id,
                                                                   "problem": "unknown_supplier"})
        if not supplier.active:
            raise Unprocessable(f"supplier {supplier_id} is not active", {"supplier_id": supplier_id,
                                                                         "problem": "inactive_supplier"})
        return supplier

    def _priced(self, supplier: Supplier, lines: list[ManualLine]) -> list[PurchaseOrderLine]:
        """The lines with their unit costs; each SKU must be a product this supplier supplies."""
        products = self.products.get_many([line.sku for line in lines]) if self.products else {}
        priced = []
        for line in lines:
            product = products.get(line.sku)
            if product is None:
                raise Unprocessable(f"unknown SKU {line.sku}", {"sku": line.sku, "problem": "unknown_sku"})
            source = next((s for s in product.sources() if s.supplier_id == supplier.supplier_id), None)
            if source is None and product.supplier_id != supplier.supplier_id:
                raise Unprocessable(f"supplier {supplier.supplier_id} does not supply {line.sku}",
                                    {"sku": line.sku, "supplier_id": supplier.supplier_id,
                                     "problem": "not_supplied"})
            cost = line.unit_cost if line.unit_cost is not None else source.unit_cost if source else None
            if cost is None:
                raise Unprocessable(f"{line.sku} has no unit cost from {supplier.supplier_id}: give unit_cost",
                                    {"sku": line.sku, "problem": "no_unit_cost"})
            priced.append(PurchaseOrderLine(sku=line.sku, quantity=line.quantity, unit_cost=cost))
        return priced

    def _default_expected_by(self, supplier_id: str, lines: list[PurchaseOrderLine], today: str) -> str | None:
        products = self.products.get_many([line.sku for line in lines]) if self.products else {}
        leads = [s.lead_time_days for p in products.values() for s in p.sources() if s.supplier_id == supplier_id]
        if not leads:
            return None
        return (date.fromisoformat(today) + timedelta(days=math.ceil(max(leads)))).isoformat()
