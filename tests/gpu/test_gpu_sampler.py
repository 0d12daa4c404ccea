"""The sampler: scripted readings in, figures out; unknowns stay unknown; NVML released; fork-safe."""

from __future__ import annotations

import logging
import os
import time

import pytest

from tokentrail.gpu import GpuSampler, GpuUnavailable
from tokentrail.gpu.testing import FakeClock, FakeDevice, FakeNvml, FakeNvmlError


def driven(nvml: FakeNvml, clock: FakeClock, **kwargs: object) -> GpuSampler:
    """A sampler on the fake clock, opened but without its thread: the test takes the samples."""
    sampler = GpuSampler(
        nvml,
        wall_clock_ns=clock.wall_ns,
        monotonic_clock_ns=clock.monotonic_ns,
        **kwargs,  # type: ignore[arg-type]
    )
    sampler.open()
    return sampler


def take(sampler: GpuSampler, clock: FakeClock, count: int, every_s: float = 1.0) -> None:
    for _ in range(count):
        sampler.sample()
        clock.advance(every_s)


def scripted_device(**overrides: object) -> FakeDevice:
    script = dict(
        utilization=[10, 20, 30, 40, 50],
        memory_used_bytes=[100, 500, 300, 200, 100],
        power_watts=[100, 200, 300, 200, 100],
        energy_joules=[1000, 1150, 1400, 1650, 1800],
    )
    script.update(overrides)
    return FakeDevice(**script)  # type: ignore[arg-type]


def test_scripted_readings_give_hand_computed_figures_with_the_counter(clock: FakeClock) -> None:
    nvml = FakeNvml([scripted_device()], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 5)
    figures = sampler.window(clock.at(0.5), clock.at(3.5))
    assert figures is not None
    assert (figures.utilization_avg_pct, figures.utilization_max_pct) == (30, 40)
    assert figures.memory_peak_bytes == 500
    assert figures.energy_source == "counter"
    assert figures.energy_joules == pytest.approx(650)
    assert figures.power_avg_watts == pytest.approx(650 / 3)


def test_unsupported_energy_counter_falls_back_to_integrating_power(clock: FakeClock) -> None:
    nvml = FakeNvml([scripted_device(energy_joules=None)], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 5)
    figures = sampler.window(clock.at(0.5), clock.at(3.5))
    assert figures is not None
    assert figures.energy_source == "integrated"
    assert figures.energy_joules == pytest.approx(675)
    assert nvml.reads(0, "energy") == 1  # not supported: not asked again


def test_power_as_a_function_of_time(clock: FakeClock) -> None:
    # 100 W rising 10 W a second; no counter: the trapezoids are exact for a linear ramp.
    nvml = FakeNvml([FakeDevice(power_watts=lambda t: 100 + 10 * t)], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=0.1)
    take(sampler, clock, 31, every_s=0.1)
    figures = sampler.window(clock.at(1.0), clock.at(3.0))
    assert figures is not None
    assert figures.energy_joules == pytest.approx(2 * 120)  # mean power 120 W over 2 s


