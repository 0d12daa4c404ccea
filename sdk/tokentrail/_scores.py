"""`tokentrail.score(...)`: feedback and evaluation scores on a trace or a span, sent off the app's thread.

A score is checked and queued on the caller's thread (never blocking, never raising) and posted
as JSON to the collector's `POST /api/scores` by a daemon worker, in batches, to the endpoint and
with the API key of `init()` (also when spans go to an `exporter=` of the application's). The queue
is small and bounded: a full queue drops the score and counts it. A post the collector may take
later (no connection, 429, 502, 503, 504) is tried again, as spans are, after the collector's
`Retry-After` or a jittered back-off, up to MAX_SEND_ATTEMPTS times; a score is idempotent by its
id, so a retry after a lost answer stores nothing twice. What still fails is dropped and counted;
`score_stats()` shows the counts and `flush()` waits for what is queued.

Accounting, once nothing is pending: ``enqueued == sent + dropped`` (invalid scores and scores
given before `init()` are counted apart: they never reach the queue).
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value

from tokentrail import semconv
from tokentrail._config import Settings
from tokentrail._internal import CAPTURE, IntervalGate, logger
from tokentrail._otlp import RETRYABLE_STATUSES
from tokentrail._retry import Backoff, parse_retry_after

SCORES_PATH = "/api/scores"
MAX_QUEUE_SIZE = 1_000
MAX_BATCH_SIZE = 100
SEND_INTERVAL_S = 1.0
POST_TIMEOUT_S = 5.0
# Tries of one batch before it is dropped: with the default back-off, about a minute at most
# (a collector's Retry-After, capped at _retry.RETRY_AFTER_MAX_S, can make it longer).
MAX_SEND_ATTEMPTS = 6
RETRY_BASE_S = 1.0
RETRY_CAP_S = 30.0
MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 1_000
MAX_COMMENT_CHARS = 10_000
FAILURE_LOG_INTERVAL_S = 60.0

ScoreValue = float | int | bool | str
SourceName = Literal["user", "human", "model", "rule"]

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_SOURCES = frozenset(source.value for source in semconv.ScoreSource)


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """Score delivery counts since the last `init()`; once flushed, ``enqueued == sent + dropped``."""

    enqueued: int = 0
    """Valid scores handed to the queue, whether it had room or not."""
    sent: int = 0
    """Scores the collector accepted."""
    dropped_queue_full: int = 0
    dropped_send_failed: int = 0
    dropped_at_shutdown: int = 0
    invalid: int = 0
    """Scores refused before queueing (bad name, value, source or ids; no trace to score)."""
    not_initialised: int = 0
    """Scores given while tokentrail was not initialised (before `init()` or after `shutdown()`)."""
    last_error: str | None = None

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_send_failed + self.dropped_at_shutdown

    @property
    def pending(self) -> int:
        return self.enqueued - self.sent - self.dropped


class _ScoreSender:
    """The bounded queue and its worker; one per `init()`."""

    def __init__(self, url: str, api_key: str | None) -> None:
        self._url = url
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._failure_log = IntervalGate(FAILURE_LOG_INTERVAL_S)
        self._counts_before_fork: ScoreStats | None = None
        self._reset()

    def _reset(self) -> None:
        """Fresh state and worker (at start, and in a forked child, whose copied locks may be held)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._queue: deque[dict[str, object]] = deque()
        self._stopping = False
        self._enqueued = self._accepted = self._sent = 0
        self._dropped_queue_full = self._dropped_send_failed = self._dropped_at_shutdown = 0
        self._last_error: str | None = None
        self._backoff = Backoff(base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
        self._retry_at = 0.0  # monotonic time before which the worker does not post again
        # Started by the first score, so that an app that never scores runs no thread for it.
        self._worker: threading.Thread | None = None

    def _ensure_worker(self) -> None:
        """Start the worker if it is not running (called with the lock held)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="tokentrail-scores", daemon=True)
            self._worker.start()

    # -- the application's side ------------------------------------------------------------------

    def offer(self, payload: dict[str, object]) -> None:
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            self._enqueued += 1
            if self._stopping:
                self._dropped_at_shutdown += 1
                return
            if len(self._queue) >= MAX_QUEUE_SIZE:
                self._dropped_queue_full += 1
                return
            self._queue.append(payload)
            self._accepted += 1
            self._ensure_worker()
            full_batch = len(self._queue) >= MAX_BATCH_SIZE
        if full_batch:
            self._wake.set()

    def stats(self) -> ScoreStats:
        with self._lock:
            return ScoreStats(
                enqueued=self._enqueued,
                sent=self._sent,
                dropped_queue_full=self._dropped_queue_full,
                dropped_send_failed=self._dropped_send_failed,
                dropped_at_shutdown=self._dropped_at_shutdown,
                last_error=self._last_error,
            )

    def flush(self, timeout_s: float) -> bool:
        """Wait until the scores queued before this call are sent or dropped; True if all were sent."""
        worker = self._worker
        if worker is None:
            return True  # nothing was ever queued
        if threading.current_thread() is worker:
            return False
        deadline = time.monotonic() + timeout_s
        with self._lock:
            target = self._accepted
            failures_before = self._dropped_send_failed + self._dropped_at_shutdown
        self._wake.set()
        with self._lock:
            while self._processed() < target and worker.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._progress.wait(remaining)
            failures = self._dropped_send_failed + self._dropped_at_shutdown
            return self._processed() >= target and failures == failures_before

    def shutdown(self, timeout_s: float) -> None:
        """Send what is queued within `timeout_s`, then stop; what is left is counted as dropped."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        self._wake.set()
        worker = self._worker
        if worker is not None and threading.current_thread() is not worker:
            worker.join(max(timeout_s, 0.0))
        with self._lock:
            self._dropped_at_shutdown += len(self._queue)
            self._queue.clear()
            self._progress.notify_all()

    # -- the worker's side -----------------------------------------------------------------------

    def _processed(self) -> int:
        return self._sent + self._dropped_send_failed + self._dropped_at_shutdown

    def _run(self) -> None:
        while True:
            waiting = self._retry_at - time.monotonic()
            self._wake.wait(waiting if waiting > 0 else SEND_INTERVAL_S)
            self._wake.clear()
            with self._lock:
                stopping = self._stopping
            if not stopping and time.monotonic() < self._retry_at:
                continue  # a flush does not cut a back-off short: the collector asked for it
            with CAPTURE:  # the worker must outlive any bug of ours
                self._send_queued(stopping)
            if stopping:
                return

    def _send_queued(self, stopping: bool) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH_SIZE))]
            error, retry_after_s = self._post(batch)
            retry = (
                error is not None
                and retry_after_s is not None
                and not stopping
                and self._backoff.failures + 1 < MAX_SEND_ATTEMPTS
            )
            with self._lock:
                if error is None:
                    self._sent += len(batch)
                    self._backoff.reset()
                elif retry:
                    self._queue.extendleft(reversed(batch))  # first again, in its order
                    self._last_error = error
                else:
                    self._dropped_send_failed += len(batch)
                    self._last_error = error
                    self._backoff.reset()  # the next batch gets its own tries
                self._progress.notify_all()
            if retry:
                assert retry_after_s is not None
                self._retry_at = time.monotonic() + self._backoff.next_delay(retry_after_s or None)
                return
            if error is not None and self._failure_log.open():
                logger.warning(
                    "tokentrail: could not send %d scores (%s); further failures are logged at most "
                    "once a minute, see tokentrail.score_stats()",
                    len(batch),
                    error,
                )

    def _post(self, batch: list[dict[str, object]]) -> tuple[str | None, float | None]:
        """POST one batch: (the failure text, or None when the collector accepted it; and when
        the failure may pass, the seconds the collector asked to wait, 0.0 when it said none)."""
        body = json.dumps(batch, separators=(",", ":")).encode()
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        # Our own HTTP call must not become a span of the app's HTTP instrumentation.
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:  # noqa: S310 - configured endpoint
                response.read()
            return None, None
        except urllib.error.HTTPError as error:
            detail = f"collector answered {error.code}: {error.read(500).decode(errors='replace')}"
            if error.code in RETRYABLE_STATUSES:
                return detail, parse_retry_after(error.headers.get("Retry-After")) or 0.0
            return detail, None
        except (urllib.error.URLError, OSError) as error:  # no connection, reset, timeout
            return f"{type(error).__name__}: {getattr(error, 'reason', error)}", 0.0
        except Exception as error:  # a bad URL and the like: no retry can fix it
            return f"{type(error).__name__}: {error}", None
        finally:
            detach(token)


