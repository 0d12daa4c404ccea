"""Window figures are pure functions of the samples: hand-computed cases and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail.gpu import DeviceReading, Sample
from tokentrail.gpu._figures import integrate_held_linear, window_figures

S = 10**9  # ns per second
T0 = 1_700_000_000 * S


def samples(*rows: tuple[float, DeviceReading | list[DeviceReading]]) -> list[Sample]:
    out = []
    for seconds, readings in rows:
        readings = readings if isinstance(readings, list) else [readings]
        t = T0 + round(seconds * S)
        out.append(Sample(wall_ns=t, monotonic_ns=t - T0, readings=tuple(readings)))
    return out


def reading(
    util: float | None = None, mem: int | None = None, power: float | None = None, energy: float | None = None
) -> DeviceReading:
    return DeviceReading(utilization_pct=util, memory_used_bytes=mem, power_watts=power, energy_joules=energy)


# One device, a sample a second: utilisation, memory, power and the energy counter.
SERIES = samples(
    (0, reading(10, 100, 100, 1000)),
    (1, reading(20, 500, 200, 1150)),
    (2, reading(30, 300, 300, 1400)),
    (3, reading(40, 200, 200, 1650)),
    (4, reading(50, 100, 100, 1800)),
)


def at(seconds: float) -> int:
    return T0 + round(seconds * S)


def test_counter_path_by_hand() -> None:
    figures = window_figures(SERIES, at(0.5), at(3.5), [0], [0])
    assert figures is not None
    # Samples inside [0.5, 3.5]: t=1, 2, 3.
    assert figures.samples == 3
    assert figures.utilization_avg_pct == pytest.approx((20 + 30 + 40) / 3)
    assert figures.utilization_max_pct == 40
    assert figures.memory_peak_bytes == 500
    # counter(0.5) = 1075, counter(3.5) = 1725 (linear between samples).
    assert figures.energy_joules == pytest.approx(650)
    assert figures.energy_source == "counter"
    assert figures.power_avg_watts == pytest.approx(650 / 3)


def test_integration_path_by_hand() -> None:
    without_counter = [
        Sample(
            s.wall_ns,
            s.monotonic_ns,
            tuple(reading(r.utilization_pct, r.memory_used_bytes, r.power_watts) for r in s.readings),
        )
        for s in SERIES
    ]
    figures = window_figures(without_counter, at(0.5), at(3.5), [0], [0])
    assert figures is not None
    # Trapezoids: [0.5,1] 175 W x 0.5 s + [1,2] 250 + [2,3] 250 + [3,3.5] 175 x 0.5 = 675 J.
    assert figures.energy_joules == pytest.approx(675)
    assert figures.energy_source == "integrated"
    assert figures.power_avg_watts == pytest.approx(225)


def test_counter_is_extrapolated_past_the_last_sample_at_the_last_rate() -> None:
    # The span ends 0.5 s after the latest sample: the counter runs on at (1800-1650)/1 = 150 W.
    figures = window_figures(SERIES[2:], at(3), at(4.5), [0], [0])
    assert figures is not None and figures.energy_joules == pytest.approx(150 * 1.5)


def test_power_is_held_after_the_last_sample() -> None:
    rows = samples((0, reading(power=100)), (1, reading(power=300)))
    figures = window_figures(rows, at(0.5), at(2), [0], [0])
    # [0.5,1]: mean of 200 and 300 over 0.5 s = 125; [1,2]: 300 held = 300.
    assert figures is not None and figures.energy_joules == pytest.approx(425)


def test_a_window_shorter_than_the_interval_takes_the_reading_in_effect() -> None:
    figures = window_figures(SERIES[1:3], at(1.2), at(1.3), [0], [0])
    assert figures is not None
    assert figures.samples == 1
    assert figures.utilization_avg_pct == 20  # the sample at t=1
    assert figures.memory_peak_bytes == 500
    assert figures.energy_joules == pytest.approx(250 * 0.1)  # counter rate between t=1 and t=2


def test_a_counter_that_goes_back_is_not_a_measurement() -> None:
    rows = samples((0, reading(power=100, energy=5000)), (1, reading(power=100, energy=10)))
    figures = window_figures(rows, at(0), at(1), [0], [0])
    assert figures is not None
    assert figures.energy_source == "integrated"
    assert figures.energy_joules == pytest.approx(100)


def test_unknown_readings_are_none_never_zero() -> None:
    rows = samples((0, reading(util=50)), (1, reading(util=70)))
    figures = window_figures(rows, at(0), at(1), [0], [0])
    assert figures is not None
    assert figures.utilization_avg_pct == 60
    assert figures.memory_peak_bytes is None
    assert figures.power_avg_watts is None
    assert figures.energy_joules is None
    assert figures.energy_source is None
    assert set(figures.span_attributes()) == {
        "tokentrail.gpu.utilization.avg",
        "tokentrail.gpu.utilization.max",
        "tokentrail.gpu.devices",
    }


def test_devices_are_combined_and_one_unknown_makes_the_total_unknown() -> None:
    rows = samples(
        (0, [reading(10, 100, 100, 0), reading(30, 1000, 50)]),
        (1, [reading(20, 200, 100, 100), reading(50, 3000, 50)]),
    )
    both = window_figures(rows, at(0), at(1), [0, 1], [0, 1])
    assert both is not None
    assert both.devices == (0, 1)
    assert both.utilization_avg_pct == pytest.approx((15 + 40) / 2)
    assert both.utilization_max_pct == 50
    assert both.memory_peak_bytes == 3200  # peak of the per-sample total
    assert both.energy_joules == pytest.approx(100 + 50)
    assert both.energy_source == "mixed"
    assert both.power_avg_watts == pytest.approx(150)

    power_missing = samples(
        (0, [reading(power=100), reading(util=1)]), (1, [reading(power=100), reading(util=1)])
    )
    figures = window_figures(power_missing, at(0), at(1), [0, 1], [0, 1])
    assert figures is not None and figures.power_avg_watts is None and figures.energy_joules is None


def test_no_samples_or_devices_no_figures() -> None:
    assert window_figures([], at(0), at(1), [0], [0]) is None
    assert window_figures(SERIES, at(0), at(1), [], []) is None
    assert window_figures(SERIES, at(2), at(1), [0], [0]) is None


def test_zero_length_window() -> None:
    figures = window_figures(SERIES, at(2), at(2), [0], [0])
    assert figures is not None
    assert figures.energy_joules == 0
    assert figures.power_avg_watts == 300  # the reading itself


# -- properties --------------------------------------------------------------------------------

times = st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=20, unique=True).map(sorted)
watts = st.floats(0, 2000, allow_nan=False)


@given(times, watts, st.floats(-10, 1010), st.floats(0, 100))
def test_integral_of_a_constant_is_constant_times_duration(
    ts: list[float], p: float, start: float, length: float
) -> None:
    points = [(t, p) for t in ts]
    assert integrate_held_linear(points, start, start + length) == pytest.approx(
        p * length, rel=1e-9, abs=1e-6
    )


@given(
    times, st.lists(watts, min_size=20, max_size=20), st.floats(-10, 1010), st.floats(0, 50), st.floats(0, 50)
)
def test_integral_is_additive(ts: list[float], ps: list[float], a: float, x: float, y: float) -> None:
    points = list(zip(ts, ps, strict=False))
    whole = integrate_held_linear(points, a, a + x + y)
    parts = integrate_held_linear(points, a, a + x) + integrate_held_linear(points, a + x, a + x + y)
    assert whole == pytest.approx(parts, rel=1e-9, abs=1e-6)
    assert whole >= 0


@given(st.lists(st.floats(0.01, 5), min_size=2, max_size=15), watts, st.floats(0, 1), st.floats(0, 1))
def test_a_steady_counter_gives_power_times_duration(gaps: list[float], p: float, u: float, v: float) -> None:
    ts = [sum(gaps[:i]) for i in range(len(gaps))]
    rows = samples(*[(t, reading(power=p, energy=1e6 + p * t)) for t in ts])
    start, end = sorted((u * ts[-1], v * ts[-1]))
    figures = window_figures(rows, at(start), at(end), [0], [0])
    assert figures is not None and figures.energy_source == "counter"
    assert figures.energy_joules == pytest.approx(p * (end - start), rel=1e-6, abs=1e-3)
    assert not math.isnan(figures.power_avg_watts or 0.0)
