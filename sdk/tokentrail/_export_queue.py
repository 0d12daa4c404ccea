"""A bounded span queue drained by a daemon thread, where every span is accounted for.

The application's thread only appends (never blocks on export, never touches the network or the
disk, never raises); a full queue drops the newest span and counts it. What the worker does with
the queue (batches, retries through an outage, the on-disk spool) is `_export_worker`'s. After
`fork` the child gets a fresh worker and empty queue (the parent's spans stay the parent's).

Accounting (`ExportStats`), once nothing is pending:
``enqueued == exported + rejected_by_collector + spooled + dropped``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from opentelemetry.sdk.trace import ReadableSpan

from tokentrail._export_stats import ExportStats
from tokentrail._export_worker import ExportWorker, Transport
from tokentrail._internal import reinit_in_forked_child, report_internal_error
from tokentrail._spool import Spool

__all__ = ["ExportQueue", "ExportStats", "Transport"]

_EXPORTER_SHUTDOWN_GRACE_S = 1.0


@dataclass(frozen=True, slots=True)
class WakeUp:
    """Why the worker woke up, and the state it woke to."""

    by_signal: bool
    """Woken by `offer`, `flush` or `shutdown` rather than by its timer."""
    stopping: bool
    flushing: bool
    flush_calls: int
    """How many `flush()` calls there have been: a new one may cut a back-off short."""


class ExportQueue:
    def __init__(
        self,
        exporter: Transport,
        *,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_s: float,
        spool: Spool | None = None,
        exporter_factory_after_fork: Callable[[], Transport] | None = None,
    ) -> None:
        self._max_queue_size = max_queue_size
        self.batch_size = max_export_batch_size
        self._schedule_delay_s = schedule_delay_s
        self._exporter_factory_after_fork = exporter_factory_after_fork
        self._queue: deque[ReadableSpan] = deque()
        self._init_sync_state()
        self._worker = ExportWorker(self, exporter, spool, max_queue_size=max_queue_size)
        self._worker.start()
        reinit_in_forked_child(self._reinit_in_child)

    def _init_sync_state(self) -> None:
        self.lock = threading.Lock()
        self._progress = threading.Condition(self.lock)
        self._wake = threading.Event()
        self._stopping = False
        self.shutdown_deadline = float("inf")
        self._flush_requests = 0
        self._flush_calls = 0
        # Counted on the application's side (hot path: plain attributes).
        self._enqueued = 0
        self._accepted = 0
        self._dropped_queue_full = 0
        self._dropped_buffer_full = 0
        self._refused_while_stopping = 0
        # Counted by the worker, per batch.
        self._ledger = ExportStats()
        self._in_outage = False
        # The batch the worker is sending; shutdown takes it back if the worker is stuck with it.
        self._in_flight: list[ReadableSpan] | None = None
        self._wake_at = self.batch_size  # how many queued spans make `offer` wake the worker

    # -- the application's side ------------------------------------------------------------------

    def offer(self, span: ReadableSpan) -> None:
        """Queue `span` for export, or drop and count it. Never blocks on export, never raises."""
        with self.lock:
            self._enqueued += 1
            if self._stopping:
                self._refused_while_stopping += 1
                return
            if len(self._queue) >= self._max_queue_size:
                if self._in_outage:
                    self._dropped_buffer_full += 1
                else:
                    self._dropped_queue_full += 1
                return
            self._queue.append(span)
            self._accepted += 1
            queued = len(self._queue)
        if queued >= self._wake_at and not self._wake.is_set():
            self._wake.set()

    def stats(self) -> ExportStats:
        with self.lock:
            return replace(
                self._ledger,
                enqueued=self._enqueued,
                dropped_queue_full=self._dropped_queue_full,
                dropped_buffer_full=self._dropped_buffer_full,
                dropped_at_shutdown=self._ledger.dropped_at_shutdown + self._refused_while_stopping,
            )

    def flush(self, timeout_s: float) -> bool:
        """Wait until every span queued before this call is exported, spooled or dropped.

        True only if all of them were delivered within `timeout_s`. During an outage a flush
        cuts the worker's own back-off short once (never a `Retry-After` the collector gave).
        """
        if self._worker.is_current_thread():
            return False  # called from inside an export: waiting on ourselves would deadlock
        deadline = time.monotonic() + timeout_s
        with self.lock:
            target = self._accepted
            undelivered_before = self._undelivered()
            self._flush_requests += 1
            self._flush_calls += 1
        self._wake.set()
        with self.lock:
            try:
                while self._processed() < target and not self._stopped_with_empty_queue():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._progress.wait(remaining)
                return self._processed() >= target and self._undelivered() == undelivered_before
            finally:
                self._flush_requests -= 1

    @property
    def exporter(self) -> Transport:
        return self._worker.exporter

    @property
    def spool(self) -> Spool | None:
        return self._worker.spool

    @property
    def schedule_delay_s(self) -> float:
        return self._schedule_delay_s

    def shutdown(self, timeout_s: float, *, shutdown_exporter: bool = True) -> None:
        """Deliver what is queued within `timeout_s`, then stop; what is left goes to the spool,
        or is counted as dropped at shutdown.

        `shutdown_exporter=False` leaves the exporter usable, for a new queue that reuses it.
        """
        with self.lock:
            if self._stopping:
                return
            self._stopping = True
            self.shutdown_deadline = time.monotonic() + timeout_s
        self._wake.set()
        on_worker = self._worker.is_current_thread()
        if not on_worker:
            self._worker.join(max(self.shutdown_deadline - time.monotonic(), 0.0))
        if shutdown_exporter:
            try:
                # Also ends a user exporter's own retry back-off, so a stuck worker finishes quickly.
                self._worker.exporter.shutdown()
            except Exception as error:
                report_internal_error(error)
        if not on_worker:
            self._worker.join(_EXPORTER_SHUTDOWN_GRACE_S)
            if self._worker.is_alive():
                # Stuck in a request (a collector that does not answer): its batch is ours again;
                # should the request still succeed, the collector counts those spans once anyway.
                with self.lock:
                    stranded, self._in_flight = self._in_flight, None
                    self._queue.extendleft(reversed(stranded or []))
            self._worker.spill_all()
        with self.lock:
            self._ledger = replace(
                self._ledger, dropped_at_shutdown=self._ledger.dropped_at_shutdown + len(self._queue)
            )
            self._queue.clear()
            self._progress.notify_all()

    # -- the worker's side -----------------------------------------------------------------------

    def wait_for_work(self, timeout_s: float) -> WakeUp:
        by_signal = self._wake.wait(timeout_s)
        self._wake.clear()
        with self.lock:
            return WakeUp(by_signal, self._stopping, self._flush_requests > 0, self._flush_calls)

    def take_batch(self, *, full_only: bool = False, sending: bool = False) -> list[ReadableSpan]:
        """The oldest spans, up to a batch; none when `full_only` and less than a batch waits.

        `sending`: the batch is in flight until `end_send()`.
        """
        with self.lock:
            queued = len(self._queue)
            if queued == 0 or (full_only and queued < self.batch_size):
                return []
            batch = [self._queue.popleft() for _ in range(min(queued, self.batch_size))]
            if sending:
                self._in_flight = batch
            return batch

    def end_send(self, *, put_back: bool) -> bool:
        """The in-flight batch came back (to the head of the queue if `put_back`, in one step, so
        that shutdown always finds it somewhere); False if shutdown took it meanwhile."""
        with self.lock:
            batch, self._in_flight = self._in_flight, None
            if batch is not None and put_back:
                self._queue.extendleft(reversed(batch))
            return batch is not None

    def put_back(self, batch: Sequence[ReadableSpan]) -> None:
        """Return a batch to the head of the queue, in its order (it goes out first next time)."""
        with self.lock:
            self._queue.extendleft(reversed(batch))

    def queued(self) -> int:
        with self.lock:
            return len(self._queue)

    def set_outage(self, in_outage: bool, *, wake_at: int) -> None:
        """What `offer` should know: whether spans wait for the collector, and when to wake the worker."""
        with self.lock:
            self._in_outage = in_outage
            self._wake_at = wake_at

    def count(self, *, last_export_error: str | None = None, **increments: int) -> None:
        """Add to the worker's counts, and keep `last_export_error` if one is given."""
        with self.lock:
            ledger = self._ledger
            changes: dict[str, int | str] = {
                name: getattr(ledger, name) + n for name, n in increments.items()
            }
            if last_export_error is not None:
                changes["last_export_error"] = last_export_error
            self._ledger = replace(ledger, **changes)  # type: ignore[arg-type]
            self._progress.notify_all()

    # -- accounting (with the lock held) ---------------------------------------------------------

    def _undelivered(self) -> int:
        ledger = self._ledger
        return (
            ledger.rejected_by_collector
            + ledger.spooled
            + ledger.dropped_spool_full
            + ledger.dropped_permanent_error
            + ledger.dropped_export_failed
            + ledger.dropped_at_shutdown
        )

    def _processed(self) -> int:
        """Accepted spans that left memory, whichever way."""
        return self._ledger.exported + self._undelivered()

    def _stopped_with_empty_queue(self) -> bool:
        return self._stopping and not self._queue and not self._worker.is_alive()

    def _reinit_in_child(self) -> None:
        """After `fork`, in the child: new locks, empty queue, zeroed counts, a new worker."""
        self._queue.clear()
        stopped = self._stopping
        self._init_sync_state()
        self._stopping = stopped
        if stopped:
            return
        exporter = self._worker.exporter
        if self._exporter_factory_after_fork is not None:
            # The parent's HTTP connections were copied into the child; never share them.
            exporter = self._exporter_factory_after_fork()
        spool = self._worker.spool
        if spool is not None:
            spool = Spool(spool.directory, spool.max_bytes)  # its lock may have been held at fork
        self._worker = ExportWorker(self, exporter, spool, max_queue_size=self._max_queue_size)
        self._worker.start()
