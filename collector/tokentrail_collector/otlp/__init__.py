"""OTLP/HTTP decoding and answers, as pure functions (no web framework here).

`decode_trace_request` (and its logs and metrics twins) turns a request body into the OTLP
protobuf message, enforcing the specification's rules on media type, compression and size;
`encode_export_response` and `encode_error_status` write the replies in the request's encoding.
`encode_trace_request_json` is the OTLP/JSON encoder, the decoder's twin.
"""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tokentrail_collector.otlp._body import JSON_MEDIA_TYPE, PROTOBUF_MEDIA_TYPE
from tokentrail_collector.otlp._decode import (
    decode_logs_request,
    decode_metrics_request,
    decode_request,
    decode_trace_request,
)
from tokentrail_collector.otlp._errors import OtlpError
from tokentrail_collector.otlp._json import to_json
from tokentrail_collector.otlp._response import encode_error_status, encode_export_response

__all__ = [
    "JSON_MEDIA_TYPE",
    "PROTOBUF_MEDIA_TYPE",
    "OtlpError",
    "decode_logs_request",
    "decode_metrics_request",
    "decode_request",
    "decode_trace_request",
    "encode_error_status",
    "encode_export_response",
    "encode_trace_request_json",
]


def encode_trace_request_json(request: ExportTraceServiceRequest) -> bytes:
    """The OTLP/JSON body of an export request (hex ids, integer enums), as an exporter sends it."""
    return to_json(request)
