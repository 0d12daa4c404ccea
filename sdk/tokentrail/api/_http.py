"""The transport of the query-API client: one keep-alive session, typed errors, JSON in and out.

`requests` comes with the OTLP exporter the SDK already depends on; nothing here runs at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from tokentrail._config import DEFAULT_ENDPOINT, ENV_API_KEY, ENV_ENDPOINT

DEFAULT_TIMEOUT_S = 30.0

TimeArg = datetime | timedelta | str | int | float | None
"""A time bound: a datetime (naive means UTC), a timedelta back from now, ISO 8601 text or epoch seconds."""


class ApiError(Exception):
    """The collector answered with an error; `status` is its HTTP status, `message` what it said."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Unauthorized(ApiError):
    """The API key is missing, unknown or revoked (401), or not allowed here (403)."""


class NotFound(ApiError):
    """The thing asked for does not exist in this project (404)."""


class CollectorUnreachable(ApiError):
    """No answer from the collector at all (connection refused, DNS, timeout)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(0, f"cannot reach the collector at {url}: {reason}")
        self.url = url


class NotACollector(ApiError):
    """Something answered at the URL, but not the collector's API: a web page (the UI's own URL, a
    proxy's login or error page) or a body that is not JSON. `status` is the HTTP status it gave."""

    def __init__(self, url: str, status: int, content_type: str) -> None:
        super().__init__(
            status,
            f"{url} answered but is not a tokentrail collector (got {content_type or 'no content type'})",
        )
        self.url = url
        self.content_type = content_type


def as_time_param(value: TimeArg) -> str | None:
    """A time bound as the API takes it (ISO 8601, UTC)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = datetime.now(timezone.utc) - value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(
            f"a time bound must be a datetime, timedelta, ISO text or epoch seconds, not {value!r}"
        )
    return str(value)


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason or "no message"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors: say which parameter and why
        return "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ())[1:]) or 'request'}: {item.get('msg', item)}"
            if isinstance(item, dict)
            else str(item)
            for item in detail
        )
    return str(detail)


def _content_type(response: requests.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _raise_for(response: requests.Response, url: str) -> None:
    """The typed ApiError of an error answer, or of an HTML page (the collector never sends one);
    nothing for a success."""
    if _content_type(response) == "text/html":
        raise NotACollector(url, response.status_code, "text/html")
    if response.status_code in (401, 403):
        raise Unauthorized(response.status_code, _message(response))
    if response.status_code == 404:
        raise NotFound(404, _message(response))
    if response.status_code >= 400:
        raise ApiError(response.status_code, _message(response))


class Transport:
    """HTTP to one collector with one project key."""

    def __init__(self, url: str | None, api_key: str | None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = (url or os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        self.timeout_s = timeout_s
        self.session = requests.Session()
        if self.api_key:
            self.session.headers["Authorization"] = f"Bearer {self.api_key}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one request; the decoded JSON (or the raw bytes with `raw=True`), else a typed ApiError."""
        clean = {name: value for name, value in (params or {}).items() if value is not None}
        try:
            response = self.session.request(
                method,
                self.url + path,
                params=clean,
                json=json,
                data=data,
                headers=dict(headers or {}),
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise CollectorUnreachable(
                self.url, type(exc).__name__ + (f": {exc}" if str(exc) else "")
            ) from exc
        _raise_for(response, self.url)
        if raw:
            return response.content
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise NotACollector(self.url, response.status_code, _content_type(response)) from exc

    def request_object(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """`request` for the endpoints that answer a JSON object; any other answer (a list, a
        number, nothing) means the server at the URL is not the collector: NotACollector."""
        answer = self.request(method, path, params=params, json=json, data=data, headers=headers)
        if not isinstance(answer, dict):
            shape = "an empty body" if answer is None else f"JSON {type(answer).__name__}, not an object"
            raise NotACollector(self.url, 200, shape)
        return answer

    def download(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        chunk_bytes: int = 256 * 1024,
    ) -> bytes:
        """GET a file in chunks; `progress(received, total or None)` after each chunk."""
        clean = {name: value for name, value in (params or {}).items() if value is not None}
        try:
            response = self.session.get(self.url + path, params=clean, timeout=self.timeout_s, stream=True)
        except requests.RequestException as exc:
            raise CollectorUnreachable(
                self.url, type(exc).__name__ + (f": {exc}" if str(exc) else "")
            ) from exc
        with response:
            if response.status_code >= 400 or _content_type(response) == "text/html":
                response.content  # noqa: B018 - read the error body for the message
                _raise_for(response, self.url)
            declared = response.headers.get("content-length")
            total = int(declared) if declared and declared.isdigit() else None
            received = bytearray()
            try:
                for chunk in response.iter_content(chunk_bytes):
                    received += chunk
                    if progress is not None:
                        progress(len(received), total)
            except requests.RequestException as exc:
                raise CollectorUnreachable(self.url, f"the download broke off: {exc}") from exc
        return bytes(received)

    def close(self) -> None:
        self.session.close()
