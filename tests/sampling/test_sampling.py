"""Tail sampling against a real collector process: what is kept, what is held and promoted, and
what the scaled stats say. Every trace id's fate under the rate is computed with the collector's
own hash beforehand, so each assertion names exactly the traces that must (not) be stored."""

from __future__ import annotations

import os
import re

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.ingest.otlp_bodies import committed, llm_span, traces_request
from tests.sampling.conftest import RATE, TraceIds
from tokentrail import semconv as sc


def span_id() -> str:
    return os.urandom(8).hex()


def span(trace_id: str, *, error: bool = False, duration_ms: float = 800, input_tokens: int = 12) -> Span:
    made = llm_span(
        trace_id,
        span_id(),
        duration_ns=int(duration_ms * 1e6),
        attributes={sc.GEN_AI_USAGE_INPUT_TOKENS: input_tokens},
    )
    if error:
        made.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="boom"))
    return made


def stored_spans(api: httpx.Client, trace_id: str) -> int:
    response = api.get(f"/api/traces/{trace_id}")
    if response.status_code == 404:
        return 0
    response.raise_for_status()
    return len(response.json()["spans"])


def totals(api: httpx.Client, *, scaled: bool = True) -> dict[str, object]:
    response = api.get("/api/stats", params={"group_by": "none", "scaled": scaled})
    response.raise_for_status()
    rows = response.json()["rows"]
    assert len(rows) == 1, rows
    return rows[0]


def test_errors_slow_and_expensive_traces_are_kept_whatever_the_hash(
    api: httpx.Client, dropped_trace_id: TraceIds
) -> None:
    error, slow, expensive, plain = (dropped_trace_id() for _ in range(4))
    committed(
        api,
        traces_request(
            span(error), span(error, error=True),
            span(slow), span(slow, duration_ms=6_000),
            span(expensive), span(expensive, input_tokens=1_000_000),  # gpt-4o: about 2.5 USD
            span(plain), span(plain),
        ),
    )  # fmt: skip
    assert [stored_spans(api, t) for t in (error, slow, expensive, plain)] == [2, 2, 2, 0]
    figures = totals(api)
    # Kept by a rule: every span stands for itself.
    assert figures["span_count"] == 6 and figures["estimated_span_count"] == 6


def test_the_rest_is_kept_at_the_rate_by_trace_id(api: httpx.Client) -> None:
    traces = [os.urandom(16).hex() for _ in range(240)]
    for first in range(0, len(traces), 60):
        committed(api, traces_request(*(span(t) for t in traces[first : first + 60] for _ in range(2))))
    from tokentrail_collector.sampling import trace_sampled

    expected = {t for t in traces if trace_sampled(t, RATE)}
    assert 0.15 * len(traces) < len(expected) < 0.35 * len(traces)  # the hash spreads ids evenly
    page = api.get("/api/traces", params={"limit": 500}).json()
    assert {row["trace_id"] for row in page["traces"]} == expected
    figures = totals(api)
    assert figures["span_count"] == 2 * len(expected)
    # Each kept span stands for 1/rate spans: the estimate is near what was emitted.
    assert figures["estimated_span_count"] == pytest.approx(2 * len(expected) / RATE)
    assert figures["estimated_span_count"] == pytest.approx(2 * len(traces), rel=0.4)
    assert figures["estimated_input_tokens"] == pytest.approx(figures["input_tokens"] / RATE)
    assert figures["estimated_latency_p50_ms"] == pytest.approx(800, rel=0.01)
    # The ledger of what was never stored (each of these spans is a root: a trace each).
    away = 2 * (len(traces) - len(expected))
    assert figures["sampled_away_spans"] == figures["sampled_away_traces"] == away
    by_model = api.get("/api/stats", params={"group_by": "model", "scaled": True}).json()["rows"]
    assert [(r["group"], r["sampled_away_spans"]) for r in by_model] == [("gpt-4o", away)]
    by_provider = api.get("/api/stats", params={"group_by": "provider", "scaled": True}).json()["rows"]
    assert by_provider[0]["sampled_away_spans"] is None  # the ledger has no provider


def test_a_late_error_keeps_the_whole_trace_held_spans_included(
    api: httpx.Client, dropped_trace_id: TraceIds
) -> None:
    trace_id = dropped_trace_id()
    committed(api, traces_request(span(trace_id), span(trace_id)))
    assert stored_spans(api, trace_id) == 0  # held, not stored
    committed(api, traces_request(span(trace_id, error=True)))
    assert stored_spans(api, trace_id) == 3  # the held spans were promoted
    committed(api, traces_request(span(trace_id)))  # a plain span after the error: kept too
    assert stored_spans(api, trace_id) == 4
    figures = totals(api)
    assert figures["span_count"] == 4 and figures["estimated_span_count"] == 4
    assert figures["sampled_away_spans"] == 0  # promoted: out of the ledger


def test_a_low_score_keeps_a_held_trace_and_a_good_one_does_not(
    api: httpx.Client, dropped_trace_id: TraceIds
) -> None:
    low, good = dropped_trace_id(), dropped_trace_id()
    committed(api, traces_request(span(low), span(low), span(good)))
    assert stored_spans(api, low) == stored_spans(api, good) == 0
    written = api.post(
        "/api/scores",
        json=[
            {"name": "thumbs", "value": False, "trace_id": low},
            {"name": "thumbs", "value": True, "trace_id": good},
        ],
    )
    assert written.status_code == 200, written.text
    assert stored_spans(api, low) == 2
    assert stored_spans(api, good) == 0
    assert totals(api)["sampled_away_spans"] == 1


def test_a_trace_the_rate_kept_weighs_one_once_a_rule_keeps_it(
    api: httpx.Client, sampled_trace_id: TraceIds
) -> None:
    trace_id = sampled_trace_id()
    committed(api, traces_request(span(trace_id), span(trace_id)))
    assert totals(api)["estimated_span_count"] == pytest.approx(2 / RATE)
    committed(api, traces_request(span(trace_id, error=True)))
    figures = totals(api)
    assert figures["span_count"] == 3 and figures["estimated_span_count"] == 3


def test_metrics_count_kept_held_and_promoted_spans(
    sampling_collector: object, api: httpx.Client, dropped_trace_id: TraceIds
) -> None:
    def counter(text: str, name: str) -> float:
        return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))

    url = str(api.base_url) + "/metrics"
    before = httpx.get(url).text
    trace_id = dropped_trace_id()
    committed(api, traces_request(span(trace_id), span(trace_id)))
    committed(api, traces_request(span(trace_id, error=True)))
    after = httpx.get(url).text
    for name, grew in (
        ("tokentrail_sampling_held_spans_total", 2),
        ("tokentrail_sampling_promoted_spans_total", 2),
        ('tokentrail_sampling_kept_spans_total{reason="error"}', 1),
    ):
        base = name.split("{")[0]
        if "{" in name:
            line = re.escape(name)
            now = float(re.search(rf"^{line} (\S+)$", after, re.M).group(1))  # type: ignore[union-attr]
            then_match = re.search(rf"^{line} (\S+)$", before, re.M)
            then = float(then_match.group(1)) if then_match else 0.0
        else:
            now, then = counter(after, base), counter(before, base)
        assert now - then == grew, name
