"""CPU cost of tokentrail's GPU sampler: its thread at 10 Hz, one sample, and one span's window.

The sampler reads a fake NVML (no GPU needed) unless `--real` is given; real NVML calls cost
more than the fake's (each is a driver call: tens of µs), so on a GPU the thread's share grows
with the number of devices. Figures:

- thread CPU: `time.thread_time()` of the sampling thread over a run of `--seconds`, per second
  of wall time (ms/s, and as a percentage of one core);
- per sample: a tight loop of `sample()` calls (all devices read once);
- per span end: `window()` over a 2-second span in a full 10-minute history (the work done on
  the application's thread when a model-call span ends).

    python bench/gpu_sampler_cost.py [--devices 1 8] [--seconds 10] [--interval-ms 100] [--real]
"""

from __future__ import annotations

import argparse
import time

from tokentrail.gpu import GpuSampler, Nvml, RealNvml
from tokentrail.gpu.testing import FakeDevice, FakeNvml


def fake_nvml(devices: int) -> FakeNvml:
    return FakeNvml(
        [
            FakeDevice(
                utilization=50, memory_used_bytes=2**30, power_watts=300, energy_joules=lambda t: 300 * t
            )
            for _ in range(devices)
        ]
    )


def thread_cost(nvml: Nvml, interval_s: float, seconds: float) -> tuple[float, int]:
    """(CPU seconds per wall second of the sampling thread, samples taken)."""
    with GpuSampler(nvml, interval_s=interval_s, devices="all") as sampler:
        time.sleep(seconds)
        stats = sampler.stats()
    return stats.cpu_seconds / stats.running_seconds, stats.samples


def per_sample_us(nvml: Nvml, samples: int = 2000) -> float:
    sampler = GpuSampler(nvml, interval_s=0.1, devices="all")
    sampler.open()
    try:
        started = time.thread_time()
        for _ in range(samples):
            sampler.sample()
        return (time.thread_time() - started) / samples * 1e6
    finally:
        sampler.stop()


def per_window_us(devices: int, calls: int = 5000) -> float:
    base = time.time_ns()
    ticks = iter(range(base, base + 10**14, 10**8))  # a fast-forward clock: a sample every 100 ms
    sampler = GpuSampler(fake_nvml(devices), interval_s=0.1, devices="all", wall_clock_ns=lambda: next(ticks))
    sampler.open()
    for _ in range(6000):  # the default history, full: 10 minutes at 10 Hz
        sampler.sample()
    start, end = base + 300 * 10**9, base + 302 * 10**9
    started = time.perf_counter()
    for _ in range(calls):
        sampler.window(start, end)
    sampler.stop()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--real", action="store_true", help="read the real GPUs through pynvml")
    args = parser.parse_args()
    interval_s = args.interval_ms / 1000
    print(
        f"GPU sampler at {1 / interval_s:g} Hz, {'real NVML' if args.real else 'fake NVML'}, {args.seconds:g} s runs"
    )
    counts = [None] if args.real else args.devices
    for count in counts:
        make = (lambda: RealNvml()) if args.real else (lambda c=count: fake_nvml(c))
        share, samples = thread_cost(make(), interval_s, args.seconds)
        sample_us = per_sample_us(make())
        label = "all devices" if count is None else f"{count} device{'s' if count != 1 else ''}"
        print(
            f"  {label:>11}: thread {share * 1000:.3f} ms CPU/s ({share * 100:.3f} % of a core, "
            f"{samples} samples); {sample_us:.1f} µs CPU per sample"
        )
    for count in args.devices:
        print(f"  window() per span end, {count} device(s), 10-min history: {per_window_us(count):.1f} µs")


if __name__ == "__main__":
    main()
