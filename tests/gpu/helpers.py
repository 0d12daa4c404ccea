"""Small helpers for the GPU tests: reading GPU attributes off spans and gauges off OTLP requests."""

from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.trace import ReadableSpan

from tokentrail import semconv

GPU_SPAN_KEYS = (
    semconv.TT_GPU_UTIL_AVG,
    semconv.TT_GPU_UTIL_MAX,
    semconv.TT_GPU_MEMORY_PEAK_BYTES,
    semconv.TT_GPU_POWER_AVG_WATTS,
    semconv.TT_GPU_ENERGY_JOULES,
    semconv.TT_GPU_DEVICES,
)


def gpu_attributes(span: ReadableSpan) -> dict[str, object]:
    """The span's `tokentrail.gpu.*` attributes (empty when it has none)."""
    return {key: value for key, value in (span.attributes or {}).items() if key.startswith("tokentrail.gpu.")}


def by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    result = {span.name: span for span in spans}
    assert len(result) == len(spans), [span.name for span in spans]
    return result


Point = tuple[dict[str, object], float]


def gauges(message: ExportMetricsServiceRequest) -> dict[str, list[Point]]:
    """Every gauge in the request: name -> [(point attributes, value)]."""
    found: dict[str, list[Point]] = {}
    for resource_metrics in message.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                assert metric.WhichOneof("data") == "gauge", metric.name
                for point in metric.gauge.data_points:
                    attributes = {a.key: _any_value(a.value) for a in point.attributes}
                    value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
                    found.setdefault(metric.name, []).append((attributes, value))
    return found


def resource_attributes(message: ExportMetricsServiceRequest) -> dict[str, object]:
    (resource_metrics,) = message.resource_metrics
    return {a.key: _any_value(a.value) for a in resource_metrics.resource.attributes}


def _any_value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None
