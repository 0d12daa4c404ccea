"""Every read of the UI: cached loaders over `tokentrail.api`, one per question a page asks.

Loaders take the session's `Connection` first (so two keys never share an answer) and plain,
hashable values after it. Answers are cached for a few seconds to minutes (`ttl`): a page drawn
again, or another page asking the same question, costs no call to the collector. Errors are not
cached: they reach the page as `tokentrail.api.ApiError`s, which the app shows as messages.
Writes (scores, datasets, prices) live beside the reads and clear the caches they invalidate.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from tokentrail.api import Client
from tokentrail_ui.connection import Connection
from tokentrail_ui.shaping.timeseries import bucket_seconds_for
from tokentrail_ui.shaping.window import Filters, Window

TTL_HEALTH_S = 10
TTL_LIVE_S = 15  # lists that grow while traffic arrives
TTL_STATS_S = 30
TTL_SLOW_S = 120  # things people change by hand: prices, datasets, monitors


@st.cache_resource(show_spinner=False)
def _client(url: str, api_key: str) -> Client:
    # One keep-alive session per collector and key for the whole server process.
    return Client(url, api_key=api_key or None, timeout_s=60)


def client(connection: Connection) -> Client:
    return _client(connection.url, connection.api_key)


@st.cache_data(ttl=TTL_HEALTH_S, show_spinner=False)
def health(connection: Connection) -> dict[str, Any]:
    return client(connection).health()


# --- stats --------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def stats(
    connection: Connection, filters: Filters, group_by: str = "none", bucket_seconds: int | None = None
) -> pd.DataFrame:
    return client(connection).stats(
        start=filters.window.start,
        end=filters.window.end,
        group_by=group_by,  # type: ignore[arg-type]
        bucket_seconds=bucket_seconds,
        service=filters.service,
        model=filters.model,
    )


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def bucket_seconds(connection: Connection, window: Window) -> int:
    """A bucket width for charts of `window`, fitted to the part of it that holds data (one
    coarse count per hour or day finds where the data starts)."""
    length = window.seconds()
    probe = 3600 if length is not None and length <= 31 * 86_400 else 86_400
    coarse = client(connection).stats(
        group_by="none", bucket_seconds=probe, start=window.start, end=window.end
    )
    if coarse.empty:
        return bucket_seconds_for(length or 86_400)
    first = coarse["bucket"].min()
    last = pd.Timestamp(window.end) if window.end else pd.Timestamp.now(tz="UTC")
    extent = max(60.0, (last - first).total_seconds())
    return bucket_seconds_for(min(extent, length) if length is not None else extent)


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def group_values(connection: Connection, window: Window, group_by: str) -> list[str]:
    """The services or models that have spans in `window`, busiest first (for the filter lists)."""
    table = client(connection).stats(start=window.start, end=window.end, group_by=group_by)  # type: ignore[arg-type]
    if table.empty:
        return []
    table = table[table["group"].fillna("") != ""].sort_values("span_count", ascending=False)
    return [str(value) for value in table["group"]]


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def has_any_span(connection: Connection) -> bool:
    """Whether the project holds a span at all (the difference between "empty window" and "new")."""
    return not client(connection).traces(limit=1).empty


# --- traces -------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_LIVE_S, show_spinner=False)
def traces(
    connection: Connection,
    filters: Filters,
    *,
    limit: int = 50,
    offset: int = 0,
    extra: tuple[tuple[str, Any], ...] = (),
) -> pd.DataFrame:
    """A page of the trace list; `extra` holds further API filters as (name, value) pairs."""
    return client(connection).traces(
        start=filters.window.start,
        end=filters.window.end,
        service=filters.service,
        model=filters.model,
        limit=limit,
        offset=offset,
        **dict(extra),
    )


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def trace(connection: Connection, trace_id: str) -> pd.DataFrame:
    return client(connection).trace(trace_id)


def clear_reads() -> None:
    """Forget every cached answer (after a write, or when the connection changes)."""
    st.cache_data.clear()


# --- scores -------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_LIVE_S, show_spinner=False)
def scores_of_trace(connection: Connection, trace_id: str) -> pd.DataFrame:
    return client(connection).scores.list(trace_id=trace_id, limit=1000)


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def score_names(connection: Connection, window: Window) -> list[str]:
    """Names of the scores given in `window`, most used first (for the score filter)."""
    table = client(connection).scores.stats(start=window.start, end=window.end, group_by="none")
    if table.empty:
        return []
    return [str(name) for name in table.sort_values("count", ascending=False)["name"]]


def add_score(
    connection: Connection,
    trace_id: str,
    name: str,
    value: bool | float | str,
    *,
    span_id: str = "",
    comment: str = "",
    score_id: str | None = None,
) -> str:
    """Store a score given on the page (source `human`) and forget the answers it changes."""
    score = client(connection).scores.create(
        trace_id, name, value, span_id=span_id, comment=comment, source="human", score_id=score_id
    )
    scores_of_trace.clear()
    score_names.clear()
    traces.clear()
    return score


# --- GPU ----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def gpu(connection: Connection, filters: Filters, bucket_seconds: int) -> pd.DataFrame:
    return client(connection).gpu(
        start=filters.window.start,
        end=filters.window.end,
        service=filters.service,
        bucket_seconds=bucket_seconds,
    )


# --- drift --------------------------------------------------------------------------------------

TTL_REPORT_S = 300  # a drift report over a large window takes seconds: keep it a while


@st.cache_data(ttl=TTL_REPORT_S, show_spinner=False)
def drift_report(
    connection: Connection,
    baseline: dict[str, str],
    current: dict[str, str],
    *,
    model: str | None = None,
    service: str | None = None,
    features: tuple[str, ...] | None = None,
    clusters: int | None = None,
) -> dict[str, Any]:
    """The report's JSON (wrap it in `tokentrail.api.DriftReport` for its tables)."""
    report = client(connection).drift.report(
        baseline=baseline,
        current=current,
        model=model,
        service=service,
        features=features,
        topics={"clusters": clusters} if clusters else None,
    )
    return dict(report.raw)


