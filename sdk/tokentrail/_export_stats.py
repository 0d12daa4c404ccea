"""`ExportStats`: where every span handed to the export queue went, by reason.

Two ledgers. Spans of this process: once nothing is pending,
``enqueued == exported + rejected_by_collector + spooled + dropped``. Files in the spool (written by
this process or an earlier one): ``replayed`` and ``replay_rejected`` count the spans they held
once the collector answered; what is not counted there is still on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class ExportStats:
    """Export counts since the last `init()`; see `pending` for the accounting."""

    enqueued: int = 0
    """Spans handed to the export queue, whether it had room or not."""
    exported: int = 0
    """Spans the collector accepted, sent from memory."""
    rejected_by_collector: int = 0
    """Spans the collector refused in a partial success (invalid content; never sent again)."""
    spooled: int = 0
    """Spans written to the on-disk spool (to be replayed, by this process or the next)."""
    dropped_queue_full: int = 0
    """The memory buffer was full of spans waiting for export (a burst faster than export)."""
    dropped_buffer_full: int = 0
    """The memory buffer was full of spans waiting for the collector to come back (the newest are
    dropped, the spool being off or full)."""
    dropped_spool_full: int = 0
    """Spans that had to leave memory (at shutdown) and found the spool full or unwritable."""
    dropped_permanent_error: int = 0
    """Batches the collector refused for good (a 4xx other than 429, for instance a bad key)."""
    dropped_export_failed: int = 0
    """Batches an application-supplied `exporter=` reported as failed (it does its own retrying)."""
    dropped_at_shutdown: int = 0
    """Spans still in memory when `shutdown()` gave up, with the spool off."""
    retries: int = 0
    """Retryable failures (429/502/503/504, connection errors, timeouts), each followed by another try."""
    replayed: int = 0
    """Spans from spool files that the collector accepted."""
    replay_rejected: int = 0
    """Spans from spool files the collector refused (partial success, or the whole file)."""
    spool_files_corrupt: int = 0
    """Spool files skipped and removed because they were not a whole batch."""
    export_batches: int = 0
    """Requests (or `exporter.export()` calls) made, successful or not, replays included."""
    last_export_error: str | None = None

    @property
    def dropped(self) -> int:
        """Spans of this process lost for good, every reason counted."""
        return (
            self.dropped_queue_full
            + self.dropped_buffer_full
            + self.dropped_spool_full
            + self.dropped_permanent_error
            + self.dropped_export_failed
            + self.dropped_at_shutdown
        )

    @property
    def pending(self) -> int:
        """Spans of this process in memory right now (queued, waiting for a retry, or being sent)."""
        return self.enqueued - self.exported - self.rejected_by_collector - self.spooled - self.dropped

    def losses(self) -> dict[str, int]:
        """The counts of spans lost for good (and of corrupt spool files) that are not zero, by reason."""
        counts = self.as_dict()
        return {name: counts[name] for name in _LOSS_COUNTS if counts[name]}

    def as_dict(self) -> dict[str, int]:
        """Every count by name, with `dropped` and `pending`: ready for a log line or a metric.

        For instance, with prometheus_client in the application::

            spans = Gauge("tokentrail_export_spans", "tokentrail span export counts", ["count"])
            for name, value in tokentrail.export_stats().as_dict().items():
                spans.labels(name).set(value)
        """
        counts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "last_export_error"}
        counts["dropped"] = self.dropped
        counts["pending"] = self.pending
        return counts


_LOSS_COUNTS = tuple(
    f.name
    for f in fields(ExportStats)
    if f.name.startswith("dropped_")
    or f.name in ("rejected_by_collector", "replay_rejected", "spool_files_corrupt")
)
