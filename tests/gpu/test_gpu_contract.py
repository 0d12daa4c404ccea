"""The `Nvml` contract, checked against the fake and against `RealNvml` over a stand-in pynvml
module (units, errors and release), where no GPU is present. test_real_nvml.py runs the same
contract on a real GPU."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator

import pytest

from tokentrail.gpu import GpuSampler, GpuUnavailable, Nvml, RealNvml
from tokentrail.gpu.testing import FakeDevice, FakeNvml

from . import contract, fake_pynvml
from .conftest import MetricsSink


def fake_nvml() -> Nvml:
    return FakeNvml(
        [
            FakeDevice(
                utilization=[30, 70],
                memory_used_bytes=2**30,
                power_watts=200,
                energy_joules=lambda t: 100 + 200 * t,
            ),
            FakeDevice(utilization=5, memory_used_bytes=0, power_watts=40),
        ]
    )


@pytest.fixture
def stand_in_pynvml(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., object]]:
    """Installs a stand-in `pynvml` module built from `fake_pynvml.Gpu`s; returns the installer."""

    def install(gpus: list[fake_pynvml.Gpu], **kwargs: object) -> object:
        module = fake_pynvml.make(gpus, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setitem(sys.modules, "pynvml", module)
        return module

    yield install


def real_nvml_over_stand_in(install: Callable[..., object]) -> Nvml:
    install([fake_pynvml.Gpu(pids=[os.getpid()]), fake_pynvml.Gpu(name="Tesla T4", millijoules=None)])
    return RealNvml()


BACKENDS = ["fake", "real-over-stand-in"]


def backend(name: str, install: Callable[..., object]) -> Nvml:
    return fake_nvml() if name == "fake" else real_nvml_over_stand_in(install)


@pytest.mark.parametrize("name", BACKENDS)
def test_readings(name: str, stand_in_pynvml: Callable[..., object]) -> None:
    contract.check_readings(backend(name, stand_in_pynvml))


@pytest.mark.parametrize("name", BACKENDS)
def test_sampler(name: str, stand_in_pynvml: Callable[..., object]) -> None:
    contract.check_sampler(backend(name, stand_in_pynvml))


@pytest.mark.parametrize("name", BACKENDS)
def test_span_attribution(name: str, stand_in_pynvml: Callable[..., object]) -> None:
    contract.check_span_attribution(backend(name, stand_in_pynvml))


@pytest.mark.parametrize("name", BACKENDS)
def test_metrics(name: str, stand_in_pynvml: Callable[..., object], metrics_sink: MetricsSink) -> None:
    contract.check_metrics(backend(name, stand_in_pynvml), metrics_sink)


# -- RealNvml's translation of pynvml ----------------------------------------------------------


def test_real_nvml_converts_units_and_names(stand_in_pynvml: Callable[..., object]) -> None:
    module = stand_in_pynvml(
        [fake_pynvml.Gpu(pids=[os.getpid()]), fake_pynvml.Gpu(name="Tesla T4", millijoules=None)]
    )
    nvml = RealNvml()
    nvml.open()
    assert nvml.device_count() == 2
    assert nvml.device_name(0) == "NVIDIA H100 80GB HBM3"  # bytes from older pynvml, decoded
    assert nvml.device_name(1) == "Tesla T4"
    assert nvml.device_uuid(0) == "GPU-12345678-1234-1234-1234-123456789abc"
    assert nvml.utilization_pct(0) == 37.0
    assert nvml.memory_used_bytes(0) == 10 * 2**30
    assert nvml.memory_total_bytes(0) == 80 * 2**30
    assert nvml.power_watts(0) == pytest.approx(312.456)  # mW -> W
    assert nvml.total_energy_joules(0) == pytest.approx(987_654.321)  # mJ -> J
    assert nvml.total_energy_joules(1) is None  # NOT_SUPPORTED: absent, not 0
    assert nvml.process_devices(os.getpid()) == frozenset({0})
    assert nvml.process_devices(1) == frozenset()
    nvml.close()
    nvml.close()
    assert module.calls == {"nvmlInit": 1, "nvmlShutdown": 1}  # type: ignore[attr-defined]


def test_real_nvml_failures_raise_and_the_sampler_logs_them_once(
    stand_in_pynvml: Callable[..., object], caplog: pytest.LogCaptureFixture
) -> None:
    lost = fake_pynvml.NVML_ERROR_GPU_IS_LOST
    stand_in_pynvml(
        [
            fake_pynvml.Gpu(
                fail={"nvmlDeviceGetPowerUsage": lost, "nvmlDeviceGetComputeRunningProcesses": lost}
            )
        ]
    )
    nvml = RealNvml()
    nvml.open()
    with pytest.raises(fake_pynvml.NVMLError):
        nvml.power_watts(0)
    nvml.close()
    sampler = GpuSampler(RealNvml(), interval_s=0.05)
    sampler.open()
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        for _ in range(3):
            sample = sampler.sample()
    sampler.stop()
    assert sample.readings[0].power_watts is None
    assert sample.readings[0].utilization_pct == 37.0
    messages = [r.getMessage() for r in caplog.records if r.name == "tokentrail"]
    assert len(messages) == 2, messages  # power, and the process's devices: once each
    assert any("GPU 0 power" in m for m in messages)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (fake_pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver"),
        (fake_pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "the NVIDIA driver is not loaded"),
        (fake_pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
        (999, "NVML failed to start (NVML error 999)"),
    ],
)
def test_real_nvml_says_why_it_cannot_start(
    stand_in_pynvml: Callable[..., object], code: int, reason: str
) -> None:
    stand_in_pynvml([fake_pynvml.Gpu()], init_error=code)
    with pytest.raises(GpuUnavailable, match=reason.replace("(", r"\(").replace(")", r"\)")):
        RealNvml().open()


def test_real_nvml_without_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(GpuUnavailable, match="pynvml is not installed"):
        RealNvml().open()


def test_real_nvml_with_no_device(stand_in_pynvml: Callable[..., object]) -> None:
    module = stand_in_pynvml([])
    with pytest.raises(GpuUnavailable, match="no NVIDIA GPU found"):
        GpuSampler(RealNvml()).start()
    assert module.calls == {"nvmlInit": 1, "nvmlShutdown": 1}  # type: ignore[attr-defined]
