"""The one exception the OTLP decoding raises: what was wrong, and the HTTP status to answer with."""

from __future__ import annotations


class OtlpError(Exception):
    """A request the collector cannot accept as sent.

    `status_code` is the HTTP status the OTLP/HTTP specification asks for (400 undecodable,
    413 too large, 415 unsupported type or encoding); `message` says what was wrong in words a
    person sending the request can act on.
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message

    def __repr__(self) -> str:
        return f"OtlpError({self.status_code}, {self.message!r})"
