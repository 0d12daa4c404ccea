"""The trace route hands the normaliser the request's protobuf encoding, never a re-encoded message:
same rows either way, the same refusals for what does not decode."""

from __future__ import annotations

import gzip

import pytest

from tests.otlp.otlp_spans import llm_request
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.otlp import OtlpError, encode_trace_request_json
from tokentrail_collector.routes.otlp import decode_traces

PROTOBUF = "application/x-protobuf"
LIMIT = 1 << 24


def test_rows_from_the_encoding_equal_rows_from_the_message() -> None:
    request = llm_request(40)
    from_message = normalise_traces(request, project_id="p")
    from_encoding = normalise_traces(request.SerializeToString(), project_id="p")
    assert len(from_encoding.rows) == 40
    assert from_encoding.rows == from_message.rows
    assert (from_encoding.rejected, from_encoding.truncated) == (
        from_message.rejected,
        from_message.truncated,
    )


def test_a_protobuf_body_is_passed_on_as_sent_once_decompressed() -> None:
    body = llm_request(3).SerializeToString()
    assert decode_traces(body, content_type=PROTOBUF, content_encoding=None, max_body_bytes=LIMIT) is body
    zipped = gzip.compress(body)
    assert decode_traces(zipped, content_type=PROTOBUF, content_encoding="gzip", max_body_bytes=LIMIT) == body


def test_a_json_body_becomes_the_encoding_of_its_message() -> None:
    request = llm_request(3)
    encoded = decode_traces(
        encode_trace_request_json(request),
        content_type="application/json",
        content_encoding=None,
        max_body_bytes=LIMIT,
    )
    assert normalise_traces(encoded, project_id="p").rows == normalise_traces(request, project_id="p").rows


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\x0a\x05\x0a\x03\xff\xff", PROTOBUF, 400),  # a ResourceSpans cut short
        (b"\x0a\x02\x12\x00", "text/plain", 415),
        (b"\x00" * 64, PROTOBUF, 413),
    ],
)
def test_what_does_not_decode_is_refused_as_before(body: bytes, content_type: str, status: int) -> None:
    with pytest.raises(OtlpError) as raised:
        decode_traces(body, content_type=content_type, content_encoding=None, max_body_bytes=32)
    assert raised.value.status_code == status
