"""General OpenTelemetry conventions: session, user, error type (attribute or exception event)."""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, Read, SpanView
from tokentrail_collector.normalise._values import as_text


def exception_type(span: SpanView, found: dict[str, object]) -> None:
    """error_type from the first `exception` event that names its type (what record_exception writes)."""
    if sc.ERROR_TYPE_COLUMN in found:
        return
    for event in span.events:
        if event["name"] == sc.EXCEPTION_EVENT:
            error_type = as_text(event["attributes"].get(sc.EXCEPTION_TYPE))
            if error_type is not None:
                found[sc.ERROR_TYPE_COLUMN] = error_type
                return


OTEL = Dialect(
    "opentelemetry",
    reads=(
        Read(sc.SESSION, sc.SESSION_ID, as_text),
        Read(sc.USER, sc.USER_ID, as_text),
        Read(sc.ERROR_TYPE_COLUMN, sc.ERROR_TYPE, as_text),
    ),
    derivers=(GatedDeriver(exception_type, events=True),),
)
