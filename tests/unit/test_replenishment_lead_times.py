"""Lead times learned from purchase orders: sent to first receipt, blended with the setting while few."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orderflow.purchasing.domain import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine
from orderflow.replenishment.lead_times import (
    LEARNED_RECEIPTS,
    SETTING_WEIGHT,
    blended_lead_time,
    observed_lead_times,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def received_po(days: float, *, sent: bool = True, skus: tuple[str, ...] = ("MUG",), offset: int = 0,
                statuses: tuple[str, ...] = ("RECEIVED",)) -> PurchaseOrder:
    at = START + timedelta(days=offset)
    timeline = [PurchaseOrderEvent(status="DRAFT", at=stamp(at - timedelta(hours=2)))]
    if sent:
        timeline.append(PurchaseOrderEvent(status="SENT", at=stamp(at)))
    timeline += [PurchaseOrderEvent(status=s, at=stamp(at + timedelta(days=days + i))) for i, s in enumerate(statuses)]
    return PurchaseOrder(po_id=f"po-{offset}-{days}", supplier_id="acme", cycle="2026-01-05", status=statuses[-1],
                         lines=[PurchaseOrderLine(sku=sku, quantity=10, unit_cost=Decimal("1")) for sku in skus],
                         total=Decimal("10"), created_at=stamp(at), updated_at=stamp(at), timeline=timeline)


def test_the_days_from_sent_to_the_first_receipt_count_per_supplier_and_sku():
    orders = [received_po(9.5, skus=("MUG", "CUP"), offset=30), received_po(7, offset=0),
              received_po(4, statuses=("PARTIALLY_RECEIVED", "RECEIVED"), offset=10),
              received_po(3, sent=False, offset=20)]  # made and received by hand: says nothing of the supplier
    found = observed_lead_times(orders)
    assert found[("acme", "MUG")] == [7, 4, 9.5]  # oldest receipt first; the partial receipt is the arrival
    assert found[("acme", "CUP")] == [9.5]


def test_without_receipts_the_setting_is_used():
    lead = blended_lead_time(10, 2, [])
    assert (lead.days, lead.sigma_days, lead.source, lead.receipts) == (10, 2, "setting", 0)


def test_a_few_receipts_move_the_lead_time_part_of_the_way():
    lead = blended_lead_time(10, 0, [16, 16, 16, 16, 16])
    assert lead.source == "blended" and lead.receipts == 5
    assert lead.days == pytest.approx(10 + 6 * 5 / (5 + SETTING_WEIGHT))  # halfway with five receipts
    assert lead.sigma_days > 0  # the setting and the receipts disagree: the lead time is uncertain


def test_enough_receipts_replace_the_setting():
    observed = [12 + (i % 5) for i in range(LEARNED_RECEIPTS)]
    lead = blended_lead_time(5, 0, observed)
    assert lead.source == "receipts" and lead.days == pytest.approx(14)
    assert lead.sigma_days == pytest.approx(1.45, abs=0.01)
