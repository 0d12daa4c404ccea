"""Assertions any `Nvml` must pass, run against the fake, against `RealNvml` over a fake pynvml
module, and against `RealNvml` on a real GPU (test_real_nvml.py, where one is present).

Real readings are not scripted, so these check ranges and consistency, not exact values.
"""

from __future__ import annotations

import os
import time

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail import semconv
from tokentrail.gpu import GpuFigures, GpuOptions, GpuSampler, Nvml

from .conftest import MetricsSink
from .helpers import gauges, gpu_attributes


def check_readings(nvml: Nvml) -> None:
    nvml.open()
    try:
        count = nvml.device_count()
        assert count >= 1
        for index in range(count):
            name, uuid = nvml.device_name(index), nvml.device_uuid(index)
            assert name is None or (isinstance(name, str) and name)
            assert uuid is None or (isinstance(uuid, str) and uuid)
            utilization = nvml.utilization_pct(index)
            assert utilization is None or 0 <= utilization <= 100
            used, total = nvml.memory_used_bytes(index), nvml.memory_total_bytes(index)
            assert used is None or used >= 0
            assert total is None or total > 0
            if used is not None and total is not None:
                assert used <= total
            power = nvml.power_watts(index)
            assert power is None or 0 <= power < 5000
            energy = nvml.total_energy_joules(index)
            assert energy is None or energy >= 0
        devices = nvml.process_devices(os.getpid())
        assert devices is None or devices <= set(range(count))
    finally:
        nvml.close()
    assert not nvml.is_open  # type: ignore[attr-defined]
    nvml.close()  # idempotent


def check_figures(figures: GpuFigures | None, duration_s: float) -> None:
    assert figures is not None
    assert figures.devices and figures.samples >= 1
    if figures.utilization_avg_pct is not None:
        assert figures.utilization_max_pct is not None
        assert 0 <= figures.utilization_avg_pct <= figures.utilization_max_pct <= 100
    assert figures.memory_peak_bytes is None or figures.memory_peak_bytes >= 0
    if figures.energy_joules is not None:
        assert figures.energy_joules >= 0
        assert figures.energy_source in ("counter", "integrated", "mixed")
        assert figures.power_avg_watts == pytest.approx(figures.energy_joules / duration_s)


def check_sampler(nvml: Nvml) -> None:
    with GpuSampler(nvml, interval_s=0.02, devices="all") as sampler:
        start = time.time_ns()
        time.sleep(0.4)
        end = time.time_ns()
        figures = sampler.window(start, end)
        stats = sampler.stats()
    assert nvml.is_open is False  # type: ignore[attr-defined]  # stop() released NVML
    assert stats.samples >= 5
    check_figures(figures, (end - start) / 1e9)
    assert figures is not None and figures.devices == tuple(d.index for d in sampler.devices)


@tokentrail.observe(name="generate", kind="llm")
def generate(seconds: float) -> str:
    time.sleep(seconds)
    return "ok"


@tokentrail.observe(name="pipeline")
def pipeline(seconds: float) -> str:
    return generate(seconds)


def check_span_attribution(nvml: Nvml) -> None:
    exporter = InMemorySpanExporter()
    tokentrail.init(
        exporter=exporter, gpu=GpuOptions(nvml=nvml, interval_s=0.02, devices="all", metrics=False)
    )
    pipeline(0.3)
    assert tokentrail.flush(timeout_s=10)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert gpu_attributes(spans["pipeline"]) == {}
    attributes = gpu_attributes(spans["generate"])
    assert attributes[semconv.TT_GPU_DEVICES]
    for key, value in attributes.items():
        if key != semconv.TT_GPU_DEVICES:
            assert isinstance(value, (int, float)) and value >= 0, (key, value)
    assert all(isinstance(value, (int, float, tuple)) for value in attributes.values())
    tokentrail.shutdown()
    assert nvml.is_open is False  # type: ignore[attr-defined]


def check_metrics(nvml: Nvml, sink: MetricsSink) -> None:
    tokentrail.init(
        endpoint=sink.url, gpu=GpuOptions(nvml=nvml, interval_s=0.02, devices="all", metrics_interval_s=3600)
    )
    tokentrail.shutdown()  # sends the gauges one last time
    (request,) = [r for r in sink.received() if gauges(r.message)]
    found = gauges(request.message)
    assert semconv.METRIC_GPU_UTILIZATION in found or semconv.METRIC_GPU_MEMORY_USED in found
    for name, points in found.items():
        assert name.startswith("tokentrail.gpu.")
        for attributes, value in points:
            assert isinstance(attributes[semconv.GPU_INDEX], int)
            assert value >= 0
