"""Overhead sanity: the sampler's thread at 10 Hz and the per-span window on the app's thread."""

from __future__ import annotations

import time

from tokentrail.gpu import GpuSampler
from tokentrail.gpu.testing import FakeDevice, FakeNvml


def test_sampler_thread_cpu_at_10_hz_is_small() -> None:
    nvml = FakeNvml(
        [FakeDevice(utilization=50, power_watts=300, energy_joules=lambda t: 300 * t) for _ in range(8)]
    )
    with GpuSampler(nvml, interval_s=0.1, devices="all") as sampler:
        time.sleep(1.0)
        stats = sampler.stats()
    assert stats.samples >= 8
    # Measured about 0.05 % of a core (bench/gpu_sampler_cost.py); the bound is for busy, shared CPUs.
    assert stats.cpu_seconds / stats.running_seconds < 0.02, stats


def test_window_per_span_end_is_cheap() -> None:
    nvml = FakeNvml([FakeDevice(utilization=50, power_watts=300) for _ in range(2)])
    base = time.time_ns()
    timestamps = iter(range(base, base + 10**13, 10**8))  # a fast-forward clock: a sample every 100 ms
    sampler = GpuSampler(nvml, interval_s=0.1, devices="all", wall_clock_ns=lambda: next(timestamps))
    sampler.open()
    for _ in range(6000):  # the full default history: 10 minutes at 10 Hz
        sampler.sample()
    start, end = base + 300 * 10**9, base + 302 * 10**9  # a 2-second span in the middle
    calls = 2000
    started = time.perf_counter()
    for _ in range(calls):
        sampler.window(start, end)
    per_call_us = (time.perf_counter() - started) / calls * 1e6
    assert sampler.window(start, end) is not None
    assert per_call_us < 500, per_call_us  # tens of µs where measured
