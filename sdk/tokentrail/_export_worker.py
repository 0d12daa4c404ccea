"""The export queue's worker thread: sends batches, waits through outages, uses the spool.

Batches are sent with instrumentation suppressed, so the export's own HTTP calls are not traced.
With tokentrail's own OTLP sender, a batch the collector cannot take now (429/502/503/504, no
connection, timeout) goes back to the head of the queue and the worker waits (`Retry-After`, else
jittered exponential back-off) before trying again: spans wait through an outage. When memory
nearly fills up during one, the oldest spans move to the on-disk spool (when on), which also
receives what `shutdown()` could not deliver in time; spool files are replayed, oldest first,
once the collector answers. An application-supplied exporter is called once per batch, as
OpenTelemetry's `BatchSpanProcessor` would: its failures are counted, not retried here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tokentrail._internal import CAPTURE, IntervalGate, logger, report_internal_error
from tokentrail._otlp import OtlpHttpSender, Outcome, Verdict
from tokentrail._retry import RetrySchedule
from tokentrail._spool import Spool, SpoolFileCorrupt

if TYPE_CHECKING:
    from tokentrail._export_queue import ExportQueue

FAILURE_LOG_INTERVAL_S = 60.0
# Files replayed per cycle, so that a large spool does not hold fresh spans back for long.
REPLAY_FILES_PER_CYCLE = 8
# How often a healthy worker looks for spool files that other processes left.
SPOOL_RESCAN_S = 30.0
# After the collector refused a spool file for a reason that is not in the file (a wrong key or
# address), the spool is left alone this long: the file is kept for a process configured right.
SPOOL_REFUSED_PAUSE_S = 300.0
# Time kept back at shutdown to write what is still in memory to the spool.
SPILL_RESERVE_S = 0.5
_NEVER = 2**62

Transport = SpanExporter | OtlpHttpSender


class ExportWorker:
    def __init__(
        self, queue: ExportQueue, exporter: Transport, spool: Spool | None, *, max_queue_size: int
    ) -> None:
        if spool is not None and not isinstance(exporter, OtlpHttpSender):
            raise TypeError("the spool holds OTLP request bodies: it needs tokentrail's own OTLP sender")
        self.exporter = exporter
        self.spool = spool
        self._queue = queue
        # During an outage, memory moves to the spool from the high-water mark down to the low.
        self._high_water = max(queue.batch_size, max_queue_size * 3 // 4)
        self._low_water = max_queue_size // 4
        self._retry = RetrySchedule()
        # The flush() calls made before the current attempt began: a flush made during an attempt
        # that then fails still gets its early retry.
        self._flush_calls_seen = 0
        self._spool_blocked = False  # the spool refused a write during this outage
        self._spool_scan_at = 0.0
        self._replay_backlog = False
        self._lost_logged = 0
        self._loss_log = IntervalGate(FAILURE_LOG_INTERVAL_S)
        self._outage_log = IntervalGate(FAILURE_LOG_INTERVAL_S)
        self._thread = threading.Thread(target=self._run, name="tokentrail-export", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def is_current_thread(self) -> bool:
        return threading.current_thread() is self._thread

    # -- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            wake = self._queue.wait_for_work(self._wait_timeout())
            try:
                if wake.stopping:
                    self._drain_at_shutdown()
                else:
                    # Woken because a full batch is waiting: send full batches only, keep the tail
                    # for the timer. Timer and flush send everything.
                    self._cycle(drain_all=not wake.by_signal or wake.flushing, flush_calls=wake.flush_calls)
            except Exception as error:  # the worker must outlive any bug of ours
                report_internal_error(error)
            with CAPTURE:
                self._log_losses()
            if wake.stopping:
                return

    def _wait_timeout(self) -> float:
        if self._retry.retry_at:
            return self._retry.seconds_left(time.monotonic())
        return 0.0 if self._replay_backlog else self._queue.schedule_delay_s

    def _cycle(self, *, drain_all: bool, flush_calls: int) -> None:
        self._flush_calls_seen = flush_calls
        in_outage = bool(self._retry.retry_at)
        if in_outage:
            if not self._retry.may_try(now=time.monotonic(), flush_calls=flush_calls):
                self._spill_excess()
                return
            self._spool_blocked = False  # a new attempt: the spool may have room again
        # In an outage the oldest spans may be on disk: the retry starts with them.
        replay_due = in_outage or self._replay_backlog or time.monotonic() >= self._spool_scan_at
        if self.spool is not None and replay_due and not self._replay():
            return
        while batch := self._queue.take_batch(full_only=not drain_all and not in_outage, sending=True):
            if not self._settle(batch, self._deliver(batch)):
                return
        if self._retry.retry_at:
            # Nothing was left to try the collector with: no outage to wait out any more.
            self._leave_backoff()

    # -- sending ---------------------------------------------------------------------------------

    def _deliver(self, batch: Sequence[ReadableSpan], timeout_s: float | None = None) -> Outcome:
        """Send one batch once; never raises."""
        exporter = self.exporter
        if isinstance(exporter, OtlpHttpSender):
            body = self._encode(batch)
            if body is None:
                return Outcome(Verdict.REFUSED, detail="spans could not be encoded as OTLP")
            return self._send(body, timeout_s)
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = exporter.export(batch)
        except Exception as error:
            return Outcome(Verdict.FAILED, detail=f"{type(error).__name__}: {error}")
        finally:
            detach(token)
        if result is SpanExportResult.SUCCESS:
            return Outcome(Verdict.DELIVERED)
        return Outcome(Verdict.FAILED, detail=f"exporter {type(exporter).__name__} returned {result.name}")

    def _send(self, body: bytes, timeout_s: float | None = None) -> Outcome:
        """POST an encoded batch with our own instrumentation suppressed (never traced, never raises)."""
        assert isinstance(self.exporter, OtlpHttpSender)
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            return self.exporter.send(body, timeout_s=timeout_s)
        finally:
            detach(token)

    def _encode(self, batch: Sequence[ReadableSpan]) -> bytes | None:
        assert isinstance(self.exporter, OtlpHttpSender)
        try:
            return self.exporter.encode(batch).body
        except Exception as error:  # a bug of ours, or a value no encoder takes
            report_internal_error(error)
            return None

    def _settle(self, batch: Sequence[ReadableSpan], outcome: Outcome) -> bool:
        """Count a batch's outcome; False when it went back to the queue to wait for a retry."""
        verdict = outcome.verdict
        if not self._queue.end_send(put_back=verdict is Verdict.RETRY):
            return False  # given up by shutdown while we were stuck with it: counted there
        size = len(batch)
        if verdict is Verdict.DELIVERED:
            accepted, rejected = outcome.split(size)
            error = outcome.detail
            self._queue.count(
                export_batches=1, exported=accepted, rejected_by_collector=rejected, last_export_error=error
            )
        elif verdict is Verdict.RETRY:
            self._enter_backoff(outcome)  # before counting: whoever sees the retry sees the outage
            self._queue.count(export_batches=1, retries=1, last_export_error=outcome.detail)
            if self._queue.queued() >= self._high_water:
                # Memory filled while we were trying: spill now, not only when a new span wakes us
                # (early retries come quickly and would otherwise keep the spill from ever running).
                self._spill_excess()
            return False
        elif verdict is Verdict.REFUSED:
            self._queue.count(
                export_batches=1, dropped_permanent_error=size, last_export_error=outcome.detail
            )
        else:
            self._queue.count(export_batches=1, dropped_export_failed=size, last_export_error=outcome.detail)
        self._leave_backoff()
        return True

    def _enter_backoff(self, outcome: Outcome) -> None:
        delay = self._retry.failed(
            outcome.retry_after_s, now=time.monotonic(), flush_calls=self._flush_calls_seen
        )
        spilling = self.spool is not None and not self._spool_blocked
        self._queue.set_outage(True, wake_at=self._high_water if spilling else _NEVER)
        if self._outage_log.open():
            logger.warning(
                "tokentrail: the collector cannot take spans now (%s); %d spans wait in memory%s, next "
                "try in %.1f s; logged at most once a minute, see tokentrail.export_stats()",
                outcome.detail,
                self._queue.queued(),
                " (and on disk when memory fills up)" if self.spool is not None else "",
                delay,
            )

    def _leave_backoff(self) -> None:
        if not self._retry.recovered():
            return
        self._queue.set_outage(False, wake_at=self._queue.batch_size)
        self._spool_scan_at = 0.0  # replay what the outage put on disk
        logger.info("tokentrail: the collector takes spans again")

    # -- the spool -------------------------------------------------------------------------------

    def _spill_excess(self) -> None:
        """During an outage: move the oldest spans to disk once memory is nearly full."""
        if self.spool is None or self._spool_blocked:
            return
        while self._queue.queued() > self._low_water:
            batch = self._queue.take_batch()
            if not self._spill(batch):
                self._queue.put_back(batch)
                self._spool_blocked = True
                self._queue.set_outage(True, wake_at=_NEVER)
                return

    def spill_all(self) -> None:
        """At shutdown: everything still in memory to the spool; what does not fit is counted."""
        if self.spool is None:
            return
        while batch := self._queue.take_batch():
            if not self._spill(batch):
                self._queue.count(dropped_spool_full=len(batch))

    def _spill(self, batch: Sequence[ReadableSpan]) -> bool:
        assert self.spool is not None
        body = self._encode(batch)
        if body is None:
            self._queue.count(
                dropped_permanent_error=len(batch), last_export_error="spans could not be encoded"
            )
            return True  # gone, and counted
        try:
            written = self.spool.write(body)
        except OSError as error:
            self._queue.count(last_export_error=f"spool {self.spool.directory}: {error}")
            return False
        if written:
            self._queue.count(spooled=len(batch))
        return written

    def _replay(self) -> bool:
        """Send up to REPLAY_FILES_PER_CYCLE spool files; False when the collector is unavailable."""
        assert self.spool is not None and isinstance(self.exporter, OtlpHttpSender)
        for _ in range(REPLAY_FILES_PER_CYCLE):
            try:
                claimed = self.spool.claim_next()
            except OSError as error:
                return self._pause_replay(f"spool {self.spool.directory}: {error}", SPOOL_RESCAN_S)
            if claimed is None:
                self._replay_backlog = False
                self._spool_scan_at = time.monotonic() + SPOOL_RESCAN_S
                return True
            try:
                body, spans = self.spool.read(claimed)
            except SpoolFileCorrupt as error:
                self._queue.count(
                    spool_files_corrupt=1, last_export_error=f"corrupt spool file skipped: {error}"
                )
                self.spool.delete(claimed)
                continue
            outcome = self._send(body)
            # Counted before the file goes, so that an empty spool means counts that are final.
            if outcome.verdict is Verdict.DELIVERED:
                accepted, rejected = outcome.split(spans)
                self._queue.count(
                    export_batches=1,
                    replayed=accepted,
                    replay_rejected=rejected,
                    last_export_error=outcome.detail,
                )
                self.spool.delete(claimed)
                self._leave_backoff()
            elif outcome.body_refused:
                self._queue.count(export_batches=1, replay_rejected=spans, last_export_error=outcome.detail)
                self.spool.delete(claimed)
            else:
                self.spool.release(claimed)
                retry = outcome.verdict is Verdict.RETRY
                self._queue.count(export_batches=1, retries=int(retry), last_export_error=outcome.detail)
                if retry:
                    self._enter_backoff(outcome)
                    return False
                return self._pause_replay(outcome.detail, SPOOL_REFUSED_PAUSE_S)
        self._replay_backlog = True
        return True

    def _pause_replay(self, reason: str | None, pause_s: float) -> bool:
        """Leave the spool files where they are for `pause_s`; memory goes on being sent."""
        self._replay_backlog = False
        self._spool_scan_at = time.monotonic() + pause_s
        if self._outage_log.open():
            logger.warning(
                "tokentrail: spool files kept for later (%s); next look in %.0f s", reason, pause_s
            )
        return True

    # -- shutdown and the log --------------------------------------------------------------------

    def _drain_at_shutdown(self) -> None:
        deadline = self._queue.shutdown_deadline
        reserve = 0.0
        if self.spool is not None:
            reserve = min(SPILL_RESERVE_S, max(deadline - time.monotonic(), 0.0) / 4)
        send_until = deadline - reserve
        while self._queue.queued():
            now = time.monotonic()
            if self._retry.retry_at > now:
                # With a spool, an outage at exit goes to disk at once; without, wait if there is time.
                if self.spool is not None or self._retry.retry_at >= send_until:
                    break
                time.sleep(self._retry.seconds_left(now))
                continue
            if now >= send_until:
                break
            batch = self._queue.take_batch(sending=True)
            timeout = None
            if isinstance(self.exporter, OtlpHttpSender):
                timeout = min(self.exporter.timeout_s, send_until - now)
            self._settle(batch, self._deliver(batch, timeout_s=timeout))
        self.spill_all()

    def _log_losses(self) -> None:
        stats = self._queue.stats()
        losses = stats.losses()
        lost = sum(losses.values())
        if lost <= self._lost_logged or not self._loss_log.open():
            return
        self._lost_logged = lost
        logger.warning(
            "tokentrail: could not export spans (%s; last error: %s); logged at most once a minute, "
            "see tokentrail.export_stats()",
            ", ".join(f"{reason} {count}" for reason, count in losses.items()),
            stats.last_export_error,
        )
