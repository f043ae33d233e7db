"""The local linear trend (``trend``): a regression of the seasonally adjusted history on time over
its last year, the "trend + season" linear model of Hyndman & Athanasopoulos (fpp3 §7.4) fitted on a
trailing window.

1. **Seasonal adjustment.** The history is divided by its classical multiplicative seasonal indices
   (:func:`.theta.seasonal_indices`, the ones Theta uses: the mean ratio of each position of the
   season to the centred moving average over the whole history, when the lag-``m`` autocorrelation
   shows a season).
2. **Line.** Least squares of the adjusted history on time over the last :data:`TREND_WINDOW`
   periods before the origin (fewer when the history is shorter).
3. **Forecast**: the line continued, times the seasonal index of each period forecast.

A backtest origin ``o`` gets the line through the window that ends at ``o`` (cumulative sums make
every origin's line one vectorised step); the indices stay as fitted on the whole history, as
Theta's do.

It is a candidate for daily histories whose yearly wave has been divided out
(:func:`.robust.yearly_profile`): there the adjusted history is level × trend × noise, and a year of
it estimates the level and its drift with far less noise than exponential smoothing's few weeks. On a
history that still carries a yearly wave a straight line through a year of it is wrong by
construction, so the automatic choice does not try it there.
"""

from __future__ import annotations

import numpy as np

from orderflow.forecasting.fits import Fitted, _rms

TREND_WINDOW = 364  # a year of whole weeks: the line sees every weekday and every season of the year equally
TREND_MIN_WINDOW = 28  # the backtest and the σ of totals read origins with at least this many periods before them


class TrendFit(Fitted):
    """A fitted local linear trend (module docstring): ``index`` holds the seasonal indices the
    history is divided by (None without a season); the line is refitted before every origin."""

    method = "trend"

    def __init__(self, y: np.ndarray, m: int, index: np.ndarray | None, window: int = TREND_WINDOW):
        self.m, self.n, self.window = m, y.size, window
        self.seasonal_index = index
        self.index = index if index is not None else np.ones(max(m, 1))
        adjusted = y / self.index[np.arange(y.size) % self.index.size]
        t = np.arange(y.size, dtype=float)
        self.sums = np.concatenate([[0.0], np.cumsum(adjusted)])
        self.moments = np.concatenate([[0.0], np.cumsum(t * adjusted)])
        self.first_origin = min(y.size, max(TREND_MIN_WINDOW, 2 * m))
        level, slope, centre = self._lines(np.array([y.size]))
        # what was estimated from the history (the prediction intervals count them)
        self.params = {"level": float(level[0] + slope[0] * (y.size - centre[0])), "slope": float(slope[0]),
                       "seasonal_indices": index}
        origins = np.arange(self.first_origin, y.size)
        errors = y[origins] - self.at_origins(origins, 1)[:, 0] if origins.size else np.zeros(0)
        self.sigma = _rms(errors) if errors.size else float(np.std(y))

    def _lines(self, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mean, slope and centre of the line through the window before each origin in ``end``."""
        start = np.maximum(0, end - self.window)
        count = (end - start).astype(float)
        total = self.sums[end] - self.sums[start]
        centre = (start + end - 1) / 2.0  # the mean of the window's periods
        spread = count * (count**2 - 1) / 12.0  # Σ (t − centre)² over the window
        moment = self.moments[end] - self.moments[start] - centre * total
        slope = np.divide(moment, spread, out=np.zeros_like(moment), where=spread > 0)
        mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
        return mean, slope, centre

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        end = np.asarray(origins)
        mean, slope, centre = self._lines(end)
        periods = end[:, None] + np.arange(h)[None, :]
        line = mean[:, None] + slope[:, None] * (periods - centre[:, None])
        return line * self.index[periods % self.index.size]

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.n]), h)[0]