@st.cache_data(ttl=TTL_SLOW_S, show_spinner=False)
def drift_monitors(connection: Connection) -> pd.DataFrame:
    return client(connection).drift.monitors()


@st.cache_data(ttl=TTL_STATS_S, show_spinner=False)
def monitor_results(connection: Connection, monitor_id: str) -> pd.DataFrame:
    return client(connection).drift.results(monitor_id)


def create_monitor(connection: Connection, name: str, **definition: Any) -> dict[str, Any]:
    monitor = client(connection).drift.create_monitor(name, **definition)
    drift_monitors.clear()
    return monitor


def run_monitor(connection: Connection, monitor_id: str) -> dict[str, Any]:
    result = client(connection).drift.run_monitor(monitor_id)
    drift_monitors.clear()
    monitor_results.clear()
    return result


def delete_monitor(connection: Connection, monitor_id: str) -> None:
    client(connection).drift.delete_monitor(monitor_id)
    drift_monitors.clear()
    monitor_results.clear()


# --- datasets -----------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_LIVE_S, show_spinner=False)
def dataset_preview(
    connection: Connection,
    mining_filter: dict[str, Any],
    dedupe: dict[str, Any],
    sample: dict[str, Any] | None,
    preview_items: int = 20,
) -> pd.DataFrame:
    """The live count and first items of a dataset mined this way (`.attrs` count and report)."""
    return client(connection).datasets.preview(
        filter=mining_filter, dedupe=dedupe, sample=sample, preview_items=preview_items
    )


@st.cache_data(ttl=TTL_SLOW_S, show_spinner=False)
def datasets(connection: Connection) -> pd.DataFrame:
    return client(connection).datasets.list(limit=1000)


@st.cache_data(ttl=TTL_SLOW_S, show_spinner=False)
def dataset_versions(connection: Connection, dataset_id: str) -> pd.DataFrame:
    return client(connection).datasets.versions(dataset_id)


@st.cache_data(ttl=TTL_SLOW_S, show_spinner=False)
def dataset_items(
    connection: Connection, dataset_id: str, version: int | None, limit: int = 100, offset: int = 0
) -> pd.DataFrame:
    return client(connection).datasets.items(dataset_id, version=version, limit=limit, offset=offset)


def _forget_datasets() -> None:
    datasets.clear()
    dataset_versions.clear()
    dataset_items.clear()


def create_dataset(connection: Connection, name: str, **options: Any) -> dict[str, Any]:
    created = client(connection).datasets.create(name, **options)
    _forget_datasets()
    return created


def edit_expected_output(connection: Connection, dataset_id: str, item_id: str, expected: str) -> int:
    """Store an edited expected output (a new version); the version number."""
    edited = client(connection).datasets.edit_item(dataset_id, item_id, expected_output=expected)
    _forget_datasets()
    return int(edited["version"])


def import_items(connection: Connection, dataset_id: str, data: bytes, export_format: str) -> dict[str, Any]:
    imported = client(connection).datasets.import_items(dataset_id, data, export_format)  # type: ignore[arg-type]
    _forget_datasets()
    return imported


def export_dataset(
    connection: Connection, dataset_id: str, export_format: str, version: int | None, progress: Any = None
) -> bytes:
    """The file's bytes (not cached: files can be large, and each click asks for a fresh one)."""
    return client(connection).datasets.export(dataset_id, export_format, version=version, progress=progress)  # type: ignore[arg-type]


# --- prices -------------------------------------------------------------------------------------

ALL_TIME = Filters()


@st.cache_data(ttl=TTL_SLOW_S, show_spinner=False)
def prices(connection: Connection) -> pd.DataFrame:
    return client(connection).prices.list()


def set_price(connection: Connection, pattern: str, **rates: Any) -> dict[str, Any]:
    """Store a custom price; every cached cost is stale then (costs are derived at read time)."""
    stored = client(connection).prices.set(pattern, **rates)
    clear_reads()
    return stored


def delete_price(connection: Connection, pattern: str) -> None:
    client(connection).prices.delete(pattern)
    clear_reads()
