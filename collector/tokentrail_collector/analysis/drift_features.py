"""From the counts ClickHouse returned to one feature's report: statistics, status, bins, shares.

Numeric features: the fine bins start at the pooled percentiles of both windows (1st..99th,
deduplicated), the PSI bins at the pooled deciles (a subset). KS comes from the fine histogram,
PSI and the chi-square test from the PSI bins. Categorical and topic features compare counts per
category (cluster). A status needs an effect at or above its threshold that is also significant
(see `Thresholds`); fewer than `min_count` values on a side leaves a feature stable, with a note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from tokentrail_collector.analysis import drift_sql as dsql
from tokentrail_collector.analysis import drift_stats as stats
from tokentrail_collector.models_drift import (
    FEATURE_KINDS,
    STATUS_ORDER,
    CategoryShare,
    DriftFeature,
    DriftStatus,
    FeatureKind,
    FeatureReport,
    HistogramBin,
    Quantiles,
    Thresholds,
)

MAX_CATEGORIES: Final = 50  # the rest are counted together as OTHER_LABEL
OTHER_LABEL: Final = "(other)"

Row = Mapping[str, object]


@dataclass(frozen=True)
class Edges:
    fine: npt.NDArray[np.float64]  # sorted lower edges of the fine bins after the first, unbounded one
    psi: npt.NDArray[np.float64]  # the subset that starts the PSI bins

    def parameter(self) -> list[float]:
        """The edges as sent to `drift_sql.histograms`: -inf first, so every value has a bin."""
        return [-math.inf, *self.fine.tolist()]


@dataclass(frozen=True)
class NumericOutcome:
    report: FeatureReport
    grown_bin: tuple[float, float] | None  # [lo, hi) of the PSI bin whose share grew most
    baseline_median: float | None


def worst(statuses: Sequence[DriftStatus]) -> DriftStatus:
    return max(statuses, key=STATUS_ORDER.index, default=DriftStatus.STABLE)


def level(value: float | None, warning: float, drifted: float) -> DriftStatus:
    if value is None or math.isnan(value):
        return DriftStatus.STABLE
    if value >= drifted:
        return DriftStatus.DRIFTED
    return DriftStatus.WARNING if value >= warning else DriftStatus.STABLE


def too_few(
    feature: DriftFeature, n_baseline: int, n_current: int, thresholds: Thresholds
) -> FeatureReport | None:
    """The report of a feature with too few values to judge, or None when there are enough."""
    if min(n_baseline, n_current) >= thresholds.min_count:
        return None
    note = (
        f"not judged: too few values (baseline {n_baseline}, current {n_current}; "
        f"at least {thresholds.min_count} a side)"
    )
    return not_judged(feature, n_baseline, n_current, note)


def not_judged(feature: DriftFeature, n_baseline: int, n_current: int, note: str) -> FeatureReport:
    return FeatureReport(
        feature=feature,
        kind=FEATURE_KINDS[feature],
        status=DriftStatus.STABLE,
        note=note,
        baseline_count=n_baseline,
        current_count=n_current,
        baseline_sampled=n_baseline,
        current_sampled=n_current,
    )


def _int(row: Row, key: str) -> int:
    return int(row.get(key) or 0)  # type: ignore[call-overload]


def _percentiles(row: Row, feature: DriftFeature) -> npt.NDArray[np.float64]:
    values = row.get(f"q_{feature.value}") or []
    return np.asarray(values, dtype=np.float64)


def numeric_edges(pooled: Row, feature: DriftFeature) -> Edges | None:
    """Bin edges from the pooled percentiles; None when the feature has no values."""
    percentiles = _percentiles(pooled, feature)
    if _int(pooled, f"n_{feature.value}") == 0 or percentiles.size != len(dsql.PERCENTILE_LEVELS):
        return None
    finite = percentiles[np.isfinite(percentiles)]
    if finite.size == 0:
        return None
    deciles = percentiles[list(dsql.DECILE_INDEXES)]
    return Edges(fine=np.unique(finite), psi=np.unique(deciles[np.isfinite(deciles)]))


def histogram_counts(stored: object, edges: Edges) -> npt.NDArray[np.float64]:
    """A `sumMap` result (lower edges, counts) as counts per fine bin."""
    counts = np.zeros(edges.fine.size + 1)
    if not stored:
        return counts
    keys, values = stored  # type: ignore[misc]
    bounds = np.asarray(edges.parameter())
    index = np.searchsorted(bounds, np.asarray(keys, dtype=np.float64), side="left")
    np.add.at(counts, np.clip(index, 0, counts.size - 1), np.asarray(values, dtype=np.float64))
    return counts


def _quantiles(row: Row, feature: DriftFeature) -> Quantiles:
    percentiles = _percentiles(row, feature)

    def pick(index: int) -> float | None:
        if (
            _int(row, f"n_{feature.value}") == 0
            or percentiles.size <= index
            or not np.isfinite(percentiles[index])
        ):
            return None
        return float(percentiles[index])

    mean = row.get(f"mean_{feature.value}")
    mean_value = float(mean) if isinstance(mean, (int, float)) and math.isfinite(mean) else None
    picked = {name: pick(index) for name, index in dsql.REPORT_QUANTILE_INDEXES.items()}
    return Quantiles(**picked, mean=mean_value)


def numeric_feature(
    feature: DriftFeature,
    baseline: Row,
    current: Row,
    edges: Edges,
    baseline_hist: object,
    current_hist: object,
    thresholds: Thresholds,
) -> NumericOutcome:
    n_b, n_c = _int(baseline, f"n_{feature.value}"), _int(current, f"n_{feature.value}")
    fine_b = histogram_counts(baseline_hist, edges)
    fine_c = histogram_counts(current_hist, edges)
    ks = stats.ks_from_histograms(fine_b, fine_c)
    bins_b = stats.merge_bins(fine_b, edges.fine, edges.psi)
    bins_c = stats.merge_bins(fine_c, edges.fine, edges.psi)
    psi = stats.psi(bins_b, bins_c)
    chi = stats.chi_square_test(bins_b, bins_c)
    significant_bins = chi.p_value < thresholds.p_value
    status = worst([
        level(psi, thresholds.psi_warning, thresholds.psi_drifted) if significant_bins else DriftStatus.STABLE,
        level(ks.statistic, thresholds.ks_warning, thresholds.ks_drifted)
        if ks.p_value < thresholds.p_value
        else DriftStatus.STABLE,
    ])  # fmt: skip
    share_b, share_c = stats.shares(bins_b), stats.shares(bins_c)
    lowers = [None, *edges.psi.tolist()]
    uppers = [*edges.psi.tolist(), None]
    bins = [
        HistogramBin(lower=lo, upper=hi, baseline_share=float(pb), current_share=float(pc))
        for lo, hi, pb, pc in zip(lowers, uppers, share_b, share_c, strict=True)
    ]
    grown = int(np.argmax(share_c - share_b))
    grown_bin = (
        -math.inf if lowers[grown] is None else float(lowers[grown]),  # type: ignore[arg-type]
        math.inf if uppers[grown] is None else float(uppers[grown]),  # type: ignore[arg-type]
    )
    baseline_quantiles = _quantiles(baseline, feature)
    report = FeatureReport(
        feature=feature,
        kind=FeatureKind.NUMERIC,
        status=status,
        baseline_count=n_b,
        current_count=n_c,
        baseline_sampled=n_b,
        current_sampled=n_c,
        psi=psi,
        ks=ks.statistic,
        ks_p_value=ks.p_value,
        chi2=chi.statistic,
        chi2_df=chi.df,
        chi2_p_value=chi.p_value,
        baseline_quantiles=baseline_quantiles,
        current_quantiles=_quantiles(current, feature),
        bins=bins,
    )
    return NumericOutcome(
        report, grown_bin if share_c[grown] > share_b[grown] else None, baseline_quantiles.p50
    )


def category_counts(
    baseline: object, current: object
) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Two `sumMap` results (categories, counts) aligned: the most frequent overall first, ties by
    name, at most MAX_CATEGORIES of them (the rest summed as OTHER_LABEL)."""
    maps = [_as_dict(baseline), _as_dict(current)]
    names = sorted(
        set(maps[0]) | set(maps[1]), key=lambda name: (-(maps[0].get(name, 0) + maps[1].get(name, 0)), name)
    )
    kept, rest = names[:MAX_CATEGORIES], names[MAX_CATEGORIES:]
    b = [float(maps[0].get(name, 0)) for name in kept]
    c = [float(maps[1].get(name, 0)) for name in kept]
    if rest:
        kept.append(OTHER_LABEL)
        b.append(float(sum(maps[0].get(name, 0) for name in rest)))
        c.append(float(sum(maps[1].get(name, 0) for name in rest)))
    return kept, np.asarray(b), np.asarray(c)


