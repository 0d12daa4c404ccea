"""`Client`: the typed client of the collector's query API, the one the UI and notebooks use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from tokentrail.api._datasets import Datasets
from tokentrail.api._drift import Drift
from tokentrail.api._frames import frame
from tokentrail.api._gpu import gpu_frame
from tokentrail.api._http import DEFAULT_TIMEOUT_S, TimeArg, Transport, as_time_param
from tokentrail.api._prices import Prices
from tokentrail.api._scores import Scores

if TYPE_CHECKING:
    import pandas as pd

GroupBy = Literal["model", "provider", "service", "error_type", "none"]
TraceStatus = Literal["ok", "error"]
TraceSort = Literal["newest", "cost", "duration"]

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

    Scores are under `api.scores`, drift reports and monitors under `api.drift`, eval datasets
    under `api.datasets`, prices under `api.prices`; GPU series come from `api.gpu()`. Errors are
    `ApiError` subclasses: `Unauthorized`, `NotFound`, `CollectorUnreachable`.
    """

    def __init__(
        self, url: str | None = None, api_key: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.transport = Transport(url, api_key, timeout_s=timeout_s)
        self.scores = Scores(self.transport)
        self.drift = Drift(self.transport)
        self.datasets = Datasets(self.transport)
        self.prices = Prices(self.transport)

    @property
    def url(self) -> str:
        return self.transport.url

    def health(self) -> dict[str, Any]:
        """The collector's `/healthz`: status, store kind, whether the store answers (no key needed)."""
        return self.transport.request_object("GET", "/healthz")

    def traces(
        self,
        *,
        start: TimeArg = None,
        end: TimeArg = None,
        service: str | None = None,
        model: str | None = None,
        status: TraceStatus | None = None,
        search: str | None = None,
        tag: str | None = None,
        min_duration_ms: float | None = None,
        min_cost_usd: float | None = None,
        score_name: str | None = None,
        score_value: str | None = None,
        score_min: float | None = None,
        score_max: float | None = None,
        sort: TraceSort = "newest",
        limit: int = 50,
        offset: int = 0,
        **filters: Any,
    ) -> pd.DataFrame:
        """One row per trace, newest first (or costliest, longest: `sort`); `.attrs["total"]` counts
        the matches over all pages.

        `score_name` keeps traces scored with that name (on the trace or a span), optionally with the
        category or "true"/"false" `score_value`, or a value within [`score_min`, `score_max`].
        Further filters the collector knows pass through as keyword arguments.
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
                "tag": tag,
                "min_duration_ms": min_duration_ms,
                "min_cost_usd": min_cost_usd,
                "score_name": score_name,
                "score_value": score_value,
                "score_min": score_min,
                "score_max": score_max,
                "sort": None if sort == "newest" else sort,
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
        spans: list[dict[str, Any]] = self.transport.request_object("GET", f"/api/traces/{trace_id}")["spans"]
        return spans

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

    def gpu(
        self,
        *,
        start: TimeArg = None,
        end: TimeArg = None,
        service: str | None = None,
        device: str | int | None = None,
        bucket_seconds: int = 60,
    ) -> pd.DataFrame:
        """GPU utilisation, memory, power and energy per device and time bucket, one row each."""
        answer = self.transport.request(
            "GET",
            "/api/gpu",
            params={
                "start": as_time_param(start),
                "end": as_time_param(end),
                "service": service,
                "device": None if device is None else str(device),
                "bucket_seconds": bucket_seconds,
            },
        )
        return gpu_frame(answer)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
