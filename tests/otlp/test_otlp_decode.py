"""OTLP/HTTP request decoding: media types, compression, size limit, OTLP/JSON, every error path."""

from __future__ import annotations

import base64
import gzip
import json
import struct
import tracemalloc
import zlib

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.otlp.otlp_spans import llm_attributes, one_span_request
from tokentrail_collector.otlp import (
    JSON_MEDIA_TYPE,
    PROTOBUF_MEDIA_TYPE,
    OtlpError,
    decode_logs_request,
    decode_metrics_request,
    decode_request,
    decode_trace_request,
    encode_trace_request_json,
)

LIMIT = 1 << 20
TRACE_ID = "5B8EFFF798038103D269B633813FC60C"
SPAN_ID = "EEE19B7EC3C1B174"


@pytest.fixture(scope="module")
def request_message() -> ExportTraceServiceRequest:
    return one_span_request(llm_attributes())


def decode(body: bytes, content_type: str | None = PROTOBUF_MEDIA_TYPE, content_encoding: str | None = None,
           max_body_bytes: int = LIMIT) -> ExportTraceServiceRequest:  # fmt: skip
    return decode_trace_request(
        body, content_type=content_type, content_encoding=content_encoding, max_body_bytes=max_body_bytes
    )


def error_of(body: bytes, **kwargs: object) -> OtlpError:
    with pytest.raises(OtlpError) as caught:
        decode(body, **kwargs)  # type: ignore[arg-type]
    return caught.value


def json_span(**span_fields: object) -> bytes:
    span = {"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "op", "startTimeUnixNano": "1", **span_fields}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


# --- protobuf and media types ---------------------------------------------------------------


def test_protobuf_body_decodes_to_the_exported_request(request_message: ExportTraceServiceRequest) -> None:
    assert decode(request_message.SerializeToString()) == request_message


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-protobuf",
        "application/x-protobuf; charset=utf-8",
        "Application/X-Protobuf",
        " application/x-protobuf ;foo=bar",
    ],
)
def test_protobuf_content_type_with_parameters_and_any_case(
    content_type: str, request_message: ExportTraceServiceRequest
) -> None:
    assert decode(request_message.SerializeToString(), content_type=content_type) == request_message


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
def test_json_content_types(content_type: str, request_message: ExportTraceServiceRequest) -> None:
    body = encode_trace_request_json(request_message)
    assert decode(body, content_type=content_type) == request_message


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/grpc", "application/protobuf-json", "multipart/form-data"],
)
def test_unsupported_content_type_is_415(content_type: str | None) -> None:
    error = error_of(b"", content_type=content_type)
    assert error.status_code == 415
    assert "Content-Type" in error.message and PROTOBUF_MEDIA_TYPE in error.message


def test_empty_body_is_an_empty_request() -> None:
    assert decode(b"") == ExportTraceServiceRequest()
    assert decode(b"{}", content_type=JSON_MEDIA_TYPE) == ExportTraceServiceRequest()


# --- compression ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        (None, lambda data: data),
        ("identity", lambda data: data),
        ("gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),  # raw deflate, as some clients send
        ("gzip", lambda data: gzip.compress(data[:100]) + gzip.compress(data[100:])),  # two gzip members
    ],
)
def test_content_encodings(
    encoding: str | None, compress, request_message: ExportTraceServiceRequest
) -> None:  # type: ignore[no-untyped-def]
    body = compress(request_message.SerializeToString())
    assert decode(body, content_encoding=encoding) == request_message


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unsupported_content_encoding_is_415(encoding: str) -> None:
    error = error_of(b"", content_encoding=encoding)
    assert error.status_code == 415
    assert "Content-Encoding" in error.message and encoding in error.message


def test_unsupported_content_type_is_reported_before_encoding() -> None:
    assert error_of(b"", content_type="text/plain", content_encoding="br").message.startswith(
        "unsupported Content-Type"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"not gzip at all",
        gzip.compress(b"\n\x00" * 1000)[:-30],  # truncated
        gzip.compress(b"\n\x00") + b"trailing garbage",
        b"",
    ],
    ids=["garbage", "truncated", "trailing-bytes", "empty"],
)
def test_bad_gzip_is_400(body: bytes) -> None:
    error = error_of(body, content_encoding="gzip")
    assert error.status_code == 400
    assert "gzip" in error.message


def test_bad_deflate_is_400() -> None:
    error = error_of(b"\x78\x9c not deflate", content_encoding="deflate")
    assert (error.status_code, "deflate" in error.message) == (400, True)


# --- size limit ----------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted_and_one_byte_more_is_413(
    request_message: ExportTraceServiceRequest,
) -> None:
    body = request_message.SerializeToString()
    assert decode(body, max_body_bytes=len(body)) == request_message
    error = error_of(body, max_body_bytes=len(body) - 1)
    assert error.status_code == 413
    assert str(len(body) - 1) in error.message


