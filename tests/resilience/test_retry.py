"""How the SDK answers each kind of collector answer: retried (429 with Retry-After, 502/503/504,
refused connections), refused for good and counted (other 4xx), partly accepted (partial success);
and what a full memory buffer drops when the spool is off."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

import pytest

import tokentrail
from tests.resilience.helpers import assert_accounted, emit, wait_for
from tests.resilience.sink import Reply, ScriptedSink
from tests.support import free_port

FAST_MS = 10


def test_429_waits_for_retry_after_in_seconds(sink: ScriptedSink) -> None:
    sink.script.extend([Reply(429, headers={"Retry-After": "2"}), Reply(200)])
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    emitted = emit(3)
    # A flush waits for the retry; it does not cut short a delay the collector asked for.
    assert tokentrail.flush(timeout_s=20) is True
    first, retry = sink.arrivals
    assert (first.status, retry.status) == (429, 200)
    assert retry.monotonic - first.monotonic >= 2.0
    assert first.span_ids == retry.span_ids == emitted
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.retries, stats.dropped) == (3, 1, 0)
    assert_accounted(stats)


def test_429_waits_for_retry_after_as_an_http_date(sink: ScriptedSink) -> None:
    not_before = int(time.time()) + 3  # an HTTP date has whole seconds
    sink.script.extend([Reply(429, headers={"Retry-After": formatdate(not_before, usegmt=True)}), Reply(200)])
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    emitted = emit(2)
    assert tokentrail.flush(timeout_s=20) is True
    first, retry = sink.arrivals
    assert first.status == 429
    assert retry.wall >= not_before
    assert sink.delivered_span_ids() == emitted


@pytest.mark.parametrize("status", [502, 503, 504])
def test_unavailable_answers_are_retried(sink: ScriptedSink, status: int) -> None:
    sink.script.extend([Reply(status, message="busy"), Reply(200)])
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    emitted = emit(4)
    assert tokentrail.flush(timeout_s=20) is True
    assert sink.statuses() == [status, 200]
    assert sink.arrivals[0].span_ids == sink.arrivals[1].span_ids == emitted
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.retries, stats.dropped) == (4, 1, 0)
    assert stats.last_export_error == f"collector answered {status}: busy"
    assert_accounted(stats)


def test_refused_connections_are_retried_until_the_collector_listens() -> None:
    port = free_port()
    tokentrail.init(endpoint=f"http://127.0.0.1:{port}", schedule_delay_ms=FAST_MS)
    emitted = emit(5)
    wait_for(lambda: tokentrail.export_stats().retries >= 1, what="a refused connection")
    assert "Connection refused" in str(tokentrail.export_stats().last_export_error)
    late = ScriptedSink(port)
    try:
        assert tokentrail.flush(timeout_s=20) is True
        assert late.delivered_span_ids() == emitted
    finally:
        late.close()
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.dropped, stats.spooled) == (5, 0, 0)
    assert_accounted(stats)


@pytest.mark.parametrize("status", [400, 401, 413])
def test_other_client_errors_are_not_retried_and_are_counted(
    sink: ScriptedSink, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    sink.default = Reply(status, message="span 3 has no name")
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        emit(3)
        assert tokentrail.flush(timeout_s=10) is False
        assert tokentrail.flush(timeout_s=0.2) is True  # nothing is waiting for another try
        lines = lambda: [r.getMessage() for r in caplog.records if "could not export" in r.getMessage()]  # noqa: E731
        wait_for(lambda: bool(lines()), what="the log line")  # written just after the counts
    assert sink.statuses() == [status]
    stats = tokentrail.export_stats()
    assert (stats.dropped_permanent_error, stats.retries, stats.exported) == (3, 0, 0)
    assert stats.last_export_error == f"collector answered {status}: span 3 has no name"
    assert_accounted(stats)
    (line,) = lines()
    assert "dropped_permanent_error 3" in line and "span 3 has no name" in line


def test_partial_success_is_counted_and_not_retried(sink: ScriptedSink) -> None:
    sink.script.append(Reply(200, rejected=2, message="2 spans too large"))
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    emit(5)
    assert tokentrail.flush(timeout_s=10) is False  # not all of them were stored
    assert len(sink.arrivals) == 1
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.rejected_by_collector, stats.retries) == (3, 2, 0)
    assert stats.last_export_error == "collector rejected 2 span(s): 2 spans too large"
    assert_accounted(stats)


def test_a_flush_cuts_the_back_off_short_once_and_never_spins(sink: ScriptedSink) -> None:
    sink.default = Reply(503)
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    emit(1)
    wait_for(lambda: len(sink.arrivals) >= 1, what="the first attempt")
    attempts = [len(sink.arrivals)]
    for _ in range(3):
        assert tokentrail.flush(timeout_s=0.3) is False
        attempts.append(len(sink.arrivals))
    # Each flush is worth at most one early attempt (the back-off itself may allow another).
    assert attempts[-1] - attempts[0] <= 6
    sink.default = Reply(200)
    assert tokentrail.flush(timeout_s=10) is True


def test_a_full_buffer_drops_the_newest_spans_when_the_spool_is_off(sink: ScriptedSink) -> None:
    sink.script.extend([Reply(429, headers={"Retry-After": "2"}), Reply(200)])
    tokentrail.init(
        endpoint=sink.url, spool=False, max_queue_size=20, max_export_batch_size=5, schedule_delay_ms=FAST_MS
    )
    emitted = emit(1)
    wait_for(lambda: tokentrail.export_stats().retries == 1, what="the collector's 429")
    emitted += emit(49)  # the collector asked for 2 s: meanwhile the buffer fills up
    assert tokentrail.export_stats().retries == 1
    assert tokentrail.flush(timeout_s=20) is True  # every span that found room was delivered
    assert sink.delivered_span_ids() == emitted[:20]  # the oldest kept, in order
    stats = tokentrail.export_stats()
    assert (stats.exported, stats.dropped_buffer_full, stats.dropped_queue_full) == (20, 30, 0)
    assert_accounted(stats)
