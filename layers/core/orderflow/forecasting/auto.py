"""``forecast()``: classify the history, fit the candidates, average the ones that backtest best."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from orderflow.forecasting.core import (
    DemandClass,
    Forecast,
    ForecastInputError,
    as_history,
    check_positive_int,
    classify,
)
from orderflow.forecasting.fits import Fitted, SeasonalNaiveFit, YearlyFit, ZeroFit
from orderflow.forecasting.intervals import prediction_intervals
from orderflow.forecasting.methods import METHODS, Combination, applicable, fit_method
from orderflow.forecasting.robust import as_mask, cap_outliers, impute_stockouts, yearly_profile

# The default candidate set: cheap enough for >= 50 two-year daily series per second and core.
DEFAULT_METHODS: tuple[str, ...] = ("snaive", "mean", "smean", "ses", "holt", "hw", "hw_damped", "hw_mul", "theta",
                                    "trend", "croston", "sba", "tsb")

# Which candidates are tried for which demand class (intersected with the methods asked for).
_SMOOTH = ("snaive", "mean", "smean", "ses", "holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log", "theta",
           "trend", "sarimax", "gbm")
# Candidates only for a history whose yearly wave was divided out (.robust.yearly_profile): a straight
# line through a year of a history that still carries the wave is wrong by construction (on
# daily_smooth's selection windows without the wave it cost 0.5 %).
_YEARLY_ONLY = ("trend",)
_SPARSE = ("snaive", "mean", "smean", "ses", "croston", "sba", "tsb", "gbm")
# For smooth and erratic demand, a non-seasonal method is left out when one of its seasonal
# versions fits the history: those nest it (a flat season), and the fit it saves is what keeps the
# default set above 50 daily series per second.
_STANDINS = {"ses": ("hw", "hw_mul"), "holt": ("hw_damped", "hw_mul_damped")}
# The seasonal mean (smean) is the sparse classes' only seasonal candidate. For smooth and erratic
# demand it is one only while the history is shorter than SHORT_SEASONS seasons: from there the
# Holt-Winters models see the season, and a mean over years lags any trend (it lost on tourism).
SHORT_SEASONS = 8
# Holt-Winters (every hw_* method), Holt's trend and Theta's are candidates from HW_SEASONS seasons of history
# on. Below that they estimate a state per position of the season, or a trend, from two or three
# values each, and overfit: on three-week daily histories Holt-Winters lost to the shrunk seasonal
# mean (smean) by 8 %, and their places in the mean of the best three cost about 3 % (Theta cost 2 %).
HW_SEASONS = 4
_SHORT_EXCLUDED = ("holt", "hw", "hw_damped", "hw_mul", "hw_mul_damped", "hw_log", "theta")
CANDIDATES: dict[DemandClass, tuple[str, ...]] = {
    DemandClass.SMOOTH: _SMOOTH,
    DemandClass.ERRATIC: _SMOOTH,
    DemandClass.INTERMITTENT: _SPARSE,
    DemandClass.LUMPY: _SPARSE,
}

# The backtest scores forecasts from the last BACKTEST_ORIGINS origins, one period apart; for smooth and
# erratic demand from the last max(BACKTEST_ORIGINS, BACKTEST_SEASONS × season): every position of
# the season starts a window twice, so a seasonal model is not judged on where four origins happen to
# fall in the season (monthly: 24 origins, quarterly 8, daily 14). Intermittent and lumpy demand keeps
# the latest four: their candidates are flat, and a SKU that stopped selling shows it there.
BACKTEST_ORIGINS = 4
BACKTEST_SEASONS = 2
# The automatic choice averages the best COMBINE candidates (SPARSE_COMBINE for intermittent and lumpy
# demand), weighted by 1 / backtest MSE. A fourth member helps smooth demand; for sparse demand it
# changed nothing on validation and cost the batch path a sixth of its speed (the global model joined
# more means, and its in-sample forecasts behind the σ of totals are LightGBM predictions).
COMBINE = 4
SPARSE_COMBINE = 3
TIE_TOLERANCE = 1e-9  # backtest errors closer than this × the history's mean square are a tie
WEEKLY = 7  # the season length that marks daily data (a yearly profile is looked for)


def _check_methods(methods: Iterable[str] | None) -> tuple[str, ...]:
    if methods is None:
        return DEFAULT_METHODS
    names = tuple(dict.fromkeys([methods] if isinstance(methods, str) else methods))
    unknown = [name for name in names if name not in METHODS]
    if unknown:
        raise ForecastInputError(f"unknown forecasting method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    if not names:
        raise ForecastInputError("methods is empty: name at least one forecasting method")
    return names


def backtest_window(n: int, horizon: int, season_length: int) -> int:
    """Periods ahead scored at each backtest origin: the horizon, at most two seasons (six periods
    without a season) and a quarter of the history."""
    return max(1, min(horizon, max(2 * season_length, 6), n // 4))


def origin_count(season_length: int, demand_class: DemandClass = DemandClass.SMOOTH) -> int:
    """How many backtest origins a history of this season length and demand class is scored at
    (the smooth classes' count, the larger, without a class)."""
    if demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY):
        return BACKTEST_ORIGINS
    return max(BACKTEST_ORIGINS, BACKTEST_SEASONS * season_length)


