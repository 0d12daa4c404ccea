"""Drift reports as the Drift page shows them: comparisons to ask for, feature table, distributions,
topic clusters, examples and the history of scheduled checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tokentrail_ui.shaping.overview import trace_url

# Comparisons of two relative windows: (baseline, current) as the drift API takes them.
COMPARISONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "Last 24 hours vs the 7 days before": ({"last": "7d", "before": "24h"}, {"last": "24h"}),
    "Last 3 hours vs the 3 hours before": ({"last": "3h", "before": "3h"}, {"last": "3h"}),
    "Last hour vs the 24 hours before": ({"last": "24h", "before": "1h"}, {"last": "1h"}),
    "Last 7 days vs the 7 days before": ({"last": "7d", "before": "7d"}, {"last": "7d"}),
}
FIELDS = ("model", "service", "release", "prompt_version", "tag")
# Material icons (the font ships with Streamlit; emoji fonts are not everywhere).
STATUS_ICONS = {
    "stable": ":material/check_circle:",
    "warning": ":material/warning:",
    "drifted": ":material/error:",
    "error": ":material/report:",
}
STATUS_BACKGROUNDS = {"stable": "#e8f5e9", "warning": "#fff8e1", "drifted": "#ffebee", "error": "#eeeeee"}
FEATURE_NAMES = {
    "latency": "Latency (ms)",
    "time_to_first_token": "Time to first token (ms)",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "cost": "Cost (USD)",
    "prompt_length": "Prompt length (chars)",
    "completion_length": "Completion length (chars)",
    "error_rate": "Error rate",
    "finish_reasons": "Finish reasons",
    "model_mix": "Model mix",
    "tool_usage": "Tool usage",
    "prompt_topics": "Prompt topics",
    "completion_topics": "Completion topics",
}
TOPIC_FEATURES = frozenset({"prompt_topics", "completion_topics"})


def feature_name(feature: str) -> str:
    return FEATURE_NAMES.get(feature, feature.replace("_", " ").capitalize())


def status_label(status: str) -> str:
    """A status as a table cell shows it (the colour comes from `status_style`)."""
    return status


def status_icon(status: str) -> str:
    return STATUS_ICONS.get(status, ":material/help:")


def field_windows(
    field: str, baseline_value: str, current_value: str, start: str | None, end: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Two sides that differ by a field's value, within the same time range."""
    time_range = {name: value for name, value in (("start", start), ("end", end)) if value}
    return (
        {**time_range, "field": field, "value": baseline_value},
        {**time_range, "field": field, "value": current_value},
    )


