"""The statistics of drift reports, as pure functions over counts and samples (numpy only).

- PSI (population stability index) over shared bins: shares floored at `PSI_EPSILON` (not
  renormalised), PSI = sum((q - p) * ln(q / p)). Symmetric, >= 0, 0 for equal shares.
- Jensen-Shannon divergence in bits (base 2), so it lies in [0, 1]; 0 * log 0 counts as 0.
- Pearson's chi-square test of homogeneity on the 2 x B table of counts (bins or categories
  empty on both sides dropped), p-value from the chi-square survival function, which is the
  regularized upper incomplete gamma function Q(df / 2, x / 2) computed here (series below
  a + 1, Lentz's continued fraction above, as in Numerical Recipes' `gammq`).
- Two-sample Kolmogorov-Smirnov: D from samples (exact) or from histograms on shared bins (the
  largest gap of the two empirical CDFs at the bin edges: exact when every distinct value
  starts a bin, a lower bound otherwise); p-value from the asymptotic Kolmogorov distribution
  with Stephens' small-sample correction, lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D,
  ne = n * m / (n + m).

scipy is not a dependency: these are checked against known values and closed forms in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

PSI_EPSILON: Final = 1e-4  # share given to a bin that is empty on one side
_GAMMA_EPS: Final = 1e-15
_GAMMA_MAX_ITERATIONS: Final = 10_000
_TINY: Final = 1e-300

Counts = Sequence[float] | npt.NDArray[np.floating] | npt.NDArray[np.integer]


@dataclass(frozen=True, slots=True)
class ChiSquare:
    """Pearson's chi-square test of homogeneity of two count vectors."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True, slots=True)
class KolmogorovSmirnov:
    statistic: float  # D, the largest gap between the two empirical CDFs
    p_value: float


