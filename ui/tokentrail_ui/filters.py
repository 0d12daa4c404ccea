"""The sidebar filter every page shares: a time range, a service and a model.

The entrypoint draws it on every run (widgets not drawn in a run lose their state), and pages
read the result with `current()`.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from tokentrail.api import ApiError
from tokentrail_ui import loaders
from tokentrail_ui.connection import Connection
from tokentrail_ui.shaping.window import CUSTOM, DEFAULT_PRESET, PRESETS, Filters, date_window, preset_window

RANGE_KEY = "tt_range"
DATES_KEY = "tt_dates"
SERVICE_KEY = "tt_service"
MODEL_KEY = "tt_model"
FILTERS_STATE = "tt_filters"
ALL_SERVICES = "All services"
ALL_MODELS = "All models"


def render_sidebar(connection: Connection) -> Filters:
    """Draw the filter in the sidebar and remember its value for the pages."""
    sidebar = st.sidebar
    sidebar.subheader("Filter")
    choices = [*PRESETS, CUSTOM]
    preset = sidebar.selectbox("Time range", choices, index=choices.index(DEFAULT_PRESET), key=RANGE_KEY)
    if preset == CUSTOM:
        today = date.today()
        picked = sidebar.date_input("Dates (UTC)", value=(today - timedelta(days=7), today), key=DATES_KEY)
        first, last = picked if isinstance(picked, tuple) and len(picked) == 2 else (today, today)  # type: ignore[misc]
        window = date_window(first, last)
    else:
        window = preset_window(preset)

    services: list[str] = []
    models: list[str] = []
    try:
        services = loaders.group_values(connection, window, "service")
        models = loaders.group_values(connection, window, "model")
    except ApiError:
        pass  # the page says what is wrong; the filter still works with what is selected
    service = _select(sidebar, "Service", ALL_SERVICES, services, SERVICE_KEY)
    model = _select(sidebar, "Model", ALL_MODELS, models, MODEL_KEY)
    filters = Filters(window=window, service=service, model=model)
    st.session_state[FILTERS_STATE] = filters
    return filters


def _select(
    container: st.delta_generator.DeltaGenerator, label: str, everything: str, values: list[str], key: str
) -> str | None:
    chosen = st.session_state.get(key)
    options = [everything, *values]
    if chosen and chosen not in options:
        options.append(chosen)  # keep a choice that has no spans in the new window
    picked = container.selectbox(label, options, key=key)
    return None if picked in (None, everything) else str(picked)


def current() -> Filters:
    """The filter the sidebar holds in this run."""
    value = st.session_state.get(FILTERS_STATE)
    return value if isinstance(value, Filters) else Filters(window=preset_window(DEFAULT_PRESET))
