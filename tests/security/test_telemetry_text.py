"""The exposition text itself: valid lines, escaped labels, no made-up zeros."""

from __future__ import annotations

import pytest

from tests.security.conftest import parse_prometheus, sample
from tokentrail_collector.storage.errors import Overloaded, StoreUnavailable
from tokentrail_collector.storage.writer import WriterStats
from tokentrail_collector.telemetry import Telemetry, refusal_reason

IDLE = WriterStats(
    rows_committed=0,
    batches_committed=0,
    requests_committed=0,
    pending_rows=0,
    failed_batches=0,
    failed_rows=0,
    rejected_requests=0,
    last_commit_latency_ms=None,
    last_batch_rows=0,
)


def test_fresh_collector_text() -> None:
    text = Telemetry().render(IDLE)
    samples = parse_prometheus(text)
    assert sample(samples, "tokentrail_rate_limited_total") == 0
    assert ("tokentrail_rate_limited_total", frozenset()) in samples
    # No commit yet: the last-commit gauge is absent, not 0.
    assert not any(name == "tokentrail_writer_last_commit_seconds" for name, _ in samples)
    assert "# TYPE tokentrail_ingest_ack_seconds histogram" in text


def test_label_values_are_escaped() -> None:
    telemetry = Telemetry()
    telemetry.request('/odd"route\\x\n', 204)
    text = telemetry.render(IDLE)
    assert 'route="/odd\\"route\\\\x\\n"' in text
    parse_prometheus(text)  # every line still one valid sample


def test_committing_counts_by_outcome() -> None:
    telemetry = Telemetry()
    with telemetry.committing("traces", 5):
        pass
    with pytest.raises(Overloaded), telemetry.committing("traces", 7):
        raise Overloaded(2.0)
    with pytest.raises(StoreUnavailable), telemetry.committing("logs", 2):
        raise StoreUnavailable("down")
    samples = parse_prometheus(telemetry.render(IDLE))
    assert sample(samples, "tokentrail_ingest_stored_total", signal="traces") == 5
    assert sample(samples, "tokentrail_ingest_rejected_total", signal="traces", reason="overloaded") == 7
    assert sample(samples, "tokentrail_ingest_rejected_total", signal="logs", reason="store_unavailable") == 2
    assert sample(samples, "tokentrail_ingest_ack_seconds_count", signal="traces") == 1


def test_refusal_reasons() -> None:
    assert refusal_reason(400) == "undecodable"
    assert refusal_reason(413) == "too_large"
    assert refusal_reason(415) == "unsupported_media_type"
    assert refusal_reason(422) == "status_422"
