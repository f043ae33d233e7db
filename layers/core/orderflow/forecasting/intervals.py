"""Prediction intervals from the chosen model's own forecast errors inside the history (numpy only).

For each step ``k`` ahead, the errors ``y[o + k − 1] − forecast from origin o, step k`` of the
chosen model over the last :data:`INTERVAL_ORIGINS` origins whose target lies inside the history are
collected, in proportion to the level forecast at their origin and scaled to the level forecast now,
and widened by ``√(n / (n − p))`` for a model that estimated ``p`` values from the ``n`` periods
they were measured on (:func:`estimated_parameters`); the interval at coverage ``c`` is the forecast
plus their ``(1 − c)/2`` and ``(1 + c)/2`` quantiles, taken at the conformal levels ``⌈(N+1)·q⌉/N``
of ``N`` errors (which keeps the coverage at least ``c`` for exchangeable errors), and clipped at
zero. When at least ``(1 − c)/2`` of the periods had no demand, the lower tail is all at zero: the
interval is ``[0, forecast + the c quantile]``. Where a step has fewer than :data:`MIN_ERRORS`
errors, the nearest step that has them is used, scaled by ``√(k / k')``. With fewer than
:data:`ENOUGH_ERRORS` errors the interval is at least the parametric one: a Laplace distribution
with the one-step σ, widened for the small sample as Student's t widens z
(:func:`_parametric_width`).
"""

from __future__ import annotations

import math

import numpy as np

from orderflow.forecasting.fits import Fitted

LEVELS = (80, 95)
INTERVAL_ORIGINS = 364
MAX_ERRORS = 120  # origins read per series at most (evenly spaced over the last INTERVAL_ORIGINS)
MIN_ERRORS = 8
ENOUGH_ERRORS = 50  # below this many errors, the interval is at least the parametric one
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}


