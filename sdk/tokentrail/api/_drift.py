"""`Client.drift`: drift reports between a baseline and a current window, and scheduled monitors.

last_day = drift_window(last="24h")
week_before = drift_window(last="7d", before="24h")
report = api.drift.report(baseline=week_before, current=last_day)
report.status                      # "stable", "warning" or "drifted"
report.features()                  # a DataFrame: one row per feature with its statistics
report.distribution("latency")     # baseline and current shares per bin (or per category)
report.topics("prompt_topics")     # clusters that grew or shrank, with sample prompts and span ids
grown = report.grown_cluster("prompt_topics")
api.datasets.create("new topic", filter=report.cluster_filter("prompt_topics", grown))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from tokentrail.api._frames import frame
from tokentrail.api._http import TimeArg, Transport, as_time_param

if TYPE_CHECKING:
    import pandas as pd

WindowField = Literal["model", "service", "release", "prompt_version", "tag"]
STATISTICS = ("psi", "js", "ks", "ks_p_value", "chi2", "chi2_p_value", "baseline_rate", "current_rate")
FEATURE_COLUMNS = (
    "feature", "kind", "status", *STATISTICS, "baseline_count", "current_count", "baseline_sampled",
    "current_sampled", "baseline_p50", "current_p50", "note",
)  # fmt: skip
CLUSTER_COLUMNS = (
    "cluster", "label", "baseline_share", "current_share", "change", "baseline_count", "current_count",
    "centroid_distance", "samples", "trace_ids", "span_ids",
)  # fmt: skip
EXAMPLE_COLUMNS = ("trace_id", "span_id", "value", "category", "text")
MONITOR_COLUMNS = ("monitor_id", "name", "interval_s", "created_at", "last_evaluated_at", "last_status")
RESULT_COLUMNS = ("monitor_id", "evaluated_at", "status", "error", "feature_status", "feature_psi")


def drift_window(
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    last: str | None = None,
    before: str | None = None,
    field: WindowField | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    """One side of a comparison: a time range (`start`/`end`, or `last` "24h" ending `before` ago)
    and/or a field's value (`field="release", value="v2"`)."""
    spec = {
        "start": as_time_param(start),
        "end": as_time_param(end),
        "last": last,
        "before": before,
        "field": field,
        "value": value,
    }
    return {name: item for name, item in spec.items() if item is not None}


class DriftReport:
    """A drift report: the JSON as `raw`, its tables as DataFrames."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @property
    def status(self) -> str:
        return str(self.raw["status"])

    @property
    def drifted(self) -> list[str]:
        return list(self.raw["drifted"])

    @property
    def warnings(self) -> list[str]:
        return list(self.raw["warnings"])

    @property
    def baseline(self) -> dict[str, Any]:
        """The baseline window as resolved, with its span count."""
        return dict(self.raw["baseline"])

    @property
    def current(self) -> dict[str, Any]:
        return dict(self.raw["current"])

    def feature(self, name: str) -> dict[str, Any]:
        for feature in self.raw["features"]:
            if feature["feature"] == name:
                return dict(feature)
        raise KeyError(f"no feature {name!r} in this report")

    def features(self) -> pd.DataFrame:
        """One row per feature: status, statistics, counts per side, medians of numeric features."""
        rows = []
        for feature in self.raw["features"]:
            row = {column: feature.get(column) for column in FEATURE_COLUMNS}
            row["baseline_p50"] = (feature.get("baseline_quantiles") or {}).get("p50")
            row["current_p50"] = (feature.get("current_quantiles") or {}).get("p50")
            rows.append(row)
        return frame(rows, FEATURE_COLUMNS)

    def distribution(self, name: str) -> pd.DataFrame:
        """Baseline and current shares of a numeric feature's bins (lower, upper) or of a
        categorical feature's values (value, counts); empty for topics."""
        feature = self.feature(name)
        if feature.get("bins"):
            return frame(feature["bins"], ("lower", "upper", "baseline_share", "current_share"))
        if feature.get("categories"):
            return frame(
                feature["categories"],
                ("value", "baseline_count", "current_count", "baseline_share", "current_share"),
            )
        return frame([], ("value", "baseline_share", "current_share"))

    def topics(self, name: str = "prompt_topics") -> pd.DataFrame:
        """The topic clusters of a topics feature, largest change first, with their sample texts."""
        summary = self.feature(name).get("topics") or {}
        table = frame(
            [{column: cluster.get(column) for column in CLUSTER_COLUMNS} for cluster in self._clusters(name)],
            CLUSTER_COLUMNS,
        )
        table.attrs["centroid_distance"] = summary.get("centroid_distance")
        table.attrs["embedder"] = summary.get("embedder")
        return table

    def cluster(self, name: str, cluster_id: int) -> dict[str, Any]:
        """One topic cluster of a topics feature, as the report holds it."""
        for cluster in self._clusters(name):
            if cluster["cluster"] == cluster_id:
                return dict(cluster)
        raise KeyError(f"no cluster {cluster_id} in {name!r}")

    def grown_cluster(self, name: str = "prompt_topics") -> int | None:
        """The cluster whose share grew most from baseline to current, or None when none grew."""
        grown = [cluster for cluster in self._clusters(name) if cluster["change"] > 0]
        return max(grown, key=lambda cluster: cluster["change"])["cluster"] if grown else None

    def cluster_filter(self, name: str, cluster_id: int) -> dict[str, Any]:
        """A dataset filter (`api.datasets.preview/create(filter=...)`) keeping the spans whose
        current-window text fell in this cluster. Only the sampled texts were clustered (the
        feature's `current_sampled`), and a cluster lists at most 1000 spans, nearest its centre
        first, so a big window's cluster gives its most typical examples, not all of them."""
        span_ids = list(self.cluster(name, cluster_id).get("span_ids") or [])
        if not span_ids:
            raise ValueError(f"cluster {cluster_id} of {name!r} has no current-window spans")
        return {"span_ids": span_ids, "kinds": []}

    def _clusters(self, name: str) -> list[dict[str, Any]]:
        clusters: list[dict[str, Any]] = (self.feature(name).get("topics") or {}).get("clusters") or []
        return clusters

    def examples(self, name: str) -> pd.DataFrame:
        """The spans of a feature that moved most (trace and span ids, their value or text)."""
        return frame(self.feature(name).get("examples") or [], EXAMPLE_COLUMNS)

    def __repr__(self) -> str:
        return f"DriftReport(status={self.status!r}, drifted={self.drifted}, warnings={self.warnings})"


