"""OTLP/HTTP response bodies: the export response on success, a google.rpc.Status on failure.

Both come in the encoding of the request (protobuf or JSON), as the OTLP/HTTP specification asks.
"""

from __future__ import annotations

import json

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc.status_pb2 import Status
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


def encode_export_response(
    *, content_type: str | None, rejected_spans: int = 0, error_message: str = ""
) -> tuple[bytes, str]:
    """The body and media type of the 200 answer to an export of spans.

    `partial_success` is set when spans were rejected (their count, and why in `error_message`),
    or, as the specification allows, to carry a warning (`error_message` with nothing rejected);
    otherwise it is left unset, which means full success.
    """
    if rejected_spans < 0:
        raise ValueError(f"rejected_spans must be 0 or more, not {rejected_spans}")
    response = ExportTraceServiceResponse()
    if rejected_spans or error_message:
        response.partial_success.rejected_spans = rejected_spans
        response.partial_success.error_message = error_message
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
