"""Intermittent-demand methods statsmodels lacks: Croston, SBA and TSB (numpy and plain loops).

Each returns the forecast path: ``path[t]`` is the per-period demand forecast made after observing
period ``t`` (flat over any horizon), NaN before the first demand (no estimate exists yet).

- **Croston (1972)**: smooth the non-zero demand sizes ``z`` and the intervals between demands ``p``
  separately, both with ``alpha``, updating only in periods with demand; forecast ``z / p``. The
  first demand initialises them: ``z = x₁``, ``p = q₁`` (its interval, counted from the period
  before the history starts).
- **SBA (Syntetos & Boylan 2005)**: Croston times ``1 − alpha/2``, removing Croston's positive bias.
- **TSB (Teunter, Syntetos & Babai 2011)**: smooth the demand *probability* every period
  (``p ← p + beta·(1[y>0] − p)``) and the size only in periods with demand
  (``z ← z + alpha·(y − z)``); forecast ``p·z``. Because ``p`` decays through runs of zeros, the
  forecast falls for items that stop selling (obsolescence), which Croston and SBA never do.
  Initialised at the first demand like Croston: ``z = x₁``, ``p = 1/q₁``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orderflow.forecasting.core import as_history

DEFAULT_ALPHA = 0.1
DEFAULT_BETA = 0.1


@dataclass(frozen=True)
class IntermittentFit:
    method: str
    path: np.ndarray  # path[t]: forecast per period made after observing y[t]; NaN before the first demand
    size: float  # final smoothed demand size z (NaN without demand)
    interval: float  # Croston/SBA: final smoothed interval p; TSB: final demand probability p

    @property
    def rate(self) -> float:
        """The per-period forecast after the last observation (0 without any demand)."""
        last = float(self.path[-1])
        return 0.0 if np.isnan(last) else last


def _check_rate(value: float, name: str) -> float:
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return float(value)


def croston(history: Any, alpha: float = DEFAULT_ALPHA, *, _debias: bool = False) -> IntermittentFit:
    """Croston's method (see the module docstring)."""
    y = as_history(history)
    alpha = _check_rate(alpha, "alpha")
    path = np.full(y.size, np.nan)
    demand_at = np.flatnonzero(y > 0)
    if demand_at.size == 0:
        return IntermittentFit("sba" if _debias else "croston", path, float("nan"), float("nan"))
    factor = 1.0 - alpha / 2.0 if _debias else 1.0
    sizes = y[demand_at].tolist()
    intervals = np.diff(demand_at, prepend=-1).tolist()
    z, p = sizes[0], float(intervals[0])
    rates = [z / p * factor]
    for x, q in zip(sizes[1:], intervals[1:], strict=True):
        z += alpha * (x - z)
        p += alpha * (q - p)
        rates.append(z / p * factor)
    # The estimate changes only in periods with demand and holds in between.
    segment = np.searchsorted(demand_at, np.arange(y.size), side="right") - 1
    known = segment >= 0
    path[known] = np.asarray(rates)[segment[known]]
    return IntermittentFit("sba" if _debias else "croston", path, float(z), float(p))


def sba(history: Any, alpha: float = DEFAULT_ALPHA) -> IntermittentFit:
    """Syntetos–Boylan approximation: Croston times ``1 − alpha/2``."""
    return croston(history, alpha, _debias=True)


def tsb(history: Any, alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA) -> IntermittentFit:
    """Teunter–Syntetos–Babai: demand probability updated every period, size when demand occurs."""
    y = as_history(history)
    alpha = _check_rate(alpha, "alpha")
    beta = _check_rate(beta, "beta")
    path = np.full(y.size, np.nan)
    demand_at = np.flatnonzero(y > 0)
    if demand_at.size == 0:
        return IntermittentFit("tsb", path, float("nan"), 0.0)
    first = int(demand_at[0])
    z = float(y[first])
    p = 1.0 / (first + 1)
    values = y[first + 1:].tolist()
    out = [p * z]
    for x in values:
        if x > 0:
            p += beta * (1.0 - p)
            z += alpha * (x - z)
        else:
            p -= beta * p
        out.append(p * z)
    path[first:] = out
    return IntermittentFit("tsb", path, z, p)
