"""GPU figures over a time window (a span's lifetime), computed from samples; pure functions.

Per device, over the window [start, end]:

- utilisation average and maximum, memory-used peak: over the samples taken inside the window;
  a window shorter than the sampling interval, with no sample inside, takes the reading in
  effect at its end (the latest sample before it).
- energy: the device's energy counter read as a piecewise-linear function of time (between
  samples; past the last sample at the last interval's rate), counter(end) - counter(start).
  Where the device has no counter (or it went backwards: a driver reload), the power readings
  integrated over the window by the trapezoidal rule, held flat before the first and after the
  last sample.
- power average: energy / duration, so it agrees with the energy figure; for a zero-length
  window, the mean power reading.

Across devices: utilisation is the mean of the devices' averages and the max of their maxima;
memory peak, power and energy are totals (memory: the peak of the per-sample total). A figure
that is unknown for one of the devices is unknown for the set: None, never a partial sum or 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from opentelemetry.util.types import AttributeValue

from tokentrail import semconv
from tokentrail.gpu._samples import Sample

EnergySource = Literal["counter", "integrated", "mixed"]
T = TypeVar("T")
_NS_PER_S = 1e9


@dataclass(frozen=True, slots=True)
class GpuFigures:
    """GPU figures over a window; a None figure is unknown (never reported as 0)."""

    devices: tuple[int, ...]
    """Indices of the devices the figures cover."""
    samples: int
    """How many samples the averages and peaks are taken over."""
    utilization_avg_pct: float | None
    utilization_max_pct: float | None
    memory_peak_bytes: int | None
    power_avg_watts: float | None
    energy_joules: float | None
    energy_source: EnergySource | None
    """`counter`: the devices' energy counters; `integrated`: power integrated over time."""

    def span_attributes(self) -> dict[str, AttributeValue]:
        """The known figures as `tokentrail.gpu.*` span attributes; unknown ones are left out."""
        values: dict[str, AttributeValue] = {semconv.TT_GPU_DEVICES: list(self.devices)}
        for key, value in (
            (semconv.TT_GPU_UTIL_AVG, self.utilization_avg_pct),
            (semconv.TT_GPU_UTIL_MAX, self.utilization_max_pct),
            (semconv.TT_GPU_MEMORY_PEAK_BYTES, self.memory_peak_bytes),
            (semconv.TT_GPU_POWER_AVG_WATTS, self.power_avg_watts),
            (semconv.TT_GPU_ENERGY_JOULES, self.energy_joules),
        ):
            if value is not None:
                values[key] = value
        return values


@dataclass(frozen=True, slots=True)
class _DeviceFigures:
    utilization_avg: float | None
    utilization_max: float | None
    power_avg: float | None
    energy: float | None
    energy_source: EnergySource | None


def window_figures(
    around: Sequence[Sample],
    start_ns: int,
    end_ns: int,
    positions: Sequence[int],
    indices: Sequence[int],
) -> GpuFigures | None:
    """Figures over [start_ns, end_ns] for the devices at `positions` of each sample's readings.

    `around` holds the samples inside the window in time order, with the one just before and
    the one just after it where they exist (`SampleHistory.around`). `indices` are the NVML
    indices of the devices at `positions`. None without samples or devices.
    """
    if not around or not positions or end_ns < start_ns:
        return None
    inside = [sample for sample in around if start_ns <= sample.wall_ns <= end_ns]
    if not inside:
        earlier = [sample for sample in around if sample.wall_ns < start_ns]
        inside = [earlier[-1] if earlier else around[0]]
    per_device = [_device_figures(around, inside, start_ns, end_ns, position) for position in positions]
    utilization_avgs = _known([figures.utilization_avg for figures in per_device])
    utilization_maxes = _known([figures.utilization_max for figures in per_device])
    power_avgs = _known([figures.power_avg for figures in per_device])
    energies = _known([figures.energy for figures in per_device])
    sources = {figures.energy_source for figures in per_device}
    energy_source: EnergySource | None = None
    if energies is not None:
        energy_source = next(iter(sources)) if len(sources) == 1 else "mixed"
    return GpuFigures(
        devices=tuple(indices),
        samples=len(inside),
        utilization_avg_pct=sum(utilization_avgs) / len(utilization_avgs) if utilization_avgs else None,
        utilization_max_pct=max(utilization_maxes) if utilization_maxes else None,
        memory_peak_bytes=_memory_peak(inside, positions),
        power_avg_watts=sum(power_avgs) if power_avgs is not None else None,
        energy_joules=sum(energies) if energies is not None else None,
        energy_source=energy_source,
    )


