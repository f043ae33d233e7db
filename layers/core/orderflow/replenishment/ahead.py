"""What a batch of the nightly run reads and forecasts ahead, before it decides SKU by SKU: the demand
histories of the SKUs it will likely forecast (on threads, while the forecasts run), and their forecasts in
one ``forecast_many`` call with the run's global model (docs/forecasting.md, "In the nightly run")."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from concurrent.futures import Executor, Future
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from orderflow.catalogue import Product
from orderflow.replenishment.decisions import (
    MIN_HISTORY_DAYS,
    SEASON_LENGTH,
    Skip,
    check_parameters,
    daily_series,
    forecast_horizon,
)
from orderflow.replenishment.lead_times import with_learned_lead_time

if TYPE_CHECKING:  # numpy: imported only where a forecast is made
    from orderflow.forecasting import Forecast, PanelModel
    from orderflow.replenishment.ports import DemandHistory

logger = logging.getLogger(__name__)
# A batch's forecast, made once for all its SKUs: (SKU, location, horizon, the product's method set).
ForecastKey = tuple[str, str, int, tuple[str, ...] | None]
# The global model the first batch of a run trained in this process, by run id (one run kept): a warm
# Lambda container decides its next batches of the run with it instead of training again, so training
# is a cost per container and run, not per batch (docs/forecasting.md, "In the nightly run").
_RUN_MODEL: dict[str, PanelModel] = {}


class ForecastAhead(ABC):
    """The read-ahead and forecast-ahead half of ``BatchDecider``, which says which SKUs it will likely
    forecast and what receipts taught of lead times."""

    demand: DemandHistory
    cycle: str
    run_id: str
    first_day: str
    last_day: str
    histories: dict[str, Future[dict[str, dict[str, int]]]]
    forecasts: dict[ForecastKey, Forecast]

    @abstractmethod
    def _likely_forecast(self, raw: dict[str, Any], location: str) -> bool: ...

    @abstractmethod
    def receipts(self) -> dict[tuple[str, str], list[float]]: ...

    def read_histories_ahead(self, pool: Executor, products: list[tuple[dict[str, Any], list[str]]]) -> None:
        """Start reading, on ``pool``'s threads, the demand history of each SKU that will likely be forecast
        (no purchase order of this cycle yet, due for review at one of its locations), so the batch's
        forecasts run while the next SKUs' histories arrive instead of after. A SKU read ahead that turns
        out not to need its history costs one Query for nothing."""
        for raw, locations in products:
            if any(self._likely_forecast(raw, location) for location in locations):
                self.histories[raw["sku"]] = pool.submit(self.demand.history_by_location, raw["sku"],
                                                         self.first_day, self.last_day)

    def forecast_ahead(self, products: list[tuple[dict[str, Any], list[str]]]) -> None:
        """Forecast every SKU read ahead (``read_histories_ahead``), at each location and on each
        supplier's terms it will likely be decided on, in one ``forecast_many`` call: the global model
        (``gbm``) is trained once for the batch and is a candidate beside the statistical methods
        (docs/forecasting.md). ``decide_sku`` takes its forecast from here; one not made here (not
        foreseen, or this call failed) is made on its own by ``forecast()``, without the global model."""
        from orderflow.forecasting import ForecastInputError, forecast_many
        from orderflow.forecasting.core import as_history

        panel: dict[ForecastKey, list[float]] = {}
        for raw, locations in products:
            if raw["sku"] not in self.histories:
                continue
            by_location = self.histories[raw["sku"]].result()  # kept: _history takes it from there later
            for location in locations:
                if not self._likely_forecast(raw, location):
                    continue
                history = daily_series(by_location.get(location, {}), self.cycle)
                try:
                    as_history(history)  # bad values: forecast() alone says what is wrong, for this SKU only
                except ForecastInputError:
                    continue
                if len(history) >= MIN_HISTORY_DAYS:
                    panel.update(dict.fromkeys(self._forecast_keys(raw, location), history))
        if not panel:
            return
        last_day = date.fromisoformat(self.cycle) - timedelta(days=1)
        try:
            made = forecast_many(panel, {key: key[2] for key in panel}, SEASON_LENGTH, intervals=False,
                                 methods={key: key[3] for key in panel if key[3] is not None}, last_dates=last_day,
                                 model=_RUN_MODEL.get(self.run_id))
        except Exception:  # one series the panel cannot take must not cost the batch its forecasts
            logger.exception("forecast_many failed for the batch; each SKU is forecast on its own")
            return
        self.forecasts.update(made)
        trained = next((r.details["global_model"]["model"] for r in made.values() if "global_model" in r.details),
                       None)
        if trained is not None and _RUN_MODEL.get(self.run_id) is not trained:
            _RUN_MODEL.clear()
            _RUN_MODEL[self.run_id] = trained

    def _forecast_keys(self, raw: dict[str, Any], location: str) -> list[ForecastKey]:
        """The forecasts deciding ``raw`` at ``location`` asks for: one per supplier's terms it is priced on."""
        product = Product.model_validate(raw).at_location(location)
        if len(raw.get("suppliers") or []) > 1:
            terms = [product.bought_from(source, location) for source in product.sources()]
        else:
            terms = [product.bought_from(product.sources()[0], location) if product.suppliers else product]
        keys = []
        for bought in terms:
            bought, _ = with_learned_lead_time(bought, self.receipts())
            try:
                check_parameters(bought)
            except Skip:
                continue
            keys.append(self._forecast_key(bought, location))
        return keys

    @staticmethod
    def _forecast_key(product: Product, location: str) -> ForecastKey:
        params = product.replenishment
        assert params is not None
        methods = tuple(params.forecast_methods) if params.forecast_methods else None
        return product.sku, location, forecast_horizon(product), methods
