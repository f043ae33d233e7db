"""The Theta method (Assimakopoulos & Nikolopoulos 2000), in the form of Hyndman & Billah (2003):
simple exponential smoothing with a drift of half the slope of a straight line through the history.
It won the M3 competition and is a standard benchmark of the M4; the R ``forecast`` package's
``thetaf`` is the reference this follows.

1. **Seasonal adjustment.** With a season (``m > 1``), at least three seasons of history and every
   value above zero, the lag-``m`` autocorrelation is tested at 90 % (``|r_m| > 1.645 ·
   √((1 + 2·Σ_{k<m} r_k²) / n)``); a seasonal history is divided by its classical multiplicative
   indices (the mean ratio of each position to the centred moving average, normalised to mean 1).
2. **Fit.** SES on the adjusted history (:func:`.methods._exp_smoothing`, α by least squares), and
   ``b`` the least-squares slope of the adjusted history on time.
3. **Forecast** from origin ``o`` (``o`` periods seen by the smoothing), step ``k = 1, 2, ...``:
   ``ℓ_o + b/2 · (k − 1 + (1 − (1 − α)^o) / α)``, times the seasonal index of the period forecast.

``at_origins`` keeps α, ``b`` and the indices as fitted on the whole history (as every method here
does) and takes the level filtered up to each origin.
"""

from __future__ import annotations

import numpy as np

from orderflow.forecasting.fits import ExpSmoothingFit, Fitted, _rms

SEASONALITY_Z = 1.645  # the one-sided 95 % (two-sided 90 %) normal quantile of thetaf's test


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray | None:
    """Classical multiplicative seasonal indices of ``y`` (mean 1, one per position of the season,
    position 0 = period 0), or None when the history shows no season by the test above, is shorter
    than three seasons or has a value ≤ 0."""
    n = y.size
    if m < 2 or n < 3 * m or not (y > 0).all():
        return None
    x = y - y.mean()
    denominator = float(x @ x)
    if denominator <= 0:
        return None
    r = np.array([x[k:] @ x[:-k] for k in range(1, m + 1)]) / denominator
    if abs(r[-1]) <= SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n):
        return None
    average = np.convolve(y, np.ones(m) / m, mode="valid")
    if m % 2 == 0:
        average = (average[:-1] + average[1:]) / 2
    lead = m // 2
    ratio = np.full(n, np.nan)
    ratio[lead:lead + average.size] = y[lead:lead + average.size] / average
    index = np.array([np.nanmean(ratio[r::m]) for r in range(m)])
    return index / index.mean()


class ThetaFit(Fitted):
    """A fitted Theta method: ``ses`` is the SES fitted to the adjusted history, ``index`` the
    seasonal indices (None without a season), ``slope`` the adjusted history's trend per period."""

    method = "theta"

    def __init__(self, y: np.ndarray, m: int, ses: ExpSmoothingFit, index: np.ndarray | None, slope: float):
        self.m = m
        self.n = y.size
        self.ses = ses
        self.index = index
        self.drift = slope / 2
        self.alpha = max(float(ses.params["smoothing_level"]), 1e-6)
        # what was estimated from the history (the prediction intervals count them): α, the initial
        # level, the drift and the seasonal indices
        self.params = {**ses.params, "drift": self.drift, "seasonal_indices": index}
        self.first_origin = ses.first_origin
        origins = np.arange(self.first_origin, y.size)
        errors = y[origins] - self.at_origins(origins, 1)[:, 0] if origins.size else np.zeros(0)
        self.sigma = _rms(errors) if errors.size else float(np.std(y))

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        origins = np.asarray(origins)
        steps = np.arange(h)[None, :]
        seen = (origins - self.ses.offset)[:, None]
        out = self.ses.at_origins(origins, h) + self.drift * (steps + (1 - (1 - self.alpha) ** seen) / self.alpha)
        if self.index is not None:
            out = out * self.index[(origins[:, None] + steps) % self.m]
        return out

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.n]), h)[0]
