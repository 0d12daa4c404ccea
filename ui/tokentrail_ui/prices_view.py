"""The Settings page's prices: the project's custom prices (set, delete), the models without a
price, and the shipped table. Costs are derived when spans are read, so a price set here applies
to the spans already stored."""

from __future__ import annotations

from datetime import date

import streamlit as st

from tokentrail_ui import loaders
from tokentrail_ui.connection import Connection
from tokentrail_ui.shaping.prices import custom_rows, shipped_rows, unpriced_models


def render(connection: Connection) -> None:
    table = loaders.prices(connection)
    custom = custom_rows(table)
    missing = unpriced_models(loaders.stats(connection, loaders.ALL_TIME, "model"))
    if not missing.empty:
        st.warning(
            "Models without a known price (their spans have no cost): " + ", ".join(missing["model"]),
            icon=":material/money_off:",
        )
    if custom.empty:
        st.caption("No custom prices: costs come from the SDK or the price table shipped with the collector.")
    else:
        st.dataframe(custom, hide_index=True)

    with st.form("tt_price_form", clear_on_submit=True):
        st.markdown("**Set a price** (USD per 1M tokens)")
        pattern_column, input_column, output_column, cached_column = st.columns(4)
        pattern = pattern_column.text_input(
            "Model pattern",
            value=missing["model"].iloc[0] if not missing.empty else "",
            help="`*` for any characters",
        )
        input_rate = input_column.number_input("Input", min_value=0.0, step=0.05, format="%.4f")
        output_rate = output_column.number_input("Output", min_value=0.0, step=0.05, format="%.4f")
        cached_rate = cached_column.number_input(
            "Cached input (0: as input)", min_value=0.0, step=0.05, format="%.4f"
        )
        from_column, note_column = st.columns([1, 3])
        since = from_column.date_input("From (empty: all spans)", value=None)
        note = note_column.text_input("Note", placeholder="where this price comes from")
        if st.form_submit_button("Save price"):
            if not pattern.strip():
                st.error("Give the model pattern the price is for.")
            else:
                loaders.set_price(
                    connection,
                    pattern.strip(),
                    input=input_rate,
                    output=output_rate,
                    cached_input=cached_rate or None,
                    effective_from=since if isinstance(since, date) else None,
                    note=note,
                )
                st.rerun()

    if not custom.empty:
        delete_column, button_column = st.columns([3, 1])
        doomed = delete_column.selectbox(
            "Custom price to delete", sorted(set(custom["pattern"])), key="tt_price_delete"
        )
        if button_column.button("Delete", key="tt_price_delete_button"):
            loaders.delete_price(connection, doomed)
            st.rerun()

    with st.expander(
        f"Shipped price table (version {table.attrs.get('table_version')}, as of {table.attrs.get('table_as_of')})"
    ):
        st.dataframe(shipped_rows(table), hide_index=True)
