"""The caps as a sender sees them: the OTLP reply says what was cut and keeps the span; a request
with too many spans gets a 400 that says so; invalid spans still give a partial success."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.hostile.spans import START_NS, request_of, valid_span
from tests.support import CollectorProcess
from tokentrail_collector.normalise._limits import MAX_ATTRIBUTE_VALUE_CHARS, MAX_SPANS_PER_REQUEST
from tokentrail_collector.otlp import encode_trace_request_json

PROTOBUF = "application/x-protobuf"


@pytest.fixture(scope="module")
def client(collector: CollectorProcess) -> Iterator[httpx.Client]:
    with collector.client(collector.create_key("limits")["key"]) as http:
        yield http


def post(client: httpx.Client, request: ExportTraceServiceRequest) -> httpx.Response:
    return client.post("/v1/traces", content=request.SerializeToString(), headers={"content-type": PROTOBUF})


def test_cut_and_refused_are_said_in_the_partial_success_and_the_span_kept(client: httpx.Client) -> None:
    span = valid_span(11, attributes={"__proto__": "x", "long": "l" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)})
    response = post(client, request_of(span))
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 0
    assert "1 value(s), attribute(s) or event(s) cut" in partial.error_message
    assert "1 attribute(s) dropped for a refused key" in partial.error_message


def test_the_note_reaches_a_json_sender_too(client: httpx.Client) -> None:
    body = encode_trace_request_json(request_of(valid_span(12, attributes={"bad\x00key": "x"})))
    response = client.post("/v1/traces", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert "refused key" in response.json()["partialSuccess"]["errorMessage"]


def test_too_many_spans_in_one_request_is_a_clear_400(client: httpx.Client) -> None:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    template = Span(span_id=b"\x01" * 8, start_time_unix_nano=START_NS, end_time_unix_nano=START_NS)
    for index in range(MAX_SPANS_PER_REQUEST + 1):
        span = spans.add()
        span.CopyFrom(template)
        span.trace_id = (index + 1).to_bytes(16, "big")
    response = post(client, request)
    assert response.status_code == 400
    assert f"over the limit of {MAX_SPANS_PER_REQUEST} per request" in response.text


def test_invalid_spans_still_give_a_partial_success(client: httpx.Client) -> None:
    bad = valid_span(14)
    bad.span_id = bytes(8)
    response = post(client, request_of(valid_span(13), bad))
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 1 and "span_id is all zeros" in partial.error_message
