"""Resolve `init()`'s arguments against the `TOKENTRAIL_*` environment into one frozen `Settings`.

Explicit arguments win over the environment, the environment over defaults. A bad explicit
argument is a programming error and raises `ValueError`; a bad environment value is logged and
replaced by the default, so a typo in a deployment never stops the application from starting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tokentrail._internal import logger

ENV_ENDPOINT = "TOKENTRAIL_ENDPOINT"
ENV_API_KEY = "TOKENTRAIL_API_KEY"
ENV_PROJECT = "TOKENTRAIL_PROJECT"
ENV_SERVICE_NAME = "TOKENTRAIL_SERVICE_NAME"
ENV_CAPTURE_CONTENT = "TOKENTRAIL_CAPTURE_CONTENT"
ENV_SAMPLE_RATE = "TOKENTRAIL_SAMPLE_RATE"

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
TRACES_PATH = "/v1/traces"
DEFAULT_MAX_PAYLOAD_CHARS = 32_000
# A queue deep enough for a burst of some 16k spans; beyond that spans are dropped and counted.
DEFAULT_MAX_QUEUE_SIZE = 16_384
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512
DEFAULT_SCHEDULE_DELAY_MS = 1_000

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

Redactor = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Settings:
    endpoint: str
    api_key: str | None
    project: str | None
    service_name: str | None
    capture_content: bool
    redact: Redactor | None
    sample_rate: float
    max_payload_chars: int
    max_queue_size: int
    max_export_batch_size: int
    schedule_delay_ms: int

    @property
    def traces_url(self) -> str:
        return self.endpoint.rstrip("/") + TRACES_PATH


def resolve_settings(
    environ: Mapping[str, str],
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    service_name: str | None = None,
    capture_content: bool | None = None,
    redact: Redactor | None = None,
    sample_rate: float | None = None,
    max_payload_chars: int | None = None,
    max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
    schedule_delay_ms: int = DEFAULT_SCHEDULE_DELAY_MS,
) -> Settings:
    if sample_rate is None:
        sample_rate = _env_rate(environ, ENV_SAMPLE_RATE, 1.0)
    elif not (isinstance(sample_rate, (int, float)) and 0.0 <= sample_rate <= 1.0):
        raise ValueError(f"sample_rate must be between 0.0 and 1.0, got {sample_rate!r}")
    if capture_content is None:
        capture_content = _env_bool(environ, ENV_CAPTURE_CONTENT, True)
    if redact is not None and not callable(redact):
        raise ValueError("redact must be a callable taking and returning a str")
    if max_payload_chars is None:
        max_payload_chars = DEFAULT_MAX_PAYLOAD_CHARS
    _require_positive("max_payload_chars", max_payload_chars)
    _require_positive("max_queue_size", max_queue_size)
    _require_positive("max_export_batch_size", max_export_batch_size)
    _require_positive("schedule_delay_ms", schedule_delay_ms)
    return Settings(
        endpoint=endpoint or environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT,
        api_key=api_key or environ.get(ENV_API_KEY) or None,
        project=project or environ.get(ENV_PROJECT) or None,
        # OTEL_SERVICE_NAME needs no handling here: Resource.create() reads it.
        service_name=service_name or environ.get(ENV_SERVICE_NAME) or None,
        capture_content=bool(capture_content),
        redact=redact,
        sample_rate=float(sample_rate),
        max_payload_chars=max_payload_chars,
        max_queue_size=max_queue_size,
        max_export_batch_size=min(max_export_batch_size, max_queue_size),
        schedule_delay_ms=schedule_delay_ms,
    )


def _require_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    logger.warning("tokentrail: ignoring %s=%r (expected true/false); using %s", name, raw, default)
    return default


def _env_rate(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        logger.warning("tokentrail: ignoring %s=%r (expected 0.0 to 1.0); using %s", name, raw, default)
        return default
    return value
