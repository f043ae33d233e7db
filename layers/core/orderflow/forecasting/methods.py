"""The forecasting methods, each behind one interface.

``fit_method(name, y, m)`` returns a fitted model with

- ``forecast(h)``: the point forecast for the next ``h`` periods;
- ``sigma``: root mean square of the in-sample one-step-ahead errors;
- ``at_origins(origins, h)``: the forecasts the fitted model would have made after observing
  ``y[:o]`` for each origin ``o`` — states filtered up to ``o``, parameters as fitted. The automatic
  choice compares candidates on these (a rolling-origin evaluation at the cost of one fit).

statsmodels (imported on first use) provides simple exponential smoothing and Holt–Winters
(``ExponentialSmoothing``) and SARIMAX; Theta is in :mod:`.theta`, the local linear trend in :mod:`.trend`,
Croston, SBA and TSB are in :mod:`.intermittent`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from orderflow.forecasting import intermittent
from orderflow.forecasting.fits import (
    ExpSmoothingFit,
    Fitted,
    MeanFit,
    PathFit,
    SarimaxFit,
    SeasonalMeanFit,
    SeasonalNaiveFit,
    _rms,
)
from orderflow.forecasting.smoothing import Smoothed, fit_smoothing, smoothed_from_statsmodels
from orderflow.forecasting.theta import ThetaFit, seasonal_indices
from orderflow.forecasting.trend import TrendFit

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


# least squares of a straight line through ten values (intercept at period 0, slope): the same
# pseudo-inverse for every history, so computed once
_FIRST_TEN_LINE = np.linalg.pinv(np.c_[np.ones(10), np.arange(10) + 1])


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
    level, slope = _FIRST_TEN_LINE @ base[:10]
    return float(level), float(slope) if trend else None, initial_seasonal


def _exp_smoothing(method: str, y: np.ndarray, m: int, *, trend: bool = False, seasonal: str | None = None,
                   log: bool = False) -> ExpSmoothingFit:
    """Exponential smoothing (a damped additive ``trend`` or none) fitted to the recent window of ``y``:
    from the heuristic initial states by :func:`.smoothing.fit_smoothing` (statsmodels' fit, less
    its overhead), or by statsmodels with the initial states estimated when the window is too short
    for the heuristic."""
    offset = fit_offset(y.size, m)
    full, y = y, y[offset:]
    data = np.log(y) if log else y
    heuristic_min = max(10, 10 + 2 * (m // 2), 2 * m) if seasonal else 10
    if y.size >= heuristic_min:
        level, slope, seasonals = heuristic_initial_states(data, trend, seasonal, m)
        smoothed = fit_smoothing(data, m, trend=trend, seasonal=seasonal, level=level, slope=slope,
                                 seasonals=seasonals, ftol=FIT_FTOL)
    else:
        smoothed = _statsmodels_smoothing(data, m, trend=trend, seasonal=seasonal)
    return ExpSmoothingFit(method, smoothed, full, offset, seasonal=seasonal, m=m, log=log)


def _statsmodels_smoothing(data: np.ndarray, m: int, *, trend: bool, seasonal: str | None) -> Smoothed:
    """statsmodels' ExponentialSmoothing with the initial states estimated too (short histories)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the backtest judges the outcome
        model = ExponentialSmoothing(data, trend="add" if trend else None, damped_trend=trend, seasonal=seasonal,
                                     seasonal_periods=m if seasonal else None, initialization_method="estimated")
        result = model.fit(use_brute=False, minimize_kwargs={"options": {"ftol": FIT_FTOL}})
    return smoothed_from_statsmodels(result, trend=trend, seasonal=seasonal)


def _theta(y: np.ndarray, m: int) -> ThetaFit:
    """The Theta method (:mod:`.theta`): SES on the seasonally adjusted history, plus half its slope."""
    index = seasonal_indices(y, m)
    adjusted = y / index[np.arange(y.size) % m] if index is not None else y
    slope = float(np.polyfit(np.arange(y.size, dtype=float), adjusted, 1)[0])
    return ThetaFit(y, m, _exp_smoothing("ses", adjusted, m), index, slope)


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
    Method("smean", "seasonal mean: each position's historic average, shrunk towards the mean (James-Stein)",
           SeasonalMeanFit, lambda m: 2 * m, seasonal=True, parameters=1),
    Method("ses", "simple exponential smoothing (statsmodels ExponentialSmoothing)",
           lambda y, m: _exp_smoothing("ses", y, m), lambda m: 3, parameters=1),
    Method("holt", "Holt's linear method with a damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("holt", y, m, trend=True), lambda m: 6, parameters=3),
    Method("hw", "Holt-Winters, additive seasonality, no trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw", y, m, seasonal="add"), lambda m: 2 * m + 2, seasonal=True, parameters=2),
    Method("hw_damped", "Holt-Winters, additive seasonality, damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_damped", y, m, trend=True, seasonal="add"),
           lambda m: 2 * m + 4, seasonal=True, parameters=4),
    Method("hw_mul", "Holt-Winters, multiplicative seasonality, no trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_mul", y, m, seasonal="mul"),
           lambda m: 2 * m + 2, seasonal=True, positive=True, parameters=2),
    Method("hw_mul_damped", "Holt-Winters, multiplicative seasonality, damped additive trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_mul_damped", y, m, trend=True, seasonal="mul"),
           lambda m: 2 * m + 4, seasonal=True, positive=True, parameters=4),
    Method("hw_log", "Holt-Winters on log values, additive seasonality, damped trend (statsmodels)",
           lambda y, m: _exp_smoothing("hw_log", y, m, trend=True, seasonal="add", log=True),
           lambda m: 2 * m + 4, seasonal=True, positive=True, parameters=4),
    Method("theta", "Theta method: SES on the seasonally adjusted history plus half its linear trend (M3's winner)",
           _theta, lambda m: 6, parameters=2),
    Method("trend", "local linear trend: a line through the last year of the seasonally adjusted history",
           lambda y, m: TrendFit(y, m, seasonal_indices(y, m)), lambda m: max(4 * m, 6), parameters=2),
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


class Combination(Fitted):
    """The weighted mean of several fitted methods: the automatic choice's best few with equal
    weights, or (sparse demand) every candidate weighted by its backtest accuracy. ``weights``
    (one per member, default equal) are normalised to sum to one."""

    def __init__(self, members: list[Fitted], y: np.ndarray, weights: Sequence[float] | None = None):
        order = list(METHODS)
        shares = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=float)
        pairs = sorted(zip(members, shares / shares.sum(), strict=True), key=lambda pair: order.index(pair[0].method))
        self.members = [member for member, _ in pairs]
        self.weights = np.array([share for _, share in pairs])
        self.method = "+".join(member.method for member in self.members)
        self.first_origin = max(member.first_origin for member in members)
        self.total_stride = max(member.total_stride for member in members)
        if y.size > 1:
            errors = y[1:] - self._mix([member.one_step(y.size) for member in self.members])
            self.sigma = _rms(errors) if np.isfinite(errors).any() else max(member.sigma for member in members)
        else:
            self.sigma = 0.0

    def _mix(self, forecasts: list[np.ndarray]) -> np.ndarray:
        return np.tensordot(self.weights, np.asarray(forecasts), axes=1)

    def forecast(self, h: int) -> np.ndarray:
        return self._mix([member.forecast(h) for member in self.members])

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        return self._mix([member.at_origins(origins, h) for member in self.members])
