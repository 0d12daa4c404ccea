"""`Client`: the typed client of the collector's query API, the one the UI and notebooks use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from tokentrail.api._frames import frame
from tokentrail.api._http import DEFAULT_TIMEOUT_S, TimeArg, Transport, as_time_param

if TYPE_CHECKING:
    import pandas as pd

GroupBy = Literal["model", "provider", "service", "none"]
TraceStatus = Literal["ok", "error"]

TRACE_COLUMNS = (
    "trace_id", "name", "start_time", "duration_ms", "status", "services", "models", "span_count",
    "input_tokens", "output_tokens", "total_tokens", "cost_usd",
)  # fmt: skip


class Client:
    """One collector, one project (the key's).

        from tokentrail.api import Client

        api = Client("http://127.0.0.1:4318", api_key="tt_...")   # or TOKENTRAIL_ENDPOINT / TOKENTRAIL_API_KEY
        api.traces(start=timedelta(hours=1), status="error")         # a DataFrame, one row per trace
        api.stats(group_by="model", bucket_seconds=3600)             # a DataFrame, one row per model and hour

    Errors are `ApiError` subclasses: `Unauthorized`, `NotFound`, `CollectorUnreachable`.
    """

    def __init__(
        self, url: str | None = None, api_key: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.transport = Transport(url, api_key, timeout_s=timeout_s)

    @property
    def url(self) -> str:
        return self.transport.url

    def health(self) -> dict[str, Any]:
        """The collector's `/healthz`: status, store kind, whether the store answers (no key needed)."""
        return self.transport.request("GET", "/healthz")

    def traces(
        self,
        *,
        start: TimeArg = None,
        end: TimeArg = None,
        service: str | None = None,
        model: str | None = None,
        status: TraceStatus | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
        **filters: Any,
    ) -> pd.DataFrame:
        """One row per trace, newest first; `.attrs["total"]` counts the matches over all pages.

        Further filters the collector knows (tags, scores, ...) pass through as keyword arguments.
        """
        page = self.transport.request(
            "GET",
            "/api/traces",
            params={
                "start": as_time_param(start),
                "end": as_time_param(end),
                "service": service,
                "model": model,
                "status": status,
                "search": search,
                "limit": limit,
                "offset": offset,
                **filters,
            },
        )
        table = frame(page["traces"], None if page["traces"] else TRACE_COLUMNS)
        table.attrs["total"] = page["total"]
        return table

    def trace(self, trace_id: str) -> pd.DataFrame:
        """Every span of one trace (canonical columns, start order); `NotFound` when absent."""
        detail = self.trace_spans(trace_id)
        table = frame(detail)
        table.attrs["trace_id"] = trace_id
        return table

    def trace_spans(self, trace_id: str) -> list[dict[str, Any]]:
        """The spans of one trace as plain dicts (events and maps as sent)."""
        return self.transport.request("GET", f"/api/traces/{trace_id}")["spans"]

    def stats(
        self,
        *,
        start: TimeArg = None,
        end: TimeArg = None,
        group_by: GroupBy = "model",
        bucket_seconds: int | None = None,
        service: str | None = None,
        model: str | None = None,
    ) -> pd.DataFrame:
        """Aggregates per group and time bucket: counts, error rate, latency and TTFT quantiles, tokens, cost."""
        answer = self.transport.request(
            "GET",
            "/api/stats",
            params={
                "start": as_time_param(start),
                "end": as_time_param(end),
                "group_by": group_by,
                "bucket_seconds": bucket_seconds,
                "service": service,
                "model": model,
            },
        )
        return frame(answer["rows"], None if answer["rows"] else ("bucket", "group", "span_count"))

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
