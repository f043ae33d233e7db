"""The formulas of the inventory policy, one by one, each checking its own input (pure, stdlib only)."""


from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Literal

from orderflow.shared.errors import Unprocessable

DAYS_PER_YEAR = 365
_EPS = 1e-9  # float noise tolerated before rounding up to a pack (200.0000000001 stays 200)
_STANDARD_NORMAL = NormalDist()



class PolicyInputError(Unprocessable, ValueError):
    """A policy input is missing or out of range; `field` names it (also in `details["field"]`)."""

    code = "INVALID_POLICY_INPUT"

    def __init__(self, field: str, problem: str, details: dict[str, Any] | None = None):
        super().__init__(f"{field}: {problem}", {"field": field, **(details or {})})
        self.field = field
        self.problem = problem


# ------------------------------------------------------------------ checks shared by the functions
def _number(field: str, value: Any, *, minimum: float | None = 0.0, positive: bool = False) -> float:
    if isinstance(value, bool | str | bytes) or value is None:
        raise PolicyInputError(field, f"must be a number, got {value!r}")
    if not isinstance(value, int | float):
        try:
            value = float(value)  # Decimal from DynamoDB, numpy scalars
        except (TypeError, ValueError):
            raise PolicyInputError(field, f"must be a number, got {value!r}") from None
    value = float(value)
    if not math.isfinite(value):
        raise PolicyInputError(field, f"must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise PolicyInputError(field, f"must be greater than 0, got {value:g}")
    if minimum is not None and value < minimum:
        raise PolicyInputError(field, f"must be at least {minimum:g}, got {value:g}")
    return value


def _whole(field: str, value: Any, *, minimum: int = 0) -> int:
    number = _number(field, value, minimum=None)
    if number != int(number):
        raise PolicyInputError(field, f"must be a whole number of units, got {number:g}")
    if number < minimum:
        raise PolicyInputError(field, f"must be at least {minimum}, got {number:g}")
    return int(number)


# ------------------------------------------------------------------ the formulas, one by one
def z_for(service_level: float) -> float:
    """z such that P(Z ≤ z) = service_level (target cycle service level, 0 < SL < 1)."""
    level = _number("target_service_level", service_level, minimum=None)
    if not 0.0 < level < 1.0:
        raise PolicyInputError("target_service_level", f"must be strictly between 0 and 1, got {level:g}")
    return _STANDARD_NORMAL.inv_cdf(level)


def economic_order_quantity(annual_demand: float, ordering_cost: float, holding_cost_per_unit_year: float) -> float:
    """EOQ = sqrt(2·D·K / H). D units per year, K per order, H per unit per year (> 0)."""
    d = _number("annual_demand", annual_demand)
    k = _number("ordering_cost", ordering_cost)
    h = _number("holding_cost_per_unit_year", holding_cost_per_unit_year, positive=True)
    return math.sqrt(2.0 * d * k / h)


def safety_stock(
    z: float,
    mean_daily_demand: float,
    sigma_daily: float,
    lead_time_days: float,
    sigma_lead_time_days: float = 0.0,
    review_period_days: float = 0.0,
) -> float:
    """SS = z·sqrt(P·σ_d² + d̄²·σ_LT²) over P = LT + R days, floored at 0.

    σ_d is the standard deviation of one day's demand (or of one day's forecast error), assumed
    independent from day to day; σ_LT the standard deviation of the lead time in days. With a fixed
    lead time this is z·σ_d·sqrt(P). A z below 0 (service level under 50 %) gives 0, not a negative
    stock that would eat into the cycle stock.
    """
    z = _number("z", z, minimum=None)
    d = _number("mean_daily_demand", mean_daily_demand)
    s = _number("sigma_daily", sigma_daily)
    lt = _number("lead_time_days", lead_time_days)
    s_lt = _number("sigma_lead_time_days", sigma_lead_time_days)
    r = _number("review_period_days", review_period_days)
    return max(0.0, z * math.sqrt((lt + r) * s * s + d * d * s_lt * s_lt))


CV_MAX = 4.0  # beyond this coefficient of variation a mean and σ no longer describe a demand distribution


def _lower_gamma_regularised(shape: float, x: float) -> float:
    """P(a, x), the gamma distribution's CDF at x (scale 1): series below a + 1, continued fraction above."""
    if x <= 0:
        return 0.0
    log_front = shape * math.log(x) - x - math.lgamma(shape)
    if x < shape + 1.0:
        term = total = 1.0 / shape
        n = shape
        while abs(term) > abs(total) * 1e-15:
            n += 1.0
            term *= x / n
            total += term
        return min(1.0, total * math.exp(log_front))
    # Lentz's continued fraction for Q(a, x)
    tiny = 1e-300
    b = x + 1.0 - shape
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - shape)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def gamma_quantile(probability: float, mean: float, variance: float) -> float:
    """The `probability` quantile of the gamma distribution with this mean and variance (pure Python).

    Shape k = mean²/variance, scale θ = variance/mean. Wilson–Hilferty's cube-root normal gives the
    start (and the answer for k ≥ 1000, where it is exact to far better than a unit), Newton steps on
    the regularised incomplete gamma, kept inside a bracket, finish it. Zero variance: the mean."""
    p = _number("target_service_level", probability, minimum=None)
    if not 0.0 < p < 1.0:
        raise PolicyInputError("target_service_level", f"must be strictly between 0 and 1, got {p:g}")
    m = _number("mean", mean)
    v = _number("variance", variance)
    if m <= 0 or v <= 0:
        return m
    c = v / (9.0 * m * m)  # 1 / (9k), computed without k: a σ of 1e-150 beside a mean of 7,000 overflows k
    cube = max(0.0, 1.0 - c + _STANDARD_NORMAL.inv_cdf(p) * math.sqrt(c)) ** 3
    if c <= 1.0 / 9000.0:  # k >= 1000: θ·k·cube = m·cube
        return m * cube
    k, theta = m * m / v, v / m
    x = k * cube
    if x <= 0:  # small shapes: P(k, x) ≈ x^k / Γ(k + 1) near 0
        x = math.exp((math.log(p) + math.lgamma(k + 1.0)) / k)
    low, high = 0.0, math.inf
    log_norm = math.lgamma(k)
    for _ in range(100):
        error = _lower_gamma_regularised(k, x) - p
        if error > 0:
            high = x
        else:
            low = x
        if abs(error) < 1e-12:
            break
        log_density = (k - 1.0) * math.log(x) - x - log_norm if x > 0 else -math.inf
        step = x - error * math.exp(min(700.0, -log_density)) if log_density > -700 else math.nan
        if not low < step < high:  # Newton left the bracket: bisect (or double while unbounded)
            step = 2.0 * x + 1.0 if math.isinf(high) else (low + high) / 2.0
        if abs(step - x) <= 1e-13 * max(1.0, x):
            x = step
            break
        x = step
    return theta * x


