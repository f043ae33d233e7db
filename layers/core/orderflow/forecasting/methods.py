"""The forecasting methods, each behind one interface.

``fit_method(name, y, m)`` returns a fitted model with

- ``forecast(h)``: the point forecast for the next ``h`` periods;
- ``sigma``: root mean square of the in-sample one-step-ahead errors;
- ``at_origins(origins, h)``: the forecasts the fitted model would have made after observing
  ``y[:o]`` for each origin ``o`` — states filtered up to ``o``, parameters as fitted. The automatic
  choice compares candidates on these (a rolling-origin evaluation at the cost of one fit).

statsmodels (imported on first use) provides simple exponential smoothing and Holt–Winters
(``ExponentialSmoothing``) and SARIMAX; Croston, SBA and TSB are in :mod:`.intermittent`.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orderflow.forecasting import intermittent


def _rms(errors: np.ndarray) -> float:
    errors = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(errors**2))) if errors.size else 0.0


class Fitted(ABC):
    """A fitted forecasting method; subclasses say how it forecasts."""

    method: str
    sigma: float
    first_origin: int = 1  # at_origins accepts origins from here to len(y)

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
        error that persists from day to day (a level that moved) adds up over the window."""
        origins = np.arange(max(1, self.first_origin), y.size - window + 1)
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
    """A fitted statsmodels ExponentialSmoothing (additive or damped trend, seasonal add/mul)."""

    def __init__(self, method: str, result: Any, y: np.ndarray, offset: int, *, damped: bool, trend: bool,
                 seasonal: str | None, m: int, log: bool):
        self.method = method
        self.result = result
        self.offset = offset  # the model saw y[offset:]
        self.first_origin = offset + 1
        self.log = log
        self.m = m
        self.seasonal = seasonal
        params = result.params
        self.phi = float(params["damping_trend"]) if damped else 1.0
        self.level = np.asarray(result.level, dtype=float)
        self.trend = np.asarray(result.trend, dtype=float) if trend else None
        if seasonal:
            self.season = np.concatenate([np.asarray(params["initial_seasons"], dtype=float),
                                          np.asarray(result.season, dtype=float)])
        fitted = np.asarray(result.fittedvalues, dtype=float)
        if log:
            fitted = np.exp(fitted)
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


class Combination(Fitted):
    """The equal-weight mean of several fitted methods (the automatic choice's best few)."""

    def __init__(self, members: list[Fitted], y: np.ndarray):
        order = list(METHODS)
        self.members = sorted(members, key=lambda member: order.index(member.method))
        self.method = "+".join(member.method for member in self.members)
        self.first_origin = max(member.first_origin for member in members)
        if y.size > 1:
            errors = y[1:] - np.mean([member.one_step(y.size) for member in members], axis=0)
            self.sigma = _rms(errors) if np.isfinite(errors).any() else max(member.sigma for member in members)
        else:
            self.sigma = 0.0

    def forecast(self, h: int) -> np.ndarray:
        return np.mean([member.forecast(h) for member in self.members], axis=0)

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        return np.mean([member.at_origins(origins, h) for member in self.members], axis=0)


class YearlyFit(Fitted):
    """A method fitted to a history divided by its yearly factor (:func:`.robust.yearly_profile`),
    its forecasts multiplied back by the factor of the periods they forecast."""

    def __init__(self, inner: Fitted, factor: Callable[[np.ndarray], np.ndarray], y: np.ndarray):
        self.inner = inner
        self.factor = factor
        self.method = f"{inner.method} (yearly)"
        self.first_origin = inner.first_origin
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


# ------------------------------------------------------------------ fitting


