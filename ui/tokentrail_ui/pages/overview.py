"""Overview: traffic, errors, latency, tokens and cost over time, per model; top errors, costliest traces."""

from __future__ import annotations

import streamlit as st

from tokentrail.api import ApiError
from tokentrail_ui import components, connection, filters, loaders
from tokentrail_ui.shaping import formatting as fmt
from tokentrail_ui.shaping import timeseries
from tokentrail_ui.shaping.overview import top_errors

session = connection.current()
chosen = filters.current()

st.title("Overview")
st.caption(chosen.describe())

# An API error anywhere below is a message on the page (components.api_errors).
with components.api_errors(session):
    totals = loaders.stats(session, chosen, "none")
    head = timeseries.headline(totals)
    if head.spans == 0:
        if loaders.has_any_span(session):
            components.empty_window("spans", chosen.describe())
        else:
            components.first_trace_help(session)
        st.stop()

    requests = loaders.traces(session, chosen, limit=1).attrs["total"]
    components.metric_row(
        [
            ("Requests", fmt.count(requests)),
            ("Spans", fmt.count(head.spans)),
            ("Error rate", fmt.percent(head.error_rate)),
            ("Latency p50", fmt.ms(head.latency_p50_ms)),
            ("p95", fmt.ms(head.latency_p95_ms)),
            ("p99", fmt.ms(head.latency_p99_ms)),
            ("TTFT p50", fmt.ms(head.ttft_p50_ms)),
        ],
        help_texts=[
            "Traces that started in the range",
            None,
            "Spans that ended in error",
            None,
            None,
            None,
            "Time to first token of streamed model calls",
        ],
    )
    unpriced = (
        f"{fmt.count(head.unpriced_tokens)} tokens in {fmt.count(head.unpriced_spans)} spans"
        if head.unpriced_tokens is not None
        else f"{fmt.count(head.unpriced_spans)} spans"
    )
    components.metric_row(
        [("Tokens", fmt.count(head.total_tokens)), ("Cost", fmt.usd(head.cost_usd)), ("Unpriced", unpriced)],
        help_texts=[
            None,
            "Sum of known costs (from the SDK, the price table or your custom prices)",
            "Usage of models without a known price: add a custom price on the Settings page",
        ],
    )

    bucket = loaders.bucket_seconds(session, chosen.window)
    over_time = loaders.stats(session, chosen, "none", bucket)
    by_model = timeseries.with_value(loaders.stats(session, chosen, "model", bucket))

    left, right = st.columns(2)
    with left:
        st.subheader("Requests and errors")
        st.line_chart(timeseries.over_time(over_time, {"span_count": "spans", "error_count": "errors"}))
        st.subheader("Tokens per model")
        st.area_chart(timeseries.per_group(by_model, "total_tokens"))
    with right:
        st.subheader("Latency and time to first token (ms)")
        st.line_chart(
            timeseries.over_time(
                over_time,
                {
                    "latency_p50_ms": "p50",
                    "latency_p95_ms": "p95",
                    "latency_p99_ms": "p99",
                    "ttft_p50_ms": "TTFT p50",
                },
            )
        )
        st.subheader("Cost per model (USD)")
        st.area_chart(timeseries.per_group(by_model, "cost_usd"))
    st.caption(f"One point per {fmt.ms(bucket * 1000)} bucket.")

    st.subheader("Per model")
    model_table = timeseries.per_group_table(
        timeseries.with_value(loaders.stats(session, chosen, "model")),
        [
            "span_count",
            "error_rate",
            "latency_p50_ms",
            "latency_p95_ms",
            "total_tokens",
            "cost_usd",
            "unpriced_spans",
        ],
    )
    st.dataframe(
        model_table,
        hide_index=True,
        column_config={
            "group": "model",
            "span_count": st.column_config.NumberColumn("spans", format="%d"),
            "error_rate": st.column_config.NumberColumn("error rate", format="percent"),
            "latency_p50_ms": st.column_config.NumberColumn("p50 ms", format="%.0f"),
            "latency_p95_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
            "total_tokens": st.column_config.NumberColumn("tokens", format="%d"),
            "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
            "unpriced_spans": st.column_config.NumberColumn("unpriced spans", format="%d"),
        },
    )

    errors_column, costly_column = st.columns(2)
    with errors_column:
        st.subheader("Top errors")
        try:
            errors = top_errors(loaders.stats(session, chosen, "error_type"))
        except ApiError:  # a collector without error_type grouping: show the failing traces instead
            errors = None
        if errors is None:
            failing = loaders.traces(session, chosen, limit=10, extra=(("status", "error"),))
            components.trace_table(failing)
        elif errors.empty:
            st.success("No errors in this range.", icon=":material/check_circle:")
        else:
            st.dataframe(
                errors,
                hide_index=True,
                column_config={"share": st.column_config.NumberColumn(format="percent")},
            )
    with costly_column:
        st.subheader("Most expensive traces")
        costly = loaders.traces(session, chosen, limit=10, extra=(("sort", "cost"),))
        components.trace_table(costly)
