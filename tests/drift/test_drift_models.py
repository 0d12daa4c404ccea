"""The drift request's windows and thresholds: what is accepted, what it resolves to."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from tokentrail_collector.analysis.drift_monitors import STORED_CLUSTER_IDS, stored_report
from tokentrail_collector.models_drift import (
    DriftFeature,
    DriftReport,
    DriftRequest,
    FeatureReport,
    MonitorCreate,
    Thresholds,
    TopicCluster,
    TopicSummary,
    WindowSpec,
    duration_seconds,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_relative_windows_resolve_against_now() -> None:
    assert WindowSpec(last="24h").time_range(NOW) == (NOW - timedelta(hours=24), NOW)
    assert WindowSpec(last="7d", before="24h").time_range(NOW) == (
        NOW - timedelta(days=8),
        NOW - timedelta(days=1),
    )


def test_absolute_windows_are_utc_and_may_be_open() -> None:
    naive = WindowSpec(start=datetime(2026, 1, 1))
    assert naive.time_range(NOW) == (datetime(2026, 1, 1, tzinfo=timezone.utc), None)
    plus_two = timezone(timedelta(hours=2))
    spec = WindowSpec(end=datetime(2026, 1, 1, 2, tzinfo=plus_two))
    assert spec.time_range(NOW) == (None, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert WindowSpec(field="release", value="v2").time_range(NOW) == (None, None)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"field": "model"},
        {"value": "x"},
        {"last": "1h", "end": "2026-01-01T00:00:00Z"},
        {"before": "1h"},
        {"last": "0h"},
        {"last": "99999w"},
        {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"field": "colour", "value": "red"},
    ],
)
def test_bad_windows(spec: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WindowSpec.model_validate(spec)


def test_requests_default_to_every_feature_and_the_stated_thresholds() -> None:
    request = DriftRequest.model_validate(
        {"baseline": {"last": "7d", "before": "1d"}, "current": {"last": "1d"}}
    )
    assert request.selected_features() == list(DriftFeature)
    assert request.thresholds == Thresholds()
    assert (request.thresholds.psi_warning, request.thresholds.psi_drifted) == (0.1, 0.25)
    assert request.topics.embedder == "hashed"
    picked = request.model_copy(update={"features": [DriftFeature.COST, DriftFeature.LATENCY]})
    assert picked.selected_features() == [DriftFeature.LATENCY, DriftFeature.COST], "in the canonical order"


def test_partial_threshold_overrides_keep_the_other_defaults() -> None:
    request = DriftRequest.model_validate(
        {
            "baseline": {"last": "1h", "before": "1h"},
            "current": {"last": "1h"},
            "thresholds": {"ks_drifted": 0.5},
        }
    )
    assert request.thresholds.ks_drifted == 0.5 and request.thresholds.ks_warning == 0.1
    with pytest.raises(ValidationError):
        Thresholds(js_warning=0.5, js_drifted=0.1)


def test_monitors_need_a_name_and_a_sensible_interval() -> None:
    base = {"baseline": {"last": "7d", "before": "24h"}, "current": {"last": "24h"}}
    assert MonitorCreate.model_validate({**base, "name": "daily"}).interval_s == 3600
    for bad in ({"name": ""}, {"name": "x", "interval_s": 1}, {"name": "x", "interval_s": 10**9}):
        with pytest.raises(ValidationError):
            MonitorCreate.model_validate({**base, **bad})


def test_a_stored_report_keeps_a_hundred_ids_per_cluster() -> None:
    ids = [f"{n:016x}" for n in range(STORED_CLUSTER_IDS + 50)]
    cluster = TopicCluster.model_construct(cluster=0, trace_ids=ids, span_ids=ids)
    topics = TopicSummary.model_construct(
        embedder="hashed", dimensions=8, centroid_distance=None, clusters=[cluster]
    )
    report = DriftReport.model_construct(features=[FeatureReport.model_construct(topics=topics)])
    stored = json.loads(stored_report(report))
    kept = stored["features"][0]["topics"]["clusters"][0]
    assert kept["span_ids"] == ids[:STORED_CLUSTER_IDS] and kept["trace_ids"] == ids[:STORED_CLUSTER_IDS]
    assert (
        len(report.features[0].topics.clusters[0].span_ids) == STORED_CLUSTER_IDS + 50
    )  # the report itself untouched