class Drift:
    """Drift reports and monitors of one project."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def report(
        self,
        *,
        baseline: Mapping[str, Any],
        current: Mapping[str, Any],
        model: str | None = None,
        service: str | None = None,
        features: Sequence[str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        topics: Mapping[str, Any] | None = None,
        examples: int | None = None,
    ) -> DriftReport:
        """Compare `current` to `baseline` (each a `drift_window(...)`); every feature unless `features`."""
        body = request_body(
            baseline=baseline,
            current=current,
            model=model,
            service=service,
            features=features,
            thresholds=thresholds,
            topics=topics,
            examples=examples,
        )
        return DriftReport(self._transport.request("POST", "/api/drift", json=body))

    def monitors(self) -> pd.DataFrame:
        """The project's monitors, one row each (their full definitions in `.attrs["raw"]`)."""
        answer = self._transport.request("GET", "/api/drift/monitors")
        return _summary(answer["monitors"], MONITOR_COLUMNS)

    def create_monitor(
        self,
        name: str,
        *,
        baseline: Mapping[str, Any],
        current: Mapping[str, Any],
        interval_s: int = 3600,
        model: str | None = None,
        service: str | None = None,
        features: Sequence[str] | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        """Store a drift check the collector runs every `interval_s`; the monitor as stored."""
        body = request_body(
            baseline=baseline,
            current=current,
            model=model,
            service=service,
            features=features,
            thresholds=thresholds,
        )
        body.update(name=name, interval_s=interval_s)
        return self._transport.request_object("POST", "/api/drift/monitors", json=body)

    def monitor(self, monitor_id: str) -> dict[str, Any]:
        """One monitor's definition and last status; `NotFound` when absent."""
        return self._transport.request_object("GET", f"/api/drift/monitors/{monitor_id}")

    def delete_monitor(self, monitor_id: str) -> None:
        self._transport.request("DELETE", f"/api/drift/monitors/{monitor_id}")

    def run_monitor(self, monitor_id: str) -> dict[str, Any]:
        """Evaluate a monitor now and keep the result; the result (status per feature, report)."""
        return self._transport.request_object("POST", f"/api/drift/monitors/{monitor_id}/run")

    def results(
        self,
        monitor_id: str,
        *,
        limit: int | None = None,
        since: TimeArg = None,
        include_reports: bool = False,
    ) -> pd.DataFrame:
        """A monitor's evaluations, newest first: status and PSI per feature (drift over time).
        With `include_reports`, each full report is in `.attrs["raw"]`."""
        answer = self._transport.request(
            "GET",
            f"/api/drift/monitors/{monitor_id}/results",
            params={
                "limit": limit,
                "since": as_time_param(since),
                "include_reports": "true" if include_reports else None,
            },
        )
        return _summary(answer["results"], RESULT_COLUMNS)


def _summary(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """`columns` of each record as a table; the records themselves in `.attrs["raw"]`."""
    table = frame([{column: record.get(column) for column in columns} for record in records], columns)
    table.attrs["raw"] = list(records)
    return table


def request_body(
    *,
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    model: str | None = None,
    service: str | None = None,
    features: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    topics: Mapping[str, Any] | None = None,
    examples: int | None = None,
) -> dict[str, Any]:
    """The JSON of a drift request; options left out take the collector's defaults."""
    body: dict[str, Any] = {"baseline": dict(baseline), "current": dict(current)}
    optional = {
        "model": model,
        "service": service,
        "features": list(features) if features is not None else None,
        "thresholds": dict(thresholds) if thresholds is not None else None,
        "topics": dict(topics) if topics is not None else None,
        "examples": examples,
    }
    body.update((name, value) for name, value in optional.items() if value is not None)
    return body
