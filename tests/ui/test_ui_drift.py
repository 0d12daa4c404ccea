"""The Drift page against a collector holding a planted change: a new topic of prompts and slower
answers on one model only, in the last three hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import charts, page_text, table_with
from tests.ui.seed import DRIFTED_MODEL, STEADY_MODEL
from tokentrail.api import Client
from tokentrail_ui.shaping.drift import STATUS_BACKGROUNDS, status_style

COMPARISON = "Last 3 hours vs the 3 hours before"
CUSTOM_DATES = "Custom dates"
READY = "Drift report ready"


def press_compute(app: AppTest) -> AppTest:
    next(button for button in app.button if button.label == "Compute drift report").click().run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def compute(app: AppTest) -> AppTest:
    app.selectbox(key="tt_drift_comparison").set_value(COMPARISON)
    press_compute(app)
    assert [status.label for status in app.status] == [READY], "the long operation shows its progress"
    return app


def example_traces(app: AppTest, feature: str) -> set[str]:
    """The trace ids of the most drifted examples under a feature's expander."""
    (section,) = [expander for expander in app.expander if expander.label.startswith(f"{feature}:")]
    for element in section.dataframe:
        value = element.value if isinstance(element.value, pd.DataFrame) else element.value.data
        if {"trace", "value", "text"} <= set(value.columns):
            return {url.split("=", 1)[1] for url in value["trace"]}
    raise AssertionError(f"no examples under {feature}")


def feature_statuses(app: AppTest) -> dict[str, str]:
    table = table_with(app, ["feature", "status", "statistic"])
    return {row["feature"]: row["status"].split()[-1] for _, row in table.iterrows()}


def test_the_drifted_model_shows_latency_and_topics_drifted(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
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
    shrank = topics[topics["moved"] == "shrank"]
    assert not shrank.empty and not shrank["samples"].str.contains("password").any(), (
        "the old questions shrank: the drifted model answers only password resets now"
    )
    examples = table_with(app, ["trace", "value", "text"])
    assert examples["trace"].str.startswith("traces?trace=").all()
    drifted = {trace_id for trace_id, facts in seeded.data.traces.items() if facts["drifted"]}
    for feature in ("Latency (ms)", "Prompt topics"):
        shown = example_traces(app, feature)
        assert shown and shown <= drifted, f"{feature}: the examples are the planted slow password resets"


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
    press_compute(app)
    assert [status.label for status in app.status] == [READY]
    text = page_text(app)
    assert f"model = {STEADY_MODEL}" in text and f"model = {DRIFTED_MODEL}" in text
    assert "Overall: drifted" in text
    statuses = feature_statuses(app)
    # Half the drifted model's answers are the slow password resets; the other model is never slow.
    assert statuses["Latency (ms)"] == "drifted" and statuses["Prompt topics"] == "drifted"
    assert statuses["Model mix"] == "drifted", "one model on each side"
    assert statuses["Input tokens"] == "stable" and statuses["Error rate"] == "stable"
    topics = table_with(app, ["topic", "change", "moved", "samples"])
    assert topics[topics["moved"] == "grew"]["samples"].str.contains("password").any()
    assert (topics["moved"] == "shrank").any(), "the old topics take a smaller share on the drifted model"


def custom_dates(app: AppTest, baseline: tuple[object, object], current: tuple[object, object]) -> AppTest:
    app.selectbox(key="tt_drift_comparison").set_value(CUSTOM_DATES)
    app.date_input(key="tt_drift_baseline_dates").set_value(baseline)
    app.date_input(key="tt_drift_current_dates").set_value(current)
    return press_compute(app)


def test_custom_dates_compare_whole_days(open_page: Callable[..., AppTest], seeded: SeededCollector) -> None:
    today = datetime.now(timezone.utc).date()
    week_before = (today - timedelta(days=14), today - timedelta(days=8))
    recent = (today - timedelta(days=1), today)  # the seeded six hours, even just after midnight
    app = custom_dates(open_page("drift", sidebar={"tt_model": DRIFTED_MODEL}), week_before, recent)
    assert [status.label for status in app.status] == [READY]
    text = page_text(app)
    assert (
        f"**Baseline**: {week_before[0]:%Y-%m-%d} 00:00 UTC to {week_before[1] + timedelta(days=1):%Y-%m-%d} 00:00 UTC"
        in text
    )
    current_line = next(line for line in text.splitlines() if line.startswith("**Current**"))
    assert f"{recent[0]:%Y-%m-%d} 00:00 UTC" in current_line
    assert f"{seeded.data.count(model=DRIFTED_MODEL):,} LLM spans" in current_line or (
        f"{seeded.data.count(model=DRIFTED_MODEL) + 1:,} LLM spans" in current_line  # the scenario app's call
    )


def test_custom_dates_need_both_windows(open_page: Callable[..., AppTest]) -> None:
    app = open_page("drift")
    app.selectbox(key="tt_drift_comparison").set_value(CUSTOM_DATES)
    press_compute(app)
    assert any("Pick a first and a last day" in warning.value for warning in app.warning)
    assert not app.status, "no report asked for"


def test_the_same_window_twice_is_a_message_not_a_traceback(open_page: Callable[..., AppTest]) -> None:
    today = datetime.now(timezone.utc).date()
    days = (today - timedelta(days=1), today)
    app = custom_dates(open_page("drift"), days, days)
    assert [status.label for status in app.status] == ["The drift report failed"]
    assert any("same window" in error.value for error in app.error)


@pytest.mark.parametrize("status", ["stable", "warning", "drifted", "error"])
def test_each_status_has_its_own_colour(status: str) -> None:
    (style,) = status_style(pd.Series([status]))
    assert style == f"background-color: {STATUS_BACKGROUNDS[status]}"
    assert len(set(STATUS_BACKGROUNDS.values())) == len(STATUS_BACKGROUNDS), "no two statuses look alike"


def test_status_colours_follow_the_rows() -> None:
    drifted, stable, unknown, warning = status_style(pd.Series(["drifted", "stable", "unknown", "warning"]))
    assert (drifted, stable, warning) == (
        "background-color: #ffebee",
        "background-color: #e8f5e9",
        "background-color: #fff8e1",
    )
    assert "#" not in unknown, "a status the page does not know is not coloured"


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