def _pair(baseline: Counts, current: Counts) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    b = np.asarray(baseline, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    if b.ndim != 1 or b.shape != c.shape:
        raise ValueError(f"count vectors must be 1-D and of equal length, got {b.shape} and {c.shape}")
    if (b < 0).any() or (c < 0).any() or not (np.isfinite(b).all() and np.isfinite(c).all()):
        raise ValueError("counts must be finite and >= 0")
    return b, c


def shares(counts: Counts) -> npt.NDArray[np.float64]:
    """Counts as shares of their total (all zeros when the total is 0)."""
    values = np.asarray(counts, dtype=np.float64)
    total = values.sum()
    return values / total if total > 0 else np.zeros_like(values)


def psi(baseline: Counts, current: Counts, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two count vectors over the same bins (0.0 if a side is empty)."""
    b, c = _pair(baseline, current)
    if b.sum() <= 0 or c.sum() <= 0:
        return 0.0
    p = np.maximum(shares(b), epsilon)
    q = np.maximum(shares(c), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def js_divergence(baseline: Counts, current: Counts) -> float:
    """Jensen-Shannon divergence (bits, within [0, 1]) of two count vectors over the same categories."""
    b, c = _pair(baseline, current)
    if b.sum() <= 0 or c.sum() <= 0:
        return 0.0
    p, q = shares(b), shares(c)
    m = (p + q) / 2
    return float(max(0.0, min(1.0, (_kl_bits(p, m) + _kl_bits(q, m)) / 2)))


def _kl_bits(p: npt.NDArray[np.float64], m: npt.NDArray[np.float64]) -> float:
    mask = p > 0  # where p > 0, m >= p / 2 > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))


def chi_square_test(baseline: Counts, current: Counts) -> ChiSquare:
    """Pearson's chi-square test that two count vectors come from one distribution."""
    b, c = _pair(baseline, current)
    keep = (b + c) > 0
    table = np.vstack([b[keep], c[keep]])
    rows = table.sum(axis=1)
    if table.shape[1] < 2 or (rows <= 0).any():
        return ChiSquare(statistic=0.0, df=0, p_value=1.0)
    expected = np.outer(rows, table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    df = table.shape[1] - 1
    return ChiSquare(statistic=statistic, df=df, p_value=chi2_sf(statistic, df))


def chi2_sf(x: float, df: float) -> float:
    """P(X >= x) for X chi-square distributed with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be > 0")
    if x <= 0:
        return 1.0
    return gammaincc(df / 2.0, x / 2.0)


def gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a)."""
    if a <= 0 or x < 0 or math.isnan(x):
        raise ValueError("gammaincc needs a > 0 and x >= 0")
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gamma_series(a, x))
    return min(1.0, _gamma_continued_fraction(a, x))


def _log_prefactor(a: float, x: float) -> float:
    return -x + a * math.log(x) - math.lgamma(a)


def _gamma_series(a: float, x: float) -> float:
    """P(a, x) by its power series; converges fast for x < a + 1."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(_GAMMA_MAX_ITERATIONS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _GAMMA_EPS:
            break
    return total * math.exp(_log_prefactor(a, x))


def _gamma_continued_fraction(a: float, x: float) -> float:
    """Q(a, x) by Legendre's continued fraction (modified Lentz); converges fast for x > a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _GAMMA_MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _GAMMA_EPS:
            break
    return math.exp(_log_prefactor(a, x)) * h


def kolmogorov_sf(lam: float) -> float:
    """Q_KS(lambda) = P(K > lambda) for the Kolmogorov distribution K."""
    if lam < 0.05:  # K(0.05) < 1e-300: below it the distribution function is 0 in floating point
        return 1.0
    if lam < 1.18:
        # The theta-function form converges fast for small lambda, where the alternating one does not.
        y = math.exp(-(math.pi**2) / (8.0 * lam * lam))
        total = sum(y ** ((2 * j - 1) ** 2) for j in range(1, 8))
        return float(min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / lam * total)))
    total = 0.0
    for j in range(1, 101):
        term = math.exp(-2.0 * j * j * lam * lam)
        total += term if j % 2 else -term
        if term < 1e-17:
            break
    return float(min(1.0, max(0.0, 2.0 * total)))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Asymptotic p-value of a two-sample KS statistic D for sample sizes n and m."""
    if n <= 0 or m <= 0:
        return 1.0
    ne = n * m / (n + m)
    root = math.sqrt(ne)
    return kolmogorov_sf((root + 0.12 + 0.11 / root) * statistic)


def ks_from_samples(
    baseline: Sequence[float] | npt.NDArray[np.floating], current: Sequence[float] | npt.NDArray[np.floating]
) -> KolmogorovSmirnov:
    """Exact two-sample KS statistic of two samples, with its asymptotic p-value."""
    a = np.sort(np.asarray(baseline, dtype=np.float64))
    b = np.sort(np.asarray(current, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        return KolmogorovSmirnov(statistic=0.0, p_value=1.0)
    points = np.concatenate([a, b])
    gap = np.abs(
        np.searchsorted(a, points, side="right") / a.size - np.searchsorted(b, points, side="right") / b.size
    )
    statistic = float(gap.max())
    return KolmogorovSmirnov(statistic=statistic, p_value=ks_p_value(statistic, a.size, b.size))


def ks_from_histograms(baseline: Counts, current: Counts) -> KolmogorovSmirnov:
    """KS statistic of two histograms on the same ordered bins, with its asymptotic p-value."""
    b, c = _pair(baseline, current)
    n, m = b.sum(), c.sum()
    if n <= 0 or m <= 0:
        return KolmogorovSmirnov(statistic=0.0, p_value=1.0)
    statistic = float(np.max(np.abs(np.cumsum(b) / n - np.cumsum(c) / m)))
    return KolmogorovSmirnov(statistic=statistic, p_value=ks_p_value(statistic, int(n), int(m)))


def merge_bins(
    counts: Counts, edges: Sequence[float], keep_edges: Sequence[float]
) -> npt.NDArray[np.float64]:
    """Counts of bins starting at `[-inf, *edges]` summed into the coarser bins `[-inf, *keep_edges]`.

    `keep_edges` must be a subset of `edges` (both sorted): each fine bin goes to the coarse bin
    whose lower edge is the largest kept edge not above its own.
    """
    values = np.asarray(counts, dtype=np.float64)
    fine = np.asarray(edges, dtype=np.float64)
    coarse = np.asarray(keep_edges, dtype=np.float64)
    if values.shape != (fine.size + 1,):
        raise ValueError("there must be one more count than edges")
    if not np.isin(coarse, fine).all():
        raise ValueError("keep_edges must be a subset of edges")
    # fine bin 0 is (-inf, edges[0]); fine bin i > 0 starts at edges[i - 1]
    target = np.concatenate([[0], np.searchsorted(coarse, fine, side="right")])
    return np.bincount(target, weights=values, minlength=coarse.size + 1)
