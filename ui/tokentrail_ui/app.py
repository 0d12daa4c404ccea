"""The UI's entrypoint (`streamlit run` this file, or `tokentrail ui`): navigation and the shared filter.

Every page is a script in `pages/`; this file draws what they share (the password gate, the
sidebar filter, the connection status) and shows an API error raised by any page as a message.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tokentrail.api import ApiError
from tokentrail_ui import auth, components, connection, filters, loaders

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="tokentrail", page_icon=":material/timeline:", layout="wide")
auth.require_password()

navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
        st.Page(PAGES / "traces.py", title="Traces", icon=":material/account_tree:", url_path="traces"),
        st.Page(PAGES / "gpu.py", title="GPU", icon=":material/memory:", url_path="gpu"),
        st.Page(PAGES / "drift.py", title="Drift", icon=":material/difference:", url_path="drift"),
        st.Page(PAGES / "datasets.py", title="Datasets", icon=":material/dataset:", url_path="datasets"),
        st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    ]
)

session = connection.current()
filters.render_sidebar(session)
with st.sidebar:
    st.divider()
    try:
        loaders.health(session)
        st.caption(f":material/check_circle: collector {session.url}")
    except ApiError as error:  # the page says it in full; Settings still renders to fix the URL
        st.caption(f":material/error: {components.explain(error, session)[0]}")

try:
    navigation.run()
except ApiError as error:  # a backstop: pages show their own API errors (components.api_errors)
    components.show_api_error(error, session)
