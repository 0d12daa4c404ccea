"""The default exporter, for real: OTLP protobuf over HTTP to a local sink, and to nothing at all."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import textwrap
import time

import pytest

import tokentrail
from tokentrail import semconv

from .conftest import OtlpSink


@tokentrail.observe(name="answer", kind="llm")
def answer(question: str) -> str:
    tokentrail.update_current_span(model="gpt-4o-mini", input_tokens=5)
    return question.upper()


def _attributes(span: object) -> dict[str, object]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}  # type: ignore[attr-defined]


def test_flush_delivers_protobuf_gzip_with_bearer_key(otlp_sink: OtlpSink) -> None:
    tokentrail.init(endpoint=otlp_sink.url, api_key="tt-key-123", service_name="svc", project="proj")
    assert answer("why?") == "WHY?"
    assert tokentrail.flush(timeout_s=10) is True
    (request,) = otlp_sink.requests
    assert request.path == "/v1/traces"
    assert request.headers["authorization"] == "Bearer tt-key-123"
    assert request.headers["content-type"] == "application/x-protobuf"
    assert request.headers["content-encoding"] == "gzip"
    assert gzip.decompress(request.body)  # really gzip
    (span,) = request.spans
    assert span.name == "answer"  # type: ignore[attr-defined]
    values = _attributes(span)
    assert values[semconv.TT_SPAN_KIND] == "llm"
    assert json.loads(str(values[semconv.TT_INPUT])) == {"question": "why?"}
    assert json.loads(str(values[semconv.TT_OUTPUT])) == "WHY?"
    assert values[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert request.resource_attributes[semconv.SERVICE_NAME] == "svc"
    assert request.resource_attributes[semconv.TT_PROJECT] == "proj"
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.dropped, stats.pending) == (1, 0, 0)


def test_endpoint_and_key_from_environment(otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENTRAIL_ENDPOINT", otlp_sink.url + "/")
    monkeypatch.setenv("TOKENTRAIL_API_KEY", "from-env")
    tokentrail.init()
    answer("x")
    assert tokentrail.flush(timeout_s=10)
    assert otlp_sink.requests[0].headers["authorization"] == "Bearer from-env"
    assert otlp_sink.requests[0].path == "/v1/traces"


def test_no_key_no_authorization_header(otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENTRAIL_API_KEY", raising=False)
    tokentrail.init(endpoint=otlp_sink.url)
    answer("x")
    assert tokentrail.flush(timeout_s=10)
    assert "authorization" not in otlp_sink.requests[0].headers


def test_shutdown_delivers_what_is_queued(otlp_sink: OtlpSink) -> None:
    tokentrail.init(endpoint=otlp_sink.url, schedule_delay_ms=60_000)
    for i in range(5):
        answer(str(i))
    tokentrail.shutdown(timeout_s=10)
    assert otlp_sink.span_names() == ["answer"] * 5


def test_collector_down_calls_return_and_spans_are_kept(
    closed_port_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1")
    tokentrail.init(endpoint=closed_port_url, max_export_batch_size=5, schedule_delay_ms=20)
    started = time.monotonic()
    results = [answer(f"q{i}") for i in range(20)]
    elapsed = time.monotonic() - started
    assert results == [f"Q{i}" for i in range(20)]
    assert elapsed < 5  # generous sanity bound: the calls never wait for the exporter
    with caplog.at_level(logging.WARNING):
        delivered = tokentrail.flush(timeout_s=1)
        tokentrail.shutdown(timeout_s=5)
    assert delivered is False  # the spans wait for the collector: in memory, then in the spool
    stats = tokentrail.export_stats()
    assert (stats.enqueued, stats.exported, stats.spooled, stats.dropped, stats.pending) == (20, 0, 20, 0, 0)
    assert stats.retries >= 1
    assert stats.last_export_error is not None and "Connection refused" in stats.last_export_error
    # One line saying the collector is unavailable, however many attempts failed; nothing was lost.
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tokentrail"]
    assert "cannot take spans now" in line


@pytest.mark.parametrize("spool", [True, False])
def test_collector_down_shutdown_is_bounded(closed_port_url: str, spool: bool) -> None:
    tokentrail.init(endpoint=closed_port_url, schedule_delay_ms=20, spool=spool)
    for i in range(10):
        answer(str(i))
    time.sleep(0.2)  # let the worker start retrying
    started = time.monotonic()
    tokentrail.shutdown(timeout_s=0.5)
    assert time.monotonic() - started < 5  # sanity bound; the back-off alone may be longer
    stats = tokentrail.export_stats()
    if spool:
        assert (stats.spooled, stats.dropped) == (10, 0)
    else:
        assert stats.dropped == stats.dropped_at_shutdown == 10
    assert stats.enqueued == 10
    assert stats.pending == 0


def test_collector_recovers(otlp_sink: OtlpSink) -> None:
    otlp_sink.status = 400  # refused for good, not retried
    tokentrail.init(endpoint=otlp_sink.url)
    answer("lost")
    assert tokentrail.flush(timeout_s=10) is False
    otlp_sink.status = 200
    answer("kept")
    assert tokentrail.flush(timeout_s=10) is True
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.dropped_permanent_error, stats.retries) == (1, 1, 0)
    assert otlp_sink.span_names() == ["answer"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_exports_over_its_own_connection(otlp_sink: OtlpSink) -> None:
    tokentrail.init(endpoint=otlp_sink.url, schedule_delay_ms=60_000)
    answer("parent-warmup")
    assert tokentrail.flush(timeout_s=10)  # the parent now holds a pooled keep-alive connection
    answer("parent-queued")  # still queued when the process forks
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            answer("child")
            code = 0 if tokentrail.flush(timeout_s=10) and tokentrail.export_stats().exported == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    answer("parent-after")
    assert tokentrail.flush(timeout_s=10)
    inputs = sorted(
        json.loads(str(_attributes(span)[semconv.TT_INPUT]))["question"]
        for request in otlp_sink.requests
        for span in request.spans
    )
    assert inputs == ["child", "parent-after", "parent-queued", "parent-warmup"]


@pytest.mark.parametrize("app_provider", [False, True])
def test_spans_are_delivered_at_interpreter_exit(otlp_sink: OtlpSink, app_provider: bool) -> None:
    # With the app's provider built with shutdown_on_exit=False, only tokentrail's own hook delivers.
    setup = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "trace.set_tracer_provider(TracerProvider(shutdown_on_exit=False))\n"
        if app_provider
        else ""
    )
    script = setup + textwrap.dedent(
        """
        import tokentrail

        tokentrail.init(schedule_delay_ms=600_000)  # only an exit hook can deliver in time

        @tokentrail.observe(name="last-words")
        def last_words() -> str:
            return "bye"

        last_words()
        """
    )
    env = {**os.environ, "TOKENTRAIL_ENDPOINT": otlp_sink.url, "TOKENTRAIL_API_KEY": "exit-key"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert otlp_sink.span_names() == ["last-words"]
    assert otlp_sink.requests[0].headers["authorization"] == "Bearer exit-key"
