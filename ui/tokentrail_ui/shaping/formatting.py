"""Numbers as people read them: durations, money, counts, rates, bytes; None shown as a dash."""

from __future__ import annotations

import math

DASH = "–"


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def ms(value: float | None) -> str:
    """A duration in milliseconds: `850 ms`, `1.25 s`, `2.1 min`."""
    if _missing(value):
        return DASH
    assert value is not None
    if value < 1000:
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if value < 60_000:
        return f"{value / 1000:.2f} s"
    return f"{value / 60_000:.1f} min"


def usd(value: float | None) -> str:
    """Money in dollars with enough digits for per-call costs: `$0.000150`, `$12.40`."""
    if _missing(value):
        return DASH
    assert value is not None
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.6f}"
    if abs(value) < 100:
        return f"${value:,.4f}"
    return f"${value:,.2f}"


def count(value: float | int | None) -> str:
    if _missing(value):
        return DASH
    assert value is not None
    return f"{int(value):,}"


def percent(value: float | None) -> str:
    if _missing(value):
        return DASH
    assert value is not None
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def joules(value: float | None) -> str:
    if _missing(value):
        return DASH
    assert value is not None
    if value >= 3_600_000:
        return f"{value / 3_600_000:.2f} kWh"
    if value >= 3600:
        return f"{value / 3600:.2f} Wh"
    return f"{value:,.1f} J"


def size_bytes(value: float | None) -> str:
    if _missing(value):
        return DASH
    assert value is not None
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f} B"
