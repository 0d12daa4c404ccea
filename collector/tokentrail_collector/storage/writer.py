"""Group commit: rows of concurrent requests committed together, acknowledged only after commit.

Request handlers hand their rows to `GroupCommitWriter.submit()` and wait; one writer thread
takes everything queued (up to `max_batch_rows`, whole requests only), waits at most
`max_linger_ms` for more (less when requests stop arriving), and commits it all in ONE insert
per table (spans by default; a request names another table of `store.TABLE_COLUMNS` with
`table=`). Then every request is answered: success, or `StoreUnavailable` for all the requests
of a failed insert (nothing of that insert is written).
The event loop only appends to a queue under a short lock; it never waits on the store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass

from tokentrail_collector.storage import sql
from tokentrail_collector.storage.errors import Overloaded, StoreUnavailable
from tokentrail_collector.storage.store import TABLE_COLUMNS, Store

logger = logging.getLogger(__name__)

Rows = Sequence[Mapping[str, object]]

# A batch closes early when no request arrived for this long (closed-loop senders resubmit
# within a millisecond or two of their acknowledgement).
_QUIET_S = 0.002


@dataclass(frozen=True)
class WriterStats:
    rows_committed: int
    batches_committed: int
    requests_committed: int
    pending_rows: int  # queued or being committed, not yet acknowledged
    failed_batches: int
    failed_rows: int
    rejected_requests: int  # refused with Overloaded
    last_commit_latency_ms: float | None  # duration of the last insert, successful or not
    last_batch_rows: int


@dataclass
class _Request:
    rows: Rows
    future: Future[None]
    table: str


class GroupCommitWriter:
    """Commits rows of many requests in few large inserts, from a single writer thread."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch_rows: int = 20_000,
        max_linger_ms: float = 20,
        max_pending_rows: int = 200_000,
    ) -> None:
        if max_batch_rows < 1 or max_pending_rows < 1 or max_linger_ms < 0:
            raise ValueError("max_batch_rows and max_pending_rows must be >= 1, max_linger_ms >= 0")
        self._store = store
        self._max_batch_rows = max_batch_rows
        self._linger_s = max_linger_ms / 1000
        self._max_pending_rows = max_pending_rows

        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[_Request] = deque()
        self._queued_rows = 0
        self._first_queued_at = 0.0
        self._last_queued_at = 0.0
        self._last_batch_taken_at = float("-inf")
        self._pending_rows = 0
        self._running = False
        self._stopping = False
        self._thread: threading.Thread | None = None

        self._rows_committed = 0
        self._batches_committed = 0
        self._requests_committed = 0
        self._failed_batches = 0
        self._failed_rows = 0
        self._rejected_requests = 0
        self._last_latency_ms: float | None = None
        self._last_batch_rows = 0
        self._rows_per_s = 0.0  # smoothed commit rate, for Retry-After

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._running:
                return
            if self._stopping:
                raise RuntimeError("a stopped GroupCommitWriter cannot be restarted")
            self._running = True
            self._thread = threading.Thread(target=self._run, name="tokentrail-group-commit", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Commit what is pending, then stop. False when that did not finish within `timeout_s`;
        requests still queued then are failed with StoreUnavailable."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if not thread.is_alive():
                return True
        with self._cond:
            abandoned = list(self._queue)
            self._queue.clear()
            self._pending_rows -= self._queued_rows
            self._queued_rows = 0
        for request in abandoned:
            _settle(request.future, StoreUnavailable("the writer stopped before these rows were committed"))
        return thread is None and not abandoned

    # --- submitting --------------------------------------------------------------------------

    async def submit(self, rows: Rows, *, table: str = sql.SPANS_TABLE) -> None:
        """Return once `rows` are committed to `table`. Raise Overloaded at once when the writer is
        too far behind, StoreUnavailable when the insert failed. The rows must not be changed meanwhile."""
        if not rows:
            return
        await asyncio.wrap_future(self._enqueue(rows, table))

    def submit_blocking(
        self, rows: Rows, timeout_s: float | None = None, *, table: str = sql.SPANS_TABLE
    ) -> None:
        """`submit` for callers outside an event loop; TimeoutError when not committed in time
        (the rows may still be committed later)."""
        if not rows:
            return
        self._enqueue(rows, table).result(timeout_s)

    def _enqueue(self, rows: Rows, table: str) -> Future[None]:
        if table not in TABLE_COLUMNS:
            raise ValueError(f"the writer fills only {sorted(TABLE_COLUMNS)}, not {table!r}")
        future: Future[None] = Future()
        count = len(rows)
        with self._cond:
            if not self._running or self._stopping:
                raise StoreUnavailable("the group-commit writer is not running")
            if self._pending_rows + count > self._max_pending_rows:
                self._rejected_requests += 1
                raise Overloaded(self._retry_after_locked())
            now = time.monotonic()
            if not self._queue:
                self._first_queued_at = now
            self._last_queued_at = now
            self._queue.append(_Request(rows, future, table))
            self._queued_rows += count
            self._pending_rows += count
            self._cond.notify()
        return future

    def _retry_after_locked(self) -> float:
        rate = self._rows_per_s if self._rows_per_s > 0 else 10_000.0
        return max(1.0, min(30.0, self._pending_rows / rate))

    # --- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._commit(batch)
            except BaseException:  # never let the writer die with requests waiting
                logger.exception("unexpected error in the group-commit writer")
                for request in batch:
                    _settle(request.future, StoreUnavailable("internal error in the group-commit writer"))

    def _next_batch(self) -> list[_Request] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            # Linger for rows of concurrent requests, unless a full batch is there: at most
            # max_linger_ms after the first request, and less once requests stop coming
            # (_QUIET_S without one), but never starting inserts closer than max_linger_ms
            # apart, which bounds the parts created per second.
            while self._queued_rows < self._max_batch_rows and not self._stopping:
                until = min(
                    self._first_queued_at + self._linger_s,
                    max(self._last_queued_at + _QUIET_S, self._last_batch_taken_at + self._linger_s),
                )
                remaining = until - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch: list[_Request] = []
            rows = 0
            while self._queue:
                count = len(self._queue[0].rows)
                if batch and rows + count > self._max_batch_rows:
                    break
                request = self._queue.popleft()
                self._queued_rows -= count
                if request.future.set_running_or_notify_cancel():
                    batch.append(request)
                    rows += count
                else:  # its caller went away before the commit started: drop it
                    self._pending_rows -= count
            self._last_batch_taken_at = time.monotonic()
            if self._queue:
                self._first_queued_at = self._last_batch_taken_at
            return batch

    def _commit(self, batch: list[_Request]) -> None:
        by_table: dict[str, list[_Request]] = {}
        for request in batch:
            by_table.setdefault(request.table, []).append(request)
        for table, requests in by_table.items():
            self._commit_table(table, requests)

    def _insert(self, table: str, rows: Rows) -> None:
        # Spans keep their own entry point, the one a store stand-in needs to provide.
        if table == sql.SPANS_TABLE:
            self._store.insert_spans(rows)
        else:
            self._store.insert_table(table, rows)

    def _commit_table(self, table: str, batch: list[_Request]) -> None:
        rows: list[Mapping[str, object]] = []
        for request in batch:
            rows.extend(request.rows)
        started = time.monotonic()
        error: StoreUnavailable | None = None
        try:
            self._insert(table, rows)
        except StoreUnavailable as exc:
            error = exc
        except Exception as exc:
            error = StoreUnavailable(f"insert into {table} failed: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
        elapsed = time.monotonic() - started
        with self._cond:
            self._pending_rows -= len(rows)
            self._last_latency_ms = elapsed * 1000
            self._last_batch_rows = len(rows)
            if error is None:
                self._rows_committed += len(rows)
                self._batches_committed += 1
                self._requests_committed += len(batch)
                rate = len(rows) / max(elapsed, 1e-6)
                self._rows_per_s = rate if self._rows_per_s == 0 else 0.8 * self._rows_per_s + 0.2 * rate
            else:
                self._failed_batches += 1
                self._failed_rows += len(rows)
        if error is not None:
            logger.warning("group commit of %d rows into %s failed: %s", len(rows), table, error)
        for request in batch:
            # A fresh exception per request: one instance raised in many tasks would collect
            # all of their tracebacks.
            _settle(request.future, None if error is None else _fresh(error))

    # --- observation -------------------------------------------------------------------------

    def stats(self) -> WriterStats:
        with self._cond:
            return WriterStats(
                rows_committed=self._rows_committed,
                batches_committed=self._batches_committed,
                requests_committed=self._requests_committed,
                pending_rows=self._pending_rows,
                failed_batches=self._failed_batches,
                failed_rows=self._failed_rows,
                rejected_requests=self._rejected_requests,
                last_commit_latency_ms=self._last_latency_ms,
                last_batch_rows=self._last_batch_rows,
            )


def _fresh(error: StoreUnavailable) -> StoreUnavailable:
    copy = StoreUnavailable(error.message)
    copy.__cause__ = error.__cause__
    return copy


def _settle(future: Future[None], error: BaseException | None) -> None:
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:  # already settled or cancelled
        pass
