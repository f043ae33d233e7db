"""The result type, input checks and the Syntetos–Boylan demand classification (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

# Syntetos, Boylan & Croston (2005) cut-offs on the average inter-demand interval and on the squared
# coefficient of variation of the non-zero demand sizes.
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
# The largest demand per period accepted. Beyond it the squares the fits and σ add up overflow or
# lose all precision (1e300 made σ infinite); a trillion units in one period is a data error.
MAX_VALUE = 1e12


class ForecastInputError(ValueError):
    """The history (or a parameter) cannot be forecast; the message names the problem and where."""


class DemandClass(StrEnum):
    SMOOTH = "smooth"  # regular occurrence, regular sizes
    ERRATIC = "erratic"  # regular occurrence, sizes vary a lot
    INTERMITTENT = "intermittent"  # many zero periods, regular sizes
    LUMPY = "lumpy"  # many zero periods, sizes vary a lot
    NONE = "none"  # no demand at all in the history


@dataclass(frozen=True)
class Classification:
    demand_class: DemandClass
    adi: float  # average inter-demand interval, periods (inf when there is no demand)
    cv2: float  # squared coefficient of variation of the non-zero sizes (nan with no demand)
    demands: int  # number of periods with demand > 0


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays has no single truth value
class Forecast:
    """A point forecast for the next ``len(mean)`` periods.

    ``sigma`` is the standard deviation of the one-step-ahead forecast error of the method chosen
    (root mean square of its in-sample one-step errors, so a bias counts too), in the units of the
    history; the replenishment policy scales it to the protection interval.

    ``intervals`` maps a coverage in percent (80, 95) to ``(lower, upper)`` arrays like ``mean``:
    prediction intervals for each period (see ``orderflow.forecasting.intervals``).
    """

    mean: np.ndarray
    sigma: float
    method: str
    demand_class: str | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    intervals: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (what a run record stores)."""
        return {"mean": [float(v) for v in self.mean], "sigma": float(self.sigma), "method": self.method,
                "demand_class": self.demand_class,
                "intervals": {str(level): {"lower": [float(v) for v in lower], "upper": [float(v) for v in upper]}
                              for level, (lower, upper) in self.intervals.items()}}


def _positions(mask: np.ndarray, limit: int = 5) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in where[:limit])
    more = f" and {len(where) - limit} more" if len(where) > limit else ""
    return f"{shown}{more}"


def as_history(history: Any, name: str = "history") -> np.ndarray:
    """The history as a 1-D float array, or ForecastInputError naming what is wrong and where."""
    try:
        y = np.asarray(history, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ForecastInputError(f"{name} must be a sequence of numbers: {exc}") from None
    if y.ndim != 1:
        raise ForecastInputError(f"{name} must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise ForecastInputError(f"{name} is empty: at least one period is needed")
    if np.isnan(y).any():
        raise ForecastInputError(
            f"{name} contains NaN (missing values) at positions {_positions(np.isnan(y))}; "
            "fill the gaps (e.g. with 0 for days without demand) before forecasting")
    if np.isinf(y).any():
        raise ForecastInputError(f"{name} contains infinite values at positions {_positions(np.isinf(y))}")
    if (y > MAX_VALUE).any():
        big = y > MAX_VALUE
        raise ForecastInputError(
            f"{name} contains values above {MAX_VALUE:g} at positions {_positions(big)} (first: {y[big][0]:g}); "
            "that is not a plausible demand per period — check the units or the import")
    if (y < 0).any():
        raise ForecastInputError(
            f"{name} contains negative values at positions {_positions(y < 0)} "
            f"(first: {y[y < 0][0]:g}); demand cannot be negative — net returns out before forecasting")
    return y


def check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ForecastInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def classify(history: Any) -> Classification:
    """Syntetos–Boylan–Croston class of a demand history.

    ADI is the average inter-demand interval, periods in the history per period with demand (so a
    long run of zeros at the end counts); CV² is that of the non-zero sizes (population variance).
    ADI < 1.32 and CV² < 0.49 is smooth; ADI < 1.32 with CV² ≥ 0.49 erratic; ADI ≥ 1.32 with
    CV² < 0.49 intermittent; both above lumpy. A history without any demand is ``none``.
    """
    y = as_history(history)
    nonzero = np.flatnonzero(y > 0)
    if nonzero.size == 0:
        return Classification(DemandClass.NONE, float("inf"), float("nan"), 0)
    adi = float(y.size / nonzero.size)
    sizes = y[nonzero]
    cv2 = float(np.var(sizes) / np.mean(sizes) ** 2)
    if adi < ADI_CUTOFF:
        demand_class = DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    else:
        demand_class = DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY
    return Classification(demand_class, adi, cv2, int(nonzero.size))
