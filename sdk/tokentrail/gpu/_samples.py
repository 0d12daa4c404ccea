"""What the sampler records: timestamped readings of each device, kept in a bounded history.

A reading that is unknown (not supported, or the call failed) is None, never 0.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuDevice:
    """A device the sampler reads, as NVML numbers it."""

    index: int
    name: str | None
    uuid: str | None
    memory_total_bytes: int | None


@dataclass(frozen=True, slots=True)
class DeviceReading:
    utilization_pct: float | None = None
    memory_used_bytes: int | None = None
    power_watts: float | None = None
    energy_joules: float | None = None
    """The device's energy counter (since the driver loaded); None where the device has none."""


@dataclass(frozen=True, slots=True)
class Sample:
    wall_ns: int
    """`time.time_ns()` when taken: the clock span timestamps use."""
    monotonic_ns: int
    readings: tuple[DeviceReading, ...]
    """One per device of `GpuSampler.devices`, in that order."""
    process_devices: frozenset[int] | None = None
    """Device indices where this process had a context (refreshed every few seconds); None if not known."""


class SampleHistory:
    """The latest samples in time order, at most `capacity` of them; thread-safe.

    A plain list trimmed from the front in chunks: appending stays amortised O(1) and the
    list stays sorted, so a window is found by bisection.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError("a sample history needs room for at least 2 samples")
        self._capacity = capacity
        self._slack = max(capacity // 4, 1)
        self._samples: list[Sample] = []
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    def append(self, sample: Sample) -> None:
        with self._lock:
            samples = self._samples
            if samples and sample.wall_ns < samples[-1].wall_ns:
                # The wall clock went back (NTP step): older samples no longer order with new spans.
                samples.clear()
            samples.append(sample)
            if len(samples) > self._capacity + self._slack:
                del samples[: len(samples) - self._capacity]

    def latest(self) -> Sample | None:
        with self._lock:
            return self._samples[-1] if self._samples else None

    def oldest(self) -> Sample | None:
        with self._lock:
            return self._samples[max(len(self._samples) - self._capacity, 0)] if self._samples else None

    def around(self, start_ns: int, end_ns: int) -> list[Sample]:
        """The samples taken in [start_ns, end_ns], with the one just before and the one just after."""
        with self._lock:
            samples = self._samples
            first = max(len(samples) - self._capacity, 0)
            lo = bisect.bisect_left(samples, start_ns, lo=first, key=_wall_ns)
            hi = bisect.bisect_right(samples, end_ns, lo=lo, key=_wall_ns)
            return samples[max(lo - 1, first) : hi + 1]

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()

    def reset_lock_after_fork(self) -> None:
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return min(len(self._samples), self._capacity)


def _wall_ns(sample: Sample) -> int:
    return sample.wall_ns
