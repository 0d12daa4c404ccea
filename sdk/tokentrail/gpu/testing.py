"""A fake NVML for tests (ours and yours): devices with readings scripted over time, and a clock.

    from tokentrail.gpu.testing import FakeClock, FakeDevice, FakeNvml, FakeNvmlError

    clock = FakeClock()
    nvml = FakeNvml(
        [FakeDevice(utilization=[10, 50, 90], power_watts=lambda t: 100 + 10 * t, energy_joules=None)],
        clock=clock.seconds,
    )
    sampler = GpuSampler(nvml, wall_clock_ns=clock.wall_ns, monotonic_clock_ns=clock.monotonic_ns)

A scripted reading is one of: a constant; a sequence, whose n-th element answers the n-th read
(the last one repeats); a function of the seconds elapsed on `clock` since `open()`. An exception
instance in a sequence (or raised by the function) makes that read fail. A reading scripted as
None is one the device does not support, such as the energy counter of a pre-Volta GPU.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, Union

from tokentrail.gpu._nvml import GpuUnavailable

T = TypeVar("T", int, float)
Script = Union[T, Sequence[T | BaseException], Callable[[float], T], None]  # noqa: UP007 - a generic alias

GIB = 2**30


class FakeNvmlError(Exception):
    """An NVML call that failed (a stand-in for `pynvml.NVMLError`)."""


@dataclass
class FakeDevice:
    name: str = "Fake GPU"
    uuid: str | None = None
    """Defaults to `GPU-fake-<index>`."""
    utilization: Script[float] = 0.0
    memory_used_bytes: Script[int] = 0
    memory_total_bytes: int | None = 80 * GIB
    power_watts: Script[float] = 0.0
    energy_joules: Script[float] = None
    """The energy counter; None (the default): the device has none, energy is integrated from power."""
    processes: frozenset[int] = frozenset()
    """PIDs with a context on this device."""


class FakeClock:
    """A clock that moves only when told: wall and monotonic nanoseconds, and seconds for scripts."""

    def __init__(self, wall_ns: int = 1_700_000_000 * 10**9) -> None:
        self._wall_origin_ns = wall_ns
        self._elapsed_ns = 0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed_ns += round(seconds * 1e9)

    def wall_ns(self) -> int:
        return self._wall_origin_ns + self._elapsed_ns

    def monotonic_ns(self) -> int:
        return self._elapsed_ns

    def seconds(self) -> float:
        return self._elapsed_ns / 1e9

    def at(self, seconds: float) -> int:
        """The wall-clock ns at `seconds` after this clock's origin (for span timestamps)."""
        return self._wall_origin_ns + round(seconds * 1e9)


@dataclass
class FakeNvml:
    """An `Nvml` answering from scripts; counts opens, closes and calls so tests can check them."""

    devices: list[FakeDevice] = field(default_factory=lambda: [FakeDevice()])
    unavailable: str | None = None
    """When set, `open()` raises `GpuUnavailable` with this reason (no driver, ...)."""
    clock: Callable[[], float] = time.monotonic
    process_devices_error: BaseException | None = None
    opens: int = 0
    closes: int = 0
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._reads: Counter[tuple[int, str]] = Counter()
        self._opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def open(self) -> None:
        self.calls["open"] += 1
        if self.unavailable is not None:
            raise GpuUnavailable(self.unavailable)
        self.opens += 1
        self._opened_at = self.clock()

    def close(self) -> None:
        self.calls["close"] += 1
        if self._opened_at is not None:
            self.closes += 1
            self._opened_at = None

    def device_count(self) -> int:
        self._require_open("device_count")
        return len(self.devices)

    def device_name(self, index: int) -> str | None:
        return self._device(index, "device_name").name

    def device_uuid(self, index: int) -> str | None:
        return self._device(index, "device_uuid").uuid or f"GPU-fake-{index}"

    def utilization_pct(self, index: int) -> float | None:
        value = self._scripted(index, "utilization", self._device(index, "utilization_pct").utilization)
        return None if value is None else float(value)

    def memory_used_bytes(self, index: int) -> int | None:
        used = self._scripted(index, "memory", self._device(index, "memory_used_bytes").memory_used_bytes)
        return None if used is None else int(used)

    def memory_total_bytes(self, index: int) -> int | None:
        return self._device(index, "memory_total_bytes").memory_total_bytes

    def power_watts(self, index: int) -> float | None:
        value = self._scripted(index, "power", self._device(index, "power_watts").power_watts)
        return None if value is None else float(value)

    def total_energy_joules(self, index: int) -> float | None:
        value = self._scripted(index, "energy", self._device(index, "total_energy_joules").energy_joules)
        return None if value is None else float(value)

    def process_devices(self, pid: int) -> frozenset[int] | None:
        self._require_open("process_devices")
        if self.process_devices_error is not None:
            raise self.process_devices_error
        return frozenset(i for i, device in enumerate(self.devices) if pid in device.processes)

    def reads(self, index: int, reading: str) -> int:
        """How many times `reading` ("utilization", "memory", "power", "energy") of device `index` was read."""
        return self._reads[(index, reading)]

    def _require_open(self, call: str) -> None:
        self.calls[call] += 1
        if self._opened_at is None:
            raise FakeNvmlError(f"{call}: NVML is not initialised")

    def _device(self, index: int, call: str) -> FakeDevice:
        self._require_open(call)
        if not 0 <= index < len(self.devices):
            raise FakeNvmlError(f"{call}: no device {index}")
        return self.devices[index]

    def _scripted(self, index: int, reading: str, script: Script[T]) -> T | None:
        with self._lock:
            n = self._reads[(index, reading)]
            self._reads[(index, reading)] += 1
        if script is None:
            return None
        if callable(script):
            return script(self.clock() - (self._opened_at or 0.0))
        if isinstance(script, Sequence):
            if not script:
                return None
            value = script[min(n, len(script) - 1)]
            if isinstance(value, BaseException):
                raise value
            return value
        return script
