"""The time-of-year spread that benchmarks/seasonal_spread.py measures (docs/policy.md, "A spread for
the season protected"): it is what its docstring says, and it protects a December peak's season more
than July, unlike the year-round spread. Pure numpy on synthetic demand: no replay, no timing."""

import numpy as np
import pytest

from benchmarks.seasonal_spread import HALF, time_of_year_sigma
from orderflow.forecasting.fits import conditional_total_error_sigma
from orderflow.forecasting.methods import fit_method

YEAR = 365


def december_peak(years: int = 2, seed: int = 3) -> np.ndarray:
    """Poisson daily demand of 20, rising to 60 over the last five weeks of each year."""
    day = np.arange(years * YEAR) % YEAR
    rate = np.where(day >= YEAR - 35, 60.0, 20.0)
    return np.random.default_rng(seed).poisson(rate).astype(float)


def test_the_time_of_year_spread_is_the_rms_of_last_years_windows_at_the_same_time():
    y = december_peak()[:YEAR + 165]  # mid-June of the second year
    fit = fit_method("ses", y, 7)
    window, origin = 10, y.size  # the nightly run's origin: the whole history observed
    spread = time_of_year_sigma(conditional_total_error_sigma, alone=True)
    starts, errors = fit.total_errors(y, window)
    same_time = (starts + window <= origin) & (np.abs(starts - (origin - YEAR)) <= HALF)
    assert float(spread(fit, y, window, [origin])[0]) == pytest.approx(float(np.sqrt(np.mean(errors[same_time] ** 2))))
    # where the season a year back is not wholly inside the model's in-sample errors, the year-round rule
    early = fit.first_origin + YEAR + HALF - 3
    assert float(spread(fit, y, window, [early])[0]) == pytest.approx(
        float(conditional_total_error_sigma(fit, y, window, [early])[0]))


def test_the_time_of_year_spread_is_lower_in_july_than_before_the_december_peak():
    seasonal = time_of_year_sigma(conditional_total_error_sigma, alone=True)
    spreads = {}
    for month, days in (("july", YEAR + 195), ("november", YEAR + 320)):  # histories ending then, year two
        y = december_peak()[:days]
        fit = fit_method("ses", y, 7)
        spreads[month] = float(seasonal(fit, y, 10)[0]), float(conditional_total_error_sigma(fit, y, 10)[0])
    (july, july_year_round), (november, _) = spreads["july"], spreads["november"]
    assert july < 0.7 * november
    assert july < 0.8 * july_year_round  # the year-round RMS carries last December's errors into July


def test_the_seasonal_index_rule_keeps_the_year_round_level_and_moves_it_between_seasons():
    y = december_peak()[:YEAR + 195]  # mid-July of the second year
    fit = fit_method("ses", y, 7)
    window = 10
    base = float(conditional_total_error_sigma(fit, y, window)[0])
    season = float(time_of_year_sigma(conditional_total_error_sigma, alone=True)(fit, y, window)[0])
    starts, errors = fit.total_errors(y, window)
    last_year = (starts + window <= y.size) & (starts >= y.size - YEAR - HALF)
    whole_year = float(np.sqrt(np.mean(errors[last_year] ** 2)))
    indexed = float(time_of_year_sigma(conditional_total_error_sigma, alone=False, index=True)(fit, y, window)[0])
    assert indexed == pytest.approx(base * season / whole_year)
    assert indexed < base  # July: calmer than the year that holds a December
