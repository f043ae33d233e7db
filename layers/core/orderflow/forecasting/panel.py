"""``forecast_many()``: forecast a panel of series, with the global model fitted once across them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from orderflow.forecasting.auto import (
    DEFAULT_METHODS,
    _check_methods,
    clean_history,
    forecast_clean,
)
from orderflow.forecasting.core import Forecast, ForecastInputError, as_history, check_positive_int, classify
from orderflow.forecasting.global_model import (
    CALENDAR_SPARE,
    MIN_ORIGIN,
    SEASON,
    GlobalFit,
    GlobalModel,
    SeriesData,
    as_exog,
    series_calendar,
    training_cutoff,
    training_rows,
)

# Series the global model is trained on at most; a larger panel is sampled, stratified (below).
TRAIN_SERIES = 2000


@dataclass(frozen=True)
class PanelModel:
    """The global model's two boosters as :func:`forecast_many` trained them (``inside``: on periods
    before each series' backtest; ``final``: on everything), for ``horizon`` steps ahead. Passed
    back as ``model=``, it forecasts another panel without training again: the other batches of a
    replenishment run, whose histories end on the same day."""

    inside: GlobalModel
    final: GlobalModel
    horizon: int
    season_length: int


def stratified_sample(keys: Sequence[Any], histories: Mapping[Any, np.ndarray], size: int,
                      seed: int = 0) -> list[Any]:
    """``size`` of ``keys`` (all when there are no more), drawn within strata in proportion to
    their share: demand class (smooth, erratic, intermittent, lumpy, none) × quartile of mean
    demand, so that slow and fast movers, sparse and regular ones are all represented. Each
    stratum keeps at least one series."""
    if len(keys) <= size:
        return list(keys)
    rng = np.random.default_rng(seed)
    means = np.array([float(np.mean(histories[key])) for key in keys])
    quartile = np.searchsorted(np.quantile(means, [0.25, 0.5, 0.75]), means, side="right")
    strata: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(keys):
        strata.setdefault((classify(histories[key]).demand_class.value, int(quartile[i])), []).append(i)
    chosen: list[int] = []
    for _, members in sorted(strata.items()):
        take = max(1, round(size * len(members) / len(keys)))
        chosen += list(rng.choice(members, size=min(take, len(members)), replace=False))
    return [keys[i] for i in sorted(chosen)]


def forecast_many(histories: Mapping[Any, Any] | Sequence[Any], horizon: int | Mapping[Any, int],
                  season_length: int = 7, *,
                  methods: Sequence[str] | Mapping[Any, Sequence[str]] | None = None, global_model: bool = True,
                  last_dates: date | Mapping[Any, date] | None = None, country: str | None = None,
                  subdivision: str | None = None, prices: Mapping[Any, Any] | None = None,
                  promos: Mapping[Any, Any] | None = None, stockouts: Mapping[Any, Any] | None = None,
                  cap_outliers: bool = True, train_series: int = TRAIN_SERIES, seed: int = 0,
                  intervals: bool = True, model: PanelModel | None = None) -> dict[Any, Forecast] | list[Forecast]:
    """Forecast every series of ``histories`` (a mapping of id to history, or a list of histories)
    ``horizon`` periods ahead. Each result is what :func:`forecast` returns for that series, with
    the global gradient-boosted model (``gbm``, :mod:`.global_model`) as one more candidate, fitted
    once across the panel. Returns a dict by id (a list for a list).

    - ``horizon``: one for every series, or a mapping of id to horizon (a replenishment batch: each
      SKU's lead time + review period). The global model is trained once, for the longest.

    - ``methods``: the candidates, for every series (a list of names) or per series (a mapping of id
      to names; a series it does not name gets the default). Default: :data:`DEFAULT_METHODS`
      plus ``gbm`` when ``global_model`` is true and the histories are daily (``season_length`` 7: its
      features are days, weekdays and holidays; name it in ``methods`` to try it on other data). Add
      ``"sarimax"`` for ARIMA.
    - ``last_dates``: the date of each history's last period (one date for all, or by id). With it
      the model reads the weekday, the month and, given ``country`` (ISO code such as ``"US"``,
      ``"DE"``; ``subdivision`` for a state), the public holidays of the ``holidays`` package.
    - ``prices`` and ``promos``: by id, one value per period of the history, optionally followed by
      the horizon's (a missing future keeps the last price and no promotion).
    - ``stockouts``: by id, the stock-out flags :func:`forecast` takes.
    - ``train_series``: the most series trained on; a larger panel is sampled by
      :func:`stratified_sample` (``seed``). Every series is still forecast.
    - ``intervals=False`` skips the prediction intervals (as :func:`forecast`).
    - ``model``: a :class:`PanelModel` trained by an earlier call (``details["global_model"]["model"]``
      of its results) on histories that end on the same day, used instead of training when it was
      trained for at least this ``horizon`` and this ``season_length``.

    The model is trained twice: once only on periods before each series' backtest
    (:func:`training_cutoff`), for the forecasts from inside the history, so that the per-series
    choice compares it with the statistical methods on periods none of them was fitted to; and
    once on everything, for the forecast itself. A history with a yearly wave (see
    :func:`forecast`) is left to the statistical methods, which model it. Raises
    :class:`ForecastInputError` naming the series for bad input.
    """
    m = check_positive_int(season_length, "season_length")
    as_list = not isinstance(histories, Mapping)
    items = dict(enumerate(histories)) if as_list else dict(histories)
    if isinstance(horizon, Mapping):
        missing = [key for key in items if key not in horizon]
        if missing:
            raise ForecastInputError(f"horizon has no value for series {missing[0]!r}")
        horizons = {key: check_positive_int(horizon[key], f"horizon of series {key!r}") for key in items}
    else:
        horizons = dict.fromkeys(items, check_positive_int(horizon, "horizon"))
    h = max(horizons.values(), default=1)  # the global model's steps ahead
    per_series = isinstance(methods, Mapping)
    default = DEFAULT_METHODS + (("gbm",) if global_model and m == SEASON else ())
    common = _check_methods(default if methods is None or per_series else methods)
    chosen_methods = {key: _check_methods(methods[key]) if per_series and key in methods else common
                      for key in items}

    cleaned: dict[Any, np.ndarray] = {}
    changes: dict[Any, dict[str, Any]] = {}
    for key, values in items.items():
        y = as_history(values, name=f"series {key!r}")
        stockout = stockouts.get(key) if stockouts else None
        cleaned[key], changes[key] = clean_history(y, m, stockout, cap_outliers)

    prepared: dict[Any, dict[str, GlobalFit]] = {}
    users = [key for key in items if "gbm" in chosen_methods[key] and cleaned[key].size >= 2 * MIN_ORIGIN]
    if users:
        data = _series_data(users, cleaned, h, last_dates, country, subdivision, prices, promos)
        reused = model is not None and model.horizon >= h and model.season_length == m
        if not reused:
            sample = stratified_sample(users, cleaned, train_series, seed)
            # each series' own backtest (its horizon) is held out of the model that forecasts inside it
            inside = GlobalModel.train([training_rows(data[key], h, training_cutoff(data[key].y.size,
                                                                                    horizons[key], m))
                                        for key in sample])
            final = GlobalModel.train([training_rows(data[key], h, data[key].y.size) for key in sample])
            model = PanelModel(inside, final, h, m) if inside is not None and final is not None else None
        if model is not None:
            for key in users:
                prepared[key] = {"gbm": GlobalFit(model.inside, model.final, data[key])}
            model_info = {"rows": model.final.rows, "series": model.final.series, "panel": len(items),
                          "reused": reused, "model": model}

    results = {}
    for key, y in cleaned.items():
        details = changes[key]
        if key in prepared:
            details["global_model"] = model_info
        results[key] = forecast_clean(y, horizons[key], m, chosen_methods[key], details, prepared=prepared.get(key),
                                      intervals=intervals)
    return list(results.values()) if as_list else results


def _series_data(keys: Sequence[Any], cleaned: Mapping[Any, np.ndarray], h: int,
                 last_dates: date | Mapping[Any, date] | None, country: str | None, subdivision: str | None,
                 prices: Mapping[Any, Any] | None, promos: Mapping[Any, Any] | None) -> dict[Any, SeriesData]:
    """Each series with its calendar (one per end date, sliced) and price/promotion columns."""
    longest = max(cleaned[key].size for key in keys)
    calendars: dict[date | None, Any] = {}
    out = {}
    for key in keys:
        y = cleaned[key]
        n = y.size
        end = last_dates.get(key) if isinstance(last_dates, Mapping) else last_dates
        if end not in calendars:
            try:
                calendars[end] = series_calendar(longest, CALENDAR_SPARE + h, end, country, subdivision)
            except ValueError as exc:
                raise ForecastInputError(str(exc)) from None
        full = calendars[end]
        cut = slice(longest - n, None)
        cal = type(full)(full.weekday[cut], full.month[cut], full.holiday[cut], full.holiday_next[cut])
        total = cal.weekday.size
        try:
            price = as_exog(prices, key, n, "prices")
            promo = as_exog(promos, key, n, "promos")
        except ValueError as exc:
            raise ForecastInputError(str(exc)) from None
        out[key] = SeriesData(y, cal, _pad(price, total, last=True), _pad(promo, total, last=False))
    return out


def _pad(values: np.ndarray | None, total: int, last: bool) -> np.ndarray | None:
    if values is None:
        return None
    out = np.empty(total)
    k = min(values.size, total)
    out[:k] = values[:k]
    out[k:] = values[k - 1] if last else 0.0
    return out
