"""The default transport: OTLP protobuf over HTTP, gzip, the API key as a Bearer token, one
keep-alive connection, and every answer classified so the export queue knows what to do with it.

- 2xx: delivered; a `partial_success` names spans the collector refused (not sent again).
- 429, 502, 503, 504, connection errors and timeouts: send again later (`Retry-After` honoured).
- any other status: refused for good; the collector's message (a google.rpc.Status) is kept.

Settings the OpenTelemetry exporter reads from the environment keep working: the timeout
(`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, seconds, default 10) and TLS
files (`OTEL_EXPORTER_OTLP[_TRACES]_CERTIFICATE`, `_CLIENT_CERTIFICATE`, `_CLIENT_KEY`).
"""

from __future__ import annotations

import enum
import gzip
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import ReadableSpan

from tokentrail._config import Settings
from tokentrail._internal import logger
from tokentrail._retry import parse_retry_after

if TYPE_CHECKING:
    import requests

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Refusals of the body itself: sending the same bytes again can never succeed.
BODY_REFUSED_STATUSES = frozenset({400, 413, 415, 422})
DEFAULT_TIMEOUT_S = 10.0
# Fast enough not to hold the worker long, small enough for a congested link.
GZIP_LEVEL = 6
_MAX_DETAIL_CHARS = 300

_TIMEOUT_ENV = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
_CERTIFICATE_ENV = ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
_CLIENT_CERT_ENV = ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
_CLIENT_KEY_ENV = ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"
    """The collector (or the request itself) refused the batch for good."""
    FAILED = "failed"
    """An application-supplied exporter reported failure: nothing to classify, nothing retried."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one batch sent once."""

    verdict: Verdict
    rejected: int = 0
    """DELIVERED: spans the collector refused in its partial success."""
    retry_after_s: float | None = None
    """RETRY: the delay the collector asked for (`Retry-After`), if it named one."""
    status: int | None = None
    detail: str | None = None
    """Why it was not (fully) delivered, for `export_stats()` and the log."""

    def split(self, spans: int) -> tuple[int, int]:
        """(accepted, rejected) of a delivered batch of `spans`."""
        rejected = min(self.rejected, spans)
        return spans - rejected, rejected

    @property
    def body_refused(self) -> bool:
        """REFUSED by the collector because of what the request carried (not the key, the address
        or the TLS set-up, which a process configured otherwise may get right)."""
        return self.verdict is Verdict.REFUSED and self.status in BODY_REFUSED_STATUSES


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    body: bytes
    """The request body as sent: an ExportTraceServiceRequest, gzip-compressed."""
    span_count: int


class OtlpHttpSender:
    """Encodes span batches and posts them to the collector's `/v1/traces` over one session."""

    def __init__(
        self, url: str, *, api_key: str | None, timeout_s: float, environ: Mapping[str, str] = os.environ
    ) -> None:
        # Imported here: importing requests at `import tokentrail` would register an exit hook (certifi).
        import requests

        self.url = url
        self.timeout_s = timeout_s
        # A certificate that does not verify is a configuration to fix, not an outage to wait out.
        self._configuration_errors = (requests.exceptions.SSLError, requests.exceptions.InvalidURL)
        self._retryable_errors = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        self._session: requests.Session = requests.Session()
        self._session.headers.update(
            {
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "gzip",
                "Accept-Encoding": "identity",
            }
        )
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        certificate = _first(environ, _CERTIFICATE_ENV)
        if certificate:
            self._session.verify = certificate
        client_cert, client_key = _first(environ, _CLIENT_CERT_ENV), _first(environ, _CLIENT_KEY_ENV)
        if client_cert:
            self._session.cert = (client_cert, client_key) if client_key else client_cert

    def encode(self, spans: Sequence[ReadableSpan]) -> EncodedBatch:
        message = encode_spans(spans).SerializePartialToString()
        return EncodedBatch(gzip.compress(message, compresslevel=GZIP_LEVEL), len(spans))

    def send(self, body: bytes, *, timeout_s: float | None = None) -> Outcome:
        """POST one encoded batch and classify the answer. Never raises."""
        timeout = self.timeout_s if timeout_s is None else max(timeout_s, 0.001)
        try:
            response = self._session.post(self.url, data=body, timeout=timeout)
            content = response.content
        except self._configuration_errors as error:
            return Outcome(Verdict.REFUSED, detail=_connection_error_text(error))
        except self._retryable_errors as error:
            return Outcome(Verdict.RETRY, detail=_connection_error_text(error))
        except Exception as error:  # invalid URL, TLS files missing...: no retry can fix these
            return Outcome(Verdict.REFUSED, detail=_error_text(error))
        return classify(response.status_code, response.headers, content)

    def shutdown(self) -> None:
        self._session.close()


