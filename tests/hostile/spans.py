"""Hand-built OTLP spans for the hostile-input tests: one valid span, then whatever is wrong with it."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

START_NS = 1_700_000_000 * 10**9


def valid_span(index: int = 1, attributes: Mapping[str, str] | None = None) -> Span:
    """A span any collector stores: non-zero ids, sane times, string attributes."""
    return Span(
        trace_id=index.to_bytes(16, "big"),
        span_id=index.to_bytes(8, "big"),
        name=f"span {index}",
        start_time_unix_nano=START_NS,
        end_time_unix_nano=START_NS + 1_000_000,
        attributes=[KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in (attributes or {}).items()],
    )


def request_of(*spans: Span, resource: Mapping[str, str] | None = None) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, value in (resource or {}).items():
        resource_spans.resource.attributes.add(key=key, value=AnyValue(string_value=value))
    resource_spans.scope_spans.add().spans.extend(spans)
    return request
