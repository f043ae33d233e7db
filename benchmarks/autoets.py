"""statsforecast's AutoETS on a panel, for benchmarks/forecasting_global.py (benchmarks only).

statsforecast 2.1 needs pandas < 3, and the project pins pandas 3, so this runs in its own virtual
environment and imports nothing from orderflow:

    make autoets-setup      # .venv-autoets from benchmarks/requirements-autoets.txt
    .venv-autoets/bin/python benchmarks/autoets.py IN.npz OUT.npz

(``make bench-forecast`` does both and runs ``python -m benchmarks.forecasting_global``.)

IN.npz holds ``season`` and ``horizon`` (scalars) and ``y0``, ``y1``, ... (the training
histories); OUT.npz gets ``f0``, ``f1``, ... (the forecasts, clipped at 0) and ``seconds`` (CPU
time of the fits).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def main(source: str, target: str) -> int:
    from statsforecast.models import AutoETS

    data = np.load(source)
    season, horizon = int(data["season"]), int(data["horizon"])
    names = sorted((k for k in data.files if k.startswith("y")), key=lambda k: int(k[1:]))
    out = {}
    started = time.process_time()
    for name in names:
        y = data[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                mean = AutoETS(season_length=season if y.size >= 2 * season else 1).forecast(y=y, h=horizon)["mean"]
            except Exception:  # a series AutoETS cannot fit: its mean, counted by the caller as a failure
                mean = np.full(horizon, np.nan)
        out["f" + name[1:]] = np.clip(np.asarray(mean, dtype=float), 0, None)
    out["seconds"] = np.array(time.process_time() - started)
    np.savez(target, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
