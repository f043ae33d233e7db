"""Demand forecasting for replenishment (imported only by the replenish side, never by the order path).

    from orderflow.forecasting import forecast
    result = forecast(daily_demand, horizon=21, season_length=7)
    result.mean      # np.ndarray, one value per future period
    result.sigma     # std of the one-step forecast error (for safety stock)
    result.method    # which method was chosen, e.g. "hw", "sba", "snaive"
    result.demand_class  # smooth / erratic / intermittent / lumpy / none

Each history is classified (ADI / CV², Syntetos–Boylan cut-offs 1.32 / 0.49); the candidates
suited to its class are fitted once and compared on a short rolling-origin backtest inside the
history. Seasonal naive is always a candidate and is the baseline of the accuracy measures (MASE,
RMSSE in :mod:`.metrics`). ``python -m orderflow.forecasting.backtest`` evaluates every method and
the automatic choice on your own data (see docs/forecasting.md).

Importing this package loads numpy only; statsmodels (and with it scipy and pandas) is imported the
first time a method that needs it is fitted. It also sets ``OPENBLAS_NUM_THREADS=1`` unless the
environment already sets it: the models are tiny, and OpenBLAS's worker threads only contend with
each other (scipy's optimiser ran 5–8x slower with them on a busy two-core machine). It takes effect
for the BLAS libraries loaded afterwards (scipy's, on first fit).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")



from orderflow.forecasting.auto import CANDIDATES, DEFAULT_METHODS, forecast
from orderflow.forecasting.core import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    Classification,
    DemandClass,
    Forecast,
    ForecastInputError,
    classify,
)
from orderflow.forecasting.intermittent import croston, sba, tsb
from orderflow.forecasting.methods import METHODS
from orderflow.forecasting.metrics import mase, rmsse
from orderflow.forecasting.panel import PanelModel, forecast_many

__all__ = [
    "ADI_CUTOFF",
    "CANDIDATES",
    "CV2_CUTOFF",
    "DEFAULT_METHODS",
    "METHODS",
    "Classification",
    "DemandClass",
    "Forecast",
    "ForecastInputError",
    "PanelModel",
    "classify",
    "croston",
    "forecast",
    "forecast_many",
    "mase",
    "rmsse",
    "sba",
    "tsb",
]
