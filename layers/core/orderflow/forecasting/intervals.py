"""Prediction intervals from the chosen model's own forecast errors inside the history (numpy only).

For each step ``k`` ahead, the errors ``y[o + k − 1] − forecast from origin o, step k`` of the
chosen model over the last :data:`INTERVAL_ORIGINS` origins whose target lies inside the history
are collected; the interval at coverage ``c`` is the forecast plus their ``(1 − c)/2`` and
``(1 + c)/2`` quantiles, taken at the conformal levels ``⌈(N + 1)·q⌉ / N`` of ``N`` errors (which
keeps the coverage at least ``c`` for exchangeable errors), and clipped at zero. Where a step has
fewer than :data:`MIN_ERRORS` errors, the nearest step that has them is used, scaled by
``√(k / k')``; with none anywhere, a normal interval ``± z·σ·√k``.
"""

from __future__ import annotations

import math

import numpy as np

from orderflow.forecasting.fits import Fitted

LEVELS = (80, 95)
INTERVAL_ORIGINS = 364
MAX_ERRORS = 120  # origins read per series at most (evenly spaced over the last INTERVAL_ORIGINS)
MIN_ERRORS = 8
ENOUGH_ERRORS = 50  # below this many errors, the interval is at least the normal one ± z·σ
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}


def step_errors(fit: Fitted, y: np.ndarray, h: int) -> list[np.ndarray]:
    """The in-sample errors of ``fit`` at each step ``1..h`` (one array per step)."""
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
    return [errors[inside[:, k], k][np.isfinite(errors[inside[:, k], k])] for k in range(h)]


def _conformal_quantile(errors: np.ndarray, q: float) -> float:
    n = errors.size
    level = math.ceil((n + 1) * q) / n if q > 0.5 else math.floor((n + 1) * q) / n
    return float(np.quantile(errors, min(max(level, 0.0), 1.0)))


def prediction_intervals(fit: Fitted, y: np.ndarray, mean: np.ndarray, sigma: float,
                         levels: tuple[int, ...] = LEVELS) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``{level: (lower, upper)}`` for the forecast ``mean`` of ``fit`` after ``y``."""
    h = mean.size
    try:
        errors = step_errors(fit, y, h)
    except (ValueError, ArithmeticError, IndexError):  # a model that cannot forecast its past
        errors = [np.zeros(0) for _ in range(h)]
    usable = [k for k in range(h) if errors[k].size >= MIN_ERRORS]
    out = {}
    for level in levels:
        low, high = (1 - level / 100) / 2, (1 + level / 100) / 2
        lower, upper = np.empty(h), np.empty(h)
        for k in range(h):
            width = _Z[level] * sigma
            lower[k], upper[k] = mean[k] - width, mean[k] + width
            if usable:
                nearest = min(usable, key=lambda j: (abs(j - k), -j))
                scale = math.sqrt((k + 1) / (nearest + 1))
                empirical_low = mean[k] + scale * _conformal_quantile(errors[nearest], low)
                empirical_high = mean[k] + scale * _conformal_quantile(errors[nearest], high)
                if errors[nearest].size >= ENOUGH_ERRORS:
                    lower[k], upper[k] = empirical_low, empirical_high
                else:
                    lower[k], upper[k] = min(lower[k], empirical_low), max(upper[k], empirical_high)
        out[level] = (np.clip(lower, 0.0, None), np.clip(np.maximum(upper, mean), 0.0, None))
    return out

