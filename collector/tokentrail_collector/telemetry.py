"""The collector's own telemetry: counters fed by the routes and a middleware, rendered with the
group-commit writer's stats as Prometheus text exposition (format 0.0.4) for `GET /metrics`.

No project, key or user value becomes a label: labels come from fixed sets (signal, reason, route
template, status class), so a scrape never reveals tenants and the series count stays bounded.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokentrail_collector.storage.errors import Overloaded, StoreUnavailable
from tokentrail_collector.storage.writer import WriterStats

__all__ = ["ACK_BUCKETS_S", "CONTENT_TYPE", "RequestMetrics", "Telemetry", "refusal_reason"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Upper bounds of the acknowledgement-latency histogram, in seconds (+Inf is implied).
ACK_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UNMATCHED_ROUTE = "unmatched"  # requests no route answered: one series, not one per path tried

_REFUSAL_REASONS = {400: "undecodable", 413: "too_large", 415: "unsupported_media_type"}

Labels = tuple[tuple[str, str], ...]


def refusal_reason(status_code: int) -> str:
    """The reason label of an OTLP request refused before decoding, from its status code."""
    return _REFUSAL_REASONS.get(status_code, f"status_{status_code}")


class _Histogram:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * len(ACK_BUCKETS_S)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for index, bound in enumerate(ACK_BUCKETS_S):
            if value <= bound:
                self.buckets[index] += 1


class Telemetry:
    """Thread-safe counters of one collector app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._ack: dict[str, _Histogram] = {}

    # --- feeding -----------------------------------------------------------------------------

    def _add(self, name: str, labels: Labels, amount: float = 1) -> None:
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[labels] = series.get(labels, 0) + amount

    def received(self, signal: str, count: int) -> None:
        """Items (spans, log records, data points) of a decoded OTLP request."""
        if count:
            self._add("ingest_received", (("signal", signal),), count)

    def rejected(self, signal: str, reason: str, count: int) -> None:
        if count:
            self._add("ingest_rejected", (("signal", signal), ("reason", reason)), count)

    def cut(self, signal: str, reason: str, count: int) -> None:
        """Values cut or attributes dropped to fit the input caps, the item itself kept."""
        if count:
            self._add("ingest_cut", (("signal", signal), ("reason", reason)), count)

    def sampling_kept(self, spans_by_reason: Mapping[str, int]) -> None:
        """Spans tail sampling stored, by why (error, slow, expensive, kept_trace, sampled)."""
        for reason, count in spans_by_reason.items():
            if count:
                self._add("sampling_kept", (("reason", reason),), count)

    def sampling_held(self, count: int) -> None:
        """Spans tail sampling held back (sampled away unless their trace is kept later)."""
        if count:
            self._add("sampling_held", (), count)

    def sampling_promoted(self, count: int) -> None:
        """Held spans copied into spans because their trace was kept late (an error, a low score)."""
        if count:
            self._add("sampling_promoted", (), count)

    def refused_request(self, signal: str, reason: str) -> None:
        """An OTLP request refused before its items could be counted (undecodable, too large, ...)."""
        self._add("ingest_refused_requests", (("signal", signal), ("reason", reason)))

    def rate_limited(self) -> None:
        self._add("rate_limited", ())

    def retention_pass(self, removed: Mapping[str, tuple[int, int]]) -> None:
        """A retention pass that succeeded: rows removed and month partitions dropped, per table."""
        self._add("retention_passes", (("outcome", "ok"),))
        for table, (rows, partitions) in removed.items():
            self._add("retention_rows_removed", (("table", table),), rows)
            self._add("retention_partitions_dropped", (("table", table),), partitions)

    def retention_pass_failed(self) -> None:
        self._add("retention_passes", (("outcome", "failed"),))

    def request(self, route: str, status_code: int) -> None:
        self._add("http_requests", (("route", route), ("status_class", f"{status_code // 100}xx")))

    @contextmanager
    def committing(self, signal: str, count: int) -> Iterator[None]:
        """Wraps the wait for the writer: stored items and acknowledgement latency on success,
        rejected items by reason when the writer refuses or fails (the exception goes on)."""
        started = time.monotonic()
        try:
            yield
        except Overloaded:
            self.rejected(signal, "overloaded", count)
            raise
        except StoreUnavailable:
            self.rejected(signal, "store_unavailable", count)
            raise
        except BaseException:
            self.rejected(signal, "error", count)
            raise
        elapsed = time.monotonic() - started
        self._add("ingest_stored", (("signal", signal),), count)
        with self._lock:
            self._ack.setdefault(signal, _Histogram()).observe(elapsed)

    # --- exposition --------------------------------------------------------------------------

    def render(self, writer: WriterStats) -> str:
        """Everything, in Prometheus text format."""
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
            ack = {signal: (list(h.buckets), h.count, h.sum) for signal, h in self._ack.items()}
        out: list[str] = []
        for key, name, help_text in _COUNTER_FAMILIES:
            # Labelled series appear with their first count; the unlabelled one is shown from 0.
            _family(out, name, "counter", help_text, counters.get(key, {(): 0} if key in _UNLABELLED else {}))
        _ack_histogram(out, ack)
        _writer_families(out, writer)
        return "\n".join(out) + "\n"


