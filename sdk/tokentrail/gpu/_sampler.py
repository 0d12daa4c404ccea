"""`GpuSampler`: a daemon thread reading NVML every `interval_s` into a bounded sample history.

The application's threads never call NVML: they only read the history (`window()`, `latest()`).
A reading whose call fails is recorded as unknown and logged once per (device, reading); a
reading the device does not support is not asked for again. After `fork` the child gets a
fresh thread (threads do not survive fork) and re-learns which devices it uses. `stop()`
releases NVML.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from tokentrail._internal import CAPTURE, logger, reinit_in_forked_child
from tokentrail.gpu._figures import GpuFigures, window_figures
from tokentrail.gpu._nvml import GpuUnavailable, Nvml, RealNvml
from tokentrail.gpu._samples import DeviceReading, GpuDevice, Sample, SampleHistory

T = TypeVar("T")
DeviceSelection = Literal["process", "all"] | Sequence[int]

DEFAULT_INTERVAL_S = 0.1
MIN_INTERVAL_S = 0.01
DEFAULT_HISTORY_S = 600.0
# Which devices the process uses changes rarely (a model is loaded once); NVML's process lists
# are slower to read than the figures, so they are refreshed every few seconds only.
PROCESS_DEVICES_REFRESH_S = 5.0
# A window is covered when a sample lies within this much of each end (several intervals,
# so a sampler delayed by a busy interpreter still counts; beyond it, figures would be guesses).
_MIN_COVERAGE_GAP_S = 0.5
_COVERAGE_GAP_INTERVALS = 3
# The latest sample stands for "now" while it is younger than this many intervals (at least _MIN_CURRENT_S).
_CURRENT_INTERVALS = 5
_MIN_CURRENT_S = 2.0


@dataclass(frozen=True, slots=True)
class SamplerStats:
    samples: int
    """Samples taken since `start()`."""
    failed_reads: int
    """NVML calls that failed (each leaves one reading unknown)."""
    cpu_seconds: float
    """CPU time the sampling thread has used."""
    running_seconds: float
    """Wall time since the thread started."""


class GpuSampler:
    """Samples GPU utilisation, memory, power and energy in the background.

    `devices`: `"process"` (the default) for the devices where this process has a context,
    or all devices while it has none (the model runs in another process, such as a local
    inference server, or NVML cannot see this process's PID from inside a container);
    `"all"`; or a list of NVML device indices.
    """

    def __init__(
        self,
        nvml: Nvml | None = None,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        devices: DeviceSelection = "process",
        history_s: float = DEFAULT_HISTORY_S,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        monotonic_clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not (isinstance(interval_s, (int, float)) and math.isfinite(interval_s)):
            raise ValueError(f"interval_s must be a number of seconds, got {interval_s!r}")
        if interval_s < MIN_INTERVAL_S:
            raise ValueError(f"interval_s must be at least {MIN_INTERVAL_S}, got {interval_s!r}")
        if not (isinstance(history_s, (int, float)) and history_s >= interval_s):
            raise ValueError(f"history_s must be at least interval_s, got {history_s!r}")
        self._nvml: Nvml = nvml if nvml is not None else RealNvml()
        self._interval_s = float(interval_s)
        self._selection = check_selection(devices)
        self._wall_clock_ns = wall_clock_ns
        self._monotonic_clock_ns = monotonic_clock_ns
        self._history = SampleHistory(max(int(history_s / interval_s) + 1, 2))
        gap_s = max(_COVERAGE_GAP_INTERVALS * self._interval_s, _MIN_COVERAGE_GAP_S)
        self._max_gap_ns = int(gap_s * 1e9)
        self._max_age_ns = int(max(_CURRENT_INTERVALS * self._interval_s, _MIN_CURRENT_S) * 1e9)
        self._devices: tuple[GpuDevice, ...] = ()
        self._positions: dict[int, int] = {}
        self._opened = False
        self._unsupported: set[tuple[int, str]] = set()
        self._logged_failures: set[tuple[int | None, str]] = set()
        self._process_devices: frozenset[int] | None = None
        self._process_devices_at_ns: int | None = None
        self._init_thread_state()
        self._samples = 0
        self._failed_reads = 0
        reinit_in_forked_child(self._reinit_in_child)

    def _init_thread_state(self) -> None:
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_seconds = 0.0
        self._started_monotonic: float | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @property
    def devices(self) -> tuple[GpuDevice, ...]:
        """The devices sampled (known after `open()`), in the order of each sample's readings."""
        return self._devices

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def open(self) -> None:
        """Start NVML and learn the devices. Raises `GpuUnavailable` saying why there is nothing to sample."""
        if self._opened:
            return
        self._nvml.open()
        try:
            count = self._nvml.device_count()
            if count <= 0:
                raise GpuUnavailable("no NVIDIA GPU found")
            indices = self._selected_indices(count)
            self._devices = tuple(self._describe(index) for index in indices)
        except BaseException:
            self._nvml.close()
            raise
        self._positions = {device.index: position for position, device in enumerate(self._devices)}
        self._opened = True

    def start(self) -> None:
        """Open NVML if needed, take a first sample now, and sample every `interval_s` in a daemon thread."""
        with self._lock:
            if self._thread is not None:
                return
            self.open()
            self.sample()
            self._stop_event = threading.Event()
            self._start_thread()

    def _start_thread(self) -> None:
        self._started_monotonic = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop_event,), name="tokentrail-gpu", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop sampling and release NVML (`nvmlShutdown`). The history stays readable."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop_event.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        if self._opened:
            self._opened = False
            try:
                self._nvml.close()
            except Exception as error:  # a driver gone away: nothing left to release
                logger.debug("tokentrail: releasing NVML failed: %s", error)

    def __enter__(self) -> GpuSampler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stats(self) -> SamplerStats:
        started = self._started_monotonic
        return SamplerStats(
            samples=self._samples,
            failed_reads=self._failed_reads,
            cpu_seconds=self._cpu_seconds,
            running_seconds=time.monotonic() - started if started is not None else 0.0,
        )

    # -- sampling (the sampler's thread, or a caller driving it by hand) ------------------------

    def sample(self) -> Sample:
        """Read every device now and record the sample."""
        readings = tuple(self._read_device(device.index) for device in self._devices)
        sample = Sample(
            wall_ns=self._wall_clock_ns(),
            monotonic_ns=self._monotonic_clock_ns(),
            readings=readings,
            process_devices=self._current_process_devices(),
        )
        self._history.append(sample)
        self._samples += 1
        return sample

    def _run(self, stop: threading.Event) -> None:
        cpu_at_start = time.thread_time()
        next_at = time.monotonic()
        while True:
            next_at += self._interval_s
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (a busy interpreter): skip the missed ticks
                next_at, delay = time.monotonic(), 0.0
            if stop.wait(delay):
                return
            with CAPTURE:
                self.sample()
            self._cpu_seconds = time.thread_time() - cpu_at_start

    def _read_device(self, index: int) -> DeviceReading:
        nvml = self._nvml
        return DeviceReading(
            utilization_pct=self._read(index, "utilization", nvml.utilization_pct),
            memory_used_bytes=self._read(index, "memory", nvml.memory_used_bytes),
            power_watts=self._read(index, "power", nvml.power_watts),
            energy_joules=self._read(index, "energy", nvml.total_energy_joules),
        )

    def _read(self, index: int, reading: str, call: Callable[[int], T | None]) -> T | None:
        """`call(index)`; None if the device lacks the reading (not asked again) or the call failed."""
        if (index, reading) in self._unsupported:
            return None
        try:
            value = call(index)
        except Exception as error:
            self._failed_reads += 1
            self._log_failure(index, reading, error)
            return None
        if value is None:
            self._unsupported.add((index, reading))
            logger.debug("tokentrail: GPU %d does not report %s", index, reading)
        return value

    def _log_failure(self, index: int | None, reading: str, error: Exception) -> None:
        key = (index, reading)
        if key in self._logged_failures:
            return
        self._logged_failures.add(key)
        where = f"GPU {index} {reading}" if index is not None else reading
        logger.warning(
            "tokentrail: reading %s failed (%s: %s); it is reported as unknown, and further "
            "failures of this reading are not logged",
            where,
            type(error).__name__,
            error,
        )

    def _current_process_devices(self) -> frozenset[int] | None:
        if self._selection != "process":
            return None
        now = self._monotonic_clock_ns()
        last = self._process_devices_at_ns
        if last is None or now - last >= PROCESS_DEVICES_REFRESH_S * 1e9:
            self._process_devices_at_ns = now
            try:
                self._process_devices = self._nvml.process_devices(os.getpid())
            except Exception as error:
                self._failed_reads += 1
                self._log_failure(None, "the devices this process uses", error)
                self._process_devices = None
        return self._process_devices

    def _describe(self, index: int) -> GpuDevice:
        nvml = self._nvml
        return GpuDevice(
            index=index,
            name=self._read(index, "name", nvml.device_name),
            uuid=self._read(index, "uuid", nvml.device_uuid),
            memory_total_bytes=self._read(index, "memory total", nvml.memory_total_bytes),
        )

    def _selected_indices(self, count: int) -> tuple[int, ...]:
        if isinstance(self._selection, str):
            return tuple(range(count))
        missing = [index for index in self._selection if index >= count]
        if missing:
            raise GpuUnavailable(f"GPU {missing[0]} not found ({count} present)")
        return tuple(self._selection)

    # -- reading the history (any thread) ------------------------------------------------------

    def latest(self) -> Sample | None:
        return self._history.latest()

    def current(self) -> Sample | None:
        """The latest sample if it is recent enough to stand for now (a few intervals), else None."""
        sample = self._history.latest()
        if sample is None:
            return None
        if self._monotonic_clock_ns() - sample.monotonic_ns > self._max_age_ns:
            return None
        return sample

    def in_use(self, sample: Sample) -> list[tuple[GpuDevice, DeviceReading]]:
        """The devices the figures are for (see `devices`), each with its reading in `sample`."""
        return [
            (self._devices[position], sample.readings[position])
            for position in self._positions_in_use([sample])
        ]

    def window(self, start_ns: int, end_ns: int) -> GpuFigures | None:
        """Figures over [start_ns, end_ns] (wall-clock ns, as span timestamps) for the selected devices.

        None when the history does not cover the window (it began before sampling started, ran
        longer than the history, or sampling stopped before it ended).
        """
        around = self._covered(start_ns, end_ns)
        if around is None:
            return None
        positions = self._positions_in_use(around)
        indices = [self._devices[position].index for position in positions]
        return window_figures(around, start_ns, end_ns, positions, indices)

    def device_windows(self, start_ns: int, end_ns: int) -> dict[int, GpuFigures]:
        """Figures over [start_ns, end_ns] for each sampled device on its own, by device index."""
        around = self._covered(start_ns, end_ns)
        if around is None:
            return {}
        result = {}
        for position, device in enumerate(self._devices):
            figures = window_figures(around, start_ns, end_ns, [position], [device.index])
            if figures is not None:
                result[device.index] = figures
        return result

    def _positions_in_use(self, samples: Sequence[Sample]) -> list[int]:
        """Positions (in `devices`) the figures are for: the process's devices, else all sampled."""
        used: set[int] = set()
        for sample in samples:
            if sample.process_devices:
                used.update(sample.process_devices)
        positions = sorted(self._positions[index] for index in used if index in self._positions)
        return positions or list(range(len(self._devices)))

    def _covered(self, start_ns: int, end_ns: int) -> list[Sample] | None:
        if end_ns < start_ns or not self._devices:
            return None
        around = self._history.around(start_ns, end_ns)
        if not around:
            return None
        if around[0].wall_ns - start_ns > self._max_gap_ns or end_ns - around[-1].wall_ns > self._max_gap_ns:
            return None
        return around

    # -- fork ----------------------------------------------------------------------------------

    def _reinit_in_child(self) -> None:
        """After `fork`, in the child: new locks and, if sampling, a new thread; process devices re-read."""
        was_running = self._thread is not None
        self._init_thread_state()
        self._history.reset_lock_after_fork()
        self._process_devices = None
        self._process_devices_at_ns = None
        if was_running and self._opened:
            self._start_thread()


def check_selection(devices: DeviceSelection) -> DeviceSelection:
    if devices in ("process", "all"):
        return devices
    # In this order mypy narrows what is left to Sequence[int] (the other way round it keeps the literals).
    if not isinstance(devices, Sequence) or isinstance(devices, str):
        raise ValueError(f"devices must be 'process', 'all' or a list of device indices, got {devices!r}")
    if not devices or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in devices):
        raise ValueError(f"devices must be non-negative device indices, got {devices!r}")
    return tuple(dict.fromkeys(devices))
