"""The `Nvml` contract on a real NVIDIA GPU through pynvml: the same assertions as the fake's
(tests/gpu/contract.py). Skipped, saying why, where there is no pynvml, driver or GPU."""

from __future__ import annotations

import time

import pytest

from tokentrail.gpu import GpuSampler, GpuUnavailable, RealNvml

from . import contract
from .conftest import MetricsSink


def _why_no_gpu() -> str | None:
    nvml = RealNvml()
    try:
        nvml.open()
    except GpuUnavailable as reason:
        return f"no NVIDIA GPU to test against: {reason}"
    try:
        return (
            None if nvml.device_count() > 0 else "no NVIDIA GPU to test against: the driver lists no device"
        )
    finally:
        nvml.close()


_NO_GPU = _why_no_gpu()
pytestmark = pytest.mark.skipif(_NO_GPU is not None, reason=_NO_GPU or "")


def test_readings() -> None:
    contract.check_readings(RealNvml())


def test_sampler() -> None:
    contract.check_sampler(RealNvml())


def test_span_attribution() -> None:
    contract.check_span_attribution(RealNvml())


def test_metrics(metrics_sink: MetricsSink) -> None:
    contract.check_metrics(RealNvml(), metrics_sink)


def test_stop_calls_nvml_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    import pynvml

    shutdowns = []
    real_shutdown = pynvml.nvmlShutdown
    monkeypatch.setattr(pynvml, "nvmlShutdown", lambda: (shutdowns.append(1), real_shutdown())[1])
    sampler = GpuSampler(RealNvml(), interval_s=0.05)
    sampler.start()
    sampler.stop()
    sampler.stop()
    assert shutdowns == [1]


def test_per_device_windows_and_sampler_cost() -> None:
    with GpuSampler(RealNvml(), interval_s=0.1, devices="all") as sampler:
        start = time.time_ns()
        time.sleep(1.0)
        end = time.time_ns()
        per_device = sampler.device_windows(start, end)
        stats = sampler.stats()
    assert set(per_device) == {device.index for device in sampler.devices}
    for figures in per_device.values():
        contract.check_figures(figures, (end - start) / 1e9)
    # Real NVML calls cost more than the fake's; 10 Hz should still be well under 5 % of a core.
    assert stats.cpu_seconds / stats.running_seconds < 0.05, stats
