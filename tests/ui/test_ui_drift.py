"""The Drift page against a collector holding a planted change: a new topic of prompts and slower
answers on one model only, in the last three hours."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import charts, page_text, table_with
from tests.ui.seed import DRIFTED_MODEL, STEADY_MODEL
from tokentrail.api import Client

COMPARISON = "Last 3 hours vs the 3 hours before"


def compute(app: AppTest) -> AppTest:
    app.selectbox(key="tt_drift_comparison").set_value(COMPARISON)
    next(button for button in app.button if button.label == "Compute drift report").click().run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def feature_statuses(app: AppTest) -> dict[str, str]:
    table = table_with(app, ["feature", "status", "statistic"])
    return {row["feature"]: row["status"].split()[-1] for _, row in table.iterrows()}


def test_the_drifted_model_shows_latency_and_topics_drifted(open_page: Callable[..., AppTest]) -> None:
    app = compute(open_page("drift", sidebar={"tt_model": DRIFTED_MODEL}))
    text = page_text(app)
    assert "Overall: drifted" in text
    statuses = feature_statuses(app)
    assert statuses["Latency (ms)"] == "drifted" and statuses["Prompt topics"] == "drifted"
    assert statuses["Error rate"] == "stable" and statuses["Model mix"] == "stable"
    assert "LLM spans" in text and "Baseline" in text
    assert charts(app), "overlaid distributions of the drifted features"

    topics = table_with(app, ["topic", "change", "moved", "samples"])
    grew = topics[topics["moved"] == "grew"]
    assert grew["samples"].str.contains("password").any(), "the new topic grew, with its prompts as samples"
    examples = table_with(app, ["trace", "value", "text"])
    assert examples["trace"].str.startswith("traces?trace=").all()


def test_the_steady_model_is_stable(open_page: Callable[..., AppTest]) -> None:
    app = compute(open_page("drift", sidebar={"tt_model": STEADY_MODEL}))
    assert "Overall: stable" in page_text(app)
    assert set(feature_statuses(app).values()) == {"stable"}


def test_two_values_of_a_field_are_compared(open_page: Callable[..., AppTest]) -> None:
    app = open_page("drift")
    app.radio(key="tt_drift_mode").set_value("Two values of a field")
    app.selectbox(key="tt_drift_field").set_value("model")
    app.text_input(key="tt_drift_baseline_value").set_value(STEADY_MODEL)
    app.text_input(key="tt_drift_current_value").set_value(DRIFTED_MODEL)
    next(button for button in app.button if button.label == "Compute drift report").click().run()
    assert not app.exception
    text = page_text(app)
    assert f"model = {STEADY_MODEL}" in text and f"model = {DRIFTED_MODEL}" in text
    assert "Overall:" in text


def test_a_monitor_made_on_the_page_keeps_its_history(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("drift", sidebar={"tt_model": DRIFTED_MODEL})
    app.text_input(key="tt_monitor_name").set_value("ui planted drift")
    app.selectbox(key="tt_monitor_comparison").set_value(COMPARISON)
    next(button for button in app.button if button.label == "Create monitor").click().run()
    assert not app.exception, [error.value for error in app.exception]

    with Client(seeded.url, api_key=seeded.key) as api:
        monitors = api.drift.monitors()
    mine = monitors[monitors["name"] == "ui planted drift"]
    assert len(mine) == 1
    (definition,) = [item for item in monitors.attrs["raw"] if item["name"] == "ui planted drift"]
    assert definition["model"] == DRIFTED_MODEL and definition["current"]["last"] == "3h"

    app.selectbox(key="tt_drift_monitor").set_value(mine.iloc[0]["monitor_id"])
    next(button for button in app.button if button.label == "Run now").click().run()
    assert not app.exception, [error.value for error in app.exception]
    history = table_with(app, ["evaluated", "status", "drifted"])
    assert history.iloc[0]["status"] == "drifted"
    assert "Latency (ms)" in history.iloc[0]["drifted"] and "Prompt topics" in history.iloc[0]["drifted"]
    assert charts(app), "PSI per feature over time"