def step_errors(fit: Fitted, y: np.ndarray, h: int) -> list[np.ndarray]:
    """The in-sample errors of ``fit`` at each step ``1..h`` (one array per step), each divided by
    the level its origin forecast (the mean of that origin's ``h`` forecasts, at least
    :func:`_level_floor`)."""
    n = y.size
    first = max(1, fit.first_origin, n - INTERVAL_ORIGINS)
    origins = np.arange(first, n)
    stride = -(-origins.size // MAX_ERRORS)  # at most MAX_ERRORS origins, the latest always among them
    origins = origins[::-1][::stride][::-1]
    if origins.size == 0:
        return [np.zeros(0) for _ in range(h)]
    predicted = np.clip(fit.at_origins(origins, h), 0.0, None)
    targets = origins[:, None] + np.arange(h)[None, :]
    inside = targets < n
    actual = np.where(inside, y[np.minimum(targets, n - 1)], np.nan)
    errors = actual - predicted
    errors = errors / np.maximum(predicted.mean(axis=1, keepdims=True), _level_floor(y))
    return [errors[inside[:, k], k][np.isfinite(errors[inside[:, k], k])] for k in range(h)]


def estimated_parameters(fit: Fitted) -> float:
    """How many values the fit estimated from the history itself: the smoothing parameters and
    initial states of exponential smoothing, the coefficients of SARIMAX, the mean of its members'
    for a combination; none for methods whose parameters are fixed or learnt across SKUs (naive,
    Croston/SBA/TSB with their fixed α, the global model) and for the means."""
    members = getattr(fit, "members", None)
    if members:
        return float(np.mean([estimated_parameters(member) for member in members]))
    inner = getattr(fit, "inner", None)
    if isinstance(inner, Fitted):
        return estimated_parameters(inner)
    params = getattr(fit, "params", None)
    if isinstance(params, dict):
        values = [np.atleast_1d(np.asarray(v, dtype=float)) for v in params.values() if v is not None]
        return float(sum(int(np.isfinite(v).sum()) for v in values))
    result = getattr(fit, "result", None)
    return float(np.size(getattr(result, "params", ()))) if result is not None else 0.0


def _fitted_on_them(fit: Fitted, y: np.ndarray) -> float:
    """√(n / (n − p)): in-sample errors of a fit that estimated ``p`` values from the ``n`` periods
    it was measured on understate its errors on new periods (the degrees-of-freedom correction of a
    residual variance)."""
    n = max(1, y.size - max(1, fit.first_origin))
    return math.sqrt(n / max(n - estimated_parameters(fit), 1.0))


def _level_floor(y: np.ndarray) -> float:
    """The smallest level relative errors are divided by: a twentieth of the history's mean."""
    return max(float(np.mean(y)) * 0.05, 1e-9)


def _parametric_width(level: int, sigma: float, count: int) -> float:
    """Half the width of the parametric interval around a forecast whose σ was estimated from
    ``count`` errors: the Laplace (double exponential) quantile with that σ, ``σ/√2 · ln(1/(1 − c))``
    (1.14σ at 80 %, 2.12σ at 95 %: demand errors are heavier-tailed than the normal's 1.28σ and
    1.96σ). Below ENOUGH_ERRORS errors it is widened as Student's t with ``count − 1`` degrees of
    freedom widens z, times √(1 + 1/count) (the prediction interval of a new value from a small
    sample)."""
    laplace = math.log(1 / (1 - level / 100)) / math.sqrt(2) * sigma
    if count >= ENOUGH_ERRORS:
        return laplace
    from scipy.stats import t

    small_sample = float(t.ppf((1 + level / 100) / 2, max(count - 1, 1))) / _Z[level]
    return laplace * small_sample * math.sqrt(1 + 1 / count)


def _conformal_quantile(errors: np.ndarray, q: float) -> float:
    n = errors.size
    level = math.ceil((n + 1) * q) / n if q > 0.5 else math.floor((n + 1) * q) / n
    return float(np.quantile(errors, min(max(level, 0.0), 1.0)))


def prediction_intervals(fit: Fitted, y: np.ndarray, mean: np.ndarray,
                         sigma: float, levels: tuple[int, ...] = LEVELS) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``{level: (lower, upper)}`` for the forecast ``mean`` of ``fit`` after ``y``. The in-sample
    errors are measured in proportion to the level forecast at their origin and scaled to the level
    forecast now: a series that has grown (or shrunk) is not given the spread of its past level."""
    h = mean.size
    try:
        errors = step_errors(fit, y, h)
    except (ValueError, ArithmeticError, IndexError):  # a model that cannot forecast its past
        errors = [np.zeros(0) for _ in range(h)]
    errors = [e * max(float(np.mean(mean)), _level_floor(y)) * _fitted_on_them(fit, y) for e in errors]
    usable = [k for k in range(h) if errors[k].size >= MIN_ERRORS]
    zeros = float(np.mean(y[-INTERVAL_ORIGINS:] == 0)) if y.size else 0.0  # the share of periods without demand
    out = {}
    count = max(1, y.size - max(1, fit.first_origin))  # one-step errors behind sigma
    for level in levels:
        low, high = (1 - level / 100) / 2, (1 + level / 100) / 2
        lower, upper = np.empty(h), np.empty(h)
        for k in range(h):
            width = _parametric_width(level, sigma, count)
            lower[k], upper[k] = mean[k] - width, mean[k] + width
            if usable:
                nearest = min(usable, key=lambda j: (abs(j - k), -j))
                scale = math.sqrt((k + 1) / (nearest + 1))
                empirical_low = mean[k] + scale * _conformal_quantile(errors[nearest], low)
                empirical_high = mean[k] + scale * _conformal_quantile(errors[nearest], high)
                if errors[nearest].size >= ENOUGH_ERRORS:
                    lower[k], upper[k] = empirical_low, empirical_high
                    if zeros >= low:  # the lower tail is all at zero: [0, the level-quantile]
                        lower[k] = 0.0
                        upper[k] = mean[k] + scale * _conformal_quantile(errors[nearest], level / 100)
                else:
                    lower[k], upper[k] = min(lower[k], empirical_low), max(upper[k], empirical_high)
        out[level] = (np.clip(lower, 0.0, None), np.clip(np.maximum(upper, mean), 0.0, None))
    return out

