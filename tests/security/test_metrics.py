"""`GET /metrics`: Prometheus text whose counts match what was sent, refused and stored."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.ingest.otlp_bodies import PROTOBUF, llm_span, post, traces_request
from tests.security.conftest import parse_prometheus, sample
from tests.support import CollectorProcess

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_IDS = ("eee19b7ec3c1b170", "eee19b7ec3c1b171", "eee19b7ec3c1b172")
ZERO_TRACE_ID = "0" * 32


@pytest.fixture(scope="module")
def ingested(collector: CollectorProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Metrics after: one request of 3 valid spans + 1 invalid, one undecodable, one of a wrong type."""
    key = collector.create_key("metrics-shop")["key"]
    with collector.client(key) as client:
        spans = [llm_span(TRACE_ID, span_id) for span_id in SPAN_IDS]
        invalid = llm_span(ZERO_TRACE_ID, "aaaaaaaaaaaaaaaa")
        accepted = post(client, traces_request(*spans, invalid))
        assert accepted.status_code == 200, accepted.text
        assert ExportTraceServiceResponse.FromString(accepted.content).partial_success.rejected_spans == 1
        garbage = client.post(
            "/v1/traces", content=b"\xff\xff\xff not protobuf", headers={"Content-Type": PROTOBUF}
        )
        assert garbage.status_code == 400
        wrong_type = client.post("/v1/traces", content=b"spans", headers={"Content-Type": "text/csv"})
        assert wrong_type.status_code == 415
        stored = client.get(f"/api/traces/{TRACE_ID}")
        assert stored.status_code == 200
        assert len(stored.json()["spans"]) == len(SPAN_IDS)
    response = httpx.get(collector.url + "/metrics", timeout=10)  # no key: the endpoint is open
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_prometheus(response.text)


def test_span_counts_match_what_was_sent_and_stored(ingested: dict) -> None:
    assert sample(ingested, "tokentrail_ingest_received_total", signal="traces") == 4
    assert sample(ingested, "tokentrail_ingest_stored_total", signal="traces") == 3
    assert sample(ingested, "tokentrail_ingest_rejected_total", signal="traces", reason="invalid") == 1
    assert sample(ingested, "tokentrail_ingest_rejected_total", signal="traces", reason="overloaded") == 0


def test_refused_requests_by_reason(ingested: dict) -> None:
    refused = "tokentrail_ingest_refused_requests_total"
    assert sample(ingested, refused, signal="traces", reason="undecodable") == 1
    assert sample(ingested, refused, signal="traces", reason="unsupported_media_type") == 1


def test_writer_figures(ingested: dict) -> None:
    assert sample(ingested, "tokentrail_writer_rows_committed_total") == 3
    assert sample(ingested, "tokentrail_writer_batches_committed_total") == 1
    assert sample(ingested, "tokentrail_writer_pending_rows") == 0
    assert sample(ingested, "tokentrail_writer_last_batch_rows") == 3
    assert sample(ingested, "tokentrail_writer_last_commit_seconds") > 0
    # The acknowledgement histogram: one committed request, cumulative buckets ending at +Inf.
    assert sample(ingested, "tokentrail_ingest_ack_seconds_count", signal="traces") == 1
    assert sample(ingested, "tokentrail_ingest_ack_seconds_bucket", signal="traces", le="+Inf") == 1
    assert sample(ingested, "tokentrail_ingest_ack_seconds_sum", signal="traces") > 0


def test_requests_by_route_template_and_status_class(ingested: dict) -> None:
    requests = "tokentrail_http_requests_total"
    assert sample(ingested, requests, route="/v1/traces", status_class="2xx") == 1
    assert sample(ingested, requests, route="/v1/traces", status_class="4xx") == 2
    # The template, not the raw path: no trace id in a label.
    assert sample(ingested, requests, route="/api/traces/{trace_id}", status_class="2xx") == 1
    assert not any(TRACE_ID in value for _, labels in ingested for _, value in labels)


def test_no_project_in_any_label(ingested: dict) -> None:
    assert not any("metrics-shop" in value for _, labels in ingested for _, value in labels)


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    process = CollectorProcess(tmp_path / "data", env={"TOKENTRAIL_METRICS": "false"}).start()
    try:
        assert httpx.get(process.url + "/metrics", timeout=10).status_code == 404
    finally:
        process.stop()
