"""OTLP/HTTP answers: export responses with partial success, and google.rpc.Status error bodies."""

from __future__ import annotations

import json

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tokentrail_collector.otlp import (
    JSON_MEDIA_TYPE,
    PROTOBUF_MEDIA_TYPE,
    encode_error_status,
    encode_export_response,
)


def test_full_success_in_protobuf_leaves_partial_success_unset() -> None:
    body, media_type = encode_export_response(content_type="application/x-protobuf; charset=utf-8")
    assert media_type == PROTOBUF_MEDIA_TYPE
    response = ExportTraceServiceResponse.FromString(body)
    assert not response.HasField("partial_success")


def test_full_success_in_json_is_an_empty_object() -> None:
    body, media_type = encode_export_response(content_type=JSON_MEDIA_TYPE)
    assert (json.loads(body), media_type) == ({}, JSON_MEDIA_TYPE)


def test_rejected_spans_set_partial_success_in_protobuf() -> None:
    body, _ = encode_export_response(
        content_type=PROTOBUF_MEDIA_TYPE, rejected_spans=3, error_message="3 spans had no trace_id"
    )
    response = ExportTraceServiceResponse.FromString(body)
    assert response.HasField("partial_success")
    assert response.partial_success.rejected_spans == 3
    assert response.partial_success.error_message == "3 spans had no trace_id"


def test_rejected_spans_set_partial_success_in_json() -> None:
    body, media_type = encode_export_response(
        content_type="application/json", rejected_spans=2, error_message="bad"
    )
    assert media_type == JSON_MEDIA_TYPE
    assert json.loads(body) == {"partialSuccess": {"rejectedSpans": "2", "errorMessage": "bad"}}


def test_a_warning_without_rejections_is_a_partial_success_with_zero_rejected() -> None:
    body, _ = encode_export_response(content_type=PROTOBUF_MEDIA_TYPE, error_message="attribute cut at 64 KB")
    response = ExportTraceServiceResponse.FromString(body)
    assert response.HasField("partial_success")
    assert (response.partial_success.rejected_spans, response.partial_success.error_message) == (
        0,
        "attribute cut at 64 KB",
    )


def test_negative_rejected_count_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="rejected_spans"):
        encode_export_response(content_type=PROTOBUF_MEDIA_TYPE, rejected_spans=-1)


@pytest.mark.parametrize(
    ("http_status", "grpc_code"), [(400, 3), (413, 8), (415, 3), (429, 8), (503, 14), (500, 13)]
)
def test_error_status_in_protobuf(http_status: int, grpc_code: int) -> None:
    body, media_type = encode_error_status("what went wrong", PROTOBUF_MEDIA_TYPE, http_status)
    assert media_type == PROTOBUF_MEDIA_TYPE
    status = Status.FromString(body)
    assert (status.code, status.message) == (grpc_code, "what went wrong")


def test_error_status_in_json() -> None:
    body, media_type = encode_error_status("invalid gzip body", "application/json; charset=utf-8", 400)
    assert media_type == JSON_MEDIA_TYPE
    assert json.loads(body) == {"code": 3, "message": "invalid gzip body"}


@pytest.mark.parametrize("content_type", [None, "", "text/plain"])
def test_error_for_an_unsupported_content_type_is_readable_json(content_type: str | None) -> None:
    body, media_type = encode_error_status("unsupported Content-Type", content_type, 415)
    assert media_type == JSON_MEDIA_TYPE
    assert json.loads(body)["message"] == "unsupported Content-Type"


def test_unmapped_http_status_gives_grpc_unknown() -> None:
    body, _ = encode_error_status("teapot", PROTOBUF_MEDIA_TYPE, 418)
    assert Status.FromString(body).code == 2
