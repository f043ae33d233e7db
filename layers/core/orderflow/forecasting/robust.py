"""Cleaning a demand history before it is fitted (numpy only): outlier capping, stock-out imputation
and the yearly profile of long daily histories.

**Outlier capping** (:func:`cap_outliers`). A day is compared with the days at the same position of
the season around it: the :data:`CAP_NEIGHBOURS` periods one, two, ... seasons before and after it
(for daily data with a weekly season, the same weekday in the four weeks either side), so a regular
Saturday peak is never an outlier. Its value is capped at

    base + CAP_K × spread

where ``base`` is the larger of the neighbours' median and the median of all non-zero values
(intermittent demand has a median of 0), and ``spread`` is the largest of 1.4826 × the neighbours'
median absolute deviation, 1.4826 × the MAD of all non-zero values, √base (the spread of
Poisson-like counts) and 1. Only upward spikes are capped: a low day is a stock-out or a real lull,
and stock-outs are handled by the mask below. On Poisson demand of 5/day the cap is 18–23 (the
500-unit day of the issue is capped at ≈ 18); a genuine day exceeds 18 about once in 700,000 days,
and is then only trimmed to the cap.

**Stock-outs** (:func:`impute_stockouts`). Shipments on a day without available stock are a lower
bound on demand, not demand. Those days are replaced by the median of the in-stock days at the same
position of the season around them (as above); a history where no neighbour was in stock keeps the
median of all in-stock days.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CAP_K = 6.0  # robust standard deviations above the local median
CAP_NEIGHBOURS = 4  # same-season periods either side that the local median and MAD read
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution × this = its standard deviation


def _same_phase_windows(y: np.ndarray, m: int, half: int) -> np.ndarray:
    """``(n, 2·half)`` matrix: for each period, the values ``j·m`` periods away for
    ``j = ±1..±half`` (NaN beyond the ends or where ``y`` is NaN)."""
    n = y.size
    offsets = np.concatenate([-np.arange(half, 0, -1), np.arange(1, half + 1)]) * m
    idx = np.arange(n)[:, None] + offsets[None, :]
    inside = (idx >= 0) & (idx < n)
    out = np.full(idx.shape, np.nan)
    out[inside] = y[idx[inside]]
    return out


def _nan_median(values: np.ndarray) -> np.ndarray:
    """Row-wise median ignoring NaN; NaN for a row without values (no warning). From one sort of
    the rows (NaN sorts last): ``np.nanmedian`` takes a Python-level path per row for short rows."""
    if not values.shape[1]:
        return np.full(values.shape[0], np.nan)
    ordered = np.sort(values, axis=1)
    counts = np.isfinite(values).sum(axis=1)
    low = np.take_along_axis(ordered, (np.maximum(counts, 1) - 1)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(ordered, (counts // 2)[:, None], axis=1)[:, 0]
    return np.where(counts > 0, (low + high) / 2, np.nan)


def cap_outliers(y: np.ndarray, season_length: int = 1, k: float = CAP_K) -> tuple[np.ndarray, np.ndarray]:
    """``(capped, mask)``: ``y`` with upward spikes capped by the rule in the module docstring, and
    where it capped. ``y`` is left unchanged."""
    y = np.asarray(y, dtype=float)
    if y.size < 3:
        return y.copy(), np.zeros(y.size, dtype=bool)
    m = season_length if y.size >= 3 * season_length else 1
    window = _same_phase_windows(y, m, CAP_NEIGHBOURS)
    median = _nan_median(window)
    mad = _nan_median(np.abs(window - median[:, None]))
    sizes = y[y > 0]
    size_median = float(np.median(sizes)) if sizes.size else 0.0
    size_mad = float(np.median(np.abs(sizes - size_median))) if sizes.size else 0.0
    base = np.fmax(np.nan_to_num(median, nan=size_median), size_median)
    spread = np.fmax.reduce([MAD_TO_SIGMA * np.nan_to_num(mad, nan=0.0), np.full(y.size, MAD_TO_SIGMA * size_mad),
                             np.sqrt(base), np.ones(y.size)])
    limit = base + k * spread
    mask = y > limit
    return np.where(mask, limit, y), mask


def as_mask(stockout: Any, n: int) -> np.ndarray:
    """The stock-out mask as a boolean array of length ``n`` (ValueError if it is not one)."""
    mask = np.asarray(stockout)
    if mask.shape != (n,):
        raise ValueError(f"stockout must have one flag per period of the history ({n}), got shape {mask.shape}")
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("stockout must hold booleans (True where the period had no stock available)")
        mask = mask.astype(bool)
    return mask


def impute_stockouts(y: np.ndarray, stockout: np.ndarray, season_length: int = 1) -> np.ndarray:
    """``y`` with the stock-out periods replaced as the module docstring says."""
    if not stockout.any():
        return y.copy()
    observed = np.where(stockout, np.nan, y)
    m = season_length if y.size >= 3 * season_length else 1
    local = _same_phase_windows(observed, m, CAP_NEIGHBOURS)
    fill = _nan_median(local)
    in_stock = y[~stockout]
    overall = float(np.median(in_stock)) if in_stock.size else 0.0
    fill = np.nan_to_num(fill, nan=overall)
    return np.where(stockout, np.fmax(fill, y), y)  # what was shipped is a lower bound


# ------------------------------------------------------------------ yearly profile

YEAR = 365  # periods in a year of daily data
YEARLY_MIN_PERIODS = 548  # a year and a half: every day of the year seen once, half of them twice
YEARLY_HARMONICS = 3  # Fourier pairs of the yearly profile (a smooth wave, not day-by-day detail)
YEARLY_SMOOTHING = 28  # the profile is fitted to a centred 28-day mean (four whole weeks: no weekday pattern)
YEARLY_MIN_R2 = 0.5  # share of the smoothed log level's variance (around its trend) the wave must explain
# The wave must also foresee what the history did next: refitted without the last k × CHECK_STEP
# smoothed periods (k = 1..CHECK_CUTS, each fit on a year at least), it predicts the change of the
# level over the CHECK_AHEAD periods after each cut better than "no change" does.
CHECK_CUTS = 6
CHECK_STEP = 28
CHECK_AHEAD = 56


def _fourier(t: np.ndarray) -> np.ndarray:
    angles = 2 * np.pi * t[:, None] * np.arange(1, YEARLY_HARMONICS + 1)[None, :] / YEAR
    return np.hstack([np.sin(angles), np.cos(angles)])


def _line_and_waves(t: np.ndarray) -> np.ndarray:
    return np.hstack([np.c_[np.ones(t.size), t / YEAR], _fourier(t)])


def wave_foresees(target: np.ndarray, t: np.ndarray) -> bool:
    """Whether a yearly wave fitted to the smoothed log level ``target`` (at periods ``t``) without
    its last stretch predicts how the level moved next (see :data:`CHECK_CUTS`). A trend that turned,
    a launch ramp or a one-off level shift leave a wave-like residual around a straight line, and the
    in-sample share explained is fooled by it; a wave fitted before them foresees nothing after."""
    wave_error = flat_error = 0.0
    for k in range(1, CHECK_CUTS + 1):
        cut = target.size - k * CHECK_STEP
        if cut < YEAR:
            break
        coef, *_ = np.linalg.lstsq(_line_and_waves(t[:cut]), target[:cut], rcond=None)
        wave = _fourier(t[cut - 1:cut + CHECK_AHEAD]) @ coef[2:]
        change = target[cut:cut + CHECK_AHEAD] - target[cut - 1]
        wave_error += float(np.sum((change - (wave[1:] - wave[0])) ** 2))
        flat_error += float(np.sum(change**2))
    return flat_error > 0 and wave_error < flat_error


def yearly_profile(y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The multiplicative yearly factor of a daily history of at least :data:`YEARLY_MIN_PERIODS`
    periods, as a function of the period index (``factor(t)``, any ``t``, including the future), and
    the share of variance it explains; None when the history is shorter, has a 28-day stretch
    without demand, the wave explains less than :data:`YEARLY_MIN_R2`, or it does not foresee the
    history's last months (:func:`wave_foresees`).

    The log of the centred 28-day mean is regressed on a straight line plus
    :data:`YEARLY_HARMONICS` yearly sine/cosine pairs (least squares); the factor is the exponential
    of the sine/cosine part (its geometric mean over a year is 1)."""
    n = y.size
    if n < YEARLY_MIN_PERIODS:
        return None
    smoothed = np.convolve(y, np.ones(YEARLY_SMOOTHING) / YEARLY_SMOOTHING, mode="valid")
    if (smoothed <= 0).any():
        return None
    t = np.arange(smoothed.size) + (YEARLY_SMOOTHING - 1) / 2  # the centre of each 28-day mean
    target = np.log(smoothed)
    trend = np.c_[np.ones(t.size), t / YEAR]
    design = _line_and_waves(t)
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    trend_only, *_ = np.linalg.lstsq(trend, target, rcond=None)
    detrended = target - trend @ trend_only
    residual = target - design @ coef
    total = float(np.sum(detrended**2))
    if total <= 0:
        return None
    share = 1.0 - float(np.sum(residual**2)) / total
    if share < YEARLY_MIN_R2 or not wave_foresees(target, t):
        return None
    wave = coef[2:]
    # the factor repeats every YEAR periods: whole periods read it from one year's table (the
    # forecasts from every origin inside the history ask for tens of thousands at a time)
    year = np.exp(_fourier(np.arange(YEAR, dtype=float)) @ wave)

    def factor(index: np.ndarray) -> np.ndarray:
        index = np.asarray(index)
        if index.dtype.kind in "iu":
            return year[index % YEAR]
        return np.exp(_fourier(index.astype(float)) @ wave)

    return factor, share
