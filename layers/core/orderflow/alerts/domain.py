"""Alerts: what a person is told, and when. One readable message per thing that needs someone: what
happened, to which SKU, order or purchase order, what to do about it, and where to look. Pure: the
service decides which events and checks become alerts; the adapters deliver and remember them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from orderflow.shared.types import Model

MAX_TITLE = 100  # SNS's limit on an email subject


class Alert(Model):
    alert_id: str = Field(description="unique per subject and moment")
    subject: str = Field(description="what it is about: repeats of one subject are throttled")
    kind: str = Field(description="stock_low, run_failed, po_rejected, po_overdue, po_awaiting_approval, "
                                  "order_failed, dead_letters")
    title: str
    what: str
    action: str
    link: str | None = None
    at: str

    def message(self) -> str:
        """The alert as one readable message (the body of the email)."""
        lines = [self.title, "", self.what, "", f"What to do: {self.action}"]
        if self.link:
            lines += ["", f"Look: {self.link}"]
        return "\n".join(lines) + "\n"


def _alert(kind: str, subject: str, title: str, what: str, action: str, at: str, link: str | None = None) -> Alert:
    digest = hashlib.sha256(f"{subject}\n{at}".encode()).hexdigest()[:16]
    return Alert(alert_id=digest, subject=subject, kind=kind, title=title[:MAX_TITLE], what=what, action=action,
                 link=link, at=at)


def _po_link(console: str | None, po_id: str) -> str | None:
    return f"{console}/purchase-orders/{po_id}" if console else None


def from_event(detail_type: str, detail: Mapping[str, Any], at: str, console: str | None = None) -> Alert | None:
    """The alert a domain event raises (``events/README.md``), or None for one that needs nobody."""
    match detail_type:
        case "StockLow":
            sku, where = detail["sku"], detail.get("location_id") or "main"
            return _alert(
                "stock_low", f"stock-low:{sku}@{where}", f"Stock low: {sku} at {where}",
                f"{sku} at {where} has {detail.get('available')} available (threshold {detail.get('threshold')}; "
                f"{detail.get('on_hand')} on hand, {detail.get('reserved')} reserved, "
                f"{detail.get('on_order')} on order, {detail.get('backordered')} backordered).",
                "Check that a purchase order is on its way (GET /purchase-orders), or order by hand "
                "(POST /purchase-orders).", at, f"{console}/stock/{sku}" if console else None)
        case "PurchaseOrderRejected":
            po_id, supplier = detail["po_id"], detail["supplier_id"]
            return _alert(
                "po_rejected", f"po-rejected:{po_id}", f"Purchase order {po_id} rejected by {supplier}",
                f"Supplier {supplier} rejected purchase order {po_id} ({_skus(detail)}): "
                f"{detail.get('reason') or 'no reason given'}. Its units are no longer counted on order.",
                "Run replenishment again (POST /replenishment/runs) to order from the next supplier, or order "
                "by hand from another.", at, _po_link(console, po_id))
        case "PurchaseOrderAwaitingApproval":
            po_id, supplier = detail["po_id"], detail["supplier_id"]
            return _alert(
                "po_awaiting_approval", f"po-approval:{po_id}", f"Purchase order {po_id} waits for approval",
                f"Purchase order {po_id} to {supplier} ({_skus(detail)}) is "
                f"{detail.get('reason') or 'worth ' + str(detail.get('total')) + ', above the approval threshold'}.",
                f"Approve it (POST /purchase-orders/{po_id}/approve), change it (PATCH) or cancel it; "
                "if nobody does, it expires and the next run decides again.", at, _po_link(console, po_id))
        case "OrderFailed":
            order_id = detail["order_id"]
            return _alert(
                "order_failed", f"order-failed:{order_id}", f"Order {order_id} failed",
                f"Order {order_id} of customer {detail.get('customer_id')} failed: "
                f"{detail.get('reason') or 'no reason recorded'}. Its stock and credit holds were given back.",
                "Tell the customer; if it waited for stock, check the SKUs' purchase orders.", at,
                f"{console}/orders/{order_id}" if console else None)
    return None


def run_failed(run_id: str, error: str | None, at: str, console: str | None = None) -> Alert:
    return _alert("run_failed", f"run-failed:{run_id}", f"Replenishment run {run_id} failed",
                  f"Replenishment run {run_id} failed: {error or 'no error recorded'}.",
                  "Read the run (GET /replenishment/runs/{run_id}); fix the cause and start a run "
                  "(POST /replenishment/runs): drafts it left are cancelled and decided again.".replace(
                      "{run_id}", run_id), at, f"{console}/replenishment/runs/{run_id}" if console else None)


def po_overdue(po: Mapping[str, Any], today: str, at: str, console: str | None = None) -> Alert:
    po_id = po["po_id"]
    return _alert("po_overdue", f"po-overdue:{po_id}", f"Purchase order {po_id} is overdue",
                  f"Purchase order {po_id} from {po['supplier_id']} ({_skus(po)}) was expected by "
                  f"{po['expected_by']} and is {po['status']} on {today}.",
                  "Ask the supplier when it ships; if it will not, cancel it (before it ships) and order elsewhere.",
                  at, _po_link(console, po_id))


def dead_letters(queue: str, count: int, at: str) -> Alert:
    return _alert("dead_letters", f"dead-letters:{queue}", f"{count} message(s) in dead-letter queue {queue}",
                  f"Dead-letter queue {queue} holds {count} message(s) that could not be processed.",
                  "Read them (docs/offline-stack.md, RELIABILITY.md), fix the cause, then redrive them to their "
                  "source queue.", at)


def _skus(detail: Mapping[str, Any]) -> str:
    lines = detail.get("lines") or []
    return ", ".join(f"{line.get('quantity')} × {line.get('sku')}" for line in lines[:5]) + (
        f" and {len(lines) - 5} more lines" if len(lines) > 5 else "") or "no lines"
