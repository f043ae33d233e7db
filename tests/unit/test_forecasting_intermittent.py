"""Croston, SBA and TSB against hand-computed reference values, and the demand classification.

The reference series below is worked through the update equations of each paper by hand; the
derivation is in the comments, so a failing number can be checked with a pencil.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from orderflow.forecasting import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    DemandClass,
    ForecastInputError,
    classify,
    croston,
    sba,
    tsb,
)

# periods:  0  1  2  3  4  5  6  7  8  9
SERIES = [0, 0, 3, 0, 5, 0, 0, 0, 2, 0]
# Demands: size 3 at t=2, 5 at t=4, 2 at t=8. Inter-demand intervals, the first counted from the
# period before the history starts: q1 = 2 - (-1) = 3, q2 = 4 - 2 = 2, q3 = 8 - 4 = 4.
NAN = float("nan")


def test_croston_1972_hand_computed():
    # alpha = 0.2. Croston (1972): z (size) and p (interval) are updated only when demand occurs.
    #   t=2 first demand initialises: z = 3, p = q1 = 3            -> z/p = 1.0
    #   t=4: z = 3 + 0.2*(5 - 3) = 3.4;   p = 3 + 0.2*(2 - 3) = 2.8  -> 3.4/2.8 = 1.2142857142857142
    #   t=8: z = 3.4 + 0.2*(2 - 3.4) = 3.12; p = 2.8 + 0.2*(4 - 2.8) = 3.04 -> 3.12/3.04 = 1.0263157894736843
    # Between demands the estimate holds; before the first demand there is none (NaN).
    fit = croston(SERIES, alpha=0.2)
    expected = [NAN, NAN, 1.0, 1.0, 3.4 / 2.8, 3.4 / 2.8, 3.4 / 2.8, 3.4 / 2.8, 3.12 / 3.04, 3.12 / 3.04]
    np.testing.assert_allclose(fit.path, expected, rtol=1e-12, equal_nan=True)
    assert fit.rate == pytest.approx(1.0263157894736843, rel=1e-12)
    assert fit.size == pytest.approx(3.12) and fit.interval == pytest.approx(3.04)


def test_sba_2005_hand_computed():
    # Syntetos & Boylan (2005): Croston's estimate times (1 - alpha/2) = 0.9 for alpha = 0.2:
    #   1.0 * 0.9 = 0.9;  1.2142857142857142 * 0.9 = 1.0928571428571427;  1.0263157894736843 * 0.9 = 0.9236842105263158
    fit = sba(SERIES, alpha=0.2)
    expected = [NAN, NAN, 0.9, 0.9] + [1.0928571428571427] * 4 + [0.9236842105263158] * 2
    np.testing.assert_allclose(fit.path, expected, rtol=1e-12, equal_nan=True)
    assert fit.method == "sba"


def test_tsb_2011_hand_computed():
    # Teunter, Syntetos & Babai (2011), alpha = 0.2 (size), beta = 0.1 (probability), updated every
    # period after the first demand initialises z = 3, p = 1/q1 = 1/3:
    #   t=2: p*z = 1/3 * 3                                    = 1.0
    #   t=3: y=0  p = 1/3 * 0.9 = 0.3                          -> 0.3 * 3     = 0.9
    #   t=4: y=5  p = 0.3 + 0.1*(1 - 0.3) = 0.37; z = 3.4      -> 0.37 * 3.4  = 1.258
    #   t=5: y=0  p = 0.333                                    -> 0.333 * 3.4 = 1.1322
    #   t=6: y=0  p = 0.2997                                   -> 1.01898
    #   t=7: y=0  p = 0.26973                                  -> 0.917082
    #   t=8: y=2  p = 0.26973 + 0.1*(1 - 0.26973) = 0.342757; z = 3.4 + 0.2*(2 - 3.4) = 3.12
    #                                                          -> 0.342757 * 3.12 = 1.06940184
    #   t=9: y=0  p = 0.3084813                                -> 0.3084813 * 3.12 = 0.962461656
    fit = tsb(SERIES, alpha=0.2, beta=0.1)
    expected = [NAN, NAN, 1.0, 0.9, 1.258, 1.1322, 1.01898, 0.917082, 1.06940184, 0.962461656]
    np.testing.assert_allclose(fit.path, expected, rtol=1e-9, equal_nan=True)
    assert fit.interval == pytest.approx(0.3084813)  # the final demand probability


def test_tsb_decays_through_zeros_where_croston_holds():
    dead = [4, 0, 5, 0, 4] + [0] * 60  # an item that stopped selling
    assert tsb(dead).rate < 0.05 * croston(dead).rate
    assert croston(dead).rate == croston(dead[:5]).rate


@pytest.mark.parametrize("method", [croston, sba, tsb])
def test_no_demand_gives_zero_rate(method):
    fit = method([0, 0, 0, 0])
    assert fit.rate == 0.0 and np.isnan(fit.path).all()


@pytest.mark.parametrize("method", [croston, sba, tsb])
def test_bad_input_names_the_problem(method):
    with pytest.raises(ForecastInputError, match="negative"):
        method([1, 0, -2, 3])
    with pytest.raises(ValueError, match="alpha"):
        method([1, 0, 2], alpha=0)


# ------------------------------------------------------------------ classification


@pytest.mark.parametrize(("series", "expected"), [
    ([5, 6, 5, 7, 6, 5, 6, 5], DemandClass.SMOOTH),  # ADI 1, CV² ≈ 0.02
    ([1, 20, 2, 30, 1, 25], DemandClass.ERRATIC),  # ADI 1, CV² ≈ 0.86
    ([0, 0, 5, 0, 0, 5, 0, 6, 0, 0], DemandClass.INTERMITTENT),  # ADI 10/3, CV² ≈ 0.008
    ([0, 0, 1, 0, 0, 30, 0, 0, 2, 0], DemandClass.LUMPY),  # ADI 10/3, CV² ≈ 1.7
    ([0, 0, 0], DemandClass.NONE),
])
def test_syntetos_boylan_classes(series, expected):
    assert classify(series).demand_class is expected


def test_classification_figures_and_cutoffs():
    c = classify([0, 0, 5, 0, 0, 5, 0, 6, 0, 0])
    assert c.adi == pytest.approx(10 / 3)  # periods per period with demand
    sizes = np.array([5, 5, 6])
    assert c.cv2 == pytest.approx(sizes.var() / sizes.mean() ** 2)
    assert c.demands == 3
    # The cut-offs belong to the upper classes: ADI = 33/25 = 1.32 exactly is intermittent ...
    assert ADI_CUTOFF == 33 / 25
    assert classify([1] * 25 + [0] * 8).demand_class is DemandClass.INTERMITTENT
    # ... and CV² = var([3, 17]) / 10² = 49 / 100 = 0.49 exactly is erratic.
    assert np.var([3.0, 17.0]) / 100 == CV2_CUTOFF
    assert classify([3, 17]).demand_class is DemandClass.ERRATIC
    none = classify([0, 0])
    assert math.isinf(none.adi) and math.isnan(none.cv2)