def feature_table(features: pd.DataFrame) -> pd.DataFrame:
    """One row per feature as people read it: status, the statistic that decided, counts, medians."""
    columns = ["feature", "status", "statistic", "value", "p-value", "baseline", "current", "sampled", "baseline p50", "current p50", "note"]  # fmt: skip
    if features.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for _, row in features.iterrows():
        statistic, value, p_value = _deciding_statistic(row)
        rows.append(
            {
                "feature": feature_name(str(row["feature"])),
                "status": status_label(str(row["status"])),
                "statistic": statistic,
                "value": value,
                "p-value": p_value,
                "baseline": int(row["baseline_count"]),
                "current": int(row["current_count"]),
                "sampled": f"{int(row['baseline_sampled']):,} / {int(row['current_sampled']):,}",
                "baseline p50": _maybe(row["baseline_p50"]),
                "current p50": _maybe(row["current_p50"]),
                "note": row["note"] or "",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _deciding_statistic(row: pd.Series) -> tuple[str, float | None, float | None]:
    kind = row["kind"]
    if row["feature"] == "error_rate" and _maybe(row["baseline_rate"]) is not None:
        return (
            "error rate change",
            _difference(row["current_rate"], row["baseline_rate"]),
            _maybe(row["chi2_p_value"]),
        )
    if kind == "numeric":
        return "KS", _maybe(row["ks"]), _maybe(row["ks_p_value"])
    if kind == "topics":
        return "PSI of clusters", _maybe(row["psi"]), _maybe(row["chi2_p_value"])
    return "Jensen-Shannon", _maybe(row["js"]), _maybe(row["chi2_p_value"])


def status_style(column: pd.Series) -> list[str]:
    """Background colours of a column of status labels (for `DataFrame.style.apply`)."""
    return [f"background-color: {STATUS_BACKGROUNDS.get(str(label), '')}" for label in column]


def distribution_long(distribution: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A feature's distribution as (bucket, side, share) rows and the order of the buckets."""
    if distribution.empty:
        return pd.DataFrame(columns=["bucket", "side", "share"]), []
    if "lower" in distribution.columns:
        labels = [
            _bin_label(lower, upper)
            for lower, upper in zip(distribution["lower"], distribution["upper"], strict=True)
        ]
    else:
        labels = [str(value) or "(none)" for value in distribution["value"]]
    table = pd.DataFrame(
        {
            "bucket": labels,
            "baseline": distribution["baseline_share"],
            "current": distribution["current_share"],
        }
    )
    long = table.melt(id_vars="bucket", var_name="side", value_name="share")
    return long, labels


def _bin_label(lower: object, upper: object) -> str:
    low, high = _maybe(lower), _maybe(upper)
    if low is None and high is None:
        return "all"
    if low is None:
        return f"< {_short(high)}"
    if high is None:
        return f"≥ {_short(low)}"
    return f"{_short(low)}–{_short(high)}"


def _short(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def topic_rows(clusters: pd.DataFrame, *, samples_per_cluster: int = 3) -> pd.DataFrame:
    """Topic clusters that grew or shrank: change, shares, the n-grams naming them, sample prompts."""
    columns = ["topic", "change", "baseline share", "current share", "moved", "samples"]
    if clusters.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for _, cluster in clusters.iterrows():
        change = float(cluster["change"])
        side = "current" if change >= 0 else "baseline"
        samples = [sample for sample in cluster["samples"] or [] if sample.get("side") == side] or list(
            cluster["samples"] or []
        )
        rows.append(
            {
                "topic": ", ".join(cluster["label"] or []) or f"cluster {cluster['cluster']}",
                "change": change,
                "baseline share": float(cluster["baseline_share"]),
                "current share": float(cluster["current_share"]),
                "moved": "grew" if change > 0 else "shrank" if change < 0 else "same",
                "samples": " │ ".join(
                    _one_line(sample.get("text", "")) for sample in samples[:samples_per_cluster]
                ),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def grown_clusters(clusters: pd.DataFrame) -> dict[int, str]:
    """The clusters that grew and list current-window spans (a dataset can be mined from them):
    cluster id -> "label (+change)", largest growth first."""
    if clusters.empty or "span_ids" not in clusters:
        return {}
    grown = clusters[(clusters["change"] > 0) & clusters["span_ids"].map(bool)]
    return {
        int(row["cluster"]): f"{', '.join(row['label'] or []) or 'cluster ' + str(row['cluster'])} "
        f"({float(row['change']):+.0%}, {len(row['span_ids'])} spans)"
        for _, row in grown.sort_values("change", ascending=False).iterrows()
    }


def example_rows(examples: pd.DataFrame) -> pd.DataFrame:
    """The spans that moved most, each linked to its trace."""
    if examples.empty:
        return pd.DataFrame(columns=["trace", "value", "text"])
    value = examples["value"].where(examples["value"].notna(), examples["category"])
    return pd.DataFrame(
        {
            "trace": examples["trace_id"].map(trace_url),
            "value": value.map(lambda item: "" if item is None or pd.isna(item) else str(item)),
            "text": examples["text"].map(lambda text: _one_line(text or "")),
        }
    )


def history(results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A monitor's evaluations as (a status table, evaluated_at x feature PSI for a chart)."""
    if results.empty:
        return pd.DataFrame(columns=["evaluated", "status", "drifted", "error"]), pd.DataFrame()
    table = pd.DataFrame(
        {
            "evaluated": results["evaluated_at"],
            "status": results["status"].map(status_label),
            "drifted": results["feature_status"].map(_drifted_features),
            "error": results["error"].fillna(""),
        }
    )
    psi = pd.DataFrame(
        [dict(values or {}) for values in results["feature_psi"]], index=results["evaluated_at"]
    ).sort_index()
    psi.columns = [feature_name(str(column)) for column in psi.columns]
    return table, psi


def _drifted_features(statuses: Mapping[str, str] | None) -> str:
    return ", ".join(feature_name(name) for name, status in (statuses or {}).items() if status == "drifted")


def window_text(summary: Mapping[str, Any]) -> str:
    """A side of a report in words: its time range and field value, and its span count."""
    parts = []
    if summary.get("field"):
        parts.append(f"{summary['field']} = {summary['value']}")
    start, end = summary.get("start"), summary.get("end")
    if start or end:
        parts.append(f"{_time(start) or '…'} to {_time(end) or 'now'}")
    parts.append(f"{int(summary.get('span_count') or 0):,} LLM spans")
    return ", ".join(parts)


def _time(value: object) -> str:
    if not value:
        return ""
    return pd.Timestamp(str(value)).strftime("%Y-%m-%d %H:%M UTC")


def _maybe(value: object) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return float(value)  # type: ignore[arg-type]


def _difference(current: object, baseline: object) -> float | None:
    now, before = _maybe(current), _maybe(baseline)
    return None if now is None or before is None else now - before


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