def undershoot(review_mean: float, review_sigma: float) -> tuple[float, float]:
    """Mean and variance of the undershoot U: how far below the reorder point the inventory position is
    at the review that orders, when one review period's demand has mean ``review_mean`` and σ
    ``review_sigma``.

    The position is checked only every R days, so it crosses the reorder point between reviews and
    is found below it. Renewal theory gives U the equilibrium excess distribution of a review's
    demand D_R (Hadley & Whitin; Silver, Pyke & Peterson, the undershoot of (R, s, S)):
    E[U] = E[D_R²] / (2·E[D_R]), E[U²] = E[D_R³] / (3·E[D_R]), with D_R a gamma with these moments
    (E[D_R³] = μ³ + 3μσ² + 2σ⁴/μ). For smooth demand E[U] is about half a review's demand; for
    lumpy demand it can exceed a whole review's. A σ above ``CV_MAX`` times the mean (a forecast
    near 0) is capped there, as in :func:`reorder_level`. No review demand: no undershoot."""
    mu = _number("review_period_forecast", review_mean)
    sigma = min(_number("sigma_review_demand", review_sigma), CV_MAX * mu)
    if mu <= 0:
        return 0.0, 0.0
    r2 = (sigma / mu) ** 2  # E[U] = μ(1 + r²)/2, E[U²] = μ²(1 + 3r² + 2r⁴)/3 with r = σ/μ
    return mu * (1.0 + r2) / 2.0, mu * mu * max(0.0, (1.0 + 3.0 * r2 + 2.0 * r2 * r2) / 3.0 - (1.0 + r2) ** 2 / 4.0)


