"""OTLP metric points (POST /v1/metrics) to rows of the `gpu_metrics` table, one per point.

Made for the SDK's GPU gauges (`tokentrail.gpu.*`, one point per device naming it with
`gpu.index`, `gpu.uuid` and `gpu.name`), which `/api/gpu` reads; every other gauge or sum point is
kept the same way (no device: index -1, its attributes in `attributes`), so a DCGM or application
gauge sent here is not lost. Histogram, exponential histogram and summary points are not kept:
they are rejected and counted, so the sender's partial success says so. A point flagged as having
no recorded value is skipped, as the specification asks.

Public as `tokentrail_collector.normalise.metrics` (the package's own `__all__` stays the traces API).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import DataPointFlags, Metric, NumberDataPoint

from tokentrail import semconv as sc
from tokentrail_collector.normalise._limits import (
    MAX_ATTRIBUTE_KEY_CHARS,
    MAX_SPANS_PER_REQUEST,
    capped_attributes,
    flat_attributes,
    limits_note,
    too_many,
)
from tokentrail_collector.normalise._traces import MAX_ERRORS, MAX_TIME_NS, MIN_TIME_NS
from tokentrail_collector.normalise._values import as_count, as_text

__all__ = ["MetricsBatch", "normalise_metrics"]

_NO_RECORDED_VALUE = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
_DEVICE_ATTRIBUTES = frozenset({sc.GPU_INDEX, sc.GPU_UUID, sc.GPU_NAME})


@dataclass(slots=True)
class MetricsBatch:
    """The rows of a metrics request, and how many points were skipped or rejected and why."""

    rows: list[dict[str, object]]
    skipped: int = 0  # points flagged as having no recorded value (nothing to keep)
    rejected: int = 0  # points that cannot be stored: unsupported type, no finite value, impossible time
    errors: list[str] = field(default_factory=list)  # at most MAX_ERRORS human messages
    # Kept points that did not fit the caps of `_limits` (as for spans).
    truncated: int = 0
    refused_keys: int = 0

    def limits_note(self) -> str:
        return limits_note(self.truncated, self.refused_keys, "data point")

    def reject(self, count: int, message: str) -> None:
        self.rejected += count
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


def normalise_metrics(request: ExportMetricsServiceRequest, *, project_id: str) -> MetricsBatch:
    """The rows of every gauge and sum point in `request`, for project `project_id`.

    A row has exactly the columns of `semconv.GPU_METRIC_COLUMNS`: project_id, service_name (the
    resource's `service.name`, else `unknown_service`), host (`host.name`, else ''), device_index
    (`gpu.index`, else -1), device_uuid and device_name ('' when absent), metric (its name), unit,
    time_unix_nano (int, ns), value (float) and attributes (the point's other attributes, flattened
    to strings, in key order).
    """
    batch = MetricsBatch(rows=[])
    points = sum(
        _point_count(metric)
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )
    if points > MAX_SPANS_PER_REQUEST:
        batch.rejected = points
        batch.errors.append(too_many(points, "data points", MAX_SPANS_PER_REQUEST))
        return batch
    for resource_metrics in request.resource_metrics:
        resource = capped_attributes(resource_metrics.resource.attributes, batch)
        service_name = as_text(resource.get(sc.SERVICE_NAME)) or sc.UNKNOWN_SERVICE
        host = as_text(resource.get(sc.HOST_NAME)) or ""
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points = _number_points(metric, batch)
                for point in points:
                    row = _row(metric, point, batch)
                    if row is not None:
                        row[sc.PROJECT_ID] = project_id
                        row[sc.SERVICE] = service_name
                        row[sc.METRIC_HOST] = host
                        batch.rows.append({column: row[column] for column in sc.GPU_METRIC_COLUMNS})
    return batch


def _point_count(metric: Metric) -> int:
    kind = metric.WhichOneof("data")
    return 0 if kind is None else len(getattr(metric, kind).data_points)


def _number_points(metric: Metric, batch: MetricsBatch) -> Iterable[NumberDataPoint]:
    kind = metric.WhichOneof("data")
    if kind == "gauge":
        return metric.gauge.data_points
    if kind == "sum":
        return metric.sum.data_points
    if kind is not None:
        count = len(getattr(metric, kind).data_points)
        if count:
            batch.reject(
                count,
                f"metric {metric.name[:100]!r}: {kind} points are not stored (only gauge and sum points)",
            )
    return ()


def _row(metric: Metric, point: NumberDataPoint, batch: MetricsBatch) -> dict[str, object] | None:
    if point.flags & _NO_RECORDED_VALUE:
        batch.skipped += 1
        return None
    which = point.WhichOneof("value")
    value = float(point.as_int) if which == "as_int" else point.as_double
    if which is None or not math.isfinite(value):  # (no value reads as 0.0: `which` tells)
        batch.reject(1, f"metric {metric.name[:100]!r}: a point without a finite value")
        return None
    if len(metric.name) > MAX_ATTRIBUTE_KEY_CHARS or len(metric.unit) > MAX_ATTRIBUTE_KEY_CHARS:
        batch.reject(
            1, f"metric {metric.name[:100]!r}: a name or unit over {MAX_ATTRIBUTE_KEY_CHARS} characters"
        )
        return None
    if not MIN_TIME_NS <= point.time_unix_nano <= MAX_TIME_NS:
        batch.reject(
            1,
            f"metric {metric.name[:100]!r}: time {point.time_unix_nano} ns is outside the years 2000 to 2262",
        )
        return None
    attributes = capped_attributes(point.attributes, batch)
    index = as_count(attributes.get(sc.GPU_INDEX))
    return {
        sc.METRIC_DEVICE_INDEX: index if index is not None and index <= 2**31 - 1 else sc.NO_DEVICE_INDEX,
        sc.METRIC_DEVICE_UUID: as_text(attributes.get(sc.GPU_UUID)) or "",
        sc.METRIC_DEVICE_NAME: as_text(attributes.get(sc.GPU_NAME)) or "",
        sc.METRIC_NAME: metric.name,
        sc.METRIC_UNIT: metric.unit,
        sc.METRIC_TIME_UNIX_NANO: point.time_unix_nano,
        sc.METRIC_VALUE: value,
        # Sorted, so that the same attributes always hash alike in the table's identity.
        sc.ATTRIBUTES: flat_attributes(
            attributes, batch, sorted(key for key in attributes if key not in _DEVICE_ATTRIBUTES)
        ),
    }
