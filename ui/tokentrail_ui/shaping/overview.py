"""Tables of the Overview and of trace lists: top errors, trace rows with links to the Traces page."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd

NO_ERROR_TYPE = "(no error type)"
TRACE_PAGE = "traces"
TRACE_LIST_COLUMNS = (
    "trace",
    "name",
    "start_time",
    "duration_ms",
    "status",
    "models",
    "total_tokens",
    "cost_usd",
)


def trace_url(trace_id: str) -> str:
    """The Traces page showing one trace (relative, so it works under any base path)."""
    return f"{TRACE_PAGE}?trace={quote(str(trace_id))}"


def trace_links(traces: pd.DataFrame) -> pd.DataFrame:
    """A trace list (`Client.traces`) with a `trace` link column first and the columns people read."""
    if traces.empty:
        return pd.DataFrame(columns=list(TRACE_LIST_COLUMNS))
    table = traces.assign(trace=traces["trace_id"].map(trace_url))
    if "models" in table.columns:
        table["models"] = table["models"].map(
            lambda models: ", ".join(models) if isinstance(models, list) else ""
        )
    return table[[column for column in TRACE_LIST_COLUMNS if column in table.columns]]


def top_errors(by_error_type: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Stats grouped by error type as the most frequent errors: type, failed spans, share of all errors."""
    if by_error_type.empty:
        return pd.DataFrame(columns=["error", "errors", "share"])
    failed = by_error_type[by_error_type["error_count"] > 0]
    if failed.empty:
        return pd.DataFrame(columns=["error", "errors", "share"])
    errors = failed.groupby(failed["group"].fillna("").replace("", NO_ERROR_TYPE))["error_count"].sum()
    table = errors.sort_values(ascending=False).head(limit).rename("errors").reset_index()
    table.columns = ["error", "errors"]
    table["share"] = table["errors"] / errors.sum()
    return table