def test_limit_applies_after_decompression(request_message: ExportTraceServiceRequest) -> None:
    body = request_message.SerializeToString()
    compressed = gzip.compress(body)
    assert len(compressed) < len(body) - 100
    assert decode(compressed, content_encoding="gzip", max_body_bytes=len(body)) == request_message
    assert error_of(compressed, content_encoding="gzip", max_body_bytes=len(body) - 1).status_code == 413
    deflated = zlib.compress(body)
    assert error_of(deflated, content_encoding="deflate", max_body_bytes=len(body) - 1).status_code == 413


def test_limit_counts_every_gzip_member(request_message: ExportTraceServiceRequest) -> None:
    body = request_message.SerializeToString()
    two_members = gzip.compress(body[:200]) + gzip.compress(body[200:])
    assert error_of(two_members, content_encoding="gzip", max_body_bytes=len(body) - 1).status_code == 413


def gzip_bomb(megabytes: int) -> bytes:
    """A valid gzip body of `megabytes` MiB of zeros, built without compressing them all.

    After a full flush a deflate stream no longer refers back, so the compressed form of each
    1 MiB block of zeros is the same bytes, and the body is that unit repeated.
    """
    block = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    unit = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + unit * megabytes + deflater.flush() + trailer


def test_gzip_bomb_builder_makes_what_it_says() -> None:
    assert gzip.decompress(gzip_bomb(3)) == bytes(3 << 20)


def test_gzip_bomb_is_413_without_inflating_it() -> None:
    bomb = gzip_bomb(1024)  # 1 GiB once inflated
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(OtlpError) as caught:
            decode(bomb, content_encoding="gzip", max_body_bytes=4 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status_code == 413
    # At most the limit held twice over (the chunks, and the buffer zlib fills), never the gigabyte.
    assert peak < 3 * (4 << 20), f"decoding the bomb allocated {peak} bytes"


# --- protobuf and JSON payload errors ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"\xff\xff\xff\xff", b"\x0a\x05abc", b"\x0a\x03\x12\x01\xff"],
    ids=["bad-tag", "length-past-end", "bad-nested"],
)
def test_bad_protobuf_is_400(body: bytes) -> None:
    error = error_of(body)
    assert error.status_code == 400
    assert "protobuf" in error.message and "ExportTraceServiceRequest" in error.message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{", "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"resourceSpans"', "expected a JSON object"),
        (b'{"resourceSpans": 5}', "resourceSpans"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
            "startTimeUnixNano",
        ),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": {"a": 1}}]}]}]}', "kind"),
    ],
)
def test_bad_json_is_400(body: bytes, words: str) -> None:
    error = error_of(body, content_type=JSON_MEDIA_TYPE)
    assert error.status_code == 400
    assert words in error.message


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"traceId": "xyz"}, "spans[0].traceId"),
        ({"traceId": TRACE_ID[:-2]}, "spans[0].traceId"),
        ({"traceId": TRACE_ID + "00"}, "spans[0].traceId"),
        ({"traceId": base64.b64encode(bytes.fromhex(TRACE_ID)).decode()}, "spans[0].traceId"),
        ({"traceId": TRACE_ID[:30] + " 0"}, "spans[0].traceId"),
        ({"traceId": 12345}, "spans[0].traceId"),
        ({"spanId": "0011223344556677zz"}, "spans[0].spanId"),
        ({"spanId": SPAN_ID[:8]}, "spans[0].spanId"),
        ({"parentSpanId": "abc"}, "spans[0].parentSpanId"),
        ({"links": [{"traceId": TRACE_ID, "spanId": "nothex!!nothex!!"}]}, "links[0].spanId"),
    ],
)
def test_json_id_that_is_not_hex_of_the_right_length_is_400(fields: dict[str, object], where: str) -> None:
    error = error_of(json_span(**fields), content_type=JSON_MEDIA_TYPE)
    assert error.status_code == 400
    assert where in error.message
    assert "hex" in error.message


# --- OTLP/JSON rules -----------------------------------------------------------------------


def test_json_ids_are_hex_in_any_case_and_empty_parent_is_a_root() -> None:
    request = decode(json_span(parentSpanId=""), content_type=JSON_MEDIA_TYPE)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == bytes.fromhex(TRACE_ID)
    assert span.span_id == bytes.fromhex(SPAN_ID)
    assert span.parent_span_id == b""
    lower = decode(json_span(traceId=TRACE_ID.lower(), spanId=SPAN_ID.lower()), content_type=JSON_MEDIA_TYPE)
    assert lower == request