_lock = threading.Lock()
_sender: _ScoreSender | None = None
_last_stats = ScoreStats()
_invalid = 0
_not_initialised = 0
_invalid_log = IntervalGate(FAILURE_LOG_INTERVAL_S)


def start(settings: Settings) -> None:
    """Called by `init()`: a new sender for the configured endpoint and key (the old one stopped)."""
    global _sender, _invalid, _not_initialised
    stop(timeout_s=5.0)
    with _lock:
        _sender = _ScoreSender(settings.endpoint.rstrip("/") + SCORES_PATH, settings.api_key)
        _invalid = _not_initialised = 0


def stop(*, timeout_s: float) -> None:
    """Called by `shutdown()` and a new `init()`: deliver what is queued, then stop."""
    global _sender, _last_stats
    with _lock:
        sender, _sender = _sender, None
    if sender is not None:
        sender.shutdown(timeout_s)
        _last_stats = sender.stats()


def flush(*, timeout_s: float) -> bool:
    """Called by `tokentrail.flush()`: True when every score queued so far was sent."""
    sender = _sender
    return True if sender is None else sender.flush(timeout_s)


def score_stats() -> ScoreStats:
    """Score delivery counts since the last `init()` (kept after `shutdown()`)."""
    sender = _sender
    base = sender.stats() if sender is not None else _last_stats
    return ScoreStats(
        enqueued=base.enqueued,
        sent=base.sent,
        dropped_queue_full=base.dropped_queue_full,
        dropped_send_failed=base.dropped_send_failed,
        dropped_at_shutdown=base.dropped_at_shutdown,
        invalid=_invalid,
        not_initialised=_not_initialised,
        last_error=base.last_error,
    )


