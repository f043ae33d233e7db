"""Lead times learned from purchase orders (pure): the days from sending a purchase order to its first
receipt, blended with the product's own setting while receipts are few (docs/replenishment.md,
"Lead times from receipts")."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from orderflow.catalogue import Product
from orderflow.purchasing import PurchaseOrder, PurchaseOrderStatus
from orderflow.replenishment.runs import Decision

# The setting counts as this many receipts: one receipt moves the lead time a sixth of the way to it.
SETTING_WEIGHT = 5
# From this many receipts on, the setting is left out: the lead time is the receipts' own.
LEARNED_RECEIPTS = 20
# The latest receipts per supplier and SKU that count (suppliers change how fast they deliver).
RECENT_RECEIPTS = 50
# Received purchase orders read per status and Decide batch, newest first (docs/replenishment.md).
RECEIVED_ORDERS_READ = 1000
# A learned lead time is at least an hour: same-day receipts still leave the policy a lead time.
MIN_DAYS = 1 / 24
RECEIPT_STATUSES = (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class LeadTime:
    """The lead time a decision uses: mean and σ in days, where they came from (``"setting"``,
    ``"blended"`` or ``"receipts"``) and how many receipts were read."""

    days: float
    sigma_days: float
    source: str
    receipts: int


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def observed_lead_times(orders: Iterable[PurchaseOrder]) -> dict[tuple[str, str], list[float]]:
    """Days from sent to first receipt of each purchase order that has both, by ``(supplier_id, sku)``
    of its lines, oldest receipt first. A purchase order without a SENT entry in its timeline (made
    and received by hand) tells nothing about the supplier and is left out."""
    found: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for po in orders:
        sent = next((e.at for e in po.timeline if e.status == PurchaseOrderStatus.SENT), None)
        received = next((e.at for e in po.timeline if e.status in RECEIPT_STATUSES), None)
        if sent is None or received is None or received < sent:
            continue
        days = (_moment(received) - _moment(sent)).total_seconds() / 86400
        for line in po.lines:
            found[(po.supplier_id, line.sku)].append((received, days))
    return {key: [days for _, days in sorted(values)] for key, values in found.items()}


def blended_lead_time(setting_days: float, setting_sigma_days: float, observed: Sequence[float]) -> LeadTime:
    """The lead time to plan with: the product's setting without receipts; from
    :data:`LEARNED_RECEIPTS` receipts on, the mean and σ of the latest :data:`RECENT_RECEIPTS`;
    in between, both weighted, the setting as :data:`SETTING_WEIGHT` receipts (the mean is the
    weighted mean, the variance the weighted mean of the variances plus the spread of the two means).
    The mean is at least :data:`MIN_DAYS`."""
    recent = list(observed)[-RECENT_RECEIPTS:]
    n = len(recent)
    if n == 0:
        return LeadTime(setting_days, setting_sigma_days, "setting", 0)
    mean = math.fsum(recent) / n
    variance = math.fsum((d - mean) ** 2 for d in recent) / (n - 1) if n > 1 else 0.0
    if n >= LEARNED_RECEIPTS:
        return LeadTime(max(mean, MIN_DAYS), math.sqrt(variance), "receipts", n)
    weight = n / (n + SETTING_WEIGHT)
    blended = weight * mean + (1 - weight) * setting_days
    spread = weight * (1 - weight) * (mean - setting_days) ** 2
    sigma = math.sqrt(weight * variance + (1 - weight) * setting_sigma_days**2 + spread)
    return LeadTime(max(blended, MIN_DAYS), sigma, "blended", n)


def with_learned_lead_time(product: Product, receipts: dict[tuple[str, str], list[float]]) -> tuple[Product, LeadTime]:
    """``product`` (bought from its ``supplier_id``) with the lead time of :func:`blended_lead_time` in
    its replenishment terms, and that lead time."""
    params = product.replenishment
    assert params is not None
    lead = blended_lead_time(params.lead_time_days, params.lead_time_sigma_days,
                             receipts.get((product.supplier_id or "", product.sku), []))
    if lead.source == "setting":
        return product, lead
    terms = params.model_copy(update={"lead_time_days": lead.days, "lead_time_sigma_days": lead.sigma_days})
    return product.model_copy(update={"replenishment": terms}), lead


def show_lead_time(decision: Decision, lead: LeadTime) -> Decision:
    """The decision with the lead time it was made with (a skipped one is left as it is)."""
    if decision.outcome == "skipped":
        return decision
    return decision.model_copy(update={
        "lead_time_days": round(lead.days, 4), "lead_time_sigma_days": round(lead.sigma_days, 4),
        "lead_time_source": lead.source, "lead_time_receipts": lead.receipts})