def test_json_accepts_proto_field_names_numbers_for_int64_and_ignores_unknown_fields() -> None:
    camel = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": TRACE_ID, "spanId": SPAN_ID, "parentSpanId": SPAN_ID, "name": "op", "kind": 3,
            "startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225601000000000",
            "attributes": [{"key": "n", "value": {"intValue": "-7"}}],
            "status": {"code": 2, "message": "boom"},
        }]}]}]
    }  # fmt: skip
    snake = {
        "resource_spans": [{"scope_spans": [{"spans": [{
            "trace_id": TRACE_ID.lower(), "span_id": SPAN_ID, "parent_span_id": SPAN_ID, "name": "op", "kind": 3,
            "start_time_unix_nano": 1767225600000000000, "end_time_unix_nano": 1767225601000000000,
            "attributes": [{"key": "n", "value": {"int_value": -7}}],
            "status": {"code": 2, "message": "boom"},
            "someFieldFromTheFuture": {"nested": [1, 2, 3]},
        }]}]}],
        "anotherUnknownField": True,
    }  # fmt: skip
    from_camel = decode(json.dumps(camel).encode(), content_type=JSON_MEDIA_TYPE)
    from_snake = decode(json.dumps(snake).encode(), content_type=JSON_MEDIA_TYPE)
    assert from_camel == from_snake
    span = from_camel.resource_spans[0].scope_spans[0].spans[0]
    assert (span.kind, span.status.code, span.attributes[0].value.int_value) == (3, 2, -7)
    assert span.start_time_unix_nano == 1767225600000000000


def test_json_encoder_writes_hex_ids_integer_enums_and_camel_case(
    request_message: ExportTraceServiceRequest,
) -> None:
    document = json.loads(encode_trace_request_json(request_message))
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    original = request_message.resource_spans[0].scope_spans[0].spans[0]
    assert span["traceId"] == original.trace_id.hex()
    assert span["spanId"] == original.span_id.hex()
    assert span["kind"] == original.kind and isinstance(span["kind"], int)
    assert span["startTimeUnixNano"] == str(original.start_time_unix_nano)


def test_decode_request_is_generic_over_the_message_type() -> None:
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": SPAN_ID}]}]}]}).encode()
    request = decode_request(
        body,
        ExportTraceServiceRequest,
        content_type=JSON_MEDIA_TYPE,
        content_encoding=None,
        max_body_bytes=LIMIT,
    )
    assert request.resource_spans[0].scope_spans[0].spans[0].span_id == bytes.fromhex(SPAN_ID)


def test_logs_request_json_with_hex_ids() -> None:
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"traceId": TRACE_ID, "spanId": SPAN_ID, "body": {"stringValue": "hello"}, "severityNumber": 9}
    ]}]}]}).encode()  # fmt: skip
    request = decode_logs_request(
        gzip.compress(body), content_type=JSON_MEDIA_TYPE, content_encoding="gzip", max_body_bytes=LIMIT
    )
    assert isinstance(request, ExportLogsServiceRequest)
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert (record.trace_id.hex(), record.span_id.hex()) == (TRACE_ID.lower(), SPAN_ID.lower())
    assert (record.body.string_value, record.severity_number) == ("hello", 9)
    protobuf = decode_logs_request(
        request.SerializeToString(),
        content_type=PROTOBUF_MEDIA_TYPE,
        content_encoding=None,
        max_body_bytes=LIMIT,
    )
    assert protobuf == request


def test_metrics_request_json_with_hex_exemplar_ids() -> None:
    body = json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "latency", "sum": {
        "dataPoints": [{"asDouble": 1.5, "exemplars": [{"asDouble": 1.5, "traceId": TRACE_ID, "spanId": SPAN_ID}]}],
        "aggregationTemporality": 2, "isMonotonic": True,
    }}]}]}]}).encode()  # fmt: skip
    request = decode_metrics_request(
        body, content_type=JSON_MEDIA_TYPE, content_encoding=None, max_body_bytes=LIMIT
    )
    assert isinstance(request, ExportMetricsServiceRequest)
    exemplar = request.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0].exemplars[0]
    assert (exemplar.trace_id.hex(), exemplar.span_id.hex()) == (TRACE_ID.lower(), SPAN_ID.lower())
    bad = body.replace(SPAN_ID.encode(), b"nothex")
    with pytest.raises(OtlpError) as caught:
        decode_metrics_request(bad, content_type=JSON_MEDIA_TYPE, content_encoding=None, max_body_bytes=LIMIT)
    assert caught.value.status_code == 400 and "exemplars[0].spanId" in caught.value.message


def test_otlp_error_carries_status_and_message() -> None:
    error = OtlpError(413, "too big")
    assert (error.status_code, error.message, str(error)) == (413, "too big", "too big")
    assert repr(error) == "OtlpError(413, 'too big')"
