"""Exceptions of the storage layer, mapped by the HTTP layer onto 503, 429 and 400 answers."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the storage layer raises on purpose."""


class StoreUnavailable(StoreError):
    """The store cannot be opened or did not accept a read or a write (answer 503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Overloaded(StoreError):
    """The group-commit writer is too far behind to accept more rows now (answer 429 + Retry-After)."""

    def __init__(self, retry_after_s: float, message: str = "") -> None:
        super().__init__(message or f"writer overloaded, retry after {retry_after_s:.1f}s")
        self.retry_after_s = retry_after_s


class InvalidProjectId(StoreError, ValueError):
    """A project id outside `[A-Za-z0-9_.-]{1,64}`."""