def _device_figures(
    around: Sequence[Sample], inside: Sequence[Sample], start_ns: int, end_ns: int, position: int
) -> _DeviceFigures:
    utilization = [
        value for sample in inside if (value := sample.readings[position].utilization_pct) is not None
    ]
    source: EnergySource | None = "counter"
    energy = _counter_energy(around, start_ns, end_ns, position)
    if energy is None:
        energy = _integrated_energy(around, start_ns, end_ns, position)
        source = "integrated" if energy is not None else None
    duration_s = (end_ns - start_ns) / _NS_PER_S
    if energy is not None and duration_s > 0:
        power_avg: float | None = energy / duration_s
    else:
        power = [value for sample in inside if (value := sample.readings[position].power_watts) is not None]
        power_avg = sum(power) / len(power) if power else None
    return _DeviceFigures(
        utilization_avg=sum(utilization) / len(utilization) if utilization else None,
        utilization_max=max(utilization) if utilization else None,
        power_avg=power_avg,
        energy=energy,
        energy_source=source,
    )


def _counter_energy(around: Sequence[Sample], start_ns: int, end_ns: int, position: int) -> float | None:
    points = _series(around, start_ns, position, "energy_joules")
    if len(points) < 2:
        return None
    end_s = (end_ns - start_ns) / _NS_PER_S
    energy = _interpolate(points, end_s) - _interpolate(points, 0.0)
    return energy if energy >= 0 else None  # a counter that went back was reset: not a measurement


def _integrated_energy(around: Sequence[Sample], start_ns: int, end_ns: int, position: int) -> float | None:
    points = _series(around, start_ns, position, "power_watts")
    if not points:
        return None
    return integrate_held_linear(points, 0.0, (end_ns - start_ns) / _NS_PER_S)


def _series(
    around: Sequence[Sample], origin_ns: int, position: int, reading: str
) -> list[tuple[float, float]]:
    """(seconds since `origin_ns`, value) of the known values of one reading, one per instant."""
    points: list[tuple[float, float]] = []
    for sample in around:
        value = getattr(sample.readings[position], reading)
        if value is None:
            continue
        t = (sample.wall_ns - origin_ns) / _NS_PER_S
        if points and t <= points[-1][0]:
            continue
        points.append((t, float(value)))
    return points


def _interpolate(points: Sequence[tuple[float, float]], t: float) -> float:
    """Piecewise-linear through `points` (at least 2), extended past either end along the end segment."""
    segment = 0
    while segment < len(points) - 2 and t > points[segment + 1][0]:
        segment += 1
    (t0, v0), (t1, v1) = points[segment], points[segment + 1]
    return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


def integrate_held_linear(points: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """∫ over [start, end] of the piecewise-linear function through `points`, flat beyond its ends."""
    if end <= start:
        return 0.0
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    total = 0.0
    if start < first_t:
        total += first_v * (min(end, first_t) - start)
    if end > last_t:
        total += last_v * (end - max(start, last_t))
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        lo, hi = max(start, t0), min(end, t1)
        if hi <= lo:
            continue
        span = t1 - t0  # fractions, not a slope: stays finite for segments a few ns long
        at_lo = v0 + (v1 - v0) * ((lo - t0) / span)
        at_hi = v0 + (v1 - v0) * ((hi - t0) / span)
        total += (at_lo + at_hi) / 2 * (hi - lo)
    return total


def _memory_peak(inside: Sequence[Sample], positions: Sequence[int]) -> int | None:
    totals = []
    for sample in inside:
        used = _known([sample.readings[position].memory_used_bytes for position in positions])
        if used is not None:
            totals.append(sum(used))
    return max(totals) if totals else None


def _known(values: Sequence[T | None]) -> list[T] | None:
    """The values if every one is known, else None: a figure unknown for one device is unknown."""
    known = [value for value in values if value is not None]
    return known if len(known) == len(values) else None
