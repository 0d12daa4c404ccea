"""Which collector and key the UI talks to: the Settings page's choice, else the environment.

`TOKENTRAIL_ENDPOINT` and `TOKENTRAIL_API_KEY` (the SDK's variables) give the defaults, so
`tokentrail ui` started beside an instrumented app needs nothing else. What the Settings page
sets lasts for the browser session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

from tokentrail._config import DEFAULT_ENDPOINT, ENV_API_KEY, ENV_ENDPOINT

URL_STATE = "tt_collector_url"
KEY_STATE = "tt_api_key"


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: str

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)


def default() -> Connection:
    return Connection(
        url=(os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT).rstrip("/"),
        api_key=os.environ.get(ENV_API_KEY, ""),
    )


def current() -> Connection:
    """The connection of this browser session."""
    fallback = default()
    return Connection(
        url=str(st.session_state.get(URL_STATE) or fallback.url).rstrip("/"),
        api_key=str(st.session_state.get(KEY_STATE, fallback.api_key) or ""),
    )


def remember(connection: Connection) -> None:
    st.session_state[URL_STATE] = connection.url.strip().rstrip("/")
    st.session_state[KEY_STATE] = connection.api_key.strip()