def _as_dict(stored: object) -> dict[str, int]:
    if not stored:
        return {}
    keys, values = stored  # type: ignore[misc]
    return {str(key): int(value) for key, value in zip(keys, values, strict=True)}


@dataclass(frozen=True)
class CategoricalOutcome:
    report: FeatureReport
    grown: str | None  # the category whose share grew most


def compare_counts(
    feature: DriftFeature,
    names: Sequence[str],
    counts_b: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    counts_c: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    n_baseline: int,
    n_current: int,
    thresholds: Thresholds,
    *,
    sampled: tuple[int, int] | None = None,
) -> CategoricalOutcome:
    """A categorical (or topic) feature's report: PSI, JS and chi-square on the counts per category."""
    psi = stats.psi(counts_b, counts_c)
    js = stats.js_divergence(counts_b, counts_c)
    chi = stats.chi_square_test(counts_b, counts_c)
    share_b, share_c = stats.shares(counts_b), stats.shares(counts_c)
    levels = [
        level(psi, thresholds.psi_warning, thresholds.psi_drifted),
        level(js, thresholds.js_warning, thresholds.js_drifted),
    ]
    rates: tuple[float | None, float | None] = (None, None)
    if feature is DriftFeature.ERROR_RATE:
        error = list(names).index(dsql.ERROR_LABEL) if dsql.ERROR_LABEL in names else None
        rates = (
            float(counts_b[error] / n_baseline) if error is not None and n_baseline else 0.0,
            float(counts_c[error] / n_current) if error is not None and n_current else 0.0,
        )
        change = abs(rates[1] - rates[0])  # type: ignore[operator]
        levels.append(level(change, thresholds.error_rate_warning, thresholds.error_rate_drifted))
    status = worst(levels) if chi.p_value < thresholds.p_value else DriftStatus.STABLE
    grown = int(np.argmax(share_c - share_b)) if len(names) else None
    report = FeatureReport(
        feature=feature,
        kind=FEATURE_KINDS[feature],
        status=status,
        baseline_count=n_baseline,
        current_count=n_current,
        baseline_sampled=sampled[0] if sampled else n_baseline,
        current_sampled=sampled[1] if sampled else n_current,
        psi=psi,
        js=js,
        chi2=chi.statistic,
        chi2_df=chi.df,
        chi2_p_value=chi.p_value,
        baseline_rate=rates[0],
        current_rate=rates[1],
        categories=None
        if FEATURE_KINDS[feature] is FeatureKind.TOPICS
        else [
            CategoryShare(
                value=name,
                baseline_count=int(cb),
                current_count=int(cc),
                baseline_share=float(pb),
                current_share=float(pc),
            )
            for name, cb, cc, pb, pc in zip(names, counts_b, counts_c, share_b, share_c, strict=True)
        ],
    )
    moved = grown is not None and share_c[grown] > share_b[grown]
    return CategoricalOutcome(report, names[grown] if moved and grown is not None else None)
