"""The export queue: bounded, every span accounted for, off the app's thread, fork-safe."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail._internal import IntervalGate

from .conftest import FAST_SCHEDULE_MS


@tokentrail.observe(name="work")
def work(x: int) -> int:
    return x * 2


class BlockingExporter(SpanExporter):
    """Holds the worker inside export() until released (or shut down: then it fails)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.is_shut_down = False
        self.received: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait(30)
        if self.is_shut_down:
            return SpanExportResult.FAILURE
        self.received.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.is_shut_down = True
        self.release.set()


class FailingExporter(SpanExporter):
    def __init__(self, raise_error: bool = False) -> None:
        self.raise_error = raise_error
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        if self.raise_error:
            raise ConnectionResetError("collector hung up")
        return SpanExportResult.FAILURE


def _assert_accounted(stats: tokentrail.ExportStats) -> None:
    assert stats.pending == 0
    assert stats.enqueued == stats.exported + stats.dropped


def test_stats_after_a_normal_run(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, max_export_batch_size=4)
    for i in range(10):
        work(i)
    assert tokentrail.flush()
    stats = tokentrail.export_stats()
    assert stats.enqueued == stats.exported == 10
    assert stats.dropped == 0
    assert stats.export_batches >= 3
    assert stats.last_export_error is None
    _assert_accounted(stats)


def test_full_queue_drops_and_counts_without_blocking_the_app() -> None:
    exporter = BlockingExporter()
    tokentrail.init(
        exporter=exporter, max_queue_size=10, max_export_batch_size=5, schedule_delay_ms=FAST_SCHEDULE_MS
    )
    work(0)
    assert exporter.entered.wait(10), "the worker never picked up the first span"
    # The worker is stuck exporting one span; the queue has room for 10 more.
    results = [work(i) for i in range(40)]
    assert results == [i * 2 for i in range(40)]
    stats = tokentrail.export_stats()
    assert stats.enqueued == 41
    assert stats.dropped_queue_full == 30
    exporter.release.set()
    assert tokentrail.flush(timeout_s=10) is True  # every span queued was exported; drops are counted
    stats = tokentrail.export_stats()
    assert stats.exported == 11 == len(exporter.received)
    _assert_accounted(stats)


def test_flush_times_out_while_the_exporter_is_stuck() -> None:
    exporter = BlockingExporter()
    tokentrail.init(exporter=exporter, schedule_delay_ms=FAST_SCHEDULE_MS)
    work(1)
    assert exporter.entered.wait(10)
    work(2)
    assert tokentrail.flush(timeout_s=0.2) is False
    exporter.release.set()
    assert tokentrail.flush(timeout_s=10) is True
    assert len(exporter.received) == 2


def test_shutdown_counts_what_it_could_not_deliver() -> None:
    exporter = BlockingExporter()
    tokentrail.init(exporter=exporter, max_export_batch_size=2, schedule_delay_ms=FAST_SCHEDULE_MS)
    work(0)
    assert exporter.entered.wait(10)
    for i in range(6):
        work(i)
    started = time.monotonic()
    tokentrail.shutdown(timeout_s=0.3)
    assert time.monotonic() - started < 5  # sanity bound: shutdown gives up instead of hanging
    stats = tokentrail.export_stats()
    assert stats.exported == 0
    assert stats.dropped_export_failed + stats.dropped_at_shutdown == 7
    _assert_accounted(stats)


def test_failed_exports_are_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    exporter = FailingExporter()
    tokentrail.init(exporter=exporter, max_export_batch_size=3)
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        for i in range(12):
            work(i)
        assert tokentrail.flush() is False
    stats = tokentrail.export_stats()
    assert exporter.calls == stats.export_batches >= 4
    assert stats.dropped_export_failed == 12
    assert stats.exported == 0
    assert stats.last_export_error is not None and "FAILURE" in stats.last_export_error
    _assert_accounted(stats)
    failures_logged = [
        r for r in caplog.records if r.name == "tokentrail" and "could not export" in r.getMessage()
    ]
    assert len(failures_logged) == 1


def test_exporter_exceptions_are_export_failures_not_app_errors() -> None:
    tokentrail.init(exporter=FailingExporter(raise_error=True))
    assert work(2) == 4
    assert tokentrail.flush() is False
    stats = tokentrail.export_stats()
    assert stats.dropped_export_failed == 1
    assert stats.last_export_error == "ConnectionResetError: collector hung up"


def test_interval_gate() -> None:
    now = [0.0]
    gate = IntervalGate(60.0, clock=lambda: now[0])
    assert gate.open() is True
    now[0] = 59.0
    assert gate.open() is False
    now[0] = 60.0
    assert gate.open() is True
    assert gate.suppressed == 1


def test_instrumentation_is_suppressed_while_exporting() -> None:
    seen_suppressed: list[object] = []
    inner = InMemorySpanExporter()

    @tokentrail.observe(name="called-by-exporter")
    def helper() -> None:
        pass

    class CheckingExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            seen_suppressed.append(get_value(_SUPPRESS_INSTRUMENTATION_KEY))
            helper()  # would be traced, and exported again, without suppression
            return inner.export(spans)

    tokentrail.init(exporter=CheckingExporter())
    work(1)
    assert tokentrail.flush()
    time.sleep(0.1)
    assert tokentrail.flush()
    assert seen_suppressed == [True]
    assert [s.name for s in inner.get_finished_spans()] == ["work"]
    # The app's own context is untouched.
    assert get_value(_SUPPRESS_INSTRUMENTATION_KEY) is None


def test_on_end_only_enqueues() -> None:
    """With the exporter stuck, observed calls still run at their own speed."""
    exporter = BlockingExporter()
    tokentrail.init(exporter=exporter, max_queue_size=100, schedule_delay_ms=FAST_SCHEDULE_MS)
    work(0)
    assert exporter.entered.wait(10)
    started = time.monotonic()
    for i in range(500):
        work(i)
    assert time.monotonic() - started < 10  # sanity bound; a blocked call would hang for 30 s
    assert tokentrail.export_stats().dropped_queue_full == 500 - 100
    exporter.release.set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_worker() -> None:
    exporter = InMemorySpanExporter()
    tokentrail.init(exporter=exporter, schedule_delay_ms=60_000)
    work(1)  # still queued in the parent when it forks
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code, never return into pytest
        code = 1
        try:
            stats = tokentrail.export_stats()
            work(2)
            delivered = tokentrail.flush(timeout_s=10)
            names = [s.name for s in exporter.get_finished_spans()]
            after = tokentrail.export_stats()
            if stats.enqueued != 0:
                code = 3  # the parent's counts or queue leaked into the child
            elif delivered and names == ["work"] and after.exported == 1:
                code = 0
            else:
                code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert tokentrail.flush()
    assert len(exporter.get_finished_spans()) == 1  # the parent's span, exported once, by the parent
    assert tokentrail.export_stats().exported == 1