def backtest_origins(n: int, window: int, first: int = 1, count: int = BACKTEST_ORIGINS) -> np.ndarray:
    """The last ``count`` origins (periods observed) whose window lies inside the history, one period
    apart, none before half the history (states need a warm-up) or before ``first``."""
    origins = n - window - np.arange(count)[::-1]
    return origins[origins >= max(2, n // 2, first)]


def _mse(fit: Fitted, y: np.ndarray, origins: np.ndarray, window: int) -> float:
    predicted = fit.at_origins(origins, window)
    actual = y[origins[:, None] + np.arange(window)[None, :]]
    return float(np.mean((actual - predicted) ** 2))


def rank_key(method: str, score: float, scale: float = 1.0) -> tuple[float, int, str]:
    """How candidates are ranked: by backtest mean squared error ``score``, counted in steps of
    :data:`TIE_TOLERANCE` × ``scale`` (the history's mean square, rounded), so that errors closer than
    that are a tie (a perfect fit's 1e-29 and seasonal naive's 0 are); ties go to the method with
    fewer estimated parameters (``METHODS[name].parameters``), then to the name in alphabetical
    order. Never to the order the methods were listed in."""
    step = TIE_TOLERANCE * scale if scale > 0 else TIE_TOLERANCE
    return float(np.round(score / step)), METHODS[method].parameters, method


def clean_history(y: np.ndarray, season_length: int, stockout: Any = None,
                  cap: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """The history a forecast is fitted to: stock-out periods imputed, then upward outliers capped
    (:mod:`.robust`), and what was changed: ``{"stockout_imputed": [period, ...], "capped":
    [{"period", "value", "capped_to"}, ...]}`` (periods counted from 0, the oldest)."""
    changes: dict[str, Any] = {}
    clean = y
    if stockout is not None:
        try:
            mask = as_mask(stockout, y.size)
        except ValueError as exc:
            raise ForecastInputError(str(exc)) from None
        clean = impute_stockouts(y, mask, season_length)
        changes["stockout_imputed"] = [int(i) for i in np.flatnonzero(mask)]
    if cap:
        capped, where = cap_outliers(clean, season_length)
        changes["capped"] = [{"period": int(i), "value": float(clean[i]), "capped_to": float(capped[i])}
                             for i in np.flatnonzero(where)]
        clean = capped
    return clean, changes


def forecast(history: Any, horizon: int, season_length: int = 1, *,
             methods: Sequence[str] | None = None, stockout: Any = None, cap_outliers: bool = True,
             yearly: bool | None = None, intervals: bool = True) -> Forecast:
    """Forecast ``horizon`` periods after ``history`` (non-negative demand per period, oldest first).

    ``season_length`` is the number of periods in a season (7 for daily data with a weekly pattern,
    12 for monthly, 4 for quarterly, 1 for none). ``methods`` is the candidate set (default
    :data:`DEFAULT_METHODS`); the history's demand class picks which of them are tried
    (:data:`CANDIDATES`, less the non-seasonal ones whose seasonal versions fit, and no Holt-Winters
    or trend below :data:`HW_SEASONS` seasons). Each is fitted once and backtested inside the
    history — forecasts from the last :func:`origin_count` origins over :func:`backtest_window`
    periods, states filtered up to each origin — and the forecast is the mean of the
    :data:`COMBINE` best (:data:`SPARSE_COMBINE` for sparse demand; ranked by :func:`rank_key`;
    ``method`` joins their names with ``+``), weighted by the inverse of their backtest errors. Naming a
    single method forces it (seasonal naive stands in when the history cannot support it). A
    history without demand forecasts zero (``method="zero"``).

    Before fitting, the history is cleaned (:func:`clean_history`): ``stockout`` (one flag per
    period, True where no stock was available) marks periods whose shipments understate demand,
    which are imputed; upward outliers are capped unless ``cap_outliers`` is false.
    ``details["capped"]`` and ``details["stockout_imputed"]`` say what changed, and
    ``details["history"]`` is the cleaned history.

    Daily histories (``yearly`` None and ``season_length`` 7, or ``yearly`` True) of at least a year
    and a half whose demand is smooth or erratic are searched for a yearly wave
    (:func:`.robust.yearly_profile`); when there is one, the candidates are fitted to the history
    divided by it and their forecasts multiplied back (``method`` ends in ``(yearly)``,
    ``details["yearly_share"]`` is the share of variance the wave explains).

    ``sigma`` is the root mean square of the in-sample one-step-ahead errors of what was chosen;
    ``details["fitted"]`` is the chosen model (a ``Fitted``). ``intervals`` holds the 80 % and
    95 % prediction intervals (:mod:`.intervals`; ``intervals=False`` skips them).
    Raises :class:`ForecastInputError` for NaN, negative, infinite or implausibly large
    (> ``MAX_VALUE``) values, an empty history, a stock-out mask of the wrong length, or a horizon
    or season length that is not a positive integer.
    """
    y = as_history(history)
    h = check_positive_int(horizon, "horizon")
    m = check_positive_int(season_length, "season_length")
    names = _check_methods(methods)
    y, details = clean_history(y, m, stockout, cap_outliers)
    return forecast_clean(y, h, m, names, details, yearly, intervals=intervals)


def forecast_clean(y: np.ndarray, h: int, m: int, names: tuple[str, ...], details: dict[str, Any],
                   yearly: bool | None = None, prepared: Mapping[str, Fitted] | None = None,
                   intervals: bool = True) -> Forecast:
    """:func:`forecast` on a checked and cleaned history; ``prepared`` holds candidates fitted
    elsewhere, by name (the panel's global model), used instead of fitting them here."""
    classification = classify(y)
    demand_class = classification.demand_class
    details.update({"adi": classification.adi, "cv2": classification.cv2, "history": y})

    if demand_class is DemandClass.NONE:
        chosen: Fitted = ZeroFit()
    else:
        profile = None
        # The global model (gbm) reads the calendar itself: a yearly wave is for the statistical
        # candidates, which are fitted to the history divided by it, without gbm (fitted to y).
        statistical = tuple(name for name in names if name != "gbm")
        if (m == WEEKLY if yearly is None else yearly) and statistical and demand_class in (DemandClass.SMOOTH,
                                                                                                DemandClass.ERRATIC):
            profile = yearly_profile(y)
        z = y
        if profile is not None:
            factor, details["yearly_share"] = profile
            z = y / factor(np.arange(y.size))
            names, prepared = statistical, {}
        chosen = _choose(z, h, m, names, demand_class, details, prepared or {}, yearly=profile is not None)
        if profile is not None:
            chosen = YearlyFit(chosen, profile[0], y)
    details["fitted"] = chosen  # the model itself, for callers that carry it forward (orderflow.simulation)
    mean = np.clip(chosen.forecast(h), 0.0, None)
    bands = prediction_intervals(chosen, y, mean, float(chosen.sigma)) if intervals else {}
    return Forecast(mean=mean, sigma=float(chosen.sigma), method=chosen.method,
                    demand_class=demand_class.value, details=details, intervals=bands)


def _choose(y: np.ndarray, h: int, m: int, names: tuple[str, ...], demand_class: DemandClass,
            details: dict[str, Any], prepared: Mapping[str, Fitted] | None = None, yearly: bool = False) -> Fitted:
    """Fit the candidates to ``y`` (or take them from ``prepared``) and return the backtest's
    choice (see :func:`forecast`); ``yearly``: ``y`` is a history with its yearly wave divided out."""
    prepared = prepared or {}
    if len(names) == 1:
        candidates = [names[0]] if applicable(names[0], y, m) else []
    else:
        pool = CANDIDATES[demand_class]
        candidates = [name for name in names if name in pool and applicable(name, y, m)
                      and (yearly or name not in _YEARLY_ONLY)]
        if pool is _SMOOTH:
            if y.size < HW_SEASONS * m:
                candidates = [name for name in candidates if name not in _SHORT_EXCLUDED]
            candidates = [name for name in candidates
                          if not any(other in candidates for other in _STANDINS.get(name, ()))
                          and not (name == "smean" and y.size >= SHORT_SEASONS * m)]
    fits = []
    for name in candidates:
        try:
            fit = prepared[name] if name in prepared else fit_method(name, y, m)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # a model that cannot fit
            details.setdefault("failed", {})[name] = str(exc)
            continue
        # a prepared fit (the global model) has a finite σ by construction, and computing it costs a
        # year of predictions: asked for only if the fit is chosen
        if np.isfinite(fit.forecast(h)).all() and (name in prepared or np.isfinite(fit.sigma)):
            fits.append(fit)
    if not fits:
        return SeasonalNaiveFit(y, m)
    chosen = fits[0]
    if len(fits) > 1:
        window = backtest_window(y.size, h, m)
        origins = backtest_origins(y.size, window, max(fit.first_origin for fit in fits), origin_count(m, demand_class))
        if origins.size:
            scores = {fit.method: _mse(fit, y, origins, window) for fit in fits}
            details["backtest_mse"] = scores
            scale = float(np.mean(y**2))
            ranked = sorted(fits, key=lambda fit: rank_key(fit.method, scores[fit.method], scale))
            best = ranked[:SPARSE_COMBINE if demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY) else COMBINE]
            # the best are weighted by the inverse of their backtest error (the tie step at least):
            # a fourth-best that backtests twice as badly as the best counts half as much
            floor = TIE_TOLERANCE * scale if scale > 0 else TIE_TOLERANCE
            weights = [1 / max(scores[fit.method], floor) for fit in best]
            chosen = best[0] if len(best) == 1 else Combination(best, y, weights)
        else:
            chosen = min(fits, key=lambda fit: rank_key(fit.method, 0.0))
    return chosen
