"""Fitted forecasting models: what each method's fit can forecast and simulate, and the σ of
its errors over a total (for safety stock)."""


from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from orderflow.forecasting import intermittent
from orderflow.forecasting.smoothing import Smoothed


def _rms(errors: np.ndarray) -> float:
    errors = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(errors**2))) if errors.size else 0.0


class Fitted(ABC):
    """A fitted forecasting method; subclasses say how it forecasts."""

    method: str
    sigma: float
    first_origin: int = 1  # at_origins accepts origins from here to len(y)
    total_stride: int = 1  # total_errors measures every this many origins, back from the latest

    @abstractmethod
    def forecast(self, h: int) -> np.ndarray: ...

    @abstractmethod
    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray: ...

    def one_step(self, n: int) -> np.ndarray:
        """In-sample one-step-ahead forecasts of y[1:n] (NaN where the model has none)."""
        out = np.full(n - 1, np.nan)
        start = max(1, self.first_origin)
        if start < n:
            out[start - 1:] = self.at_origins(np.arange(start, n), 1)[:, 0]
        return out

    def total_errors(self, y: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """In-sample errors of the forecast of a ``window``-period total: for every origin ``o`` the
        model accepts whose window lies inside ``y``, ``sum(y[o:o+window])`` minus the sum of the
        forecasts made after observing ``y[:o]`` (clipped at 0, as ``forecast()`` clips). Returns
        ``(origins, errors)``. Unlike ``sigma·√window`` these keep what one-step errors lose: an
        error that persists from day to day (a level that moved) adds up over the window. A model
        whose forecasts are dear (the global model) measures every ``total_stride``-th origin only,
        counted back from the latest."""
        origins = np.arange(y.size - window, max(1, self.first_origin) - 1, -self.total_stride)[::-1]
        if origins.size == 0:
            return origins, np.zeros(0)
        predicted = np.clip(self.at_origins(origins, window), 0.0, None).sum(axis=1)
        totals = np.concatenate([[0.0], np.cumsum(y)])
        return origins, totals[origins + window] - totals[origins] - predicted


def total_error_sigma(fit: Fitted, y: np.ndarray, window: int, origins: Any = None) -> np.ndarray:
    """The root mean square of ``fit``'s in-sample errors of ``window``-period totals
    (:meth:`Fitted.total_errors`) known at each of ``origins`` (periods of ``y`` observed; default
    ``len(y)``): the windows that end by the origin. NaN where no window has ended yet."""
    at = np.atleast_1d(np.asarray(y.size if origins is None else origins))
    starts, errors = fit.total_errors(y, window)
    known = np.isfinite(errors)
    counts = np.concatenate([[0], np.cumsum(known)])
    squares = np.concatenate([[0.0], np.cumsum(np.where(known, errors, 0.0) ** 2)])
    ended = np.searchsorted(starts, at - window, side="right")  # windows with o + window <= origin
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts[ended] > 0, np.sqrt(squares[ended] / np.maximum(counts[ended], 1)), np.nan)


YEAR_HALF_WINDOW = 14  # periods either side of the same day a year earlier (four weeks in all)


def conditional_total_error_sigma(fit: Fitted, y: np.ndarray, window: int, origins: Any = None,
                                  year: int = 365) -> np.ndarray:
    """The spread of ``fit``'s errors of ``window``-period totals that applies at each of ``origins``
    (default ``len(y)``): the largest of three measures of it, each from the in-sample windows
    ended by the origin (:meth:`Fitted.total_errors`):

    - **absolute**: their RMS (:func:`total_error_sigma`);
    - **in proportion to the level**: ``sqrt(Σ error² / Σ forecast²)`` times the origin's own
      forecast total: demand whose rate moves in proportion to itself errs most where it is high,
      and an absolute spread averaged over high and low spells covers the high ones too little;
    - **at this time of year**: the RMS of the windows that started within
      :data:`YEAR_HALF_WINDOW` periods of the same point ``year`` periods earlier: a forecast
      that was caught out by a step last year at this time (a season's start) is likely to be again.

    NaN where no window has ended yet. The measures need no look-ahead: a window counts at an
    origin only once it has ended."""
    at = np.atleast_1d(np.asarray(y.size if origins is None else origins))
    starts, errors = fit.total_errors(y, window)
    totals = np.concatenate([[0.0], np.cumsum(y)])
    predicted = totals[starts + window] - totals[starts] - errors if starts.size else np.zeros(0)
    known = np.isfinite(errors)
    counts = np.concatenate([[0], np.cumsum(known)])
    squares = np.concatenate([[0.0], np.cumsum(np.where(known, errors, 0.0) ** 2)])
    scale = np.concatenate([[0.0], np.cumsum(np.where(known, predicted, 0.0) ** 2)])
    ended = np.searchsorted(starts, at - window, side="right")  # windows with o + window <= origin
    first = np.searchsorted(starts, at - year - YEAR_HALF_WINDOW, side="left")
    last = np.maximum(first, np.searchsorted(starts, np.minimum(at - year + YEAR_HALF_WINDOW, at - window),
                                             side="right"))
    now = np.clip(fit.at_origins(at, window), 0.0, None).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        absolute = np.where(counts[ended] > 0, np.sqrt(squares[ended] / np.maximum(counts[ended], 1)), np.nan)
        level = np.where(scale[ended] > 0, np.sqrt(squares[ended] / scale[ended]) * now, np.nan)
        seasonal_count = counts[last] - counts[first]
        seasonal = np.where(seasonal_count > 0,
                            np.sqrt((squares[last] - squares[first]) / np.maximum(seasonal_count, 1)), np.nan)
    return np.where(np.isfinite(absolute), np.fmax(absolute, np.fmax(level, seasonal)), np.nan)


