"""A bounded span queue drained by a daemon thread, where every span is accounted for.

The application's thread only appends (never blocks on the exporter, never raises); a full queue
drops the span and counts it. The worker exports batches with instrumentation suppressed, so the
exporter's own HTTP calls are not traced. After `fork` the child gets a fresh worker and empty
queue (the parent's spans stay the parent's). Modelled on OpenTelemetry's `BatchProcessor`,
which drops with only a log line.

Accounting, once nothing is pending: ``enqueued == exported + dropped``.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tokentrail._internal import CAPTURE, IntervalGate, logger, report_internal_error

FAILURE_LOG_INTERVAL_S = 60.0
_EXPORTER_SHUTDOWN_GRACE_S = 1.0


@dataclass(frozen=True, slots=True)
class ExportStats:
    """Counts since the last `init()`; once flushed, ``enqueued == exported + dropped``."""

    enqueued: int = 0
    """Spans handed to the export queue, whether it had room or not."""
    exported: int = 0
    dropped_queue_full: int = 0
    dropped_export_failed: int = 0
    dropped_at_shutdown: int = 0
    """Spans still queued when `shutdown()` gave up waiting (collector down or slow)."""
    export_batches: int = 0
    """Batches handed to the exporter, successful or not."""
    last_export_error: str | None = None

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_export_failed + self.dropped_at_shutdown

    @property
    def pending(self) -> int:
        """Spans queued or being exported right now."""
        return self.enqueued - self.exported - self.dropped


class ExportQueue:
    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_s: float,
        error_detail: Callable[[], str | None] | None = None,
        exporter_factory_after_fork: Callable[[], SpanExporter] | None = None,
    ) -> None:
        self._exporter = exporter
        self._max_queue_size = max_queue_size
        self._batch_size = max_export_batch_size
        self._schedule_delay_s = schedule_delay_s
        self._error_detail = error_detail
        self._exporter_factory_after_fork = exporter_factory_after_fork
        self._queue: deque[ReadableSpan] = deque()
        self._failure_log = IntervalGate(FAILURE_LOG_INTERVAL_S)
        self._init_sync_state()
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            weak_reinit = weakref.WeakMethod(self._reinit_in_child)

            def after_in_child() -> None:
                reinit = weak_reinit()
                if reinit is not None:
                    with CAPTURE:
                        reinit()

            os.register_at_fork(after_in_child=after_in_child)

    def _init_sync_state(self) -> None:
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopping = False
        self._flush_requests = 0
        self._enqueued = 0
        self._accepted = 0
        self._exported = 0
        self._dropped_queue_full = 0
        self._dropped_export_failed = 0
        self._dropped_at_shutdown = 0
        self._export_batches = 0
        self._last_export_error: str | None = None

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="tokentrail-export", daemon=True)
        self._worker.start()

    # -- the application's side ------------------------------------------------------------------

    def offer(self, span: ReadableSpan) -> None:
        """Queue `span` for export, or drop and count it. Never blocks on export, never raises."""
        with self._lock:
            self._enqueued += 1
            if self._stopping:
                self._dropped_at_shutdown += 1
                return
            if len(self._queue) >= self._max_queue_size:
                self._dropped_queue_full += 1
                return
            self._queue.append(span)
            self._accepted += 1
            queued = len(self._queue)
        if queued >= self._batch_size and not self._wake.is_set():
            self._wake.set()

    def stats(self) -> ExportStats:
        with self._lock:
            return ExportStats(
                enqueued=self._enqueued,
                exported=self._exported,
                dropped_queue_full=self._dropped_queue_full,
                dropped_export_failed=self._dropped_export_failed,
                dropped_at_shutdown=self._dropped_at_shutdown,
                export_batches=self._export_batches,
                last_export_error=self._last_export_error,
            )

    def flush(self, timeout_s: float) -> bool:
        """Wait until every span queued before this call is exported or dropped.

        True only if all of them were exported (not dropped) within `timeout_s`.
        """
        if threading.current_thread() is self._worker:
            return False  # called from inside an export: waiting on ourselves would deadlock
        deadline = time.monotonic() + timeout_s
        with self._lock:
            target = self._accepted
            failures_before = self._dropped_export_failed + self._dropped_at_shutdown
            self._flush_requests += 1
        self._wake.set()
        with self._lock:
            try:
                while self._processed() < target and not self._stopped_with_empty_queue():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._progress.wait(remaining)
                failures = self._dropped_export_failed + self._dropped_at_shutdown
                return self._processed() >= target and failures == failures_before
            finally:
                self._flush_requests -= 1

    @property
    def exporter(self) -> SpanExporter:
        return self._exporter

    def shutdown(self, timeout_s: float, *, shutdown_exporter: bool = True) -> None:
        """Export what is queued within `timeout_s`, then stop; spans left over are counted.

        `shutdown_exporter=False` leaves the exporter usable, for a new queue that reuses it.
        """
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        deadline = time.monotonic() + timeout_s
        self._wake.set()
        if threading.current_thread() is not self._worker:
            self._worker.join(max(deadline - time.monotonic(), 0.0))
        if shutdown_exporter:
            try:
                # Also cuts short an OTLP exporter's retry back-off, so a stuck worker finishes quickly.
                self._exporter.shutdown()
            except Exception as error:
                report_internal_error(error)
        if threading.current_thread() is not self._worker:
            # With the exporter shut down the worker's remaining exports fail at once; let it
            # finish counting them, unless it is stuck inside a request.
            self._worker.join(_EXPORTER_SHUTDOWN_GRACE_S)
        with self._lock:
            self._dropped_at_shutdown += len(self._queue)
            self._queue.clear()
            self._progress.notify_all()

    # -- the worker's side -----------------------------------------------------------------------

    def _processed(self) -> int:
        return self._exported + self._dropped_export_failed + self._dropped_at_shutdown

    def _stopped_with_empty_queue(self) -> bool:
        return self._stopping and not self._queue and not self._worker.is_alive()

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(self._schedule_delay_s)
            self._wake.clear()
            with self._lock:
                stopping = self._stopping
                # Woken because a full batch is waiting: send full batches only, keep the tail for
                # the timer. Timer, flush and shutdown send everything.
                drain_all = not woken or stopping or self._flush_requests > 0
            try:
                self._export_queued(drain_all)
            except Exception as error:  # the worker must outlive any bug of ours
                report_internal_error(error)
            if stopping:
                return

    def _export_queued(self, drain_all: bool) -> None:
        while True:
            with self._lock:
                queued = len(self._queue)
                if queued == 0 or (queued < self._batch_size and not drain_all):
                    return
                batch = [self._queue.popleft() for _ in range(min(queued, self._batch_size))]
            error = self._export(batch)
            with self._lock:
                self._export_batches += 1
                if error is None:
                    self._exported += len(batch)
                else:
                    self._dropped_export_failed += len(batch)
                    self._last_export_error = error
                self._progress.notify_all()
            if error is not None and self._failure_log.open():
                logger.warning(
                    "tokentrail: could not export %d spans (%s); further failures are logged at most "
                    "once a minute, see tokentrail.export_stats()",
                    len(batch),
                    error,
                )

    def _export(self, batch: Sequence[ReadableSpan]) -> str | None:
        """Export one batch; the failure text, or None on success."""
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = self._exporter.export(batch)
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        finally:
            detach(token)
        if result is SpanExportResult.SUCCESS:
            return None
        detail = self._error_detail() if self._error_detail is not None else None
        return detail or f"exporter {type(self._exporter).__name__} returned {result.name}"

    def _reinit_in_child(self) -> None:
        """After `fork`, in the child: new locks, empty queue, zeroed counts, a new worker."""
        self._queue.clear()
        stopped = self._stopping
        self._init_sync_state()
        self._stopping = stopped
        self._failure_log = IntervalGate(FAILURE_LOG_INTERVAL_S)
        if stopped:
            return
        if self._exporter_factory_after_fork is not None:
            # The parent's HTTP connections were copied into the child; never share them.
            self._exporter = self._exporter_factory_after_fork()
        self._start_worker()
