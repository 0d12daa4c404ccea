"""`tokentrail.api.Client` against a real collector process seeded by an app using the SDK."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from tests.support import CollectorProcess, free_port, run_scenario
from tokentrail.api import ApiError, Client, CollectorUnreachable, NotFound, Unauthorized


@pytest.fixture(scope="module")
def key(collector: CollectorProcess) -> str:
    return collector.create_key("api-client")["key"]


@pytest.fixture(scope="module")
def scenario(collector: CollectorProcess, key: str) -> dict[str, str]:
    return run_scenario(collector, key)


@pytest.fixture
def api(collector: CollectorProcess, key: str) -> Iterator[Client]:
    with Client(collector.url, api_key=key) as client:
        yield client


def test_traces_is_a_frame_with_the_total(api: Client, scenario: dict[str, str]) -> None:
    traces = api.traces(limit=2)
    assert isinstance(traces, pd.DataFrame) and len(traces) == 2
    assert traces.attrs["total"] >= len(scenario)
    assert {"trace_id", "name", "start_time", "duration_ms", "status", "span_count", "cost_usd"} <= set(
        traces.columns
    )
    assert str(traces["start_time"].dtype).startswith("datetime64") and traces["start_time"].dt.tz is not None
    assert traces["start_time"].is_monotonic_decreasing, "newest first"

    failed = api.traces(status="error", limit=100)
    assert scenario["broken"] in set(failed["trace_id"]) and scenario["probe"] not in set(failed["trace_id"])
    recent = api.traces(start=timedelta(hours=1), limit=100)
    assert set(scenario.values()) <= set(recent["trace_id"])
    assert api.traces(end=datetime(2000, 1, 1, tzinfo=timezone.utc)).empty
    nothing = api.traces(search="no trace says this")
    assert nothing.empty and nothing.attrs["total"] == 0 and "trace_id" in nothing.columns


def test_trace_is_a_frame_of_spans_with_parents(api: Client, scenario: dict[str, str]) -> None:
    spans = api.trace(scenario["pipeline"])
    assert (spans["trace_id"] == scenario["pipeline"]).all()
    roots = spans[spans["parent_span_id"] == ""]
    assert len(roots) == 1
    assert set(spans["parent_span_id"]) - {""} <= set(spans["span_id"]), "every parent is in the trace"
    assert spans["start_time"].is_monotonic_increasing
    with pytest.raises(NotFound):
        api.trace("0" * 32)


def test_stats_frame_by_model_and_bucket(api: Client, scenario: dict[str, str]) -> None:
    stats = api.stats(group_by="model", bucket_seconds=3600)
    assert {"bucket", "group", "span_count", "latency_p95_ms", "cost_usd"} <= set(stats.columns)
    assert stats["bucket"].notna().all() and stats["span_count"].sum() > 0
    totals = api.stats(group_by="none")
    assert len(totals) == 1 and totals["group"].isna().all()


def test_errors_are_typed_and_say_what_was_wrong(collector: CollectorProcess, api: Client) -> None:
    with pytest.raises(ApiError) as bad:
        api.traces(limit=0)
    assert bad.value.status == 422 and "limit" in bad.value.message
    with pytest.raises(ApiError) as window:
        api.stats(start="2026-01-02T00:00:00Z", end="2026-01-01T00:00:00Z")
    assert window.value.status == 400 and "end" in window.value.message
    with Client(collector.url, api_key="tt_not-a-key") as stranger, pytest.raises(Unauthorized):
        stranger.traces()
    with Client(f"http://127.0.0.1:{free_port()}", api_key="tt_x", timeout_s=2) as nowhere:
        with pytest.raises(CollectorUnreachable) as unreachable:
            nowhere.traces()
    assert "cannot reach the collector" in str(unreachable.value)
    assert api.health()["store_reachable"] is True


def test_importing_the_client_does_not_import_pandas() -> None:
    code = "import sys, tokentrail.api; assert 'pandas' not in sys.modules, 'pandas imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)