class ZeroFit(Fitted):
    """No demand in the history: forecast zero."""

    method = "zero"
    sigma = 0.0

    def forecast(self, h: int) -> np.ndarray:
        return np.zeros(h)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        return np.zeros((len(origins), h))


class SeasonalNaiveFit(Fitted):
    """Each period repeats the same period one season earlier (the last value when m = 1 or the
    history is shorter than a season)."""

    method = "snaive"

    def __init__(self, y: np.ndarray, m: int):
        self.y = y
        self.m = m if y.size >= m else 1
        diffs = y[self.m:] - y[:-self.m]
        self.sigma = _rms(diffs) if diffs.size else 0.0

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.y.size]), h)[0]

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        m = self.m
        idx = np.asarray(origins)[:, None] - m + (np.arange(h)[None, :] % m)
        return self.y[np.clip(idx, 0, None)]


class MeanFit(Fitted):
    """The historic average: every period forecast at the mean of all periods observed."""

    method = "mean"

    def __init__(self, y: np.ndarray):
        self.y = y
        self.totals = np.concatenate([[0.0], np.cumsum(y)])
        errors = y[1:] - self.totals[1:-1] / np.arange(1, y.size)
        self.sigma = _rms(errors) if errors.size else 0.0

    def forecast(self, h: int) -> np.ndarray:
        return np.full(h, self.totals[-1] / self.y.size)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        origins = np.asarray(origins)
        return np.repeat((self.totals[origins] / origins)[:, None], h, axis=1)


