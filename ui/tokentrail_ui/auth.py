"""The UI's password gate: with `TOKENTRAIL_UI_PASSWORD` set, nothing is shown before it is typed.

`tokentrail ui` refuses to listen beyond loopback without it, because the UI acts with the API
key it was given: whoever reaches the page reads that project's prompts.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

ENV_UI_PASSWORD = "TOKENTRAIL_UI_PASSWORD"
_PASSED = "tt_password_ok"


def password_required() -> bool:
    return bool(os.environ.get(ENV_UI_PASSWORD))


def require_password() -> None:
    """Stop the run with a sign-in form until the session has given the password."""
    expected = os.environ.get(ENV_UI_PASSWORD, "")
    if not expected or st.session_state.get(_PASSED):
        return
    st.title("tokentrail")
    with st.form("sign-in"):
        typed = st.text_input(
            "Password", type="password", help=f"Set by {ENV_UI_PASSWORD} where the UI runs."
        )
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if hmac.compare_digest(typed.encode(), expected.encode()):
            st.session_state[_PASSED] = True
            st.rerun()
        st.error("Wrong password.")
    st.stop()
