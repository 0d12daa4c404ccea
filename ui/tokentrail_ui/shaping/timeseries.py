"""Time series from `/api/stats` frames: bucket widths, one column per series, headline figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

# Bucket widths a chart can use, smallest first; the first one that gives at most MAX_BUCKETS wins.
BUCKET_WIDTHS_S = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400)
MAX_BUCKETS = 150
NO_GROUP_LABEL = "(none)"


def bucket_seconds_for(window_s: float) -> int:
    """The narrowest standard bucket that splits a window of `window_s` seconds into <= MAX_BUCKETS."""
    for width in BUCKET_WIDTHS_S:
        if window_s / width <= MAX_BUCKETS:
            return width
    return BUCKET_WIDTHS_S[-1]


def over_time(stats: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Ungrouped, bucketed stats as a frame indexed by bucket, `columns` renamed {api name: label}."""
    present = {name: label for name, label in columns.items() if name in stats.columns}
    if stats.empty or not present:
        return pd.DataFrame(columns=list(present.values()))
    table = stats.sort_values("bucket").set_index("bucket")[list(present)]
    return table.rename(columns=present).astype(float)


def per_group(stats: pd.DataFrame, value: str) -> pd.DataFrame:
    """Grouped, bucketed stats as bucket x group of `value` (0 where a group had no spans)."""
    if stats.empty or value not in stats.columns:
        return pd.DataFrame()
    table = stats.assign(group=group_labels(stats["group"]))
    wide = table.pivot_table(index="bucket", columns="group", values=value, aggfunc="sum", fill_value=0)
    wide.columns.name = None
    return wide.sort_index().astype(float)


def with_value(stats: pd.DataFrame) -> pd.DataFrame:
    """Grouped stats without the group of spans that have no value (e.g. no model: chains, tools)."""
    if stats.empty:
        return stats
    return stats[stats["group"].fillna("") != ""]


def group_labels(groups: pd.Series) -> pd.Series:
    """Group values as labels: spans without a value form the group "", shown as "(none)"."""
    return groups.fillna("").astype(str).replace("", NO_GROUP_LABEL)


@dataclass(frozen=True)
class Headline:
    """The figures at the top of the Overview, over the whole window."""

    spans: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    ttft_p50_ms: float | None
    total_tokens: int
    cost_usd: float | None
    unpriced_spans: int
    unpriced_tokens: int | None


def headline(totals: pd.DataFrame) -> Headline:
    """The one-row `group_by=none` stats as a Headline (zeros when the window is empty)."""
    if totals.empty:
        return Headline(0, 0, None, None, None, None, None, 0, None, 0, None)
    row = totals.iloc[0]
    return Headline(
        spans=int(row["span_count"]),
        errors=int(row["error_count"]),
        error_rate=_number(row.get("error_rate")),
        latency_p50_ms=_number(row.get("latency_p50_ms")),
        latency_p95_ms=_number(row.get("latency_p95_ms")),
        latency_p99_ms=_number(row.get("latency_p99_ms")),
        ttft_p50_ms=_number(row.get("ttft_p50_ms")),
        total_tokens=int(row.get("total_tokens") or 0),
        cost_usd=_number(row.get("cost_usd")),
        unpriced_spans=int(row.get("unpriced_spans") or 0),
        unpriced_tokens=_unpriced_tokens(row),
    )


def per_group_table(stats: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Grouped, unbucketed stats as one row per group with `columns`, the busiest group first."""
    if stats.empty:
        return pd.DataFrame(columns=["group", *columns])
    present = [column for column in columns if column in stats.columns]
    table = stats.assign(group=group_labels(stats["group"]))[["group", *present]]
    return table.sort_values(present[0] if present else "group", ascending=False).reset_index(drop=True)


def _unpriced_tokens(row: pd.Series) -> int | None:
    """Input and output tokens of the spans without a known cost (None from a collector without them)."""
    parts = [_integer(row.get(column)) for column in ("unpriced_input_tokens", "unpriced_output_tokens")]
    known = [part for part in parts if part is not None]
    return sum(known) if known else None


def _number(value: object) -> float | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return float(value)  # type: ignore[arg-type]


def _integer(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)