# statsmodels models are fitted on the most recent FIT_WINDOW periods at most (and never fewer than
# FIT_SEASONS seasons): older periods add little to a model whose states forget them anyway, and the
# fit's cost grows with the length (half of it is a pure-Python pass over the data).
FIT_WINDOW = 400
FIT_SEASONS = 8
# L-BFGS-B's relative tolerance on the sum of squared errors (scipy's default is 2.2e-9): a fit that
# improves the SSE by less than 0.01 % per step has converged for forecasting purposes (the SSE of
# the daily benchmark series moved by < 0.3 %), at about 2/3 of the cost.
FIT_FTOL = 1e-4


def fit_offset(n: int, m: int) -> int:
    """Where the statsmodels methods start reading a history of ``n`` periods."""
    return max(0, n - max(FIT_WINDOW, FIT_SEASONS * m))


def heuristic_initial_states(y: np.ndarray, trend: bool, seasonal: str | None,
                             m: int) -> tuple[float, float | None, np.ndarray | None]:
    """statsmodels' "heuristic" initial level, trend and seasonals (Hyndman & Athanasopoulos, fpp3
    §2.6) in plain numpy: the same numbers (a test compares them) without statsmodels' pandas
    rolling means, which cost a tenth of a fit. Needs ``len(y) >= 10`` and, with a season,
    ``len(y) >= max(2m, 10 + 2*(m//2))``.

    The seasonals are the mean deviations from a centred moving average (2×m for even m) over the
    first few (up to 5) cycles; level and trend come from a straight line through the first ten
    values of that moving average (of the data itself without a season).
    """
    base = y
    initial_seasonal = None
    if seasonal:
        cycles = max(min(5, y.size // m), int(np.ceil((10 + 2 * (m // 2)) / m)))
        series = y[:m * cycles]
        average = np.convolve(series, np.ones(m) / m, mode="valid")  # average[j] = mean(series[j:j+m])
        if m % 2 == 0:
            average = (average[:-1] + average[1:]) / 2
        lead = m // 2 if m % 2 == 0 else (m - 1) // 2
        centred = np.full(series.size, np.nan)
        centred[lead:lead + average.size] = average
        deviation = series - centred if seasonal == "add" else series / centred
        padded = np.full(cycles * m, np.nan)
        padded[:deviation.size] = deviation
        initial_seasonal = np.nanmean(padded.reshape(cycles, m), axis=0)
        if seasonal == "add":
            initial_seasonal = initial_seasonal - initial_seasonal.mean()
        else:
            initial_seasonal = initial_seasonal / initial_seasonal.mean()
        base = average
    design = np.c_[np.ones(10), np.arange(10) + 1]
    level, slope = np.linalg.pinv(design) @ base[:10]
    return float(level), float(slope) if trend else None, initial_seasonal


def _exp_smoothing(method: str, y: np.ndarray, m: int, *, trend: bool = False, damped: bool = False,
                   seasonal: str | None = None, log: bool = False) -> ExpSmoothingFit:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    offset = fit_offset(y.size, m)
    full, y = y, y[offset:]
    data = np.log(y) if log else y
    period = m if seasonal else None
    heuristic_min = max(10, 10 + 2 * (m // 2), 2 * m) if seasonal else 10
    if y.size >= heuristic_min:
        # Known (fixed, not estimated) initial states, as statsmodels' "heuristic" would set them.
        level, slope, seasonals = heuristic_initial_states(data, trend, seasonal, m)
        init = {"initialization_method": "known", "initial_level": level, "initial_trend": slope,
                "initial_seasonal": seasonals}
    else:
        init = {"initialization_method": "estimated"}  # too short for the heuristic: estimate them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the backtest judges the outcome
        model = ExponentialSmoothing(data, trend="add" if trend else None, damped_trend=damped,
                                     seasonal=seasonal, seasonal_periods=period, **init)
        result = model.fit(use_brute=False, minimize_kwargs={"options": {"ftol": FIT_FTOL}})
    return ExpSmoothingFit(method, result, full, offset, damped=damped, trend=trend, seasonal=seasonal, m=m,
                           log=log)


def _sarimax(y: np.ndarray, m: int) -> SarimaxFit:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal_order = (0, 1, 1, m) if m > 1 else (0, 0, 0, 0)
    offset = fit_offset(y.size, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(y[offset:], order=(0, 1, 1), seasonal_order=seasonal_order)
        result = model.fit(disp=False)
    return SarimaxFit(result, y, offset)


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    fit: Callable[[np.ndarray, int], Fitted]
    min_length: Callable[[int], int]  # of the season length
    seasonal: bool = False  # needs m > 1
    positive: bool = False  # needs every value > 0
    intermittent: bool = False  # built for series with many zeros
    parameters: int = 0  # parameters estimated from the history (ties in the backtest go to fewer)


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("snaive", "seasonal naive: the same period one season earlier (the baseline)",
           SeasonalNaiveFit, lambda m: 1, parameters=0),
    Method("mean", "historic average: the mean of the whole history", lambda y, m: MeanFit(y), lambda m: 2,
           parameters=0),
    Method("ses", "simple exponential smoothing (statsmodels ExponentialSmoothing)",
           lambda y, m: _exp_smoothing("ses", y, m), lambda m: 3, parameters=1),
    Method("holt", "Holt's linear method with a damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("holt", y, m, trend=True, damped=True), lambda m: 6, parameters=3),
    Method("hw", "Holt-Winters, additive seasonality, no trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw", y, m, seasonal="add"), lambda m: 2 * m + 2, seasonal=True, parameters=2),
    Method("hw_damped", "Holt-Winters, additive seasonality, damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_damped", y, m, trend=True, damped=True, seasonal="add"),
           lambda m: 2 * m + 4, seasonal=True, parameters=4),
    Method("hw_mul", "Holt-Winters, multiplicative seasonality, no trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_mul", y, m, seasonal="mul"),
           lambda m: 2 * m + 2, seasonal=True, positive=True, parameters=2),
    Method("hw_mul_damped", "Holt-Winters, multiplicative seasonality, damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_mul_damped", y, m, trend=True, damped=True, seasonal="mul"),
           lambda m: 2 * m + 4, seasonal=True, positive=True, parameters=4),
    Method("hw_log", "Holt-Winters on log values, additive seasonality, damped trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_log", y, m, trend=True, damped=True, seasonal="add", log=True),
           lambda m: 2 * m + 4, seasonal=True, positive=True, parameters=4),
    Method("sarimax", "SARIMA(0,1,1)(0,1,1)m, the airline model (statsmodels SARIMAX); slow",
           lambda y, m: _sarimax(y, m), lambda m: 3 * m + 4, parameters=2),
    Method("croston", "Croston (1972): sizes and intervals smoothed separately, alpha 0.1",
           lambda y, m: PathFit(y, intermittent.croston(y)), lambda m: 1, intermittent=True, parameters=0),
    Method("sba", "Syntetos-Boylan approximation: Croston x (1 - alpha/2), alpha 0.1",
           lambda y, m: PathFit(y, intermittent.sba(y)), lambda m: 1, intermittent=True, parameters=0),
    Method("tsb", "Teunter-Syntetos-Babai: demand probability and size, alpha = beta = 0.1",
           lambda y, m: PathFit(y, intermittent.tsb(y)), lambda m: 1, intermittent=True, parameters=0),
]}


def applicable(name: str, y: np.ndarray, m: int) -> bool:
    """Whether method ``name`` can be fitted to ``y`` with season length ``m``."""
    method = METHODS[name]
    if method.seasonal and m < 2:
        return False
    if method.positive and not (y > 0).all():
        return False
    if method.intermittent and not (y > 0).any():
        return False
    return y.size >= method.min_length(m)


def fit_method(name: str, y: np.ndarray, m: int) -> Fitted:
    try:
        method = METHODS[name]
    except KeyError:
        raise ValueError(f"unknown forecasting method {name!r}; known: {', '.join(METHODS)}") from None
    return method.fit(y, m)
