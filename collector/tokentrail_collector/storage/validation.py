"""Checks of the values that scope every read and write: project ids and time bounds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from tokentrail_collector.storage.errors import InvalidProjectId

_PROJECT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

# A time bound: nanoseconds since the Unix epoch, or a datetime (naive means UTC).
TimeBound = int | datetime | None

_NS_PER_S = 1_000_000_000
# The range DateTime64(9) can hold (1900-01-01 .. 2262-04-11): the open ends of a time filter.
MIN_TIME_NS = -2_208_988_800 * _NS_PER_S
MAX_TIME_NS = 9_223_372_036_854_775_807


def validate_project_id(project_id: str) -> str:
    if not isinstance(project_id, str) or not _PROJECT_ID.fullmatch(project_id):
        raise InvalidProjectId(f"invalid project id {project_id!r}: expected [A-Za-z0-9_.-]{{1,64}}")
    return project_id


def to_ns(value: TimeBound, default: int) -> int:
    """A time bound as integer nanoseconds since the epoch; `default` when absent."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise TypeError("a time bound must be int nanoseconds or a datetime, not bool")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * _NS_PER_S + delta.microseconds * 1_000
    raise TypeError(f"a time bound must be int nanoseconds or a datetime, not {type(value).__name__}")


def iso_from_ns(ns: int) -> str:
    """RFC 3339 UTC text with all nine fractional digits, e.g. `2026-11-23T19:30:00.123456789Z`."""
    seconds, frac = divmod(ns, _NS_PER_S)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"
