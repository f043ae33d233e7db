"""Inventory policy: how much of one SKU to buy this cycle, and why.

Pure functions, no I/O, stdlib only (the core layer ships no numpy). The formulas are the textbook
ones; docs/policy.md gives the definitions chosen here and a worked example.

    EOQ  = sqrt(2·D·K / H)                       D units/year, K per order, H = h·c per unit-year
    X    = what the reorder point must cover for a cycle without a stock-out: the undershoot U (how
           far below ROP the position is at the ordering review) plus the lead time's demand,
           mean d̄·LT + E[U], variance σ_LTD² + d̄²·σ_LT² + Var U. σ_LTD: σ of the lead-time total's
           forecast error (default σ_d·√LT); U from one review's demand (F_R, σ_RD, default σ_d·√R)
    ROP  = max(E[X], the SL quantile of X)       gamma (default): of U + D_LT itself (cover_quantile);
                                                 normal: fitted to the moments
    SS   = ROP − E[X]                            the expected stock left when the order arrives
    S    = ROP + F_R                             F_R: forecast over the review period (d̄·R by default)
    EOQ ≤ 1.5·F_R (with R > 0): order up to S at every review, S = ROP = the SL quantile of the
           demand over LT + R (mean d̄·LT + F_R, variance σ_LTD² + d̄²·σ_LT² + σ_RD²), need = S − IP
    IP   = on_hand + on_order − reserved − backordered
    IP ≤ ROP: need = max(EOQ, S − IP) → at least MOQ → up to a pack multiple;
              Q = min(need, capacity rounded down to a pack)
    IP > ROP: Q = 0

Bad input raises `PolicyInputError` naming the field; nothing here returns NaN.
"""

from orderflow.replenishment.policy.decision import PolicyDecision, PolicyInputs, decide, parse_inputs
from orderflow.replenishment.policy.formulas import (
    DAYS_PER_YEAR,
    PolicyInputError,
    cover_quantile,
    economic_order_quantity,
    gamma_quantile,
    inventory_position,
    order_quantity,
    reorder_level,
    reorder_point,
    safety_stock,
    undershoot,
    z_for,
)

__all__ = [
    "DAYS_PER_YEAR",
    "PolicyDecision",
    "PolicyInputError",
    "PolicyInputs",
    "cover_quantile",
    "decide",
    "economic_order_quantity",
    "gamma_quantile",
    "inventory_position",
    "order_quantity",
    "parse_inputs",
    "reorder_level",
    "reorder_point",
    "safety_stock",
    "undershoot",
    "z_for",
]
