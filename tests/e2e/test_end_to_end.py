"""The whole path, for real: an app using @observe → OTLP exporter → collector process → chDB → query API."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support import CollectorProcess
from tests.support import run_scenario as run_app

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def spans_by_name(trace: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    named: dict[str, list[dict[str, Any]]] = {}
    for span in trace["spans"]:
        named.setdefault(span["name"], []).append(span)
    return named


@pytest.fixture(scope="module")
def project_key(collector: CollectorProcess) -> str:
    return collector.create_key("shop")["key"]


@pytest.fixture(scope="module")
def scenario(collector: CollectorProcess, project_key: str) -> dict[str, str]:
    return run_app(collector, project_key)


@pytest.fixture(scope="module")
def api(collector: CollectorProcess, project_key: str) -> httpx.Client:
    with collector.client(project_key) as client:
        yield client


def get_trace(api: httpx.Client, trace_id: str) -> dict[str, Any]:
    response = api.get(f"/api/traces/{trace_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_nesting_across_await_gather_and_threads(api: httpx.Client, scenario: dict[str, str]) -> None:
    trace = get_trace(api, scenario["pipeline"])
    named = spans_by_name(trace)
    by_id = {span["span_id"]: span for span in trace["spans"]}
    root = named["main-run"][0]
    assert root["parent_span_id"] == ""
    pipeline = named["pipeline"][0]
    assert pipeline["parent_span_id"] == root["span_id"]
    assert pipeline["kind"] == "agent"
    for child in ("retrieve", "lookup_in_thread", "failing_tool", "stream_words"):
        assert named[child][0]["parent_span_id"] == pipeline["span_id"], child
    llm_calls = named["llm.call"]
    assert len(llm_calls) == 2
    assert {span["parent_span_id"] for span in llm_calls} == {pipeline["span_id"]}
    assert {span["request_model"] for span in llm_calls} == {"gpt-4o-mini", "claude-3-5-haiku"}
    assert all(span["trace_id"] == scenario["pipeline"] for span in trace["spans"])
    assert len(by_id) == len(trace["spans"]) == 8
    starts = [span["start_time_unix_nano"] for span in trace["spans"]]
    assert starts == sorted(starts), "spans come in start order"


def test_timings_and_llm_facts(api: httpx.Client, scenario: dict[str, str]) -> None:
    named = spans_by_name(get_trace(api, scenario["pipeline"]))
    root = named["main-run"][0]
    for span in named["llm.call"]:
        assert span["duration_ms"] >= 19
        assert root["start_time_unix_nano"] <= span["start_time_unix_nano"]
        assert span["end_time_unix_nano"] <= root["end_time_unix_nano"]
        assert (span["input_tokens"], span["output_tokens"], span["total_tokens"]) == (120, 30, 150)
        assert span["cost_usd"] == pytest.approx(0.0015)
        assert span["cost_source"] == "sdk"
        assert span["provider"] == "openai"
        assert span["finish_reasons"] == ["stop"]
        assert span["kind"] == "llm"
    assert named["retrieve"][0]["duration_ms"] >= 9
    assert named["retrieve"][0]["input_tokens"] is None, "unknown tokens stay unknown, never 0"
    assert root["service_name"] == "scenario"


def test_errors_recorded_and_status(api: httpx.Client, scenario: dict[str, str]) -> None:
    named = spans_by_name(get_trace(api, scenario["pipeline"]))
    failing = named["failing_tool"][0]
    assert failing["status_code"] == "error"
    assert failing["error_type"] == "ValueError"
    assert "bad input 7" in failing["status_message"]
    assert any(event["name"] == "exception" for event in failing["events"])
    assert named["pipeline"][0]["status_code"] != "error", "a caught error does not fail the parent"

    broken = spans_by_name(get_trace(api, scenario["broken"]))
    assert broken["broken"][0]["status_code"] == "error"
    assert broken["broken-run"][0]["error_type"] == "RuntimeError"
    listed = api.get("/api/traces", params={"status": "error", "limit": 100}).json()
    ids = {trace["trace_id"] for trace in listed["traces"]}
    assert scenario["broken"] in ids and scenario["pipeline"] in ids  # pipeline holds the failed tool
    ok = api.get("/api/traces", params={"status": "ok", "limit": 100}).json()
    assert scenario["probe"] in {trace["trace_id"] for trace in ok["traces"]}


def test_content_captured_and_redacted(api: httpx.Client, scenario: dict[str, str]) -> None:
    trace = get_trace(api, scenario["pipeline"])
    named = spans_by_name(trace)
    retrieve = named["retrieve"][0]
    assert "refund policy" in retrieve["input_text"]
    assert "doc about" in retrieve["output_text"]
    assert "[REDACTED]" in retrieve["output_text"]
    assert "secret-123" not in json.dumps(trace), "redaction applies to every captured text"
    assert json.loads(named["stream_words"][0]["output_text"]) == ["one", "two", "three"]
    assert "THREADED" in named["lookup_in_thread"][0]["output_text"]


def test_content_capture_off_sends_no_text(
    collector: CollectorProcess, api: httpx.Client, project_key: str
) -> None:
    ids = run_app(collector, project_key, "--no-content")
    trace = get_trace(api, ids["pipeline"])
    assert len(trace["spans"]) == 8
    for span in trace["spans"]:
        assert span["input_text"] == "" and span["output_text"] == ""
    dumped = json.dumps(trace)
    assert "refund policy" not in dumped and "doc about" not in dumped


def test_trace_list_search_and_filters(api: httpx.Client, scenario: dict[str, str]) -> None:
    everything = api.get("/api/traces", params={"limit": 1000}).json()
    summary = next(t for t in everything["traces"] if t["trace_id"] == scenario["pipeline"])
    assert summary["name"] == "main-run"
    assert summary["span_count"] == 8
    assert summary["services"] == ["scenario"]
    assert set(summary["models"]) == {"gpt-4o-mini", "claude-3-5-haiku"}
    assert summary["input_tokens"] == 240 and summary["output_tokens"] == 60
    assert summary["cost_usd"] == pytest.approx(0.003)
    found = api.get("/api/traces", params={"search": "REFUND POLICY"}).json()
    assert scenario["pipeline"] in {trace["trace_id"] for trace in found["traces"]}
    assert scenario["probe"] not in {trace["trace_id"] for trace in found["traces"]}
    by_model = api.get("/api/traces", params={"model": "claude-3-5-haiku"}).json()
    assert scenario["pipeline"] in {trace["trace_id"] for trace in by_model["traces"]}
    assert scenario["broken"] not in {trace["trace_id"] for trace in by_model["traces"]}
    page = api.get("/api/traces", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == everything["total"] and len(page["traces"]) == 1
    assert page["traces"][0]["trace_id"] == everything["traces"][1]["trace_id"]
    nobody = api.get("/api/traces", params={"service": "no-such-service"}).json()
    assert nobody["total"] == 0


def make_otlp_spans(count: int, service: str = "dup-test") -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("dup-root") as root:
        root.set_attribute("gen_ai.request.model", "dup-model")
        for index in range(count - 1):
            with tracer.start_as_current_span(f"dup-child-{index}") as child:
                child.set_attribute("gen_ai.request.model", "dup-model")
                child.set_attribute("gen_ai.usage.input_tokens", 10)
    provider.shutdown()
    from opentelemetry.sdk.resources import Resource

    spans = exporter.get_finished_spans()
    for span in spans:
        span._resource = Resource.create({"service.name": service})  # type: ignore[attr-defined]
    return encode_spans(spans).SerializeToString()


def test_duplicate_delivery_counts_once(collector: CollectorProcess) -> None:
    key = collector.create_key("dup-project")["key"]
    body = make_otlp_spans(5)
    with collector.client(key) as client:
        for _ in range(2):
            response = client.post("/v1/traces", content=body, headers=PROTOBUF)
            assert response.status_code == 200, response.text
        gzipped = client.post(
            "/v1/traces", content=gzip.compress(body), headers=PROTOBUF | {"Content-Encoding": "gzip"}
        )
        assert gzipped.status_code == 200
        traces = client.get("/api/traces").json()
        assert traces["total"] == 1
        assert traces["traces"][0]["span_count"] == 5
        assert traces["traces"][0]["input_tokens"] == 40
        trace = client.get(f"/api/traces/{traces['traces'][0]['trace_id']}").json()
        assert len(trace["spans"]) == 5
        stats = client.get("/api/stats", params={"group_by": "model"}).json()
        assert [(row["group"], row["span_count"], row["input_tokens"]) for row in stats["rows"]] == [
            ("dup-model", 5, 40)
        ]


def test_keys_scope_every_read_and_write(collector: CollectorProcess, scenario: dict[str, str]) -> None:
    other = collector.create_key("someone-else")
    with collector.client(other["key"]) as client:
        assert client.get("/api/traces").json()["total"] == 0
        response = client.get(f"/api/traces/{scenario['pipeline']}")
        assert response.status_code == 404
        assert client.get("/api/stats").json()["rows"] == []

    for bad in ("tt_not-a-real-key", "x"):
        with collector.client(bad) as client:
            assert client.get("/api/traces").status_code == 401
            assert client.post("/v1/traces", content=make_otlp_spans(1), headers=PROTOBUF).status_code == 401
    assert httpx.get(collector.url + "/api/traces").status_code == 401
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "tt_no_scheme"):
        assert httpx.get(collector.url + "/api/traces", headers={"Authorization": header}).status_code == 401

    revoked = collector.create_key("shop", "to-revoke")
    with collector.client(revoked["key"]) as client:
        assert client.get("/api/traces").status_code == 200
        with collector.admin() as admin:
            assert admin.delete(f"/api/admin/keys/{revoked['key_id']}").status_code == 204
        assert client.get("/api/traces").status_code == 401
        assert client.post("/v1/traces", content=make_otlp_spans(1), headers=PROTOBUF).status_code == 401


def test_admin_api_needs_the_admin_token(collector: CollectorProcess, project_key: str) -> None:
    with collector.client(project_key) as client:
        assert client.get("/api/admin/keys").status_code == 403
    with collector.admin() as admin:
        keys = admin.get("/api/admin/keys", params={"project_id": "shop"}).json()
    assert keys and all("key" not in key and key["project_id"] == "shop" for key in keys)
    with collector.admin() as admin:
        bad = admin.get("/api/admin/keys", params={"project_id": "not a project\x00"})
    assert bad.status_code == 400 and "project" in bad.json()["detail"]


def test_stats_by_model_and_bucket(api: httpx.Client, scenario: dict[str, str]) -> None:
    stats = api.get("/api/stats", params={"group_by": "model", "bucket_seconds": 3600}).json()
    rows = {row["group"]: row for row in stats["rows"]}
    gpt = rows["gpt-4o-mini"]
    assert gpt["span_count"] >= 1 and gpt["bucket"] is not None
    assert gpt["latency_p50_ms"] >= 19
    assert gpt["latency_p50_ms"] <= gpt["latency_p95_ms"] <= gpt["latency_p99_ms"]
    assert gpt["input_tokens"] >= 120 and gpt["cost_usd"] > 0
    totals = api.get("/api/stats", params={"group_by": "service"}).json()["rows"]
    scenario_row = next(row for row in totals if row["group"] == "scenario")
    assert scenario_row["error_count"] >= 3
    assert 0 < scenario_row["error_rate"] < 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"\x0a\xff\xff\xff", PROTOBUF, 400, "protobuf"),
        (b"{not json", {"Content-Type": "application/json"}, 400, "JSON"),
        (b"abc", {"Content-Type": "text/plain"}, 415, "content-type"),
        (b"abc", PROTOBUF | {"Content-Encoding": "br"}, 415, "encoding"),
        (b"not gzip", PROTOBUF | {"Content-Encoding": "gzip"}, 400, "gzip"),
        (
            json.dumps(
                {
                    "resourceSpans": [
                        {"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "00", "name": "x"}]}]}
                    ]
                }
            ).encode(),
            {"Content-Type": "application/json"},
            400,
            "",
        ),
    ],
)
def test_malformed_input_gets_a_clear_4xx(
    collector: CollectorProcess,
    project_key: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    with collector.client(project_key) as client:
        response = client.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert message.lower() in response.text.lower()


def test_body_over_the_limit_is_413(collector: CollectorProcess, project_key: str) -> None:
    bomb = gzip.compress(b"\x00" * (40 * 1024 * 1024))  # 40 MiB of zeros, over the 32 MiB default
    with collector.client(project_key) as client:
        response = client.post("/v1/traces", content=bomb, headers=PROTOBUF | {"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_bad_query_parameters_are_4xx(api: httpx.Client) -> None:
    assert api.get("/api/traces/not-a-trace-id").status_code == 422
    assert api.get("/api/traces", params={"limit": 0}).status_code == 422
    assert api.get("/api/traces", params={"start": "yesterday-ish"}).status_code == 422
    window = api.get("/api/traces", params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"})
    assert window.status_code == 400 and "end" in window.json()["detail"]
    assert api.get("/api/stats", params={"group_by": "colour"}).status_code == 422


def test_json_export_and_json_reply(collector: CollectorProcess, project_key: str) -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    payload = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-sender"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "json-span",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000250000000",
                                "attributes": [
                                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "42"}},
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    with collector.client(project_key) as client:
        response = client.post("/v1/traces", json=payload)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        span = client.get(f"/api/traces/{trace_id}").json()["spans"][0]
    assert (span["name"], span["request_model"], span["input_tokens"]) == ("json-span", "gpt-4o", 42)
    assert span["duration_ms"] == pytest.approx(250.0)
    assert span["service_name"] == "json-sender"


def test_openapi_and_health(collector: CollectorProcess) -> None:
    health = httpx.get(collector.url + "/healthz").json()
    assert health["store_reachable"] is True
    paths = httpx.get(collector.url + "/openapi.json").json()["paths"]
    assert {"/v1/traces", "/api/traces", "/api/traces/{trace_id}", "/api/stats", "/healthz"} <= set(paths)


def test_data_survives_a_restart(
    collector: CollectorProcess, api: httpx.Client, scenario: dict[str, str]
) -> None:
    before = api.get("/api/traces", params={"limit": 1000}).json()
    collector.stop()
    collector.start()
    after = api.get("/api/traces", params={"limit": 1000}).json()
    assert after["total"] == before["total"]
    assert get_trace(api, scenario["pipeline"])["spans"]
