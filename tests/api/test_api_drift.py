"""`Client.drift` against a real collector holding a planted change on one model: the report and
its tables, field comparisons, and monitors with their history."""

from __future__ import annotations

import pytest

from tests.ui.seed import DRIFTED_MODEL, STEADY_MODEL, Seeded
from tokentrail.api import ApiError, Client, DriftReport, NotFound, drift_window

BASELINE = drift_window(last="3h", before="3h")
CURRENT = drift_window(last="3h")


def test_drift_window_builds_either_kind_of_side() -> None:
    assert drift_window(last="7d", before="24h") == {"last": "7d", "before": "24h"}
    assert drift_window(field="release", value="v2") == {"field": "release", "value": "v2"}
    bounded = drift_window(start="2026-01-01T00:00:00Z", end="2026-01-02T00:00:00Z")
    assert bounded == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}


def test_the_planted_change_is_reported_with_its_tables(client: Client, seeded: Seeded) -> None:
    report = client.drift.report(baseline=BASELINE, current=CURRENT, model=DRIFTED_MODEL)
    assert isinstance(report, DriftReport) and report.status == "drifted"
    assert {"latency", "prompt_topics"} <= set(report.drifted)
    assert report.baseline["span_count"] == report.current["span_count"] == 30

    features = report.features()
    statuses = dict(zip(features["feature"], features["status"], strict=True))
    assert statuses["latency"] == "drifted" and statuses["error_rate"] == "stable"
    latency = features[features["feature"] == "latency"].iloc[0]
    assert latency["current_p50"] > 3 * latency["baseline_p50"]

    bins = report.distribution("latency")
    assert {"lower", "upper", "baseline_share", "current_share"} <= set(bins.columns)
    assert bins["baseline_share"].sum() == pytest.approx(1) and bins["current_share"].sum() == pytest.approx(
        1
    )
    categories = report.distribution("model_mix")
    assert list(categories["value"]) == [DRIFTED_MODEL]

    topics = report.topics("prompt_topics")
    grew = topics[topics["change"] > 0].iloc[0]
    assert all("password" in sample["text"] for sample in grew["samples"] if sample["side"] == "current")
    assert topics.attrs["embedder"] and topics.attrs["centroid_distance"] > 0
    assert {"trace_ids", "span_ids"} <= set(topics.columns)
    grown = report.grown_cluster("prompt_topics")
    assert grown == int(topics.sort_values("change").iloc[-1]["cluster"])
    cluster_filter = report.cluster_filter("prompt_topics", grown)
    assert cluster_filter == {"span_ids": report.cluster("prompt_topics", grown)["span_ids"], "kinds": []}
    assert {trace_id for trace_id in report.cluster("prompt_topics", grown)["trace_ids"]} <= {
        trace_id for trace_id, facts in seeded.traces.items() if facts["drifted"]
    }
    with pytest.raises(KeyError):
        report.cluster("prompt_topics", 999)

    examples = report.examples("latency")
    drifted_ids = {trace_id for trace_id, facts in seeded.traces.items() if facts["drifted"]}
    assert set(examples["trace_id"]) <= drifted_ids and len(examples) > 0
    with pytest.raises(KeyError):
        report.feature("no such feature")


def test_the_steady_model_and_a_field_comparison(client: Client) -> None:
    steady = client.drift.report(baseline=BASELINE, current=CURRENT, model=STEADY_MODEL, features=["latency"])
    assert steady.status == "stable" and list(steady.features()["feature"]) == ["latency"]
    by_model = client.drift.report(
        baseline=drift_window(field="model", value=STEADY_MODEL),
        current=drift_window(field="model", value=DRIFTED_MODEL),
        features=["model_mix"],
    )
    assert by_model.baseline["value"] == STEADY_MODEL and by_model.status == "drifted"


def test_monitors_keep_results_over_time(client: Client) -> None:
    monitor = client.drift.create_monitor(
        "api planted drift", baseline=BASELINE, current=CURRENT, model=DRIFTED_MODEL, interval_s=3600
    )
    monitor_id = monitor["monitor_id"]
    assert monitor["name"] == "api planted drift" and monitor["interval_s"] == 3600
    listed = client.drift.monitors()
    assert monitor_id in set(listed["monitor_id"])
    assert client.drift.monitor(monitor_id)["model"] == DRIFTED_MODEL

    result = client.drift.run_monitor(monitor_id)
    assert result["status"] == "drifted" and result["feature_status"]["latency"] == "drifted"
    history = client.drift.results(monitor_id)
    assert len(history) >= 1 and history.iloc[0]["status"] == "drifted"
    assert str(history["evaluated_at"].dtype).startswith("datetime64")
    assert history.iloc[0]["feature_psi"]["latency"] > 0.25
    with_reports = client.drift.results(monitor_id, limit=1, include_reports=True)
    assert len(with_reports) == 1 and with_reports.attrs["raw"][0]["report"]["status"] == "drifted"

    client.drift.delete_monitor(monitor_id)
    with pytest.raises(NotFound):
        client.drift.monitor(monitor_id)


def test_a_bad_request_says_what_is_wrong(client: Client) -> None:
    with pytest.raises(ApiError) as same:
        client.drift.report(baseline=CURRENT, current=CURRENT)
    assert same.value.status == 422 and "same window" in same.value.message
    with pytest.raises(ApiError) as bad:
        client.drift.report(baseline={"last": "forever"}, current=CURRENT)
    assert bad.value.status == 422 and "last" in bad.value.message
