"""`/api/drift` and drift monitors against a real collector process, on spans with chosen facts.

Two hours of spans: model m-steady behaves the same in both hours; in the second hour model
m-shift gets slower, errors, stops on length and calls a tool. The second hour's spans also
carry release v2, prompt version p2 and tag cohort-b (v1, p1, cohort-a before).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from tests.drift.seed import SeedSpan, send_spans
from tests.support import CollectorProcess

HOUR_NS = 3600 * 1_000_000_000
N = 100
PROMPTS = [
    "How do I reset my password",
    "Where is my invoice for March",
    "My refund has not arrived yet",
    "Change the billing email please",
]
# The features the plant changes for m-shift; output text gains tool calls, so completion length follows.
SHIFTED = {"latency", "error_rate", "finish_reasons", "tool_usage", "completion_length"}


def hour_of_spans(model: str, start_ns: int, *, shifted: bool, hour: int) -> list[SeedSpan]:
    spans = []
    for i in range(N):
        spans.append(
            SeedSpan(
                start_ns=start_ns + 1_000_000_000 + i * 30_000_000_000,
                duration_ms=(300 if shifted else 100) + i,
                model=model,
                prompt=f"{PROMPTS[i % 4]} (order {i})",
                completion="Here is how.",
                error=shifted and i % 10 < 3,
                finish_reason="length" if shifted and i % 2 else "stop",
                input_tokens=20 + i % 7,
                output_tokens=8 + i % 5,
                ttft_ms=50.0 + i % 50,
                tags=(f"cohort-{'ab'[hour]}",),
                prompt_version=f"p{hour + 1}",
                tool_calls=("search_web",) if shifted and i % 5 < 2 else (),
            )
        )
    return spans


@pytest.fixture(scope="module")
def key(collector: CollectorProcess) -> str:
    return collector.create_key("drift-api")["key"]


@pytest.fixture(scope="module")
def api(collector: CollectorProcess, key: str) -> Iterator[httpx.Client]:
    with collector.client(key) as client:
        yield client


@pytest.fixture(scope="module")
def hours(api: httpx.Client) -> tuple[str, str, str]:
    """Seeds the two hours ending now (a minute ago); returns their three boundaries (ISO)."""
    end_ns = time.time_ns() - 60_000_000_000
    first, second = end_ns - 2 * HOUR_NS, end_ns - HOUR_NS
    for hour, start in enumerate((first, second)):
        spans = hour_of_spans("m-steady", start, shifted=False, hour=hour)
        spans += hour_of_spans("m-shift", start + 1_000_000, shifted=hour == 1, hour=hour)
        spans += [
            SeedSpan(
                start_ns=start + 1_000_000_000 + i * 60_000_000_000, duration_ms=5, kind="tool", name="lookup"
            )
            for i in range(40)
        ]
        send_spans(api, spans, release=f"v{hour + 1}")
    return tuple(
        datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat() for ns in (first, second, end_ns)
    )  # type: ignore[return-value]


def report(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/drift", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def by_feature(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["feature"]: feature for feature in result["features"]}


def time_windows(hours: tuple[str, str, str]) -> dict[str, Any]:
    return {"baseline": {"start": hours[0], "end": hours[1]}, "current": {"start": hours[1], "end": hours[2]}}


def test_the_shifted_model_drifts_in_exactly_the_planted_features(
    api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    result = report(api, {**time_windows(hours), "model": "m-shift"})
    assert result["status"] == "drifted"
    assert set(result["drifted"]) == SHIFTED
    assert result["warnings"] == []
    assert result["baseline"]["span_count"] == N and result["current"]["span_count"] == N
    features = by_feature(result)

    latency = features["latency"]
    # KS from the histogram on the pooled percentiles: at most one value's mass below the exact 1.0
    assert latency["ks"] >= 0.99 and latency["ks_p_value"] < 1e-10
    assert latency["baseline_quantiles"]["p50"] == pytest.approx(150, abs=5)
    assert latency["current_quantiles"]["p50"] == pytest.approx(350, abs=5)
    assert latency["baseline_count"] == latency["current_count"] == N
    assert sum(b["current_share"] for b in latency["bins"]) == pytest.approx(1.0)
    assert 1 <= len(latency["examples"]) <= 5
    assert all(example["value"] >= 300 for example in latency["examples"])
    values = [example["value"] for example in latency["examples"]]
    assert values == sorted(values, reverse=True) and values[0] == pytest.approx(399, abs=1)

    errors = features["error_rate"]
    assert errors["baseline_rate"] == 0.0 and errors["current_rate"] == pytest.approx(0.3)
    assert {e["category"] for e in errors["examples"]} == {"error"}
    assert features["finish_reasons"]["examples"][0]["category"] == "length"
    tools = {c["value"]: c for c in features["tool_usage"]["categories"]}
    assert tools["search_web"]["baseline_count"] == 0 and tools["search_web"]["current_count"] == 40

    stable = features["time_to_first_token"]
    assert stable["status"] == "stable" and stable["ks"] == pytest.approx(0.0)
    topics = features["prompt_topics"]
    assert topics["status"] == "stable" and topics["baseline_sampled"] == N
    assert topics["topics"]["embedder"] == "hashed"


def test_the_steady_model_is_stable_everywhere(api: httpx.Client, hours: tuple[str, str, str]) -> None:
    result = report(api, {**time_windows(hours), "model": "m-steady"})
    assert result["status"] == "stable" and result["drifted"] == [] and result["warnings"] == []
    for feature in result["features"]:
        assert feature["psi"] in (None, pytest.approx(0.0, abs=1e-9)), feature["feature"]


@pytest.fixture(scope="module")
def services_api(collector: CollectorProcess) -> Iterator[httpx.Client]:
    """Another project whose m-shift calls of the last hour come from two services: "shop"
    unchanged, "shop-next" with the plant (a new service version deployed beside the old one)."""
    start = time.time_ns() - HOUR_NS - 60_000_000_000
    with collector.client(collector.create_key("drift-services")["key"]) as client:
        send_spans(client, hour_of_spans("m-shift", start, shifted=False, hour=0), service="shop")
        send_spans(client, hour_of_spans("m-shift", start, shifted=True, hour=1), service="shop-next")
        yield client


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("release", ("v1", "v2")),
        ("prompt_version", ("p1", "p2")),
        ("tag", ("cohort-a", "cohort-b")),
        ("service", ("shop", "shop-next")),
    ],
)
def test_windows_given_as_two_values_of_a_field(
    request: pytest.FixtureRequest,
    api: httpx.Client,
    hours: tuple[str, str, str],
    field: str,
    values: tuple[str, str],
) -> None:
    body = {
        "baseline": {"field": field, "value": values[0]},
        "current": {"field": field, "value": values[1]},
        "model": "m-shift",
    }
    result = report(request.getfixturevalue("services_api") if field == "service" else api, body)
    assert set(result["drifted"]) == SHIFTED
    assert result["baseline"]["span_count"] == N and result["current"]["field"] == field


def test_model_against_model_and_the_tool_spans_without_a_model_filter(
    api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    result = report(
        api,
        {
            "baseline": {"field": "model", "value": "m-steady", "start": hours[1], "end": hours[2]},
            "current": {"field": "model", "value": "m-shift", "start": hours[1], "end": hours[2]},
            "features": ["latency", "model_mix"],
        },
    )
    assert [f["feature"] for f in result["features"]] == ["latency", "model_mix"]
    assert by_feature(result)["latency"]["status"] == "drifted"

    overall = report(api, {**time_windows(hours), "features": ["model_mix", "tool_usage"]})
    assert overall["baseline"]["tool_span_count"] == 40 == overall["current"]["tool_span_count"]
    mix = by_feature(overall)["model_mix"]
    assert mix["status"] == "stable" and {c["value"] for c in mix["categories"]} == {"m-steady", "m-shift"}
    tools = {c["value"]: c for c in by_feature(overall)["tool_usage"]["categories"]}
    assert tools["lookup"]["baseline_count"] == tools["lookup"]["current_count"] == 40


def test_thresholds_are_overridable_and_too_few_values_are_not_judged(
    api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    lenient = {"ks_warning": 1.0, "ks_drifted": 1.0, "psi_warning": 1000, "psi_drifted": 1000}
    result = report(
        api, {**time_windows(hours), "model": "m-shift", "features": ["latency"], "thresholds": lenient}
    )
    assert result["status"] == "stable"
    assert result["thresholds"]["p_value"] == 0.01 and result["thresholds"]["ks_drifted"] == 1.0

    strict = report(
        api,
        {
            **time_windows(hours),
            "model": "m-shift",
            "features": ["latency"],
            "thresholds": {"min_count": 500},
        },
    )
    latency = strict["features"][0]
    assert latency["status"] == "stable" and "too few values" in latency["note"]


def test_an_empty_window_and_another_project(
    collector: CollectorProcess, api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    empty = report(
        api,
        {
            "baseline": {"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"},
            "current": {"last": "30d"},
        },
    )
    assert empty["status"] == "stable" and empty["baseline"]["span_count"] == 0
    other_key = collector.create_key("drift-other")["key"]
    with collector.client(other_key) as other:
        assert report(other, time_windows(hours))["current"]["span_count"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {
            "baseline": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            "current": {"last": "1h"},
        },
        {"baseline": {"last": "1h"}, "current": {"last": "1h"}},
        {"baseline": {"last": "1x"}, "current": {"last": "1h"}},
        {"baseline": {"field": "release"}, "current": {"last": "1h"}},
        {"baseline": {"field": "colour", "value": "red"}, "current": {"last": "1h"}},
        {"baseline": {}, "current": {"last": "1h"}},
        {"baseline": {"last": "1h", "start": "2026-01-01T00:00:00Z"}, "current": {"last": "2h"}},
        {"baseline": {"before": "1h"}, "current": {"last": "2h"}},
        {"baseline": {"last": "1h", "before": "1h"}, "current": {"last": "1h"}, "features": ["colour"]},
        {"baseline": {"last": "1h", "before": "1h"}, "current": {"last": "1h"}, "features": []},
        {
            "baseline": {"last": "1h", "before": "1h"},
            "current": {"last": "1h"},
            "thresholds": {"psi_warning": 0.5, "psi_drifted": 0.2},
        },
        {
            "baseline": {"last": "1h", "before": "1h"},
            "current": {"last": "1h"},
            "topics": {"sample_size": 10**6},
        },
        {
            "baseline": {"last": "1h", "before": "1h"},
            "current": {"last": "1h"},
            "topics": {"embedder": "openai:x"},
        },
        {"baseline": {"last": "1h", "before": "1h"}, "current": {"last": "1h"}, "surprise": 1},
    ],
)
def test_bad_requests_are_refused_with_4xx(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/api/drift", json=body)
    assert response.status_code == 422, response.text


def test_a_missing_embedding_package_is_a_400(api: httpx.Client, hours: tuple[str, str, str]) -> None:
    body = {**time_windows(hours), "model": "m-shift", "features": ["prompt_topics"],
            "topics": {"embedder": "sentence-transformers:all-MiniLM-L6-v2"}}  # fmt: skip
    response = api.post("/api/drift", json=body)
    assert response.status_code == 400
    assert "sentence-transformers" in response.json()["detail"]


def test_topics_are_computed_on_a_bounded_sample_and_say_so(
    api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    body = {
        **time_windows(hours),
        "model": "m-shift",
        "features": ["prompt_topics"],
        "topics": {"sample_size": 10},
        "thresholds": {"min_count": 5},
    }
    topics = report(api, body)["features"][0]
    assert topics["baseline_sampled"] == 10 == topics["current_sampled"]
    assert topics["baseline_count"] == N == topics["current_count"]
    clusters = topics["topics"]["clusters"]
    assert sum(c["current_count"] for c in clusters) == 10
    assert sum(len(c["span_ids"]) for c in clusters) == 10


def test_the_drift_api_needs_a_key(collector: CollectorProcess) -> None:
    response = httpx.post(
        collector.url + "/api/drift", json={"baseline": {"last": "1h"}, "current": {"last": "2h"}}
    )
    assert response.status_code == 401


MONITOR = {
    "name": "hourly shift check",
    "baseline": {"last": "1h", "before": "1h"},
    "current": {"last": "1h"},
    "model": "m-shift",
    "features": ["latency", "error_rate", "prompt_topics"],
    "thresholds": {"psi_drifted": 0.3},
    "interval_s": 3600,
}


def test_monitor_create_list_run_results_delete(
    collector: CollectorProcess, api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    created = api.post("/api/drift/monitors", json=MONITOR)
    assert created.status_code == 201, created.text
    monitor = created.json()
    monitor_id = monitor["monitor_id"]
    assert monitor["thresholds"]["psi_drifted"] == 0.3 and monitor["thresholds"]["psi_warning"] == 0.1
    assert monitor_id in {m["monitor_id"] for m in api.get("/api/drift/monitors").json()["monitors"]}

    ran = api.post(f"/api/drift/monitors/{monitor_id}/run")
    assert ran.status_code == 200, ran.text
    result = ran.json()
    assert result["status"] in {"stable", "warning", "drifted"} and result["error"] == ""
    assert set(result["feature_status"]) == {"latency", "error_rate", "prompt_topics"}
    assert result["report"]["model"] == "m-shift"

    results = api.get(f"/api/drift/monitors/{monitor_id}/results", params={"include_reports": True}).json()[
        "results"
    ]
    assert results, "the on-demand run is kept"
    assert any(r["evaluated_at"] == result["evaluated_at"] for r in results)
    assert all(r["report"] is not None for r in results)
    brief = api.get(f"/api/drift/monitors/{monitor_id}/results").json()["results"]
    assert all(r["report"] is None and r["feature_status"] for r in brief)
    listed = {m["monitor_id"]: m for m in api.get("/api/drift/monitors").json()["monitors"]}
    assert listed[monitor_id]["last_status"] in {"stable", "warning", "drifted"}

    other_key = collector.create_key("drift-monitor-other")["key"]
    with collector.client(other_key) as other:
        assert other.get(f"/api/drift/monitors/{monitor_id}").status_code == 404
        assert other.post(f"/api/drift/monitors/{monitor_id}/run").status_code == 404
        assert other.get("/api/drift/monitors").json()["monitors"] == []

    assert api.delete(f"/api/drift/monitors/{monitor_id}").status_code == 204
    assert api.get(f"/api/drift/monitors/{monitor_id}").status_code == 404
    assert api.delete(f"/api/drift/monitors/{monitor_id}").status_code == 404
    assert monitor_id not in {m["monitor_id"] for m in api.get("/api/drift/monitors").json()["monitors"]}


def test_bad_monitors_are_refused(api: httpx.Client) -> None:
    assert api.post("/api/drift/monitors", json={**MONITOR, "interval_s": 1}).status_code == 422
    assert api.post("/api/drift/monitors", json={**MONITOR, "name": ""}).status_code == 422
    not_installed = {**MONITOR, "topics": {"embedder": "sentence-transformers:all-MiniLM-L6-v2"}}
    assert api.post("/api/drift/monitors", json=not_installed).status_code == 400
    assert api.get("/api/drift/monitors/not-an-id").status_code == 422
    assert api.get("/api/drift/monitors/" + "0" * 32).status_code == 404


def test_the_collector_evaluates_monitors_periodically(
    api: httpx.Client, hours: tuple[str, str, str]
) -> None:
    monitor = api.post("/api/drift/monitors", json={**MONITOR, "name": "every 5 s", "interval_s": 5}).json()
    path = f"/api/drift/monitors/{monitor['monitor_id']}/results"
    deadline = time.monotonic() + 90
    results: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        results = api.get(path).json()["results"]
        if len(results) >= 2:
            break
        time.sleep(0.5)
    assert len(results) >= 2, "the scheduler evaluated the monitor at least twice"
    times = [r["evaluated_at"] for r in results]
    assert times == sorted(times, reverse=True)
    assert all(r["status"] in {"stable", "warning", "drifted"} for r in results)
    api.delete(f"/api/drift/monitors/{monitor['monitor_id']}")


def test_the_service_filter(api: httpx.Client, hours: tuple[str, str, str]) -> None:
    same = report(api, {**time_windows(hours), "model": "m-shift", "service": "shop"})
    assert set(same["drifted"]) == SHIFTED
    elsewhere = report(api, {**time_windows(hours), "model": "m-shift", "service": "elsewhere"})
    assert elsewhere["current"]["span_count"] == 0 and elsewhere["status"] == "stable"


ANSWERS = ["Click the reset link we sent.", "Your invoice is under Orders.", "Refunds take five days."]
RECIPES = ["Roast the garlic bulbs slowly.", "Boil the tagliatelle in salted water.", "Sear the steak hot."]
# m-a: slower first token, more tokens, answers on a new topic (so its cost, completion length and
# completion topics move too); m-c unchanged; m-b: ten times as many calls (the model mix).
OTHER_SHIFTED = {
    "time_to_first_token", "input_tokens", "output_tokens", "cost", "completion_length", "completion_topics",
}  # fmt: skip


def other_hour(start: int, *, changed: bool) -> list[SeedSpan]:
    spans = []
    for i in range(N):
        at, prompt = start + 1_000_000_000 + i * 30_000_000_000, f"{PROMPTS[i % 4]} (order {i})"
        answer = (RECIPES if changed else ANSWERS)[i % 3] + f" ref {i}"
        tokens = (60, 24) if changed else (20, 8)
        ttft = (250.0 if changed else 50.0) + i % 50
        spans += [
            SeedSpan(at, 100 + i, "m-a", prompt, answer, input_tokens=tokens[0] + i % 7,
                     output_tokens=tokens[1] + i % 5, ttft_ms=ttft),
            SeedSpan(at + 1_000_000, 100 + i, "m-c", prompt, ANSWERS[i % 3] + f" ref {i}", ttft_ms=50.0 + i % 50),
        ]  # fmt: skip
    at = start + 2_000_000_000
    return spans + [
        SeedSpan(at + i * 10_000_000_000, 100, "m-b", PROMPTS[i % 4], ANSWERS[i % 3], ttft_ms=50.0)
        for i in range(300 if changed else 30)
    ]


@pytest.fixture(scope="module")
def features_api(collector: CollectorProcess) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    """A project with the plant of OTHER_SHIFTED on m-a and the model-mix shift; its windows."""
    end = time.time_ns() - 60_000_000_000
    bounds = [end - 2 * HOUR_NS, end - HOUR_NS, end]
    with collector.client(collector.create_key("drift-features")["key"]) as client:
        for hour in (0, 1):
            send_spans(client, other_hour(bounds[hour], changed=hour == 1))
        iso = [datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat() for ns in bounds]
        yield (
            client,
            {"baseline": {"start": iso[0], "end": iso[1]}, "current": {"start": iso[1], "end": iso[2]}},
        )


def test_ttft_tokens_cost_completion_topics_and_the_model_mix_drift(
    features_api: tuple[httpx.Client, dict[str, Any]],
) -> None:
    client, windows = features_api
    changed = report(client, {**windows, "model": "m-a"})
    assert set(changed["drifted"]) == OTHER_SHIFTED and changed["warnings"] == []
    by_name = by_feature(changed)
    assert by_name["cost"]["current_quantiles"]["p50"] > 2 * by_name["cost"]["baseline_quantiles"]["p50"]
    grown = max(by_name["completion_topics"]["topics"]["clusters"], key=lambda c: c["change"])
    assert all(any(r[:15] in s["text"] for r in RECIPES) for s in grown["samples"] if s["side"] == "current")

    steady = report(client, {**windows, "model": "m-c"})
    assert steady["status"] == "stable" and steady["warnings"] == []

    overall = report(client, {**windows, "features": ["model_mix"]})
    mix = by_feature(overall)["model_mix"]
    assert mix["status"] == "drifted" and mix["examples"][0]["category"] == "m-b"
    shares = {c["value"]: c for c in mix["categories"]}
    assert shares["m-b"]["current_share"] > 2 * shares["m-b"]["baseline_share"]
