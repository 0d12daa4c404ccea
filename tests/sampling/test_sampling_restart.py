"""Held spans and kept-trace marks are in the store, not in the collector's memory: a restart
between a trace's requests changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.otlp_bodies import committed, traces_request
from tests.sampling.conftest import SAMPLING_ENV, TraceIds
from tests.sampling.test_sampling import span, stored_spans, totals
from tests.support import CollectorProcess


def test_a_restart_between_requests_keeps_the_trace_whole(tmp_path: Path, dropped_trace_id: TraceIds) -> None:
    collector = CollectorProcess(tmp_path / "data", env=SAMPLING_ENV).start()
    try:
        key = collector.create_key("restart")["key"]
        trace_id, other = dropped_trace_id(), dropped_trace_id()

        def restarted() -> None:
            collector.stop()
            collector.start()

        with collector.client(key) as api:
            committed(api, traces_request(span(trace_id), span(trace_id), span(other)))
        restarted()
        with collector.client(key) as api:
            committed(api, traces_request(span(trace_id, error=True)))  # promotes what was held
            assert stored_spans(api, trace_id) == 3
        restarted()
        with collector.client(key) as api:
            committed(api, traces_request(span(trace_id)))  # kept: the mark is in the store
            committed(api, traces_request(span(trace_id, error=True)))  # not promoted twice
            assert stored_spans(api, trace_id) == 5 and stored_spans(api, other) == 0
            figures = totals(api)
            assert figures["estimated_span_count"] == pytest.approx(5)
            assert figures["sampled_away_spans"] == 1  # `other`; the trace's spans left the ledger once
    finally:
        collector.stop()