def score(
    name: str,
    value: ScoreValue,
    *,
    trace_id: str | None = None,
    span_id: str | None = None,
    whole_trace: bool = False,
    comment: str | None = None,
    source: semconv.ScoreSource | SourceName = "user",
    score_id: str | None = None,
) -> str | None:
    """Score a trace or a span: `value` is a number, a bool or a category (str).

    Without `trace_id` the score goes on the current span (inside an `@observe`d call), or on its
    whole trace with `whole_trace=True`. With `trace_id` alone it is a score of that trace; add
    `span_id` (16 hex digits) to score one span. `source` says who scored: user, human, model or
    rule. Giving the same `score_id` again replaces the earlier score (upsert).

    Returns the score id, or None when the score was refused (logged and counted in
    `score_stats()`). Never raises and never waits for the network.
    """
    global _invalid, _not_initialised
    with CAPTURE:
        try:
            payload = _payload(name, value, trace_id, span_id, whole_trace, comment, source, score_id)
        except ValueError as error:
            with _lock:
                _invalid += 1
            if _invalid_log.open():
                logger.warning("tokentrail: score refused: %s", error)
            return None
        sender = _sender
        if sender is None:
            with _lock:
                _not_initialised += 1
            if _invalid_log.open():
                logger.warning("tokentrail: score(%r) dropped: call tokentrail.init() first", name)
            return None
        sender.offer(payload)
        return str(payload[semconv.SCORE_ID])
    return None


def _payload(
    name: object,
    value: object,
    trace_id: object,
    span_id: object,
    whole_trace: bool,
    comment: object,
    source: object,
    score_id: object,
) -> dict[str, object]:
    """The JSON object for `POST /api/scores`; ValueError naming what is wrong."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name must be a non-empty str of at most {MAX_NAME_CHARS} characters")
    if isinstance(value, bool):
        pass
    elif isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"a numeric score must be finite, got {value!r}")
        value = float(value)
    elif isinstance(value, str):
        if not value or len(value) > MAX_LABEL_CHARS:
            raise ValueError(f"a categorical score must be 1 to {MAX_LABEL_CHARS} characters")
    else:
        raise ValueError(f"value must be a number, bool or str, not {type(value).__name__}")
    source_name = source.value if isinstance(source, semconv.ScoreSource) else source
    if source_name not in _SOURCES:
        raise ValueError(f"source must be one of {sorted(_SOURCES)}, got {source!r}")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS):
        raise ValueError(f"comment must be a str of at most {MAX_COMMENT_CHARS} characters")
    trace_hex, span_hex = _target(trace_id, span_id, whole_trace)
    if score_id is None:
        score_id = uuid.uuid4().hex
    elif not isinstance(score_id, str) or not 1 <= len(score_id) <= 128:
        raise ValueError("score_id must be a str of 1 to 128 characters")
    return {
        semconv.SCORE_ID: score_id,
        semconv.TRACE_ID: trace_hex,
        semconv.SPAN_ID: span_hex,
        semconv.SCORE_NAME: name,
        semconv.SCORE_VALUE: value,
        semconv.SCORE_COMMENT: comment or "",
        semconv.SCORE_SOURCE: source_name,
        semconv.SCORE_TIMESTAMP: datetime.now(timezone.utc).isoformat(),
    }


def _target(trace_id: object, span_id: object, whole_trace: bool) -> tuple[str, str]:
    """(trace id, span id or "") of what is scored, from the arguments or the current span."""
    if trace_id is None:
        if span_id is not None:
            raise ValueError("span_id needs trace_id")
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            raise ValueError("no current span: pass trace_id (and span_id) to score outside an observed call")
        return format(context.trace_id, "032x"), "" if whole_trace else format(context.span_id, "016x")
    trace_hex = trace_id.lower() if isinstance(trace_id, str) else ""
    if not _TRACE_ID.fullmatch(trace_hex) or trace_hex == "0" * 32:
        raise ValueError(f"trace_id must be 32 hex digits, got {trace_id!r}")
    if span_id is None or whole_trace:
        return trace_hex, ""
    span_hex = span_id.lower() if isinstance(span_id, str) else ""
    if not _SPAN_ID.fullmatch(span_hex) or span_hex == "0" * 16:
        raise ValueError(f"span_id must be 16 hex digits, got {span_id!r}")
    return trace_hex, span_hex
