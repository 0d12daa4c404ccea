"""The default exporter: OTLP protobuf over HTTP, gzip, the API key as a Bearer token.

The OTLP exporter logs each failed batch (and each retry) on its module logger; while tokentrail
uses it, a filter lets one such line through per minute and keeps the latest error text for
`export_stats()`. The exporter's timeout follows `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` (default 10 s).
"""

from __future__ import annotations

import logging

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from tokentrail._config import Settings
from tokentrail._internal import RateLimitFilter

_EXPORTER_LOGGER = logging.getLogger(OTLPSpanExporter.__module__)
_AUTHORIZATION = "authorization"


def build_otlp_exporter(settings: Settings) -> OTLPSpanExporter:
    headers = {_AUTHORIZATION: f"Bearer {settings.api_key}"} if settings.api_key else None
    return OTLPSpanExporter(endpoint=settings.traces_url, headers=headers, compression=Compression.Gzip)


class ExporterLogLimit:
    """Installs the once-a-minute filter on the OTLP exporter's logger until `remove()`."""

    def __init__(self) -> None:
        self._filter = RateLimitFilter()
        _EXPORTER_LOGGER.addFilter(self._filter)

    def last_error(self) -> str | None:
        return self._filter.last_message

    def remove(self) -> None:
        _EXPORTER_LOGGER.removeFilter(self._filter)
