"""The Overview page, the shared filter and the messages of an unreachable collector or a refused key,
run as AppTest sessions against a real collector seeded with traces."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from tests.support import free_port
from tests.ui.conftest import SeededCollector, app_session
from tests.ui.pages import charts, metrics, page_text, table_with
from tests.ui.seed import DRIFTED_MODEL, ERROR_TYPE, STEADY_MODEL


def chart_data(chart: object) -> pd.DataFrame:
    """A built-in line or area chart's data as x x series. Streamlit melts the frame it is given into
    (x, colour, value) rows when there are several series, and keeps a single one as its own column;
    the chart's Vega-Lite encoding names the fields either way."""
    spec = json.loads(chart.proto.spec)  # type: ignore[attr-defined]
    encoding = spec["layer"][0]["encoding"] if "layer" in spec else spec["encoding"]
    data = dataframe_util.convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)  # type: ignore[attr-defined]
    x, y = encoding["x"]["field"], encoding["y"]["field"]
    if "color" not in encoding:
        return data.set_index(x)[[y]]
    return data.pivot_table(index=x, columns=encoding["color"]["field"], values=y, aggfunc="sum")


def charts_by_title(app: AppTest) -> dict[str, pd.DataFrame]:
    """The built-in charts' data, by the subheader drawn above each chart."""
    found: dict[str, pd.DataFrame] = {}
    for column in app.columns:
        title = ""
        for element in column.children.values():
            if element.type == "subheader":
                title = str(element.value)
            elif element.type == "vega_lite_chart" and element.proto.datasets:
                found[title] = chart_data(element)
    return found


def test_overview_shows_traffic_errors_latency_and_costs(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page()
    shown = metrics(app)
    expected_traces = len(seeded.data.traces) + len(seeded.scenario)
    assert shown["Requests"] == str(expected_traces)
    assert int(shown["Spans"].replace(",", "")) > expected_traces
    assert shown["Error rate"].endswith("%") and shown["Error rate"] != "0%"
    assert all(shown[label].endswith(("ms", " s")) for label in ("Latency p50", "p95", "p99", "TTFT p50"))
    assert shown["Cost"].startswith("$") and shown["Unpriced"] == "0 tokens in 0 spans"
    assert len(charts(app)) >= 4, "requests, latency, tokens and cost over time"

    per_model = table_with(app, ["group", "span_count", "cost_usd"])
    assert {DRIFTED_MODEL, STEADY_MODEL} <= set(per_model["group"])

    over_time = charts_by_title(app)
    latency = over_time["Latency and time to first token (ms)"]
    assert {"p50", "p95", "p99", "TTFT p50"} <= set(latency.columns)
    assert latency["TTFT p50"].notna().any() and (latency["TTFT p50"] > 0).any()
    assert (latency["p99"] >= latency["p50"]).all()
    for title in ("Tokens per model", "Cost per model (USD)"):
        series = set(over_time[title].columns)
        assert series == set(per_model["group"]), f"{title}: one series per model, {series}"
        assert (over_time[title][[DRIFTED_MODEL, STEADY_MODEL]].sum() > 0).all(), title
    requests = over_time["Requests and errors"]
    assert set(requests.columns) == {"spans", "errors"}
    assert requests["spans"].sum() == int(shown["Spans"].replace(",", ""))
    errors = table_with(app, ["error", "errors", "share"])
    assert errors.iloc[0]["error"] == ERROR_TYPE
    assert errors.iloc[0]["errors"] == seeded.data.count(failed=True)
    costly = table_with(app, ["trace", "cost_usd"])
    assert costly.iloc[0]["trace"] == f"traces?trace={seeded.scenario['pipeline']}", (
        "the costliest trace first"
    )
    assert costly["cost_usd"].is_monotonic_decreasing


def test_the_sidebar_filter_offers_the_models_and_applies_to_the_page(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    models = open_page().selectbox(key="tt_model")
    assert {DRIFTED_MODEL, STEADY_MODEL} <= set(models.options), "the filter offers the models with spans"
    app = open_page(sidebar={"tt_model": STEADY_MODEL})
    # The scenario app's pipeline trace calls both models.
    assert metrics(app)["Requests"] == str(seeded.data.count(model=STEADY_MODEL) + 1)
    assert set(table_with(app, ["group", "span_count"])["group"]) == {STEADY_MODEL}
    assert set(charts_by_title(app)["Tokens per model"].columns) == {STEADY_MODEL}
    assert f"model {STEADY_MODEL}" in page_text(app)


def test_a_project_without_data_is_told_how_to_send_its_first_trace(seeded: SeededCollector) -> None:
    empty_key = seeded.collector.create_key("ui-empty")["key"]
    app = app_session(seeded.url, empty_key)
    app.run()
    assert not app.exception
    text = page_text(app)
    assert "No traces yet" in text
    assert "tokentrail.init(" in text and "TOKENTRAIL_API_KEY" in text and seeded.url in text


def test_an_unreachable_collector_is_a_message_not_a_traceback() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = app_session(url, "tt_whatever")
    app.run()
    assert not app.exception
    assert any(f"The collector at {url} does not answer" in error.value for error in app.error)
    assert "tokentrail collector" in page_text(app)


def test_a_refused_key_is_a_message_that_points_to_settings(seeded: SeededCollector) -> None:
    app = app_session(seeded.url, "tt_not-a-real-key")
    app.run()
    assert not app.exception
    message = " ".join(error.value for error in app.error)
    assert "refused the API key" in message and "Settings" in message


def test_no_key_at_all_says_where_to_put_one(seeded: SeededCollector) -> None:
    app = app_session(seeded.url, "")
    app.run()
    assert not app.exception
    assert any("No API key is set" in error.value for error in app.error)
