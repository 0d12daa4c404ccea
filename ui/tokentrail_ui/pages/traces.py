"""Traces: a filterable, searchable list; a trace as a tree and a waterfall; span detail; scoring."""

from __future__ import annotations

import streamlit as st

from tokentrail import semconv as sc
from tokentrail.api import ApiError, NotFound
from tokentrail_ui import charts, components, connection, filters, loaders, span_view
from tokentrail_ui.shaping import formatting as fmt
from tokentrail_ui.shaping import scoring, trace_tree

PAGE_SIZE = 50
TRACE_PARAM = "trace"
TRACE_ID_KEY = "tt_trace_id"
PICKED_STATE = "tt_trace_picked"
URL_STATE = "tt_trace_from_url"
ANY = "Any"

session = connection.current()
chosen = filters.current()

st.title("Traces")
st.caption(chosen.describe())

# An API error anywhere below is a message on the page (components.api_errors).
with components.api_errors(session):
    # The trace shown comes from the URL (?trace=, links from other pages), a row picked in the list,
    # or an id typed in; a new URL wins over what this session showed before.
    from_url = str(st.query_params.get(TRACE_PARAM, ""))
    if st.session_state.get(URL_STATE) != from_url:
        st.session_state[URL_STATE] = from_url
        st.session_state[TRACE_ID_KEY] = from_url

    # --- the list -------------------------------------------------------------------------------
    with st.container(border=True):
        search_column, status_column, sort_column = st.columns([3, 1, 1])
        search = search_column.text_input(
            "Search", key="tt_trace_search", placeholder="text in span names, prompts and completions"
        )
        status = status_column.selectbox("Status", [ANY, "ok", "error"], key="tt_trace_status")
        sort = sort_column.selectbox("Sort by", ["newest", "cost", "duration"], key="tt_trace_sort")
        latency_column, cost_column, tag_column, score_column, score_value_column = st.columns(5)
        min_latency = latency_column.number_input(
            "Min latency (ms)", min_value=0.0, step=100.0, key="tt_trace_latency"
        )
        min_cost = cost_column.number_input(
            "Min cost (USD)", min_value=0.0, step=0.001, format="%.4f", key="tt_trace_cost"
        )
        tag = tag_column.text_input("Tag", key="tt_trace_tag")
        try:
            names = loaders.score_names(session, chosen.window)
        except ApiError:
            names = []
        score_name = score_column.selectbox("Score", [ANY, *names], key="tt_trace_score")
        score_value = score_value_column.text_input(
            "Score value", key="tt_trace_score_value", placeholder="true, false or a category"
        )

    extra: list[tuple[str, object]] = []
    if search.strip():
        extra.append(("search", search.strip()))
    if status != ANY:
        extra.append(("status", status))
    if sort != "newest":
        extra.append(("sort", sort))
    if min_latency:
        extra.append(("min_duration_ms", float(min_latency)))
    if min_cost:
        extra.append(("min_cost_usd", float(min_cost)))
    if tag.strip():
        extra.append(("tag", tag.strip()))
    if score_name != ANY:
        extra.append(("score_name", score_name))
        if score_value.strip():
            extra.append(("score_value", score_value.strip()))

    page_number = int(st.session_state.get("tt_trace_page", 1))
    listing = loaders.traces(
        session, chosen, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE, extra=tuple(extra)
    )
    total = int(listing.attrs["total"])
    if total == 0:
        if not extra and not loaders.has_any_span(session):
            components.first_trace_help(session)
        else:
            components.empty_window(
                "traces match", chosen.describe() + (" with these filters" if extra else "")
            )
    else:
        pages = max(1, -(-total // PAGE_SIZE))
        st.markdown(f"**{total:,} traces** · page {page_number} of {pages} · select a row to open it")
        event = components.trace_table(listing, key="tt_trace_list", selectable=True)
        rows = getattr(getattr(event, "selection", None), "rows", None) or []
        if rows:
            picked = str(listing.iloc[rows[0]]["trace_id"])
            # The selection stays on every rerun: only a new one replaces the trace shown.
            if st.session_state.get(PICKED_STATE) != picked:
                st.session_state[PICKED_STATE] = picked
                st.session_state[TRACE_ID_KEY] = picked
        if pages > 1:
            st.number_input("Page", min_value=1, max_value=pages, step=1, key="tt_trace_page")

    # --- one trace ------------------------------------------------------------------------------
    typed = st.text_input("Open a trace by id", key=TRACE_ID_KEY)
    trace_id = typed.strip().lower()
    if trace_id != from_url:  # the URL follows what is shown, so it can be shared
        st.session_state[URL_STATE] = trace_id
        if trace_id:
            st.query_params[TRACE_PARAM] = trace_id
        else:
            st.query_params.pop(TRACE_PARAM, None)
    if not trace_id:
        st.caption("Select a trace in the list, or follow a trace link from another page.")
        st.stop()

    try:
        spans = loaders.trace(session, trace_id)
    except NotFound:
        st.warning(f"No trace `{trace_id}` in this project.", icon=":material/search_off:")
        st.stop()

    tree = trace_tree.tree(spans)
    totals = trace_tree.trace_totals(spans)
    root = tree.iloc[0]
    st.header(f"Trace: {root[sc.NAME]}")
    st.caption(f"`{trace_id}` · started {root[sc.START_TIME]:%Y-%m-%d %H:%M:%S} UTC")
    components.metric_row(
        [
            ("Duration", fmt.ms(totals["duration_ms"])),
            ("Spans", fmt.count(totals["spans"])),
            ("Errors", fmt.count(totals["errors"])),
            ("Tokens", fmt.count(totals["total_tokens"])),
            ("Cost", fmt.usd(totals["cost_usd"])),
        ]
    )

    waterfall_tab, tree_tab = st.tabs(["Waterfall", "Tree"])
    with waterfall_tab:
        st.altair_chart(charts.waterfall(tree), width="stretch")
    with tree_tab:
        st.dataframe(
            tree[
                ["label", sc.KIND, sc.STATUS_CODE, "offset_ms", sc.DURATION_MS, sc.TOTAL_TOKENS, sc.COST_USD]
            ],
            hide_index=True,
            column_config={
                "label": "span",
                "offset_ms": st.column_config.NumberColumn("starts at ms", format="%.1f"),
                sc.DURATION_MS: st.column_config.NumberColumn("duration ms", format="%.1f"),
                sc.TOTAL_TOKENS: st.column_config.NumberColumn("tokens", format="%d"),
                sc.COST_USD: st.column_config.NumberColumn("cost", format="$%.6f"),
            },
        )

    labels = [trace_tree.span_choice_label(row) for _, row in tree.iterrows()]
    llm_rows = [index for index, kind in enumerate(tree[sc.KIND]) if kind == sc.SpanKind.LLM.value]
    picked_label = st.selectbox(
        "Span", labels, index=llm_rows[0] if llm_rows else 0, key=f"tt_span_{trace_id}"
    )
    span = tree.iloc[labels.index(picked_label)]
    with st.container(border=True):
        span_view.render(span)

    # --- scoring --------------------------------------------------------------------------------
    st.subheader("Scores")
    with st.container(border=True):
        thumbs_key = f"tt_thumbs_{trace_id}"

        def _send_thumbs() -> None:
            """Runs before the next run of the page, outside its `api_errors`: has its own."""
            value = scoring.thumbs_value(st.session_state.get(thumbs_key))
            if value is not None:
                with components.api_errors(session):
                    loaders.add_score(
                        session, trace_id, scoring.THUMBS, value, score_id=f"ui-{scoring.THUMBS}-{trace_id}"
                    )

        feedback_column, form_column = st.columns([1, 3])
        with feedback_column:
            st.markdown("Was this trace good?")
            st.feedback("thumbs", key=thumbs_key, on_change=_send_thumbs)
        with form_column, st.form("tt_score_form", clear_on_submit=True):
            name_column, kind_column, value_column = st.columns(3)
            name = name_column.text_input("Score name", value="quality")
            kind = kind_column.selectbox("Type", ["numeric", "boolean", "categorical"])
            raw_value = value_column.text_input("Value", placeholder="0.8, true or a label")
            comment = st.text_input("Comment")
            on_span = st.checkbox(f"Score the selected span ({span[sc.NAME]}) rather than the whole trace")
            if st.form_submit_button("Add score"):
                try:
                    value = scoring.parse_value(kind, raw_value)  # type: ignore[arg-type]
                except ValueError as problem:
                    st.error(str(problem))
                else:
                    loaders.add_score(
                        session,
                        trace_id,
                        name.strip() or "quality",
                        value,
                        span_id=str(span[sc.SPAN_ID]) if on_span else "",
                        comment=comment,
                    )
                    st.success(f"Score {name!r} = {value!r} saved.")

        given = loaders.scores_of_trace(session, trace_id)
        if given.empty:
            st.caption("No scores on this trace yet.")
        else:
            st.dataframe(
                # Values are numbers, booleans or labels: shown as text in one column.
                given[["name", "value", "source", "span_id", "comment", "timestamp"]].astype({"value": str}),
                hide_index=True,
                column_config={
                    "timestamp": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm")
                },
            )
