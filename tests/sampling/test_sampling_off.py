"""With sampling off (the default) every span is stored as before, and the scaled stats equal the plain ones."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.ingest.otlp_bodies import committed, traces_request
from tests.sampling.test_sampling import span, stored_spans, totals
from tests.support import CollectorProcess


def test_everything_is_stored_and_nothing_is_held(collector: CollectorProcess) -> None:
    key = collector.create_key("sampling-off")["key"]
    traces = [os.urandom(16).hex() for _ in range(40)]
    with collector.client(key) as api:
        committed(api, traces_request(*(span(t) for t in traces for _ in range(2))))
        committed(api, traces_request(span(traces[0], error=True)))
        assert all(stored_spans(api, t) == 2 for t in traces[1:])
        assert stored_spans(api, traces[0]) == 3
        plain = totals(api, scaled=False)
        assert plain["span_count"] == 81 and plain["estimated_span_count"] is None
        figures = totals(api)
        assert figures["estimated_span_count"] == 81 and figures["estimated_error_count"] == 1
        assert figures["estimated_input_tokens"] == figures["input_tokens"]
        assert figures["estimated_cost_usd"] == pytest.approx(figures["cost_usd"])
        assert figures["sampled_away_spans"] == 0
    metrics = httpx.get(collector.url + "/metrics", timeout=10).text
    samples = [line for line in metrics.splitlines() if line.startswith("tokentrail_sampling_")]
    assert samples == []  # the families are described, but nothing was kept, held or promoted by sampling
