"""OTLP/HTTP response bodies: the export response on success, a google.rpc.Status on failure.

Both come in the encoding of the request (protobuf or JSON), as the OTLP/HTTP specification asks.
"""

from __future__ import annotations

import json
from typing import Literal

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tokentrail_collector.otlp._body import Encoding, response_encoding

# gRPC status codes (google.rpc.Code) for the HTTP statuses the collector answers with, following
# the HTTP mapping documented in google/rpc/code.proto. OTLP/HTTP clients go by the HTTP status;
# the code is there for whoever reads the body.
_GRPC_CODE_BY_HTTP_STATUS = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND
    409: 10,  # ABORTED
    413: 8,  # RESOURCE_EXHAUSTED
    415: 3,  # INVALID_ARGUMENT
    429: 8,  # RESOURCE_EXHAUSTED
    499: 1,  # CANCELLED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}
_UNKNOWN = 2

Signal = Literal["traces", "logs", "metrics"]
# Each signal's response message and the name of its partial success count.
_RESPONSES: dict[str, tuple[type[Message], str]] = {
    "traces": (ExportTraceServiceResponse, "rejected_spans"),
    "logs": (ExportLogsServiceResponse, "rejected_log_records"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points"),
}


def encode_export_response(
    *, content_type: str | None, rejected_spans: int = 0, error_message: str = "", signal: Signal = "traces"
) -> tuple[bytes, str]:
    """The body and media type of the 200 answer to an export of `signal` (spans by default).

    `partial_success` is set when items were rejected (their count in `rejected_spans`, which
    fills the signal's own field: rejected_spans, rejected_log_records or rejected_data_points,
    and why in `error_message`), or, as the specification allows, to carry a warning
    (`error_message` with nothing rejected); otherwise it is left unset, which means full success.
    """
    if rejected_spans < 0:
        raise ValueError(f"rejected_spans must be 0 or more, not {rejected_spans}")
    response_type, rejected_field = _RESPONSES[signal]
    response = response_type()
    if rejected_spans or error_message:
        partial = response.partial_success  # type: ignore[attr-defined]  # each response type has one
        setattr(partial, rejected_field, rejected_spans)
        partial.error_message = error_message
    return _encode(response, content_type)


def encode_error_status(message: str, content_type: str | None, code: int) -> tuple[bytes, str]:
    """The body and media type of a 4xx/5xx answer: a google.rpc.Status holding `message`.

    `code` is the HTTP status the answer goes out with; the Status carries the matching gRPC code.
    """
    status = Status(code=_GRPC_CODE_BY_HTTP_STATUS.get(code, _UNKNOWN), message=message)
    return _encode(status, content_type)


def _encode(message: Message, content_type: str | None) -> tuple[bytes, str]:
    encoding = response_encoding(content_type)
    if encoding is Encoding.PROTOBUF:
        return message.SerializeToString(), encoding.value
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(), encoding.value