_TINY = 1e-9  # units: a mean demand below this is none (its square would underflow)
COVER_GRID = 64  # cells of the undershoot's grid in the U + D_LT convolution (0.3 % of the quantile at most vs 160)
ORDER_UP_TO_EOQ_RATIO = 1.5  # EOQ at most this many review periods' demand: order up to S every review


def _gamma_cdf(x: float, mean: float, variance: float) -> float:
    """P(D ≤ x) for a gamma D with this mean and variance (a step at the mean without variance).
    Shapes of 10 and more use Wilson–Hilferty's cube-root normal (error below 1e-3)."""
    c = variance / (9.0 * mean * mean) if mean > _TINY else 0.0  # 1 / (9k)
    if c <= 0:  # no demand to speak of, or a spread so small against the mean that it underflows to none
        return 1.0 if x >= mean else 0.0
    if x <= 0:
        return 0.0
    if c <= 1.0 / 90.0:
        return _STANDARD_NORMAL.cdf(((x / mean) ** (1.0 / 3.0) - 1.0 + c) / math.sqrt(c))
    return _lower_gamma_regularised(mean * mean / variance, x * mean / variance)


def cover_quantile(service_level: float, review_mean: float, review_sigma: float, lead_mean: float,
                   lead_variance: float) -> float:
    """The `service_level` quantile of X = U + D_L, the demand the reorder point covers, from the
    distributions themselves rather than a gamma fitted to X's moments: U is the equilibrium excess
    of a review's demand D_R (gamma, ``review_mean``, ``review_sigma``; density (1 − F_R(u)) / μ_R,
    the same renewal model as :func:`undershoot`), D_L a gamma with the lead-time moments. For
    smooth demand U is close to uniform on [0, μ_R], with no tail: when a review's demand is large
    beside the lead time's (L < R), a gamma fitted to U + D_L puts the quantile too high and the
    achieved service level comes out at 97–98 % for a 95 % target.

    U is put on a grid of :data:`COVER_GRID` cells (from the integral of 1 − F_R), D_L's CDF is read
    exactly at half-grid points, and convolved; the quantile is read off the convolution's CDF by
    bisection, linearly interpolated."""
    level = _number("target_service_level", service_level, minimum=None)
    mu = _number("review_period_forecast", review_mean)
    sigma = min(_number("sigma_review_demand", review_sigma), CV_MAX * mu)
    u_mean, u_var = undershoot(mu, sigma)
    if mu <= 0:
        return reorder_level(level, lead_mean, lead_variance)
    lead_sd = math.sqrt(max(lead_variance, 0.0))
    top = u_mean + 8.0 * math.sqrt(u_var) + lead_mean + 8.0 * lead_sd + 1e-9
    step = top / COVER_GRID
    # U: G(u) = (1/μ)∫_0^u (1 − F_R(t)) dt = u(1 − F_R(u))/μ + F⁺(u), F⁺ the gamma CDF with one more
    # unit of shape (same scale): exact. Each cell's mass is placed at its middle.
    theta = sigma * sigma / mu

    def u_cdf(u: float) -> float:
        if sigma <= 0:
            return min(1.0, u / mu)
        return min(1.0, u * (1.0 - _gamma_cdf(u, mu, sigma * sigma)) / mu
                   + _gamma_cdf(u, mu + theta, sigma * sigma + theta * theta))

    edges = [u_cdf(i * step) for i in range(COVER_GRID + 1)]
    u_mass = [edges[i + 1] - edges[i] for i in range(COVER_GRID)]
    u_mass[-1] += 1.0 - edges[-1]
    # P(X ≤ k·step) = Σ_i P(U in cell i) · F_L(k·step − (i + ½)·step): U discretised (its density,
    # (1 − F_R)/μ_R, is bounded), D_L's CDF exact at the half-grid points.
    lead_cdf = [_gamma_cdf((j + 0.5) * step, lead_mean, lead_variance) for j in range(2 * COVER_GRID + 1)]

    def cdf(k: int) -> float:
        return sum(u_mass[i] * lead_cdf[k - i - 1] for i in range(min(k, COVER_GRID)))

    low, high = 0, 2 * COVER_GRID + 1  # cdf(low) < level ≤ cdf(high)
    if cdf(high - 1) < level:
        return (high - 1) * step
    while high - low > 1:
        middle = (low + high) // 2
        if cdf(middle) >= level:
            high = middle
        else:
            low = middle
    below, above = cdf(low), cdf(high)
    fraction = (level - below) / (above - below) if above > below else 1.0
    return (low + fraction) * step  # the CDF taken as linear between grid points