def classify(status: int, headers: Mapping[str, str], content: bytes) -> Outcome:
    """The outcome of an answer with `status`, `headers` (case-insensitive mapping) and `content`."""
    if 200 <= status < 300:
        rejected, message = _partial_success(headers.get("content-type", ""), content)
        detail = f"collector rejected {rejected} span(s): {message}" if rejected else None
        return Outcome(Verdict.DELIVERED, rejected=rejected, status=status, detail=detail)
    message = _status_message(headers.get("content-type", ""), content)
    detail = f"collector answered {status}" + (f": {message}" if message else "")
    if status in RETRYABLE_STATUSES:
        retry_after = parse_retry_after(headers.get("retry-after"))
        return Outcome(Verdict.RETRY, retry_after_s=retry_after, status=status, detail=detail)
    return Outcome(Verdict.REFUSED, status=status, detail=detail)


def _partial_success(content_type: str, content: bytes) -> tuple[int, str]:
    """(rejected spans, message) from an export response; (0, "") when there is none or it is unreadable."""
    if not content:
        return 0, ""
    if "json" in content_type.lower():
        try:
            partial = json.loads(content).get("partialSuccess") or {}
            return max(int(partial.get("rejectedSpans") or 0), 0), str(partial.get("errorMessage") or "")
        except (ValueError, TypeError, AttributeError):
            return 0, ""
    try:
        response = ExportTraceServiceResponse.FromString(content)
    except DecodeError:
        return 0, ""
    partial = response.partial_success
    return max(partial.rejected_spans, 0), partial.error_message


def _status_message(content_type: str, content: bytes) -> str:
    """The collector's reason for an error answer: a google.rpc.Status message, else the text."""
    if not content:
        return ""
    if "protobuf" in content_type.lower():
        try:
            message: str = Status.FromString(content).message  # googleapis-common-protos is untyped
            return message[:_MAX_DETAIL_CHARS]
        except DecodeError:
            pass
    return content[:_MAX_DETAIL_CHARS].decode(errors="replace").strip()


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:_MAX_DETAIL_CHARS]


def _connection_error_text(error: BaseException) -> str:
    """requests' connection errors nest urllib3's; the innermost reason is the readable part."""
    text = str(getattr(error.args[0], "reason", error) if error.args else error)
    # "HTTPConnection(host='127.0.0.1', port=4318): Failed to establish ...": the address is known.
    _, found, rest = text.partition("): ")
    return _error_text(type(error)(rest if found else text))


def _first(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def export_timeout_s(environ: Mapping[str, str]) -> float:
    raw = _first(environ, _TIMEOUT_ENV)
    if raw is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        logger.warning(
            "tokentrail: ignoring export timeout %r (expected seconds > 0); using %s", raw, DEFAULT_TIMEOUT_S
        )
        return DEFAULT_TIMEOUT_S
    return value


def build_otlp_sender(settings: Settings, environ: Mapping[str, str] = os.environ) -> OtlpHttpSender:
    return OtlpHttpSender(
        settings.traces_url, api_key=settings.api_key, timeout_s=export_timeout_s(environ), environ=environ
    )
