"""OTLP/HTTP request bodies to OTLP messages: one generic decoder and a wrapper per signal."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tokentrail_collector.otlp._body import Encoding, decompress, parse_content_type
from tokentrail_collector.otlp._errors import OtlpError
from tokentrail_collector.otlp._json import parse_json

MessageT = TypeVar("MessageT", bound=Message)


def decode_request(
    body: bytes,
    message_type: type[MessageT],
    *,
    content_type: str | None,
    content_encoding: str | None,
    max_body_bytes: int,
) -> MessageT:
    """Decode an OTLP/HTTP request body into `message_type`.

    Raises OtlpError: 415 for a Content-Type or Content-Encoding OTLP/HTTP does not define, 413
    when the body passes `max_body_bytes` once decompressed, 400 when it does not decode.
    """
    encoding = parse_content_type(content_type)
    data = decompress(body, content_encoding, max_body_bytes=max_body_bytes)
    if encoding is Encoding.JSON:
        return parse_json(data, message_type)
    try:
        return message_type.FromString(data)
    except (DecodeError, RecursionError) as exc:
        raise OtlpError(
            400, f"invalid protobuf body: not a valid {message_type.DESCRIPTOR.name} ({exc})"
        ) from None


def decode_trace_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_body_bytes: int
) -> ExportTraceServiceRequest:
    """The ExportTraceServiceRequest of a POST to /v1/traces (see `decode_request`)."""
    return decode_request(
        body,
        ExportTraceServiceRequest,
        content_type=content_type,
        content_encoding=content_encoding,
        max_body_bytes=max_body_bytes,
    )


def decode_logs_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_body_bytes: int
) -> ExportLogsServiceRequest:
    """The ExportLogsServiceRequest of a POST to /v1/logs (see `decode_request`)."""
    return decode_request(
        body,
        ExportLogsServiceRequest,
        content_type=content_type,
        content_encoding=content_encoding,
        max_body_bytes=max_body_bytes,
    )


def decode_metrics_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_body_bytes: int
) -> ExportMetricsServiceRequest:
    """The ExportMetricsServiceRequest of a POST to /v1/metrics (see `decode_request`)."""
    return decode_request(
        body,
        ExportMetricsServiceRequest,
        content_type=content_type,
        content_encoding=content_encoding,
        max_body_bytes=max_body_bytes,
    )
