"""Pieces every page draws the same way: API errors as messages, empty states, metric rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from tokentrail._config import DEFAULT_ENDPOINT
from tokentrail.api import ApiError, CollectorUnreachable, NotACollector, NotFound, Unauthorized
from tokentrail_ui.connection import Connection
from tokentrail_ui.shaping.overview import trace_links

FIRST_TRACE_SNIPPET = """\
pip install tokentrail

export TOKENTRAIL_ENDPOINT={url}
export TOKENTRAIL_API_KEY=<your key>      # tokentrail keys create --project <name>
"""

FIRST_TRACE_CODE = """\
import tokentrail

tokentrail.init(service_name="my-app")     # reads TOKENTRAIL_ENDPOINT and TOKENTRAIL_API_KEY

@tokentrail.observe(kind="llm")
def ask(question: str) -> str:
    ...  # your LLM call; openai and anthropic clients are traced automatically
"""


def explain(error: ApiError, connection: Connection) -> tuple[str, str]:
    """A headline and what to do about `error`, in words (never a traceback)."""
    if isinstance(error, CollectorUnreachable):
        return (
            f"The collector at {connection.url} does not answer.",
            "Start it with `tokentrail collector` (or `make demo`), or set its URL on the **Settings** page.",
        )
    if isinstance(error, NotACollector):
        return (
            f"{connection.url} answered, but it is not a tokentrail collector "
            f"(got {error.content_type or 'no content type'}).",
            "Is it the UI's own address, or a proxy's page? The collector listens on "
            f"{DEFAULT_ENDPOINT} unless told otherwise (`tokentrail collector`); "
            "set its URL on the **Settings** page.",
        )
    if isinstance(error, Unauthorized):
        if not connection.has_key:
            return (
                "No API key is set.",
                "Paste a key on the **Settings** page or start the UI with `TOKENTRAIL_API_KEY` set; "
                "create one with `tokentrail keys create --project <name>`.",
            )
        return (
            f"The collector refused the API key: {error.message}",
            "Check the key on the **Settings** page; `tokentrail keys list` shows the active keys.",
        )
    if isinstance(error, NotFound):
        return (f"Not found: {error.message}", "It may belong to another project, or the link is stale.")
    if error.status in (429, 503):
        return (f"The collector is busy ({error.status}): {error.message}", "Try again in a few seconds.")
    return (f"The collector answered {error.status}: {error.message}", "")


def show_api_error(error: ApiError, connection: Connection) -> None:
    headline, advice = explain(error, connection)
    st.error(f"**{headline}**" + (f"\n\n{advice}" if advice else ""), icon=":material/error:")


@contextmanager
def api_errors(connection: Connection) -> Iterator[None]:
    """Show an `ApiError` raised inside the block as a message; the rest of the page still renders.

    Every page runs its body inside one: a page can be run without the entrypoint's handler (a
    test's `switch_page`), and a collector that stops answering mid-page is then still a message.
    """
    try:
        yield
    except ApiError as error:
        show_api_error(error, connection)


def first_trace_help(connection: Connection) -> None:
    """The empty state of a project without data: how to send the first trace."""
    st.info("**No traces yet.** Send the first one from your app:", icon=":material/rocket_launch:")
    st.code(FIRST_TRACE_SNIPPET.format(url=connection.url), language="bash")
    st.code(FIRST_TRACE_CODE, language="python")
    st.caption("Or run `make demo` for an example app that sends traces to a fresh collector.")


def empty_window(what: str, filters_text: str) -> None:
    """The empty state of a window without data: say so and how to see more."""
    st.info(
        f"No {what} for {filters_text}. Widen the time range or clear the service/model filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )


def trace_table(traces: pd.DataFrame, *, key: str | None = None, selectable: bool = False) -> object:
    """A trace list with a link per trace to the Traces page; the selection event when `selectable`."""
    table = trace_links(traces)
    config = {
        "trace": st.column_config.LinkColumn("trace", display_text=r"trace=([0-9a-f]{8})"),
        "start_time": st.column_config.DatetimeColumn("start (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "duration_ms": st.column_config.NumberColumn("duration ms", format="%.0f"),
        "total_tokens": st.column_config.NumberColumn("tokens", format="%d"),
        "cost_usd": st.column_config.NumberColumn("cost", format="$%.6f"),
    }
    if selectable:
        return st.dataframe(
            table,
            hide_index=True,
            column_config=config,
            key=key,
            on_select="rerun",
            selection_mode="single-row",
        )
    return st.dataframe(table, hide_index=True, column_config=config, key=key)


def metric_row(items: Sequence[tuple[str, str]], *, help_texts: Sequence[str | None] | None = None) -> None:
    """A row of `st.metric`s from (label, formatted value) pairs."""
    columns = st.columns(len(items))
    for index, (column, (label, value)) in enumerate(zip(columns, items, strict=True)):
        column.metric(label, value, help=help_texts[index] if help_texts else None)
