"""The time range and service/model filter shared by every page, as plain values.

Relative ranges ("last 24 hours") are pinned to whole minutes, so a page shown twice within a
minute asks the same question and the cached loaders answer it without calling the collector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

PRESETS: dict[str, timedelta | None] = {
    "Last 15 minutes": timedelta(minutes=15),
    "Last hour": timedelta(hours=1),
    "Last 6 hours": timedelta(hours=6),
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
}
CUSTOM = "Custom dates"
DEFAULT_PRESET = "Last 7 days"


@dataclass(frozen=True)
class Window:
    """A time range as the API takes it: ISO 8601 bounds in UTC, None for open ends."""

    start: str | None = None
    end: str | None = None
    label: str = "All time"

    @property
    def is_open(self) -> bool:
        return self.start is None

    def seconds(self, now: datetime | None = None) -> float | None:
        """Length of the window; None when it has no start."""
        if self.start is None:
            return None
        end = datetime.fromisoformat(self.end) if self.end else (now or datetime.now(timezone.utc))
        return max(1.0, (end - datetime.fromisoformat(self.start)).total_seconds())


@dataclass(frozen=True)
class Filters:
    window: Window = Window()
    service: str | None = None
    model: str | None = None

    def describe(self) -> str:
        parts = [self.window.label.lower()]
        if self.service:
            parts.append(f"service {self.service}")
        if self.model:
            parts.append(f"model {self.model}")
        return ", ".join(parts)


def preset_window(name: str, now: datetime | None = None) -> Window:
    """The window of a preset, its start floored to the minute."""
    delta = PRESETS[name]
    if delta is None:
        return Window(label=name)
    moment = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
    return Window(start=(moment - delta).isoformat(), label=name)


def date_window(first: date, last: date) -> Window:
    """Whole days from `first` to `last` inclusive (UTC)."""
    if last < first:
        first, last = last, first
    start = datetime.combine(first, time.min, tzinfo=timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=timezone.utc)
    return Window(
        start=start.isoformat(), end=end.isoformat(), label=f"{first.isoformat()} to {last.isoformat()}"
    )
