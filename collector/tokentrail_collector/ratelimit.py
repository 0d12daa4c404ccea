"""Per-API-key rate limit: one token bucket per key, refilled at `rate_per_s` up to `burst`.

Only keys that resolved to a project get a bucket (an unknown key is refused before), so the
table is bounded by the number of real keys; buckets are keyed by the key's SHA-256 hash so no
plaintext secret is kept.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["KeyRateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class KeyRateLimiter:
    """Token buckets by key hash. `acquire` answers None (go on) or the whole seconds to wait."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key_hash: str, *, now: float | None = None) -> int | None:
        """Take one token from the key's bucket: None when there was one, else the seconds
        until one will be there (at least 1, the granularity of Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key_hash)
            if bucket is None:
                bucket = self._buckets[key_hash] = _Bucket(self._burst, now)
            else:
                elapsed = max(0.0, now - bucket.updated_at)
                bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
                bucket.updated_at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self._rate))