LeadTimeDemand = Literal["gamma", "normal"]


def reorder_level(service_level: float, mean: float, variance: float, distribution: LeadTimeDemand = "gamma") -> float:
    """The `service_level` quantile of the demand the reorder point covers: normal or gamma with `mean`
    and `variance`. A gamma whose σ exceeds ``CV_MAX`` times its mean (a forecast near 0) is taken as
    normal: its shape would put nearly all of it at 0."""
    level = _number("target_service_level", service_level, minimum=None)
    if not 0.0 < level < 1.0:
        raise PolicyInputError("target_service_level", f"must be strictly between 0 and 1, got {level:g}")
    mean, variance = _number("mean", mean), _number("variance", variance)
    if distribution == "gamma" and variance > (CV_MAX * mean) ** 2:
        distribution = "normal"
    if distribution == "normal":
        return mean + z_for(level) * math.sqrt(variance)
    return gamma_quantile(level, mean, variance)


def reorder_point(
    mean_daily_demand: float, lead_time_days: float, review_period_days: float, safety_stock_units: float
) -> float:
    """ROP = d̄·(LT + R) + SS. Continuous review is R = 0: d̄·LT + SS."""
    d = _number("mean_daily_demand", mean_daily_demand)
    lt = _number("lead_time_days", lead_time_days)
    r = _number("review_period_days", review_period_days)
    ss = _number("safety_stock", safety_stock_units)
    return d * (lt + r) + ss


def inventory_position(on_hand: int, on_order: int = 0, reserved: int = 0, backordered: int = 0) -> int:
    """IP = on_hand + on_order − reserved − backordered (may be negative)."""
    return (
        _whole("on_hand", on_hand)
        + _whole("on_order", on_order)
        - _whole("reserved", reserved)
        - _whole("backordered", backordered)
    )


def _round_up(units: float, pack: int) -> int:
    return math.ceil(units / pack - _EPS) * pack


def order_quantity(need: float, moq: int = 0, pack_size: int = 1, capacity: int | None = None) -> tuple[int, str]:
    """Turn a need in units into an order: at least `moq`, up to a multiple of `pack_size`, then at most
    the supplier's remaining `capacity` rounded down to a pack. Returns (quantity, how) where `how`
    is the clause the decision's reason uses. A need of 0 or less orders nothing, and so does a
    capacity that leaves less than the MOQ (a positive order is never below the MOQ)."""
    need = _number("need", need, minimum=None)
    moq = _whole("moq", moq)
    pack = _whole("pack_size", pack_size, minimum=1)
    if capacity is not None:
        capacity = _whole("supplier_capacity", capacity)
    if need <= _EPS:
        return 0, "nothing is needed"
    steps: list[str] = []
    units = need
    if units < moq:
        units = float(moq)
        steps.append(f"raised to the MOQ {moq}")
    rounded = _round_up(units, pack)
    if pack > 1 and rounded != units:
        steps.append(f"rounded up to {rounded} (packs of {pack})")
    if capacity is None or rounded <= capacity:
        return rounded, ", ".join(steps)
    cap = capacity // pack * pack
    if cap == 0:
        if capacity == 0:
            why = "the supplier has no remaining capacity this cycle"
        else:
            why = f"the supplier's remaining capacity {capacity} is less than one pack of {pack}"
        return 0, ", ".join([*steps, f"but {why}"])
    cap_text = f"capped at the supplier's remaining capacity {capacity}"
    if cap != capacity:
        cap_text += f" rounded down to {cap} (packs of {pack})"
    if cap < moq:  # the supplier would refuse an order below its minimum: wait for capacity instead
        return 0, ", ".join([*steps, f"but the supplier's remaining capacity {capacity} is below the MOQ {moq}"])
    return cap, ", ".join([*steps, cap_text])
