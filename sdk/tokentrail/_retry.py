"""When to send a batch again: `Retry-After` as the collector stated it, else exponential back-off
with full jitter (a random delay between 0 and base·2ⁿ, capped), so that many clients coming back
after an outage do not all knock at the same moment.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
# A collector asking for more than this is taken at this: spans must not wait for hours in memory.
RETRY_AFTER_MAX_S = 300.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP date); None if absent or unreadable.

    Never negative (a date in the past means "now"), at most `RETRY_AFTER_MAX_S`.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        until = _seconds_until(text, now or datetime.now(timezone.utc))
        if until is None:
            return None
        seconds = until
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, RETRY_AFTER_MAX_S)


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT, even when the zone is written -0000
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


class Backoff:
    """Delays for the consecutive failures of one connection to the collector."""

    def __init__(
        self,
        *,
        base_s: float = BACKOFF_BASE_S,
        cap_s: float = BACKOFF_CAP_S,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._random_fraction = random_fraction
        self.failures = 0

    def next_delay(self, retry_after_s: float | None = None) -> float:
        """Count one more failure and return how long to wait before the next attempt.

        With `retry_after_s` (the collector's own figure) the wait is that, never less; a little
        jitter on top (at most 10 %, at most one second) spreads clients told the same figure.
        """
        self.failures += 1
        if retry_after_s is not None:
            return retry_after_s + self._random_fraction() * min(retry_after_s * 0.1, 1.0)
        ceiling = min(self._cap_s, self._base_s * 2.0 ** min(self.failures - 1, 32))
        return self._random_fraction() * ceiling

    def reset(self) -> None:
        self.failures = 0


class RetrySchedule:
    """The export worker's outage state: whether one is on, and when the next attempt may be made.

    A flush may cut the worker's own back-off short, once per `flush()` call (so that flushing
    in a loop cannot make it hammer a collector that is down); a `Retry-After` is never cut.
    """

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.retry_at = 0.0
        """Monotonic time of the next attempt; 0.0 when there is no outage."""
        self._mandated = False
        self._flush_mark = 0

    def failed(self, retry_after_s: float | None, *, now: float, flush_calls: int) -> float:
        """Record a retryable failure at `now`; returns the delay before the next attempt."""
        delay = self.backoff.next_delay(retry_after_s)
        self.retry_at = now + delay
        self._mandated = retry_after_s is not None
        self._flush_mark = flush_calls
        return delay

    def recovered(self) -> bool:
        """The collector took a batch: the outage, if there was one, is over (True if there was)."""
        was_on = self.retry_at > 0.0
        self.backoff.reset()
        self.retry_at = 0.0
        self._mandated = False
        return was_on

    def may_try(self, *, now: float, flush_calls: int) -> bool:
        if not self.retry_at or now >= self.retry_at:
            return True
        return not self._mandated and flush_calls != self._flush_mark

    def seconds_left(self, now: float) -> float:
        return max(self.retry_at - now, 0.0)
