"""The drift statistics against known values, closed forms and properties (no scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokentrail_collector.analysis import drift_stats as ds

counts = st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=30)
paired = st.integers(min_value=2, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 10_000), min_size=n, max_size=n),
        st.lists(st.integers(0, 10_000), min_size=n, max_size=n),
    )
)


# --- chi-square survival function and the regularized gamma function ---------------------------


@pytest.mark.parametrize(
    ("x", "df", "expected"),
    [
        (3.841458820694124, 1, 0.05),  # the textbook critical values
        (6.634896601021213, 1, 0.01),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (18.307038053275146, 10, 0.05),
        (31.410432844230918, 20, 0.05),
        (124.34211340400407, 100, 0.05),
    ],
)
def test_chi2_sf_known_values(x: float, df: int, expected: float) -> None:
    assert ds.chi2_sf(x, df) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=200)
@given(x=st.floats(min_value=1e-6, max_value=400), half_df=st.integers(min_value=1, max_value=40))
def test_chi2_sf_matches_the_closed_form_for_even_df(x: float, half_df: int) -> None:
    # For df = 2k: P(X >= x) = exp(-x/2) * sum_{j<k} (x/2)^j / j!
    closed = math.exp(-x / 2) * sum((x / 2) ** j / math.factorial(j) for j in range(half_df))
    assert ds.chi2_sf(x, 2 * half_df) == pytest.approx(closed, rel=1e-9, abs=1e-300)


@settings(max_examples=200)
@given(x=st.floats(min_value=1e-6, max_value=300))
def test_chi2_sf_matches_erfc_for_one_and_three_df(x: float) -> None:
    assert ds.chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9, abs=1e-300)
    three = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    assert ds.chi2_sf(x, 3) == pytest.approx(three, rel=1e-9, abs=1e-300)


@given(a=st.floats(min_value=0.05, max_value=200), x=st.floats(min_value=0, max_value=1000))
def test_gammaincc_is_a_probability_decreasing_in_x(a: float, x: float) -> None:
    q = ds.gammaincc(a, x)
    assert 0.0 <= q <= 1.0
    assert ds.gammaincc(a, x + 1.0) <= q + 1e-12


def test_gammaincc_edges_and_bad_input() -> None:
    assert ds.gammaincc(2.0, 0.0) == 1.0
    assert ds.gammaincc(2.0, math.inf) == 0.0
    assert ds.gammaincc(1.0, 2.0) == pytest.approx(math.exp(-2.0))
    with pytest.raises(ValueError):
        ds.gammaincc(0.0, 1.0)
    with pytest.raises(ValueError):
        ds.chi2_sf(1.0, 0)


# --- Kolmogorov-Smirnov --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lam", "expected"),
    [(1.0727, 0.20), (1.2238, 0.10), (1.3581, 0.05), (1.4802, 0.025), (1.6276, 0.01), (1.9495, 0.001)],
)
def test_kolmogorov_distribution_critical_values(lam: float, expected: float) -> None:
    assert ds.kolmogorov_sf(lam) == pytest.approx(expected, rel=2e-3)


@settings(max_examples=200, deadline=None)
@given(lam=st.floats(min_value=0.3, max_value=3.0))
def test_kolmogorov_series_agree(lam: float) -> None:
    """The two series of the Kolmogorov distribution give the same value where both converge."""
    alternating = 2 * sum((-1) ** (j - 1) * math.exp(-2 * j * j * lam * lam) for j in range(1, 200))
    y = math.exp(-(math.pi**2) / (8 * lam * lam))
    theta = 1 - math.sqrt(2 * math.pi) / lam * sum(y ** ((2 * j - 1) ** 2) for j in range(1, 50))
    assert ds.kolmogorov_sf(lam) == pytest.approx(alternating, abs=1e-12)
    assert ds.kolmogorov_sf(lam) == pytest.approx(theta, abs=1e-12)


@given(a=st.floats(0, 5), b=st.floats(0, 5))
def test_kolmogorov_sf_is_monotone(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert 0.0 <= ds.kolmogorov_sf(high) <= ds.kolmogorov_sf(low) <= 1.0


def test_ks_p_value_uses_the_effective_sample_size() -> None:
    # D = 0.2 with n = m = 100: ne = 50, lambda = (sqrt(50) + 0.12 + 0.11/sqrt(50)) * 0.2
    lam = (math.sqrt(50) + 0.12 + 0.11 / math.sqrt(50)) * 0.2
    assert ds.ks_p_value(0.2, 100, 100) == pytest.approx(ds.kolmogorov_sf(lam))
    assert ds.ks_p_value(0.5, 0, 10) == 1.0


def test_ks_from_samples_known_values() -> None:
    assert ds.ks_from_samples([1, 2, 3], [4, 5, 6]).statistic == 1.0
    assert ds.ks_from_samples([1, 2, 3, 4], [1, 2, 3, 4]).statistic == 0.0
    assert ds.ks_from_samples([1, 2, 3, 4], [3, 4, 5, 6]).statistic == pytest.approx(0.5)
    assert ds.ks_from_samples([], [1.0]).p_value == 1.0


@settings(max_examples=150)
@given(
    a=st.lists(st.integers(0, 20), min_size=1, max_size=200),
    b=st.lists(st.integers(0, 20), min_size=1, max_size=200),
)
def test_ks_from_histograms_is_exact_when_each_value_starts_a_bin(a: list[int], b: list[int]) -> None:
    edges = np.arange(0, 21)  # bins (-inf, 0), [0, 1), ..., [20, inf)
    hist_a = np.bincount(np.searchsorted(edges, a, side="right"), minlength=22)
    hist_b = np.bincount(np.searchsorted(edges, b, side="right"), minlength=22)
    exact = ds.ks_from_samples(a, b)
    binned = ds.ks_from_histograms(hist_a, hist_b)
    assert binned.statistic == pytest.approx(exact.statistic)
    assert binned.p_value == pytest.approx(exact.p_value)


@settings(max_examples=100)
@given(
    a=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=100),
    b=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=100),
)
def test_ks_statistic_is_symmetric_and_bounded(a: list[float], b: list[float]) -> None:
    forward, backward = ds.ks_from_samples(a, b), ds.ks_from_samples(b, a)
    assert forward.statistic == pytest.approx(backward.statistic)
    assert 0.0 <= forward.statistic <= 1.0
    assert 0.0 <= forward.p_value <= 1.0


# --- PSI, Jensen-Shannon, chi-square test ---------------------------------------------------------


def test_psi_known_value() -> None:
    # shares 0.5/0.5 against 0.7/0.3: 0.2 ln(1.4) + 0.2 ln(5/3)
    assert ds.psi([50, 50], [70, 30]) == pytest.approx(0.2 * math.log(1.4) + 0.2 * math.log(5 / 3))


def test_psi_floors_empty_bins_at_epsilon() -> None:
    expected = (1 - ds.PSI_EPSILON) * math.log(1 / ds.PSI_EPSILON) * 2
    assert ds.psi([10, 0], [0, 10]) == pytest.approx(expected)


@given(paired)
def test_psi_is_symmetric_non_negative_and_zero_on_equal_shares(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    assert ds.psi(a, b) >= 0.0
    assert ds.psi(a, b) == pytest.approx(ds.psi(b, a))
    assert ds.psi(a, [3 * x for x in a]) == pytest.approx(0.0, abs=1e-12)


def test_js_divergence_known_values() -> None:
    assert ds.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint: one bit
    assert ds.js_divergence([5, 5], [5, 5]) == 0.0
    # p = (1/2, 1/2), q = (1, 0): m = (3/4, 1/4)
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    assert ds.js_divergence([1, 1], [1, 0]) == pytest.approx((kl_p + kl_q) / 2)


@given(paired)
def test_js_divergence_is_symmetric_and_within_zero_and_one(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    value = ds.js_divergence(a, b)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(ds.js_divergence(b, a))


def test_chi_square_test_known_value() -> None:
    result = ds.chi_square_test([10, 20], [20, 10])
    assert result.statistic == pytest.approx(20 / 3)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(10 / 3)))


def test_chi_square_drops_empty_categories_and_degenerate_tables() -> None:
    assert ds.chi_square_test([10, 0, 20], [20, 0, 10]).df == 1
    assert ds.chi_square_test([10, 0], [20, 0]) == ds.ChiSquare(0.0, 0, 1.0)
    assert ds.chi_square_test([0, 0], [1, 2]).p_value == 1.0


@given(paired)
def test_chi_square_p_value_is_a_probability_and_one_on_proportional_counts(
    pair: tuple[list[int], list[int]],
) -> None:
    a, b = pair
    assert 0.0 <= ds.chi_square_test(a, b).p_value <= 1.0
    if sum(a) > 0:
        assert ds.chi_square_test(a, [2 * x for x in a]).p_value == pytest.approx(1.0)


def test_count_vectors_are_checked() -> None:
    with pytest.raises(ValueError):
        ds.psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        ds.js_divergence([1, -1], [1, 1])


@given(counts, st.data())
def test_merge_bins_keeps_totals_and_matches_coarse_binning(
    fine_counts: list[int], data: st.DataObject
) -> None:
    edges = list(range(len(fine_counts) - 1))
    keep = sorted(data.draw(st.sets(st.sampled_from(edges), max_size=len(edges))) if edges else [])
    merged = ds.merge_bins(fine_counts, edges, keep)
    assert merged.sum() == sum(fine_counts)
    # each coarse bin holds the fine bins from its lower edge up to the next kept edge
    bounds = [-math.inf, *keep, math.inf]
    fine_lowers = [-math.inf, *edges]
    for index in range(len(bounds) - 1):
        inside = [
            c
            for low, c in zip(fine_lowers, fine_counts, strict=True)
            if bounds[index] <= low < bounds[index + 1]
        ]
        assert merged[index] == sum(inside)
