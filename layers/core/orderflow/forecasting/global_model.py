"""The global model: one LightGBM regressor trained across a panel of daily series (``gbm``).

It forecasts the demand of day ``t = o + k − 1`` from what was known after observing ``y[:o]``
(``k = 1..horizon`` is a feature: one model for every step ahead). Every value is divided by the
series' level at the origin (the mean of its last 28 days, or of its whole history if those are
all zero), so that one model serves a SKU selling 2 a week and one selling 2,000 a day; the level
itself is a feature too (``log1p``). Features:

- **lags**: the last 7 days, and 14, 21 and 28 days back (missing where the history is shorter:
  LightGBM sends a missing value down its own branch);
- **same weekday**: the latest observed value on the target's weekday, and the mean of the last
  four;
- **rolling statistics**: means over 7, 28 and 91 days, the standard deviation over 28;
- **intermittency**: the share of days without demand in the last 28, the days since the last
  demand (at most 365), the mean non-zero size over 91 days;
- **calendar** of the target day: the weekday, the month, whether it is a public holiday and
  whether the next day is one (``holidays`` package; the country is configurable). Without dates
  the weekday is counted back from each history's end (all histories end on the same day) and the
  month and holidays are missing;
- **price and promotion** of the target day when the panel carries them: the price over its 28-day
  mean, and the promotion flag (0/1).

lightgbm and holidays are imported on first use (the replenish side only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from orderflow.forecasting.auto import backtest_origins, backtest_window, origin_count
from orderflow.forecasting.fits import Fitted, _rms
from orderflow.forecasting.methods import METHODS, Method

MIN_ORIGIN = 7  # a week of history before the first origin the model forecasts from
LEVEL_DAYS = 28
SEASON = 7
LAGS = (1, 2, 3, 4, 5, 6, 7, 14, 21, 28)
MAX_SINCE = 365
FEATURES = (*[f"lag_{lag}" for lag in LAGS], "same_weekday", "same_weekday_mean4", "mean_7", "mean_28", "mean_91",
            "std_28", "zero_share_28", "days_since_demand", "size_91", "log_level", "step", "weekday", "month",
            "holiday", "holiday_next", "price_ratio", "promo")

# LightGBM settings: small trees, a few hundred rounds, one thread (the run parallelises over SKUs,
# and the nightly Lambda has one or two cores), deterministic.
LGBM_PARAMS: dict[str, Any] = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 50,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 1, "seed": 7, "deterministic": True, "verbose": -1,
}
ROUNDS = 200
TRAIN_ORIGINS = 26  # at most this many origins per series in training (spread over its last year)
SIGMA_WINDOW = 364  # the in-sample one-step errors behind σ: the last year


@dataclass
class Calendar:
    """Per-period calendar features over the history and the horizon (index 0 = oldest period)."""

    weekday: np.ndarray
    month: np.ndarray
    holiday: np.ndarray
    holiday_next: np.ndarray


def series_calendar(n: int, h: int, last_date: date | None, country: str | None,
                    subdivision: str | None = None) -> Calendar:
    """Calendar features for a history of ``n`` days ending on ``last_date`` plus ``h`` days after."""
    total = n + h
    if last_date is None:
        weekday = ((np.arange(total) - n) % SEASON).astype(float)  # phase counted back from the end
        missing = np.full(total, np.nan)
        return Calendar(weekday, missing, missing, missing)
    first = last_date - timedelta(days=n - 1)
    days = [first + timedelta(days=i) for i in range(total + 1)]
    weekday = np.array([d.weekday() for d in days[:-1]], dtype=float)
    month = np.array([d.month for d in days[:-1]], dtype=float)
    if country:
        import holidays

        supported = holidays.list_supported_countries()
        if country not in supported:
            raise ValueError(f"the holidays package has no country {country!r} (ISO 3166-1 alpha-2, e.g. 'US', 'DE')")
        if subdivision is not None and subdivision not in supported[country]:
            raise ValueError(f"the holidays package has no subdivision {subdivision!r} of {country}")
        table = holidays.country_holidays(country, subdiv=subdivision, years=range(days[0].year, days[-1].year + 1))
        flags = np.array([d in table for d in days], dtype=float)
        holiday, holiday_next = flags[:-1], flags[1:]
    else:
        holiday = holiday_next = np.full(total, np.nan)
    return Calendar(weekday, month, holiday, holiday_next)


@dataclass
class SeriesData:
    """One series as the global model reads it: the cleaned history, its calendar and (optional)
    price and promotion per period, over the history and, where known, the horizon."""

    y: np.ndarray
    cal: Calendar
    price: np.ndarray | None = None
    promo: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.y.size
        self.totals = np.concatenate([[0.0], np.cumsum(self.y)])
        self.squares = np.concatenate([[0.0], np.cumsum(self.y ** 2)])
        self.zeros = np.concatenate([[0], np.cumsum(self.y == 0)])
        self.demand_days = np.concatenate([[0], np.cumsum(self.y > 0)])
        index = np.where(self.y > 0, np.arange(n), -1)
        self.last_demand = np.maximum.accumulate(index) if n else index  # last day with demand up to i


def _window_mean(cum: np.ndarray, end: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    start = np.maximum(end - days, 0)
    count = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cum[end] - cum[start]) / np.where(count > 0, count, np.nan), count


def features(data: SeriesData, origins: np.ndarray, h: int,
             first: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, scale, target_index)`` for every origin in ``origins`` and step ``first..h`` (row-major:
    origin, then step). ``X`` is divided by ``scale`` where it is a quantity."""
    y = data.y
    steps = np.arange(first, h + 1)
    o = np.repeat(np.asarray(origins, dtype=int), steps.size)
    k = np.tile(steps, len(origins))
    t = o + k - 1
    level, _ = _window_mean(data.totals, o, LEVEL_DAYS)
    overall = data.totals[o] / np.maximum(o, 1)
    scale = np.where(level > 0, level, np.where(overall > 0, overall, 1.0))
    cols: list[np.ndarray] = []
    for lag in LAGS:
        idx = o - lag
        cols.append(np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan) / scale)
    back = SEASON * np.ceil(k / SEASON).astype(int)  # the latest same-weekday day before the origin
    same = [np.where(t - back - SEASON * c >= 0, y[np.clip(t - back - SEASON * c, 0, None)], np.nan) for c in range(4)]
    cols.append(same[0] / scale)
    with np.errstate(invalid="ignore"):
        stacked = np.vstack(same)
        counts = np.isfinite(stacked).sum(axis=0)
        cols.append(np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan) / scale)
    for days in (7, 28, 91):
        mean, _ = _window_mean(data.totals, o, days)
        cols.append(mean / scale)
    mean28, _ = _window_mean(data.totals, o, 28)
    square28, _ = _window_mean(data.squares, o, 28)
    cols.append(np.sqrt(np.clip(square28 - mean28 ** 2, 0, None)) / scale)
    zero28, _ = _window_mean(data.zeros.astype(float), o, 28)
    cols.append(zero28)
    last = data.last_demand[np.clip(o - 1, 0, None)]
    cols.append(np.where(last >= 0, np.minimum(o - 1 - last, MAX_SINCE), MAX_SINCE).astype(float))
    start = np.maximum(o - 91, 0)
    demand_days = data.demand_days[o] - data.demand_days[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols.append(np.where(demand_days > 0, (data.totals[o] - data.totals[start]) / demand_days, 0.0) / scale)
    cols.append(np.log1p(scale))
    cols.append(k.astype(float))
    cal = data.cal
    cols += [cal.weekday[t], cal.month[t], cal.holiday[t], cal.holiday_next[t]]
    if data.price is not None:
        price_mean, _ = _window_mean(np.concatenate([[0.0], np.cumsum(data.price)]), o, 28)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols.append(data.price[t] / price_mean)
    else:
        cols.append(np.full(t.size, np.nan))
    cols.append(data.promo[t] if data.promo is not None else np.full(t.size, np.nan))
    return np.column_stack(cols), scale, t


def training_rows(data: SeriesData, h: int, cutoff: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and scaled targets of every origin (at most :data:`TRAIN_ORIGINS`, spread over the
    last year before ``cutoff``) and step whose target lies before ``cutoff``."""
    last = cutoff - 1  # the latest origin with a target before the cutoff
    if last < MIN_ORIGIN:
        return np.empty((0, len(FEATURES))), np.empty(0)
    first = max(MIN_ORIGIN, last - 364)
    origins = np.unique(np.linspace(first, last, min(TRAIN_ORIGINS, last - first + 1)).round().astype(int))
    X, scale, t = features(data, origins, h)
    keep = t < cutoff
    return X[keep], data.y[t[keep]] / scale[keep]


class GlobalModel:
    """A LightGBM booster trained on many series' rows (:func:`training_rows`)."""

    def __init__(self, booster: Any, rows: int, series: int):
        self.booster = booster
        self.rows = rows
        self.series = series

    @classmethod
    def train(cls, parts: Sequence[tuple[np.ndarray, np.ndarray]], rounds: int = ROUNDS) -> GlobalModel | None:
        """None when there are no training rows."""
        parts = [(X, target) for X, target in parts if target.size]
        if not parts:
            return None
        import lightgbm

        X = np.vstack([X for X, _ in parts])
        target = np.concatenate([target for _, target in parts])
        dataset = lightgbm.Dataset(X, label=target, feature_name=list(FEATURES), free_raw_data=True)
        booster = lightgbm.train(LGBM_PARAMS, dataset, num_boost_round=rounds)
        return cls(booster, int(target.size), len(parts))

    def predict(self, data: SeriesData, origins: np.ndarray, h: int, first: int = 1) -> np.ndarray:
        """Forecasts from each of ``origins`` for steps ``first..h``, one row per origin."""
        X, scale, _ = features(data, origins, h, first)
        return (self.booster.predict(X, num_threads=1) * scale).reshape(len(origins), h - first + 1)


class GlobalFit(Fitted):
    """The global model's forecasts for one series (method ``gbm``).

    Two boosters serve it: ``inside`` was trained only on periods before the series' backtest and
    makes every forecast from an origin inside the history (the backtest, σ); ``final`` was trained
    on everything and makes the forecast from the end of the history (``forecast(h)``).

    It forecasts from origins in the last :data:`SIGMA_WINDOW` periods only (``first_origin``): a
    model that is not refitted per series needs no more for its in-sample errors (σ, the σ of
    totals, intervals), and each origin costs a prediction per step (a year of 35-day totals is
    12,000 rows). For the same reason the errors of totals are measured from one origin a week
    (``total_stride``): consecutive windows of a week or more overlap for the most part anyway. And
    each (origin, step) is predicted once per fit: the σ of totals over the lead time, the review
    period and both ask for the same origins when the review period is whole weeks."""

    method = "gbm"
    total_stride = SEASON  # the errors of totals (σ over lead time) from one origin a week: 52 a year

    def __init__(self, inside: GlobalModel, final: GlobalModel, data: SeriesData):
        self.inside = inside
        self.final = final
        self.data = data
        self._one_step: dict[int, np.ndarray] = {}
        # per booster ("inside", "final") and origin: its forecasts for steps 1.. predicted so far
        self._predicted: dict[str, dict[int, np.ndarray]] = {"inside": {}, "final": {}}
        n = data.y.size
        self.first_origin = max(MIN_ORIGIN, n - SIGMA_WINDOW)
        self._sigma: float | None = None

    @property
    def sigma(self) -> float:  # type: ignore[override]
        """RMS of the one-step errors over the last year, computed when first asked for (a series
        whose yearly wave leaves it to the statistical methods never asks)."""
        if self._sigma is None:
            y = self.data.y
            errors = y[1:] - self.one_step(y.size) if y.size > MIN_ORIGIN + 1 else np.zeros(0)
            self._sigma = _rms(errors) if np.isfinite(errors).any() else float(np.std(y))
        return self._sigma

    def one_step(self, n: int) -> np.ndarray:
        """In-sample one-step forecasts over the last :data:`SIGMA_WINDOW` periods at most (NaN
        before: the σ of a model that is not refitted per series needs no more), computed once."""
        if n not in self._one_step:
            out = np.full(n - 1, np.nan)
            start = max(MIN_ORIGIN, n - SIGMA_WINDOW)
            if start < n:
                out[start - 1:] = self.at_origins(np.arange(start, n), 1)[:, 0]
            self._one_step[n] = out
        return self._one_step[n]

    def forecast(self, h: int) -> np.ndarray:
        return self.at_origins(np.array([self.data.y.size]), h)[0]

    def at_origins(self, origins: np.ndarray, h: int) -> np.ndarray:
        origins = np.asarray(origins)
        if origins.size and origins.min() < self.first_origin:
            raise ValueError(f"the global model forecasts from origin {self.first_origin} on")
        if origins.size and origins.max() + h > self.data.cal.weekday.size:
            raise ValueError("origins beyond the calendar the series was prepared with")
        out = np.empty((origins.size, h))
        end = origins >= self.data.y.size
        if (~end).any():
            out[~end] = self._predict("inside", origins[~end], h)
        if end.any():
            out[end] = self._predict("final", origins[end], h)
        return np.clip(out, 0.0, None)

    def _predict(self, booster: str, origins: np.ndarray, h: int) -> np.ndarray:
        """The ``booster``'s ("inside" or "final") forecasts from ``origins`` for steps 1..h,
        predicting only the steps not predicted from that origin before."""
        model: GlobalModel = getattr(self, booster)
        rows = self._predicted[booster]
        unique = np.unique(origins)
        have = np.array([rows[o].size if o in rows else 0 for o in unique.tolist()], dtype=int)
        for done in np.unique(have[have < h]).tolist():
            todo = unique[have == done]
            for o, more in zip(todo.tolist(), model.predict(self.data, todo, h, done + 1), strict=True):
                rows[o] = np.concatenate([rows[o], more]) if done else more
        return np.array([rows[o][:h] for o in origins.tolist()]).reshape(origins.size, h)


def as_exog(values: Mapping[str, Any] | None, key: str, n: int, name: str) -> np.ndarray | None:
    """One series' price or promotion column (history, optionally followed by the horizon)."""
    if values is None or key not in values:
        return None
    column = np.asarray(values[key], dtype=float)
    if column.ndim != 1 or column.size < n:
        raise ValueError(f"{name} of series {key!r} must have at least one value per period of its history ({n})")
    if not np.isfinite(column).all():
        raise ValueError(f"{name} of series {key!r} contains missing or infinite values")
    return column


TRAIN_STEPS = 28  # steps ahead a single-series model (forecast(..., methods=[..., "gbm"])) is trained for
CALENDAR_SPARE = 366  # calendar days prepared past each history's end (the longest horizon at_origins serves)


def training_cutoff(n: int, horizon: int, season_length: int) -> int:
    """The first period the global model may not learn from for the forecasts from inside the
    history: the earliest origin the automatic choice backtests at (so the backtest scores
    forecasts of periods the model never saw)."""
    window = backtest_window(n, horizon, season_length)
    origins = backtest_origins(n, window, count=origin_count(season_length))
    return int(origins[0]) if origins.size else n - window


def single_series_global_fit(y: np.ndarray) -> GlobalFit:
    """The ``gbm`` method on one series (no dates): trained on that series alone."""
    data = SeriesData(y, series_calendar(y.size, CALENDAR_SPARE + TRAIN_STEPS, None, None))
    inside = GlobalModel.train([training_rows(data, TRAIN_STEPS, training_cutoff(y.size, TRAIN_STEPS, 7))])
    final = GlobalModel.train([training_rows(data, TRAIN_STEPS, y.size)])
    if inside is None or final is None:
        raise ValueError("too short for the gradient-boosted model")
    return GlobalFit(inside, final, data)


# The method registry (orderflow.forecasting.methods) gets "gbm" from here, the module that builds
# on it: importing orderflow.forecasting imports this module.
METHODS["gbm"] = Method("gbm", "global gradient-boosted trees (LightGBM) across series; see forecast_many()",
                        lambda y, m: single_series_global_fit(y), lambda m: 14, parameters=1000)