def test_a_failing_call_leaves_that_figure_unknown_and_is_logged_once(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    boom = FakeNvmlError("GPU is lost")
    nvml = FakeNvml([scripted_device(utilization=[boom])], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        take(sampler, clock, 5)
    figures = sampler.window(clock.at(0.5), clock.at(3.5))
    assert figures is not None
    assert figures.utilization_avg_pct is None
    assert figures.utilization_max_pct is None
    assert figures.memory_peak_bytes == 500
    assert figures.energy_joules == pytest.approx(650)
    assert nvml.reads(0, "utilization") == 5  # a failure may be transient: still asked every time
    lines = [r.getMessage() for r in caplog.records if r.name == "tokentrail"]
    assert len(lines) == 1, lines
    assert "GPU 0 utilization" in lines[0] and "GPU is lost" in lines[0]
    assert sampler.stats().failed_reads == 5


def test_a_transient_failure_only_loses_that_sample(clock: FakeClock) -> None:
    nvml = FakeNvml(
        [scripted_device(power_watts=[100, FakeNvmlError("timeout"), 300, 200, 100], energy_joules=None)],
        clock=clock.seconds,
    )
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 5)
    figures = sampler.window(clock.at(0), clock.at(2))
    # Power known at t=0 (100 W) and t=2 (300 W): the trapezoid over the gap is 2 s x 200 W.
    assert figures is not None and figures.energy_joules == pytest.approx(400)


def test_figures_per_device_and_for_the_set(clock: FakeClock) -> None:
    nvml = FakeNvml(
        [
            FakeDevice(utilization=20, memory_used_bytes=1000, power_watts=100),
            FakeDevice(utilization=60, memory_used_bytes=3000, power_watts=FakeNvmlError("no")),
        ],
        clock=clock.seconds,
    )
    sampler = driven(nvml, clock, interval_s=1.0, devices="all")
    take(sampler, clock, 3)
    both = sampler.window(clock.at(0), clock.at(2))
    assert both is not None
    assert both.devices == (0, 1)
    assert both.utilization_avg_pct == 40
    assert both.memory_peak_bytes == 4000
    assert both.power_avg_watts is None  # unknown on device 1: unknown for the set, not 100
    per_device = sampler.device_windows(clock.at(0), clock.at(2))
    assert per_device[0].power_avg_watts == pytest.approx(100)
    assert per_device[0].energy_joules == pytest.approx(200)
    assert per_device[1].power_avg_watts is None
    assert per_device[1].utilization_avg_pct == 60


def test_process_devices_select_the_figures(clock: FakeClock) -> None:
    pid = os.getpid()
    devices = [FakeDevice(utilization=10), FakeDevice(utilization=90, processes=frozenset({pid}))]
    nvml = FakeNvml(devices, clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 3)
    figures = sampler.window(clock.at(0), clock.at(2))
    assert figures is not None and figures.devices == (1,) and figures.utilization_avg_pct == 90


def test_a_process_on_no_device_gets_figures_for_all(clock: FakeClock) -> None:
    nvml = FakeNvml([FakeDevice(utilization=10), FakeDevice(utilization=30)], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 3)
    figures = sampler.window(clock.at(0), clock.at(2))
    assert figures is not None and figures.devices == (0, 1) and figures.utilization_avg_pct == 20


def test_explicit_device_indices(clock: FakeClock) -> None:
    nvml = FakeNvml(
        [FakeDevice(utilization=10), FakeDevice(utilization=30), FakeDevice(utilization=50)],
        clock=clock.seconds,
    )
    sampler = driven(nvml, clock, interval_s=1.0, devices=[2, 0])
    take(sampler, clock, 2)
    assert [d.index for d in sampler.devices] == [2, 0]
    assert nvml.reads(1, "utilization") == 0  # not selected: never read
    figures = sampler.window(clock.at(0), clock.at(1))
    assert figures is not None and figures.devices == (2, 0) and figures.utilization_avg_pct == 30
    with pytest.raises(GpuUnavailable, match="GPU 7 not found"):
        GpuSampler(FakeNvml(), devices=[7]).open()


def test_windows_the_history_does_not_cover_have_no_figures(clock: FakeClock) -> None:
    nvml = FakeNvml([scripted_device()], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0, history_s=3.0)
    assert sampler.window(clock.at(0), clock.at(1)) is None  # nothing sampled yet
    take(sampler, clock, 8)  # t = 0..7; the history keeps the last 4
    assert sampler.window(clock.at(0), clock.at(7)) is None  # longer than the history
    assert sampler.window(clock.at(20), clock.at(21)) is None  # after sampling stopped
    assert sampler.window(clock.at(5), clock.at(7)) is not None


def test_no_device_or_no_nvml_is_unavailable_and_nvml_released() -> None:
    empty = FakeNvml(devices=[])
    with pytest.raises(GpuUnavailable, match="no NVIDIA GPU found"):
        GpuSampler(empty).start()
    assert empty.opens == 1 and empty.closes == 1
    with pytest.raises(GpuUnavailable, match="no driver"):
        GpuSampler(FakeNvml(unavailable="no driver")).start()


def test_stop_releases_nvml_once(clock: FakeClock) -> None:
    nvml = FakeNvml([scripted_device()])
    sampler = GpuSampler(nvml, interval_s=0.01)
    sampler.start()
    assert sampler.running and nvml.is_open
    sampler.stop()
    sampler.stop()
    assert not sampler.running
    assert (nvml.opens, nvml.closes, nvml.is_open) == (1, 1, False)


def test_the_thread_samples_at_the_interval() -> None:
    nvml = FakeNvml([FakeDevice(utilization=42)])
    with GpuSampler(nvml, interval_s=0.02) as sampler:
        time.sleep(0.5)
        stats = sampler.stats()
        latest = sampler.current()
    assert 10 <= stats.samples <= 30, stats  # about 25, on shared and busy CPUs
    assert latest is not None and latest.readings[0].utilization_pct == 42
    assert nvml.closes == 1


def test_the_latest_sample_stands_for_now_only_while_recent(clock: FakeClock) -> None:
    sampler = driven(FakeNvml([FakeDevice(utilization=42)], clock=clock.seconds), clock, interval_s=0.1)
    assert sampler.current() is None
    sampler.sample()
    clock.advance(1.9)
    assert sampler.current() is sampler.latest()
    clock.advance(0.2)  # older than max(5 intervals, 2 s)
    assert sampler.current() is None
    assert sampler.latest() is not None


def test_a_sampler_ignores_a_wall_clock_step_back(clock: FakeClock) -> None:
    nvml = FakeNvml([FakeDevice(utilization=10)], clock=clock.seconds)
    sampler = driven(nvml, clock, interval_s=1.0)
    take(sampler, clock, 3)
    clock.advance(-10)
    sampler.sample()
    assert sampler.latest() is not None
    assert sampler.window(clock.at(-8), clock.at(-7)) is not None


def test_invalid_arguments_raise() -> None:
    for bad in (
        {"interval_s": 0},
        {"interval_s": float("nan")},
        {"devices": "some"},
        {"devices": [-1]},
        {"devices": []},
        {"history_s": 0.001},
    ):
        with pytest.raises(ValueError):
            GpuSampler(FakeNvml(), **bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_samples_with_its_own_thread() -> None:
    nvml = FakeNvml([FakeDevice(utilization=7)])
    sampler = GpuSampler(nvml, interval_s=0.02)
    sampler.start()
    try:
        pid = os.fork()
        if pid == 0:  # the child: report through the exit code, never return into pytest
            code = 1
            try:
                before = sampler.stats().samples
                time.sleep(0.3)
                after = sampler.stats().samples
                code = 0 if sampler.running and after > before else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert sampler.running
    finally:
        sampler.stop()
