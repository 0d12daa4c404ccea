"""GPU gauges over OTLP/HTTP: decoded from what a local sink receives on /v1/metrics."""

from __future__ import annotations

import time

import tokentrail
from tokentrail import semconv
from tokentrail.gpu import GpuOptions
from tokentrail.gpu.testing import FakeDevice, FakeNvml, FakeNvmlError

from .conftest import MetricsRequest, MetricsSink
from .helpers import gauges, resource_attributes

ALL_GAUGES = {
    semconv.METRIC_GPU_UTILIZATION,
    semconv.METRIC_GPU_MEMORY_USED,
    semconv.METRIC_GPU_POWER,
    semconv.METRIC_GPU_ENERGY,
}


def wait_for(sink: MetricsSink, names: set[str], timeout_s: float = 10.0) -> MetricsRequest:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for request in sink.received():
            if names <= set(gauges(request.message)):
                return request
        time.sleep(0.02)
    raise AssertionError(
        f"no metrics request with {names}; got {[sorted(gauges(r.message)) for r in sink.received()]}"
    )


def two_gpus() -> FakeNvml:
    return FakeNvml(
        [
            FakeDevice(
                name="Fake H100",
                uuid="GPU-aaa",
                utilization=55,
                memory_used_bytes=3 * 2**30,
                power_watts=310.5,
                energy_joules=123456.0,
            ),
            FakeDevice(
                name="Fake T4",
                uuid="GPU-bbb",
                utilization=5,
                memory_used_bytes=2**30,
                power_watts=FakeNvmlError("timeout"),
            ),
        ]
    )


def test_gauges_reach_the_collector_over_otlp_http(metrics_sink: MetricsSink) -> None:
    tokentrail.init(
        endpoint=metrics_sink.url,
        api_key="tt-key",
        service_name="gpu-app",
        gpu=GpuOptions(nvml=two_gpus(), interval_s=0.02, devices="all", metrics_interval_s=0.1),
    )
    request = wait_for(metrics_sink, ALL_GAUGES)
    assert request.path == "/v1/metrics"
    assert request.headers["authorization"] == "Bearer tt-key"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/x-protobuf"
    assert resource_attributes(request.message)[semconv.SERVICE_NAME] == "gpu-app"
    found = gauges(request.message)
    h100 = {semconv.GPU_INDEX: 0, semconv.GPU_UUID: "GPU-aaa", semconv.GPU_NAME: "Fake H100"}
    t4 = {semconv.GPU_INDEX: 1, semconv.GPU_UUID: "GPU-bbb", semconv.GPU_NAME: "Fake T4"}
    assert sorted(found[semconv.METRIC_GPU_UTILIZATION], key=str) == sorted(
        [(h100, 55.0), (t4, 5.0)], key=str
    )
    assert sorted(found[semconv.METRIC_GPU_MEMORY_USED], key=str) == sorted(
        [(h100, 3 * 2**30), (t4, 2**30)], key=str
    )
    # Unknown readings are not observed: the T4's power call fails and it has no energy counter.
    assert found[semconv.METRIC_GPU_POWER] == [(h100, 310.5)]
    assert found[semconv.METRIC_GPU_ENERGY] == [(h100, 123456.0)]


def test_shutdown_sends_the_gauges_one_last_time_and_releases_nvml(metrics_sink: MetricsSink) -> None:
    nvml = two_gpus()
    tokentrail.init(
        endpoint=metrics_sink.url, gpu=GpuOptions(nvml=nvml, devices="all", metrics_interval_s=3600)
    )
    assert metrics_sink.received() == []
    tokentrail.shutdown()
    request = wait_for(metrics_sink, {semconv.METRIC_GPU_UTILIZATION}, timeout_s=1)
    assert "authorization" not in request.headers  # no key configured: no header
    assert nvml.closes == 1


def test_no_gauges_without_a_gpu(metrics_sink: MetricsSink) -> None:
    tokentrail.init(
        endpoint=metrics_sink.url,
        gpu=GpuOptions(nvml=FakeNvml(unavailable="no driver"), metrics_interval_s=0.05),
    )
    time.sleep(0.3)
    tokentrail.shutdown()
    assert metrics_sink.received() == []


def test_metrics_can_be_turned_off(metrics_sink: MetricsSink) -> None:
    tokentrail.init(endpoint=metrics_sink.url, gpu=GpuOptions(nvml=two_gpus(), metrics=False))
    tokentrail.shutdown()
    assert metrics_sink.received() == []


def test_collector_down_the_last_export_does_not_hold_up_shutdown(closed_port_url: str) -> None:
    nvml = two_gpus()
    tokentrail.init(endpoint=closed_port_url, gpu=GpuOptions(nvml=nvml, metrics_interval_s=3600))
    started = time.monotonic()
    tokentrail.shutdown(timeout_s=10)
    assert time.monotonic() - started < 3
    assert nvml.closes == 1