class SeasonalMeanFit(Fitted):
    """The historic average per position of the season (each weekday's mean, for daily data), shrunk
    towards the overall mean by the empirical-Bayes (James–Stein) factor ``λ = 1 − noise / spread``:
    ``spread`` is the mean squared distance of the positions' means from the overall mean, ``noise``
    the part of it their sampling error explains (the pooled within-position variance over each
    position's count). A weekday pattern that three weeks barely show is mostly shrunk away; one that
    stands out of the noise is kept."""

    method = "smean"

    def __init__(self, y: np.ndarray, m: int):
        self.y, self.m = y, m
        self.first_origin = min(2 * m, y.size)
        self.sums = [np.concatenate([[0.0], np.cumsum(y[r::m])]) for r in range(m)]
        self.squares = [np.concatenate([[0.0], np.cumsum(y[r::m] ** 2)]) for r in range(m)]
        # the shrunk means of the positions after observing o periods, for every origin 0..len(y)
        # (the σ of totals asks for most origins several times)
        self.profiles = self._profiles(np.arange(y.size + 1))
        errors = y[self.first_origin:] - self.at_origins(np.arange(self.first_origin, y.size), 1)[:, 0]
        self.sigma = _rms(errors) if errors.size else float(np.std(y))

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.y.size]), h)[0]

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        o = np.asarray(origins)[:, None]
        steps = (o + np.arange(h)[None, :]) % self.m
        return np.take_along_axis(self.profiles[o[:, 0]], steps, axis=1)

    def _profiles(self, origins: np.ndarray) -> np.ndarray:
        """One row per origin: each position's mean after observing that many periods, shrunk."""
        m = self.m
        o = origins[:, None]
        residues = np.arange(m)[None, :]
        counts = np.maximum(0, (o - residues + m - 1) // m)  # periods observed at each position
        sums = np.stack([self.sums[r][counts[:, r]] for r in range(m)], axis=1)
        squares = np.stack([self.squares[r][counts[:, r]] for r in range(m)], axis=1)
        safe = np.maximum(counts, 1)
        means = sums / safe
        overall = sums.sum(axis=1, keepdims=True) / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        within = (squares - sums * means).sum(axis=1, keepdims=True) / np.maximum(
            (counts - 1).clip(0).sum(axis=1, keepdims=True), 1)
        noise = np.mean(within / safe, axis=1, keepdims=True)
        spread = np.mean((means - overall) ** 2, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(spread > 0, np.clip(1 - noise / spread, 0.0, 1.0), 0.0)
        return overall + shrink * (means - overall)


class PathFit(Fitted):
    """A flat forecast from a path of per-period estimates (Croston, SBA, TSB)."""

    def __init__(self, y: np.ndarray, fit: intermittent.IntermittentFit):
        self.method = fit.method
        self.path = fit.path
        self.rate = fit.rate
        errors = y[1:] - fit.path[:-1]
        self.sigma = _rms(errors) if np.isfinite(errors).any() else float(np.std(y))

    def forecast(self, h: int) -> np.ndarray:
        return np.full(h, self.rate)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        values = np.nan_to_num(self.path[np.asarray(origins) - 1], nan=0.0)
        return np.repeat(values[:, None], h, axis=1)


class ExpSmoothingFit(Fitted):
    """A fitted exponential smoothing model (additive or damped trend, seasonal add/mul): its
    states (:class:`.smoothing.Smoothed`) over ``y[offset:]``, on the log scale when ``log``."""

    def __init__(self, method: str, smoothed: Smoothed, y: np.ndarray, offset: int, *, seasonal: str | None, m: int,
                 log: bool):
        self.method = method
        self.params = smoothed.params  # statsmodels' names: smoothing_level, damping_trend, ...
        self.offset = offset  # the model saw y[offset:]
        self.first_origin = offset + 1
        self.log = log
        self.m = m
        self.seasonal = seasonal
        self.phi = float(self.params["damping_trend"]) if smoothed.trend is not None else 1.0
        self.level = smoothed.level
        self.trend = smoothed.trend
        if seasonal:
            self.season = smoothed.season
        fitted = np.exp(smoothed.fitted) if log else smoothed.fitted
        self.sigma = _rms(y[offset:] - fitted)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        origins = np.asarray(origins) - self.offset
        if origins.size and origins.min() < 1:
            raise ValueError(f"origin before the fitted window (the model saw periods from {self.offset})")
        steps = np.arange(1, h + 1)
        out = np.repeat(self.level[origins - 1][:, None], h, axis=1)
        if self.trend is not None:
            damp = np.cumsum(self.phi ** steps) if self.phi != 1.0 else steps.astype(float)
            out = out + self.trend[origins - 1][:, None] * damp[None, :]
        if self.seasonal:
            s = self.season[origins[:, None] + ((steps[None, :] - 1) % self.m)]
            out = out * s if self.seasonal == "mul" else out + s
        if self.log:
            out = np.exp(out)
        return out

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.offset + self.level.size]), h)[0]


class SarimaxFit(Fitted):
    """A fitted statsmodels SARIMAX (the airline model by default)."""

    method = "sarimax"

    def __init__(self, result: Any, y: np.ndarray, offset: int):
        self.result = result
        self.offset = offset
        self.first_origin = offset + 1
        self.n = y.size - offset
        resid = np.asarray(result.resid, dtype=float)
        skip = min(resid.size - 1, int(result.loglikelihood_burn)) if resid.size > 1 else 0
        self.sigma = _rms(resid[skip:])

    def forecast(self, h: int) -> np.ndarray:
        return np.asarray(self.result.forecast(h), dtype=float)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        rows = []
        for o in np.asarray(origins) - self.offset:
            if o < 1:
                raise ValueError(f"origin before the fitted window (the model saw periods from {self.offset})")
            if o >= self.n:
                rows.append(self.forecast(h))
                continue
            pred = np.asarray(self.result.predict(start=int(o), end=int(o) + h - 1, dynamic=True), dtype=float)
            rows.append(pred)
        return np.vstack(rows)


YEARLY = " (yearly)"  # the suffix of a method fitted with the yearly wave divided out


class YearlyFit(Fitted):
    """A method fitted to a history divided by its yearly factor (:func:`.robust.yearly_profile`),
    its forecasts multiplied back by the factor of the periods they forecast."""

    def __init__(self, inner: Fitted, factor: Callable[[np.ndarray], np.ndarray], y: np.ndarray):
        self.inner = inner
        self.factor = factor
        self.method = inner.method + YEARLY
        self.first_origin = inner.first_origin
        self.total_stride = inner.total_stride
        self.n = y.size
        if y.size > 1:
            errors = y[1:] - self.one_step(y.size)
            self.sigma = _rms(errors) if np.isfinite(errors).any() else inner.sigma
        else:
            self.sigma = inner.sigma

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.n]), h)[0]

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        origins = np.asarray(origins)
        periods = origins[:, None] + np.arange(h)[None, :]
        return self.inner.at_origins(origins, h) * self.factor(periods.ravel()).reshape(periods.shape)
