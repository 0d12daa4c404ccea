"""Settings: which collector and API key this browser session uses, and the project's custom prices."""

from __future__ import annotations

import streamlit as st

from tokentrail.api import ApiError
from tokentrail_ui import components, connection, loaders, prices_view

session = connection.current()

st.title("Settings")

st.subheader("Collector")
with st.form("tt_connection_form"):
    url = st.text_input(
        "Collector URL", value=session.url, help="Default: TOKENTRAIL_ENDPOINT, else http://127.0.0.1:4318"
    )
    key = st.text_input(
        "API key",
        value=session.api_key,
        type="password",
        help="Names the project to show. Default: TOKENTRAIL_API_KEY. Create one with "
        "`tokentrail keys create --project <name>`.",
    )
    saved = st.form_submit_button("Save and test", type="primary")
if saved:
    session = connection.Connection(url=url.strip().rstrip("/"), api_key=key.strip())
    connection.remember(session)
    loaders.clear_reads()

try:
    health = loaders.health(session)
    loaders.has_any_span(session)  # the key is checked only by a project read
except ApiError as error:
    components.show_api_error(error, session)
else:
    st.success(
        f"Connected to {session.url} (store: {health.get('store', '?')}, "
        f"{'reachable' if health.get('store_reachable') else 'NOT reachable'}); the API key was accepted.",
        icon=":material/check_circle:",
    )
st.caption(
    "These settings last for this browser session; start the UI with the environment variables to keep them."
)

st.subheader("Custom prices")
with components.api_errors(session):
    prices_view.render(session)
