"""The Traces page: the filterable list, one trace as a tree and waterfall, span detail rendered as
a chat with tool calls, tokens, cost and GPU figures, and scoring from the page."""

from __future__ import annotations

import json
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import charts, metrics, page_text, table_with
from tests.ui.seed import DRIFTED_MODEL, ERROR_TYPE, STEADY_MODEL, TAG, TOOL_NAME
from tokentrail.api import Client
from tokentrail_ui.shaping.trace_tree import INDENT


def listed_total(app: AppTest) -> int:
    line = next(text.value for text in app.markdown if " traces** · page" in text.value)
    return int(line.split("**")[1].split()[0].replace(",", ""))


def test_the_list_filters_by_status_text_tag_latency_and_sorts(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("traces")
    assert listed_total(app) == len(seeded.data.traces) + len(seeded.scenario)
    listing = table_with(app, ["trace", "name", "duration_ms", "status", "cost_usd"])
    assert len(listing) == 50 and listing["trace"].str.startswith("traces?trace=").all()

    app.selectbox(key="tt_trace_status").set_value("error").run()
    failing = seeded.data.count(failed=True) + 1  # and the scenario app's broken run
    assert listed_total(app) == failing + 1, "the scenario's pipeline has a failing tool too"
    assert set(table_with(app, ["trace", "status"])["status"]) == {"error"}

    app.selectbox(key="tt_trace_status").set_value("Any")
    app.text_input(key="tt_trace_search").set_value("reset the password").run()
    assert listed_total(app) == seeded.data.count(drifted=True)

    app.text_input(key="tt_trace_search").set_value("")
    app.text_input(key="tt_trace_tag").set_value(TAG).run()
    assert listed_total(app) == seeded.data.count(tool_call=True)

    app.text_input(key="tt_trace_tag").set_value("")
    app.number_input(key="tt_trace_latency").set_value(1400.0).run()
    assert listed_total(app) == seeded.data.count(drifted=True), (
        "only the slow, drifted answers last that long"
    )

    app.number_input(key="tt_trace_latency").set_value(0.0)
    app.selectbox(key="tt_trace_sort").set_value("cost").run()
    costs = table_with(app, ["trace", "cost_usd"])["cost_usd"]
    assert costs.is_monotonic_decreasing and costs.iloc[0] > 0

    # The drifted model costs three times as much: a floor above every steady call keeps only it.
    steady_max = max(float(t["cost"]) for t in seeded.data.traces.values() if t["model"] == STEADY_MODEL)
    floor = round(steady_max + 0.00005, 4)  # the input shows four decimals
    expensive = {trace_id for trace_id, t in seeded.data.traces.items() if float(t["cost"]) >= floor}
    assert expensive and all(seeded.data.traces[t]["model"] == DRIFTED_MODEL for t in expensive)
    app.number_input(key="tt_trace_cost").set_value(floor).run()
    assert not app.exception, [error.value for error in app.exception]
    listed = table_with(app, ["trace", "cost_usd"])
    assert (listed["cost_usd"] >= floor).all()
    seeded_listed = {url.split("=", 1)[1] for url in listed["trace"]} & set(seeded.data.traces)
    assert seeded_listed <= expensive
    total = listed_total(app)
    assert len(expensive) <= total < len(seeded.data.traces)
    if total <= len(listed):  # one page: every seeded trace above the floor is on it
        assert seeded_listed == expensive


def test_the_sidebar_model_filters_the_list(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("traces", sidebar={"tt_model": STEADY_MODEL})
    assert f"model {STEADY_MODEL}" in page_text(app)
    # The scenario app's pipeline trace calls both models.
    assert listed_total(app) == seeded.data.count(model=STEADY_MODEL) + 1
    listing = table_with(app, ["trace", "name"])
    listed = {url.split("=", 1)[1] for url in listing["trace"]} & set(seeded.data.traces)
    assert listed and all(seeded.data.traces[trace_id]["model"] == STEADY_MODEL for trace_id in listed)


def test_a_trace_shows_tree_waterfall_and_the_chat_with_its_tool_call(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    trace_id = seeded.data.tool_trace
    app = open_page("traces", trace=trace_id)
    text = page_text(app)
    assert "Trace: answer" in text and trace_id in text
    assert metrics(app)["Spans"] == "2"
    assert charts(app), "the waterfall"
    tree = table_with(app, ["label", "kind", "offset_ms"])
    assert list(tree["kind"]) == ["chain", "llm"]
    assert tree.iloc[1]["label"].startswith(INDENT), "the LLM call is indented under its parent"

    question = str(seeded.data.traces[trace_id]["question"])
    messages = [message for message in app.chat_message]
    assert [message.name for message in messages] == ["user", "assistant"]
    assert question in text
    assert f"calls **{TOOL_NAME}**" in text
    assert metrics(app)["Input tokens"] != "–" and metrics(app)["Cost"].startswith("$")
    parameters = table_with(app, ["parameter", "value"])
    assert "temperature" in set(parameters["parameter"])

    tabs = {tab.label: tab for tab in app.tabs}
    tool_tab = tabs["Tool calls (1)"]
    assert any(TOOL_NAME in markdown.value for markdown in tool_tab.markdown)
    arguments = [json.loads(code.value) for code in tool_tab.code if code.value.startswith("{")]
    assert {"order": 42} in arguments, "the tool call's arguments, as JSON"
    (raw,) = tabs["Raw attributes"].json
    attributes = json.loads(raw.value)["attributes"]
    model = seeded.data.traces[trace_id]["model"]
    assert attributes["gen_ai.request.model"] == model and attributes["tokentrail.span.kind"] == "llm"


def test_errors_and_gpu_figures_of_a_span(open_page: Callable[..., AppTest], seeded: SeededCollector) -> None:
    failing = open_page("traces", trace=seeded.data.error_trace)
    assert any(ERROR_TYPE in error.value and "rate limited" in error.value for error in failing.error)
    gpu = open_page("traces", trace=seeded.data.gpu_trace)
    shown = metrics(gpu)
    assert shown["GPU util avg"] == "72%" and shown["Power avg"] == "420 W"
    assert shown["Memory peak"] == "40.00 GiB"


def test_scores_are_added_from_the_page(open_page: Callable[..., AppTest], seeded: SeededCollector) -> None:
    trace_id = seeded.data.tool_trace
    app = open_page("traces", trace=trace_id)
    assert "No scores on this trace yet." in page_text(app)
    app.feedback(key=f"tt_thumbs_{trace_id}").set_value(0).run()
    assert not app.exception

    form_inputs = {field.label: field for field in app.text_input}
    form_inputs["Score name"].set_value("helpfulness")
    form_inputs["Value"].set_value("0.75")
    form_inputs["Comment"].set_value("good but slow")
    next(button for button in app.button if button.label == "Add score").click().run()
    assert not app.exception, [error.value for error in app.exception]

    scores = table_with(app, ["name", "value", "source", "comment"])
    assert {"thumbs", "helpfulness"} <= set(scores["name"])
    with Client(seeded.url, api_key=seeded.key) as api:
        stored = api.scores.list(trace_id=trace_id)
    by_name = {row["name"]: row for _, row in stored.iterrows()}
    assert by_name["thumbs"]["value"] is False and by_name["thumbs"]["source"] == "human"
    assert by_name["helpfulness"]["value"] == 0.75 and by_name["helpfulness"]["comment"] == "good but slow"

    listing = open_page("traces")
    listing.selectbox(key="tt_trace_score").set_value("thumbs")
    listing.text_input(key="tt_trace_score_value").set_value("false").run()
    assert listed_total(listing) == 1


def test_a_bad_score_value_is_refused_with_a_message(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("traces", trace=seeded.data.tool_trace)
    form_inputs = {field.label: field for field in app.text_input}
    form_inputs["Value"].set_value("very good")
    next(button for button in app.button if button.label == "Add score").click().run()
    assert any("is not a number" in error.value for error in app.error)


def test_an_unknown_trace_id_is_a_warning(open_page: Callable[..., AppTest]) -> None:
    app = open_page("traces", trace="0" * 32)
    assert any("No trace" in warning.value for warning in app.warning)


def test_picking_a_row_opens_its_trace_and_puts_it_in_the_url(open_page: Callable[..., AppTest]) -> None:
    app = open_page("traces")
    assert "Select a trace in the list" in page_text(app)
    first = table_with(app, ["trace", "name"]).iloc[0]
    app.session_state["tt_trace_list"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    trace_id = first["trace"].split("=", 1)[1]
    assert f"Trace: {first['name']}" in page_text(app)
    assert app.query_params["trace"] == trace_id
    app.text_input(key="tt_trace_id").set_value(" ").run()
    assert "trace" not in app.query_params and "Select a trace in the list" in page_text(app)
