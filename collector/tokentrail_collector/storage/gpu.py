"""The read behind `GET /api/gpu`: the SDK's GPU gauges as time series per device, bucketed.

Points come from `gpu_metrics` (POST /v1/metrics), read with FINAL so that a retried delivery
counts once. Per device and bucket: utilisation average and maximum (%), memory used maximum
(bytes), power average (W) and the energy used (J). The energy comes from the device's energy
counter: the increase between consecutive points, given to the bucket of the later one; a
counter that went back (a driver reload) makes that step unknown, and a device without a counter
has no energy (None, never 0).
"""

from __future__ import annotations

from typing import Final

from tokentrail import semconv as sc
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.queries import BUCKET, BUCKET_UNIX_NANO
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import (
    MAX_TIME_NS,
    MIN_TIME_NS,
    TimeBound,
    iso_from_ns,
    to_ns,
    validate_project_id,
)

# Keys of the result (besides the semconv column names of the device, and the stats' bucket keys).
POINTS: Final = "points"
UTILIZATION_AVG_PCT: Final = "utilization_avg_pct"
UTILIZATION_MAX_PCT: Final = "utilization_max_pct"
MEMORY_USED_MAX_BYTES: Final = "memory_used_max_bytes"
POWER_AVG_WATTS: Final = "power_avg_watts"
ENERGY_JOULES: Final = "energy_joules"

DEFAULT_BUCKET_SECONDS: Final = 60
MAX_BUCKET_SECONDS: Final = 366 * 86_400
# How far before the window the energy counter is read, so that the first point in the window
# has a previous one to count from (the SDK sends every 10 s by default).
_ENERGY_LOOKBACK_NS: Final = 300 * 1_000_000_000
_NS_PER_S = 1_000_000_000


def gpu_series(
    store: Store,
    project_id: str,
    *,
    start: TimeBound = None,
    end: TimeBound = None,
    service: str | None = None,
    device: str | None = None,
    bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
) -> list[dict[str, object]]:
    """One entry per device (service, host, index, uuid, name) with its points in [start, end):
    one per bucket of `bucket_seconds` (aligned to the epoch) that has data, in time order.

    `device` is a device's NVML index or UUID. A figure with no reading in a bucket is None.
    """
    if not 1 <= bucket_seconds <= MAX_BUCKET_SECONDS:
        raise ValueError(f"bucket_seconds must be within 1..{MAX_BUCKET_SECONDS}")
    start_ns = to_ns(start, MIN_TIME_NS)
    parameters: dict[str, object] = {
        "project_id": validate_project_id(project_id),
        "start_ns": start_ns,
        "read_from_ns": max(MIN_TIME_NS, start_ns - _ENERGY_LOOKBACK_NS),
        "end_ns": to_ns(end, MAX_TIME_NS),
        "bucket_s": bucket_seconds,
        "utilization": sc.METRIC_GPU_UTILIZATION,
        "memory_used": sc.METRIC_GPU_MEMORY_USED,
        "power": sc.METRIC_GPU_POWER,
        "energy": sc.METRIC_GPU_ENERGY,
    }
    optional = {"service": service, "device": device}
    filters = frozenset(name for name, value in optional.items() if value)
    parameters.update((name, optional[name]) for name in filters)

    devices: dict[tuple[object, ...], dict[str, object]] = {}
    for row in store.query(sql.gpu_series(filters), parameters).named_results():
        identity = (row["service_name"], row["host"], row["device_index"], row["device_uuid"])
        entry = devices.get(identity)
        if entry is None:
            index = int(row["device_index"])
            entry = devices[identity] = {
                sc.SERVICE: row["service_name"],
                sc.METRIC_HOST: row["host"],
                sc.METRIC_DEVICE_INDEX: None if index == sc.NO_DEVICE_INDEX else index,
                sc.METRIC_DEVICE_UUID: row["device_uuid"],
                sc.METRIC_DEVICE_NAME: row["device_name"],
                POINTS: [],
            }
        entry[POINTS].append(_point(row))  # type: ignore[attr-defined]
    return list(devices.values())


def _point(row: dict[str, object]) -> dict[str, object]:
    bucket_ns = int(row["bucket_s"]) * _NS_PER_S  # type: ignore[call-overload]
    memory = row["memory_used_max"]
    return {
        BUCKET: iso_from_ns(bucket_ns),
        BUCKET_UNIX_NANO: bucket_ns,
        UTILIZATION_AVG_PCT: row["utilization_avg"],
        UTILIZATION_MAX_PCT: row["utilization_max"],
        MEMORY_USED_MAX_BYTES: None if memory is None else round(memory),  # type: ignore[call-overload]
        POWER_AVG_WATTS: row["power_avg"],
        ENERGY_JOULES: row["energy"],
    }
