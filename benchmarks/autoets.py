"""statsforecast's AutoETS on a panel, for benchmarks/forecasting_global.py (benchmarks only).

statsforecast 2.1 needs pandas < 3, and the project pins pandas 3, so this runs in its own virtual
environment and imports nothing from orderflow:

    make autoets-setup      # .venv-autoets from benchmarks/requirements-autoets.txt
    .venv-autoets/bin/python benchmarks/autoets.py IN.npz OUT.npz [MODEL,MODEL,...]

(``make bench-forecast`` does both and runs ``python -m benchmarks.forecasting_global``.)

IN.npz holds ``season`` and ``horizon`` (scalars) and ``y0``, ``y1``, ... (the training
histories); OUT.npz gets ``f0``, ``f1``, ... (the forecasts, clipped at 0) and ``seconds`` (CPU
time of the fits). With a list of statsforecast model names (``AutoETS``, ``AutoARIMA``, ``AutoTheta``,
``AutoCES``, ``DynamicOptimizedTheta``: benchmarks/reference_methods.py), OUT.npz gets ``<model>_0``,
``<model>_1``, ... for each, and ``f0``, ... are the first model's.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def main(source: str, target: str, models: str = "AutoETS") -> int:
    import statsforecast.models

    data = np.load(source)
    season, horizon = int(data["season"]), int(data["horizon"])
    names = sorted((k for k in data.files if k.startswith("y")), key=lambda k: int(k[1:]))
    out = {}
    started = time.process_time()
    for model in models.split(","):
        build = getattr(statsforecast.models, model)
        for name in names:
            y = data[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    mean = build(season_length=season if y.size >= 2 * season else 1).forecast(y=y, h=horizon)["mean"]
                except Exception:  # a series the model cannot fit: counted by the caller as a failure
                    mean = np.full(horizon, np.nan)
            out[f"{model}_{name[1:]}"] = np.clip(np.asarray(mean, dtype=float), 0, None)
    first = models.split(",")[0]
    out.update({"f" + name[1:]: out[f"{first}_{name[1:]}"] for name in names})
    out["seconds"] = np.array(time.process_time() - started)
    np.savez(target, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
