"""Scaled accuracy: MASE and RMSSE, both scaled by the in-sample seasonal-naive error.

``mase = mean|actual − forecast| / mean|y_t − y_{t−m}|`` over the training history (Hyndman &
Koehler 2006), ``rmsse = sqrt(mean(actual − forecast)² / mean(y_t − y_{t−m})²)`` (the M5 measure,
which used m = 1). A value below 1 means the forecast's error is smaller than the in-sample error
of seasonal naive. When the history is shorter than m + 1 periods, the one-step naive (m = 1) scales.
A constant history has no scale: both return NaN (averages skip it and count it).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _scale_diffs(insample: Any, season_length: int) -> np.ndarray:
    y = np.asarray(insample, dtype=float)
    m = season_length if y.size > season_length else 1
    if y.size < 2:
        return np.empty(0)
    return y[m:] - y[:-m]


def mase(actual: Any, forecast: Any, insample: Any, season_length: int = 1) -> float:
    """Mean absolute scaled error of ``forecast`` against ``actual``; NaN when the scale is zero."""
    diffs = _scale_diffs(insample, season_length)
    scale = float(np.mean(np.abs(diffs))) if diffs.size else 0.0
    if scale <= 0:
        return float("nan")
    err = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    return float(np.mean(np.abs(err)) / scale)


def rmsse(actual: Any, forecast: Any, insample: Any, season_length: int = 1) -> float:
    """Root mean squared scaled error; NaN when the scale is zero."""
    diffs = _scale_diffs(insample, season_length)
    scale = float(np.mean(diffs**2)) if diffs.size else 0.0
    if scale <= 0:
        return float("nan")
    err = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    return float(np.sqrt(np.mean(err**2) / scale))
