"""The policy's model in and out: ``PolicyInputs`` → ``decide`` → ``PolicyDecision`` with its reasons."""


from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orderflow.replenishment.policy.formulas import (
    _EPS,
    DAYS_PER_YEAR,
    ORDER_UP_TO_EOQ_RATIO,
    LeadTimeDemand,
    PolicyInputError,
    _round_up,
    cover_quantile,
    economic_order_quantity,
    inventory_position,
    order_quantity,
    reorder_level,
    undershoot,
    z_for,
)

# ------------------------------------------------------------------ the model in and out
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Units = Annotated[int, Field(ge=0)]


class PolicyInputs(BaseModel):
    """Everything the policy needs for one SKU. Give `annual_demand` or `mean_daily_demand` (or both:
    EOQ then uses the annual figure and safety stock / reorder point the daily one); the missing one
    is derived with 365 days a year. All times are in days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str | None = None
    annual_demand: NonNegative | None = None
    mean_daily_demand: NonNegative | None = None
    sigma_daily: NonNegative = Field(description="σ of daily demand or of the daily forecast error, units/day")
    sigma_lead_time_demand: NonNegative | None = Field(
        None, description="σ of the forecast error of the demand total over the lead time, units; "
                          "default sigma_daily·√lead_time_days (independent days)")
    sigma_review_demand: NonNegative | None = Field(
        None, description="σ of the forecast error of the demand total over one review period, units; "
                          "default sigma_daily·√review_period_days")
    sigma_protection_demand: NonNegative | None = Field(
        None, description="σ of the forecast error of the demand total over lead time + one review period, "
                          "units (the order-up-to regime's cover); default sqrt(σ_LTD² + σ_RD²)")
    lead_time_days: NonNegative
    sigma_lead_time_days: NonNegative = 0.0
    review_period_days: NonNegative = 0.0
    review_period_forecast: NonNegative | None = Field(
        None, description="forecast demand over the review period; default mean_daily_demand·review_period_days"
    )
    ordering_cost: NonNegative = Field(description="K, cost per purchase order")
    unit_cost: Positive = Field(description="c, cost of one unit")
    holding_cost_rate: Positive = Field(description="h, fraction of unit cost per year; H = h·c")
    target_service_level: float = Field(gt=0, lt=1, allow_inf_nan=False, description="target cycle service level")
    lead_time_demand: LeadTimeDemand = Field(
        "gamma", description="distribution fitted to the demand the reorder point covers: gamma or normal"
    )
    moq: Units = 0
    pack_size: Annotated[int, Field(ge=1)] = 1
    supplier_capacity: Units | None = Field(None, description="units the supplier can still take this cycle")
    on_hand: Units = 0
    on_order: Units = 0
    reserved: Units = 0
    backordered: Units = 0

    @model_validator(mode="after")
    def _demand_given(self) -> PolicyInputs:
        if self.annual_demand is None and self.mean_daily_demand is None:
            raise ValueError("give annual_demand or mean_daily_demand")
        return self

    @property
    def daily_demand(self) -> float:
        return self.mean_daily_demand if self.mean_daily_demand is not None else self.annual_demand / DAYS_PER_YEAR

    @property
    def yearly_demand(self) -> float:
        return self.annual_demand if self.annual_demand is not None else self.mean_daily_demand * DAYS_PER_YEAR

    @property
    def holding_cost(self) -> float:
        """H = h·c, per unit per year."""
        return self.holding_cost_rate * self.unit_cost


class PolicyDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str | None = None
    z: float
    eoq: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    inventory_position: int
    need: float = Field(description="units wanted before MOQ, pack and capacity (0 when not ordering)")
    quantity: int
    capped: bool = Field(description="the supplier's remaining capacity lowered the quantity")
    reason: str


def parse_inputs(data: PolicyInputs | Mapping[str, Any]) -> PolicyInputs:
    """Validate raw parameters; a bad or missing one raises `PolicyInputError` naming it."""
    if isinstance(data, PolicyInputs):
        return data
    if not isinstance(data, Mapping):
        raise PolicyInputError("inputs", f"expected a mapping of policy parameters, got {type(data).__name__}")
    try:
        return PolicyInputs.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        field = ".".join(str(part) for part in first["loc"]) or "inputs"
        if not first["loc"] and "annual_demand" in first["msg"]:
            field = "annual_demand"
        problem = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            problem = "missing (required)"
        others = [
            ".".join(str(p) for p in e["loc"]) + ": " + e["msg"].removeprefix("Value error, ") for e in errors[1:]
        ]
        raise PolicyInputError(field, problem, {"errors": others} if others else None) from None


def _fmt(value: float) -> str:
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def decide(inputs: PolicyInputs | Mapping[str, Any]) -> PolicyDecision:
    """Decide the order for one SKU this cycle (see the module docstring for the formulas)."""
    p = parse_inputs(inputs)
    d_daily = p.daily_demand
    z = z_for(p.target_service_level)
    eoq = economic_order_quantity(p.yearly_demand, p.ordering_cost, p.holding_cost)
    review_forecast = (
        p.review_period_forecast if p.review_period_forecast is not None else d_daily * p.review_period_days
    )
    # A cycle has no stock-out when the lead time's demand fits in what the position was at the ordering
    # review: ROP − U. So ROP covers U + D_LT (docs/policy.md §3).
    lead_sigma = (p.sigma_lead_time_demand if p.sigma_lead_time_demand is not None
                  else p.sigma_daily * math.sqrt(p.lead_time_days))
    review_sigma = (p.sigma_review_demand if p.sigma_review_demand is not None
                    else p.sigma_daily * math.sqrt(p.review_period_days))
    lead_var = lead_sigma**2 + (d_daily * p.sigma_lead_time_days) ** 2
    order_up_to = p.review_period_days > 0 and review_forecast > 0 and eoq <= ORDER_UP_TO_EOQ_RATIO * review_forecast
    if order_up_to:
        # Small EOQ: order up to S at every review. The order placed now is the last one in before the
        # next review's arrives, so S covers the demand over lead time + review period (docs/policy.md §3).
        cover_mean = d_daily * p.lead_time_days + review_forecast
        protection_var = (p.sigma_protection_demand**2 if p.sigma_protection_demand is not None
                          else lead_sigma**2 + review_sigma**2)
        cover_var = protection_var + (d_daily * p.sigma_lead_time_days) ** 2
        rop = max(cover_mean, reorder_level(p.target_service_level, cover_mean, cover_var, p.lead_time_demand))
        s_level = rop
    else:
        u_mean, u_var = undershoot(review_forecast, review_sigma) if p.review_period_days > 0 else (0.0, 0.0)
        cover_mean = d_daily * p.lead_time_days + u_mean
        cover_var = lead_var + u_var
        if p.review_period_days > 0 and review_forecast > 0 and p.lead_time_demand == "gamma":
            quantile = cover_quantile(p.target_service_level, review_forecast, review_sigma,
                                      d_daily * p.lead_time_days, lead_var)
        else:
            quantile = reorder_level(p.target_service_level, cover_mean, cover_var, p.lead_time_demand)
        rop = max(cover_mean, quantile)
        s_level = rop + review_forecast
    ss = rop - cover_mean
    ip = inventory_position(p.on_hand, p.on_order, p.reserved, p.backordered)
    common = {
        "sku": p.sku,
        "z": z,
        "eoq": eoq,
        "safety_stock": ss,
        "reorder_point": rop,
        "order_up_to": s_level,
        "inventory_position": ip,
    }
    if ip > rop or (order_up_to and ip >= s_level):
        reason = f"No order: inventory position {ip} is above the reorder point {_fmt(rop)}."
        return PolicyDecision(**common, need=0.0, quantity=0, capped=False, reason=reason)

    gap = s_level - ip
    position = f"({ip})" if ip < 0 else str(ip)
    if order_up_to:
        need = gap
        head = (
            f"inventory position {ip} is below the order-up-to level {_fmt(s_level)} (EOQ {_fmt(eoq)} is at most "
            f"{ORDER_UP_TO_EOQ_RATIO:g} reviews' demand: ordered up to it every review); "
            f"need = {_fmt(s_level)} − {position} = {_fmt(need)}"
        )
    else:
        need = max(eoq, gap)
        which = "the EOQ" if eoq >= gap else "the order-up-to gap"
        head = (
            f"inventory position {ip} is at or below the reorder point {_fmt(rop)}; "
            f"need = max(EOQ {_fmt(eoq)}, order-up-to {_fmt(s_level)} − {position} = {_fmt(gap)}) = {_fmt(need)} "
            f"({which})"
        )
    quantity, how = order_quantity(need, p.moq, p.pack_size, p.supplier_capacity)
    capped = p.supplier_capacity is not None and quantity < _round_up(max(need, p.moq), p.pack_size)
    capped = capped and need > _EPS
    detail = f", {how}" if how else ""
    if quantity > 0:
        reason = f"Order {quantity}{' (capped by supplier capacity)' if capped else ''}: {head}{detail}."
    else:
        reason = f"No order: {head}{detail}."
    return PolicyDecision(**common, need=need, quantity=quantity, capped=capped, reason=reason)
