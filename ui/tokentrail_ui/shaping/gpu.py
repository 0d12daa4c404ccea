"""GPU series and energy figures: `/api/gpu` rows per device as charts, energy per model from stats."""

from __future__ import annotations

import pandas as pd

from tokentrail_ui.shaping.timeseries import group_labels


def device_label(row: pd.Series) -> str:
    """How a GPU is named in a legend: `host · GPU 0 · NVIDIA H100` (service when there is no host)."""
    where = row.get("host") or row.get("service_name") or "?"
    index = row.get("device_index")
    number = "GPU" if index is None or pd.isna(index) else f"GPU {int(index)}"
    name = row.get("device_name") or ""
    return " · ".join(part for part in (str(where), number, str(name)) if part)


def per_device(points: pd.DataFrame, value: str, *, scale: float = 1.0) -> pd.DataFrame:
    """bucket x device of `value` (divided by `scale`), for a line chart; empty without points."""
    if points.empty or value not in points.columns:
        return pd.DataFrame()
    table = points.assign(device=points.apply(device_label, axis=1))
    wide = table.pivot_table(index="bucket", columns="device", values=value, aggfunc="mean")
    wide.columns.name = None
    return (wide / scale).sort_index()


def devices(points: pd.DataFrame) -> pd.DataFrame:
    """One row per device with its peak figures over the window."""
    if points.empty:
        return pd.DataFrame(
            columns=["device", "utilization max %", "memory max GiB", "power avg W", "energy J"]
        )
    table = points.assign(device=points.apply(device_label, axis=1))
    summary = table.groupby("device").agg(
        utilization_max=("utilization_max_pct", "max"),
        memory_max=("memory_used_max_bytes", "max"),
        power_avg=("power_avg_watts", "mean"),
        energy=("energy_joules", lambda values: values.sum(min_count=1)),
    )
    summary["memory_max"] = summary["memory_max"] / 2**30
    summary.columns = ["utilization max %", "memory max GiB", "power avg W", "energy J"]
    return summary.reset_index()


def energy_per_model(by_model: pd.DataFrame) -> pd.DataFrame:
    """Per model with GPU figures: the spans that carry them, their energy, joules per request and
    per 1k output tokens. Both ratios are over the spans with GPU figures only (`gpu_span_count`):
    dividing by all of a model's spans would count calls whose energy nobody measured as free."""
    columns = ["model", "GPU spans", "energy J", "J per request", "J per 1k output tokens"]
    if by_model.empty or "gpu_energy_joules" not in by_model.columns:
        return pd.DataFrame(columns=columns)
    table = by_model[by_model["gpu_energy_joules"].notna()]
    if table.empty:
        return pd.DataFrame(columns=columns)
    unknown = pd.Series([float("nan")] * len(table), index=table.index)
    gpu_spans = table["gpu_span_count"].astype(float) if "gpu_span_count" in table.columns else unknown
    per_1k = (
        table["energy_per_1k_output_tokens"] if "energy_per_1k_output_tokens" in table.columns else unknown
    )
    energy = table["gpu_energy_joules"].astype(float)
    result = pd.DataFrame(
        {
            "model": group_labels(table["group"]),
            "GPU spans": gpu_spans.astype("Int64"),
            "energy J": energy,
            "J per request": energy / gpu_spans.where(gpu_spans > 0),
            "J per 1k output tokens": per_1k.astype(float),
        }
    )
    return result.sort_values("energy J", ascending=False).reset_index(drop=True)
