"""`Client.gpu`: the GPU gauges the SDK sends, per device and time bucket (`GET /api/gpu`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tokentrail.api._frames import frame

if TYPE_CHECKING:
    import pandas as pd

DEVICE_COLUMNS = ("service_name", "host", "device_index", "device_uuid", "device_name")
POINT_COLUMNS = (
    "bucket", "utilization_avg_pct", "utilization_max_pct", "memory_used_max_bytes", "power_avg_watts",
    "energy_joules",
)  # fmt: skip


def gpu_frame(answer: Mapping[str, Any]) -> pd.DataFrame:
    """The `/api/gpu` answer as one row per device and bucket (device columns repeated on each row)."""
    rows = [
        {**{column: device.get(column) for column in DEVICE_COLUMNS}, **point}
        for device in answer["devices"]
        for point in device["points"]
    ]
    table = frame(rows, None if rows else (*DEVICE_COLUMNS, *POINT_COLUMNS))
    table.attrs["bucket_seconds"] = answer.get("bucket_seconds")
    return table
