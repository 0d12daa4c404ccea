"""OTLP requests for the ingest tests (spans, GenAI log records, metric points) and how to post them.

Bodies go out as an exporter sends them: protobuf or OTLP/JSON (hex ids, camelCase), optionally
gzip; replies are read back in the encoding they came in.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric, NumberDataPoint
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tokentrail import semconv as sc
from tokentrail_collector.otlp._json import to_json

START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
Encoding = Literal["protobuf", "json"]


def any_value(value: Any) -> AnyValue:
    if isinstance(value, dict):
        return AnyValue(
            kvlist_value=KeyValueList(values=[KeyValue(key=k, value=any_value(v)) for k, v in value.items()])
        )
    if isinstance(value, list):
        return AnyValue(array_value={"values": [any_value(item) for item in value]})
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


# --- spans ------------------------------------------------------------------------------------


def llm_span(
    trace_id: str,
    span_id: str,
    *,
    start_ns: int = START_NS,
    duration_ns: int = 1_000_000_000,
    name: str = "chat gpt-4o",
    attributes: Mapping[str, Any] | None = None,
) -> Span:
    """An LLM span with usage and no content (as from an instrumentation that logs its content)."""
    base: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 12,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 40,
    }
    base.update(attributes or {})
    return Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id),
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + duration_ns,
        attributes=key_values(base),
    )


def traces_request(*spans: Span, service: str = "shop") -> ExportTraceServiceRequest:
    return _one_scope(ExportTraceServiceRequest(), {sc.SERVICE_NAME: service}, spans)


# --- GenAI log records --------------------------------------------------------------------------


def log_record(
    trace_id: str,
    span_id: str,
    event_name: str,
    body: Any,
    *,
    time_ns: int = START_NS + 1_000,
    attributes: Mapping[str, Any] | None = None,
) -> LogRecord:
    record = LogRecord(
        event_name=event_name,
        time_unix_nano=time_ns,
        trace_id=bytes.fromhex(trace_id) if trace_id else b"",
        span_id=bytes.fromhex(span_id) if span_id else b"",
        attributes=key_values({sc.GEN_AI_SYSTEM: "openai", **(attributes or {})}),
    )
    if body is not None:
        record.body.CopyFrom(any_value(body))
    return record


def chat_records(trace_id: str, span_id: str, question: str, answer: str) -> list[LogRecord]:
    """The records opentelemetry-instrumentation-openai-v2 sends for one chat call."""
    return [
        log_record(
            trace_id, span_id, sc.GEN_AI_USER_MESSAGE_EVENT, {"content": question}, time_ns=START_NS + 1
        ),
        log_record(
            trace_id,
            span_id,
            sc.GEN_AI_CHOICE_EVENT,
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}},
            time_ns=START_NS + 2,
        ),
    ]


def logs_request(*records: LogRecord, service: str = "shop") -> ExportLogsServiceRequest:
    return _one_scope(ExportLogsServiceRequest(), {sc.SERVICE_NAME: service}, records)


# --- metric points ------------------------------------------------------------------------------

Device = tuple[int, str, str]  # NVML index, uuid, name


def gauge(name: str, unit: str, points: Sequence[tuple[Device | None, int, float]]) -> Metric:
    """A gauge with one point per (device or None, time ns, value)."""
    metric = Metric(name=name, unit=unit)
    for device, time_ns, value in points:
        attributes = (
            {}
            if device is None
            else {sc.GPU_INDEX: device[0], sc.GPU_UUID: device[1], sc.GPU_NAME: device[2]}
        )
        point = NumberDataPoint(time_unix_nano=time_ns, attributes=key_values(attributes))
        if isinstance(value, int):
            point.as_int = value
        else:
            point.as_double = value
        metric.gauge.data_points.append(point)
    return metric


def metrics_request(
    *metrics: Metric, service: str = "gpu-app", host: str | None = "node-1"
) -> ExportMetricsServiceRequest:
    resource = {sc.SERVICE_NAME: service} | ({sc.HOST_NAME: host} if host else {})
    return _one_scope(ExportMetricsServiceRequest(), resource, metrics)


RequestT = TypeVar(
    "RequestT", ExportTraceServiceRequest, ExportLogsServiceRequest, ExportMetricsServiceRequest
)


def _one_scope(request: RequestT, resource: Mapping[str, Any], items: Sequence[Message]) -> RequestT:
    """`request` with one resource (these attributes) and one scope holding `items`."""
    (resource_field,) = request.DESCRIPTOR.fields  # resource_spans, resource_logs or resource_metrics
    per_resource = getattr(request, resource_field.name).add()
    per_resource.resource.attributes.extend(key_values(resource))
    scope_field = next(field for field in per_resource.DESCRIPTOR.fields if field.name.startswith("scope_"))
    per_scope = getattr(per_resource, scope_field.name).add()
    items_field = next(
        field
        for field in per_scope.DESCRIPTOR.fields
        if field.message_type is not None and field.name != "scope"
    )
    getattr(per_scope, items_field.name).extend(items)
    return request


# --- posting ------------------------------------------------------------------------------------

_PATHS = {
    ExportTraceServiceRequest: "/v1/traces",
    ExportLogsServiceRequest: "/v1/logs",
    ExportMetricsServiceRequest: "/v1/metrics",
}


def post(
    client: httpx.Client, message: Message, *, encoding: Encoding = "protobuf", compress: bool = False
) -> httpx.Response:
    """POST `message` to its signal's path as an OTLP exporter would."""
    body = message.SerializeToString() if encoding == "protobuf" else to_json(message)
    headers = {"Content-Type": PROTOBUF if encoding == "protobuf" else JSON}
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return client.post(_PATHS[type(message)], content=body, headers=headers)


def committed(client: httpx.Client, message: Message, **options: Any) -> None:
    response = post(client, message, **options)
    assert response.status_code == 200, response.text
    assert partial_success(response) == {}, partial_success(response)


_REPLIES: dict[str, type[Message]] = {
    "/v1/traces": ExportTraceServiceResponse,
    "/v1/logs": ExportLogsServiceResponse,
    "/v1/metrics": ExportMetricsServiceResponse,
}


def partial_success(response: httpx.Response) -> dict[str, Any]:
    """The reply's partial_success as a dict with the proto field names ({} when unset)."""
    media_type = response.headers["content-type"]
    if media_type.startswith(JSON):
        document = json.loads(response.content)
        partial = document.get("partialSuccess", {})
        return {
            _snake(key): (int(value) if key.startswith("rejected") else value)
            for key, value in partial.items()
        }
    reply = _REPLIES[response.request.url.path].FromString(response.content)
    if not reply.HasField("partial_success"):
        return {}
    fields = reply.partial_success.ListFields()
    return {descriptor.name: value for descriptor, value in fields}


def _snake(name: str) -> str:
    return "".join("_" + char.lower() if char.isupper() else char for char in name)