# (counter key, metric name, help) of the counters Telemetry keeps.
_COUNTER_FAMILIES = (
    ("ingest_received", "tokentrail_ingest_received_total",
     "Items (spans, log records, data points) in decoded OTLP requests."),
    ("ingest_stored", "tokentrail_ingest_stored_total", "Items committed to the store and acknowledged."),
    ("ingest_rejected", "tokentrail_ingest_rejected_total",
     "Items not stored, by reason (invalid, skipped, overloaded, store_unavailable, error)."),
    ("ingest_cut", "tokentrail_ingest_cut_total",
     "Values cut or attributes dropped to fit the input caps (the item kept), by reason (truncated, refused_key)."),
    ("ingest_refused_requests", "tokentrail_ingest_refused_requests_total",
     "OTLP requests refused before decoding, by reason."),
    ("http_requests", "tokentrail_http_requests_total", "HTTP requests by route template and status class."),
    ("rate_limited", "tokentrail_rate_limited_total", "Requests refused with 429 by the per-key rate limit."),
    ("sampling_kept", "tokentrail_sampling_kept_spans_total",
     "Spans tail sampling stored, by reason (error, slow, expensive, kept_trace, sampled)."),
    ("sampling_held", "tokentrail_sampling_held_spans_total",
     "Spans tail sampling held back for the hold window; those never promoted were sampled away."),
    ("sampling_promoted", "tokentrail_sampling_promoted_spans_total",
     "Held spans stored after all because their trace was kept late (an error, a low score)."),
    ("retention_passes", "tokentrail_retention_passes_total", "Retention passes, by outcome (ok, failed)."),
    ("retention_rows_removed", "tokentrail_retention_rows_removed_total",
     "Rows removed by retention (deleted, or in dropped month partitions), by table."),
    ("retention_partitions_dropped", "tokentrail_retention_partitions_dropped_total",
     "Month partitions dropped whole by retention, by table."),
)  # fmt: skip
_UNLABELLED = frozenset({"rate_limited"})


def _writer_families(out: list[str], stats: WriterStats) -> None:
    plain: tuple[tuple[str, str, str, float | None], ...] = (
        ("tokentrail_writer_pending_rows", "gauge",
         "Rows queued or being committed, not yet acknowledged.", stats.pending_rows),
        ("tokentrail_writer_rows_committed_total", "counter", "Rows committed.", stats.rows_committed),
        ("tokentrail_writer_batches_committed_total", "counter",
         "Inserts committed (each holds the rows of many requests).", stats.batches_committed),
        ("tokentrail_writer_requests_committed_total", "counter",
         "Requests whose rows were committed.", stats.requests_committed),
        ("tokentrail_writer_failed_batches_total", "counter", "Inserts that failed.", stats.failed_batches),
        ("tokentrail_writer_failed_rows_total", "counter", "Rows of inserts that failed.", stats.failed_rows),
        ("tokentrail_writer_overloaded_requests_total", "counter",
         "Requests refused because the writer was behind.", stats.rejected_requests),
        ("tokentrail_writer_last_commit_seconds", "gauge", "Duration of the last insert.",
         None if stats.last_commit_latency_ms is None else stats.last_commit_latency_ms / 1000),
        ("tokentrail_writer_last_batch_rows", "gauge", "Rows of the last insert.", stats.last_batch_rows),
    )  # fmt: skip
    for name, kind, help_text, value in plain:
        # No commit yet: the gauge is absent rather than a made-up 0.
        _family(out, name, kind, help_text, {} if value is None else {(): value})


def _ack_histogram(out: list[str], ack: dict[str, tuple[list[int], int, float]]) -> None:
    name = "tokentrail_ingest_ack_seconds"
    out.append(f"# HELP {name} Time an OTLP request waited for its rows to be committed.")
    out.append(f"# TYPE {name} histogram")
    for signal in sorted(ack):
        buckets, count, total = ack[signal]
        for bound, cumulative in zip(ACK_BUCKETS_S, buckets, strict=True):
            out.append(f"{name}_bucket{_labels((('signal', signal), ('le', _number(bound))))} {cumulative}")
        out.append(f"{name}_bucket{_labels((('signal', signal), ('le', '+Inf')))} {count}")
        out.append(f"{name}_sum{_labels((('signal', signal),))} {_number(total)}")
        out.append(f"{name}_count{_labels((('signal', signal),))} {count}")


def _family(out: list[str], name: str, kind: str, help_text: str, series: dict[Labels, float]) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels in sorted(series):
        out.append(f"{name}{_labels(labels)} {_number(series[labels])}")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 2**53):
        return str(int(value))
    return repr(float(value))


class RequestMetrics:
    """ASGI middleware counting HTTP requests by route template (not raw path) and status class."""

    def __init__(self, app: ASGIApp, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception before the response started ends as a 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            # The router puts the matched route into the scope; its template keeps cardinality bounded.
            route = scope.get("route")
            path = getattr(route, "path", None)
            self.telemetry.request(path if isinstance(path, str) else _UNMATCHED_ROUTE, status)
