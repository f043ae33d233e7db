"""Holt–Winters fits with known initial states, without statsmodels' model and results objects.

``ExponentialSmoothing(...).fit()`` spends most of its time outside the model: building the model
and its pandas index, scipy's finite-difference machinery around L-BFGS-B, and a pure-Python pass
that rebuilds the states for its results. :func:`fit_smoothing` fits the same model the same way —
statsmodels' own compiled smoothing recursions (``statsmodels.tsa.holtwinters._exponential_smoothers``,
the functions its ``fit`` minimises), its starting values, bounds and reparametrisation
(β ≤ α, γ ≤ 1 − α), L-BFGS-B from the same start with the same forward differences — and reads
the states from one more pass of the recursion. The parameters, states and forecasts equal
statsmodels' to rounding (tests/unit/test_forecasting_fast_paths.py compares them on fixed series),
at about a third of the cost. Only the "known" initialisation is covered (the heuristic initial
states, :func:`.methods.heuristic_initial_states`); histories too short for it go through
statsmodels itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_LOWER = float(np.sqrt(np.finfo(float).eps))  # statsmodels' smallest alpha (and 1 - largest)
_STEP = 1e-8  # L-BFGS-B's forward-difference step without a gradient (scipy's ``eps`` option, absolute)
PHI_BOUNDS = (0.8, 0.995)  # statsmodels' bounds on the damping factor


@dataclass(frozen=True)
class Smoothed:
    """A fitted model: ``params`` under statsmodels' names (``smoothing_level``, ``smoothing_trend``,
    ``smoothing_seasonal``, ``damping_trend``, ``initial_level``, ``initial_trend``,
    ``initial_seasons``); ``level[t]`` and ``trend[t]`` the states after observing period ``t``;
    ``season`` the ``m`` initial seasonals followed by the one set at each period (``season[t + m]``
    after observing ``t``); ``fitted[t]`` the one-step forecast of period ``t``."""

    params: dict[str, Any]
    level: np.ndarray
    trend: np.ndarray | None
    season: np.ndarray | None
    fitted: np.ndarray


def fit_smoothing(data: np.ndarray, m: int, *, trend: bool, seasonal: str | None, level: float,
                  slope: float | None, seasonals: np.ndarray | None, ftol: float) -> Smoothed:
    """Fit exponential smoothing (a damped additive ``trend`` or none; ``seasonal`` "add", "mul" or
    None, of period ``m``) to ``data`` with the given initial states, by least squares on the one-step
    errors, as ``ExponentialSmoothing(..., initialization_method="known").fit(use_brute=False,
    minimize_kwargs={"options": {"ftol": ftol}})`` does. Raises ValueError, as statsmodels does, for
    a multiplicative season on values that are not all positive."""
    if seasonal == "mul" and not (data > 0).all():
        raise ValueError("a multiplicative season needs every value > 0")
    from scipy.optimize import minimize
    from statsmodels.tsa.holtwinters import _exponential_smoothers as smoothers
    from statsmodels.tsa.holtwinters.model import SMOOTHERS

    recursion = SMOOTHERS[(seasonal, "add" if trend else None)]  # the damped trend is statsmodels' "add"
    period = m if seasonal else 0
    n = data.size
    alpha0 = 0.5 / max(period, 1)
    params = np.full(6 + period, np.nan)
    params[:6] = [alpha0, 0.1 * alpha0, 0.05 * (1 - alpha0), level, slope if trend else np.nan,
                  0.99 if trend else 1.0]
    if seasonal:
        params[6:] = seasonals
    # the free parameters, in the optimiser's order: α, β, γ, φ (those the model has)
    free = np.array([True, trend, bool(seasonal), False, False, trend] + [False] * period)
    bounds = [(0.0, 1.0)] * (1 + trend + bool(seasonal)) + ([PHI_BOUNDS] if trend else [])
    upper = np.array(bounds)[:, 1]
    # statsmodels' start in the optimiser's space: α (barely moved), β / α, γ / (1 − α), φ
    start = np.array([(alpha0 - _LOWER) / (1.0 - 2.0 * _LOWER)] + [0.1] * trend + [0.05] * bool(seasonal)
                     + [0.99] * trend)
    args = smoothers.HoltWintersArgs(free.astype(np.int64), params, np.array([[0.0, 1.0]] * 3), data, period, n,
                                     True)

    def sse(x: np.ndarray) -> float:
        errors = recursion(x, args)
        return float(errors @ errors)

    def sse_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        # the forward differences L-BFGS-B takes when given no gradient (an absolute step, backwards
        # at an upper bound), without scipy's machinery: the same steps, so the same path as statsmodels'
        value = sse(x)
        gradient = np.empty(x.size)
        for i in range(x.size):
            step = _STEP
            if x[i] + step > upper[i]:
                step = -step
            moved = x.copy()
            moved[i] = x[i] + step
            gradient[i] = (sse(moved) - value) / (moved[i] - x[i])
        return value, gradient

    x = minimize(sse_and_gradient, start, jac=True, bounds=bounds, method="L-BFGS-B", options={"ftol": ftol}).x
    alpha = _LOWER + float(x[0]) * (1.0 - 2.0 * _LOWER)
    beta = float(x[1]) * alpha if trend else np.nan
    gamma = float(x[1 + trend]) * (1.0 - alpha) if seasonal else np.nan
    phi = float(x[-1]) if trend else 1.0
    return _states(recursion, data, period, trend, seasonal, alpha, beta, gamma, phi, params)


def _states(recursion: Any, data: np.ndarray, period: int, trend: bool, seasonal: str | None, alpha: float,
            beta: float, gamma: float, phi: float, params: np.ndarray) -> Smoothed:
    """The recursion once more with the fitted parameters over ``data`` and one period beyond (a
    placeholder value, never read), so that the states after the last period are filled in."""
    from statsmodels.tsa.holtwinters import _exponential_smoothers as smoothers

    n = data.size
    final = params.copy()
    final[:3] = [alpha, beta, gamma]
    final[5] = phi
    free = np.array([True] + [False] * (5 + period), dtype=np.int64)
    args = smoothers.HoltWintersArgs(free, final, np.array([[0.0, 1.0]] * 3), np.append(data, 0.0), period, n + 1,
                                     False)
    errors = recursion(np.array([alpha]), args)
    initial_seasons = params[6:].copy() if seasonal else None
    return Smoothed(
        params={"smoothing_level": alpha, "smoothing_trend": beta if trend else None,
                "smoothing_seasonal": gamma if seasonal else None, "damping_trend": phi if trend else None,
                "initial_level": float(params[3]), "initial_trend": float(params[4]) if trend else None,
                "initial_seasons": initial_seasons},
        level=args.lvl[1:].copy(), trend=args.b[1:].copy() if trend else None,
        season=args.s.copy() if seasonal else None, fitted=data - errors[:n])


def smoothed_from_statsmodels(result: Any, *, trend: bool, seasonal: str | None) -> Smoothed:
    """A statsmodels ``HoltWintersResults`` as a :class:`Smoothed`."""
    params = result.params
    seasons = np.asarray(params["initial_seasons"], dtype=float)
    names = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend", "initial_level",
             "initial_trend")
    return Smoothed(
        params={**{name: params[name] for name in names},
                "initial_seasons": seasons if seasonal else None},
        level=np.asarray(result.level, dtype=float), trend=np.asarray(result.trend, dtype=float) if trend else None,
        season=np.concatenate([seasons, np.asarray(result.season, dtype=float)]) if seasonal else None,
        fitted=np.asarray(result.fittedvalues, dtype=float))
