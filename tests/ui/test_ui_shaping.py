"""The UI's pure pandas helpers (tokentrail_ui.shaping): what the pages compute before drawing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail_ui.shaping import chat, datasets, drift, scoring, timeseries, trace_tree, window
from tokentrail_ui.shaping import formatting as fmt


def span(span_id: str, parent: str, start_ms: int, duration_ms: float, name: str = "s") -> dict[str, object]:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=start_ms)
    return {
        "span_id": span_id, "parent_span_id": parent, "name": name, "start_time": start,
        "end_time": start + timedelta(milliseconds=duration_ms), "duration_ms": duration_ms, "kind": "llm",
        "status_code": "ok", "total_tokens": 10, "cost_usd": None,
    }  # fmt: skip


def test_the_tree_is_depth_first_with_children_in_start_order() -> None:
    spans = pd.DataFrame(
        [span("c2", "r", 30, 5, "late child"), span("r", "", 0, 100, "root"), span("c1", "r", 10, 5, "early child"),
         span("g", "c1", 12, 1, "grandchild"), span("o", "missing", 50, 1, "orphan")]
    )  # fmt: skip
    tree = trace_tree.tree(spans)
    assert list(tree["span_id"]) == ["r", "c1", "g", "c2", "o"]
    assert list(tree["depth"]) == [0, 1, 2, 1, 0], "a span whose parent is absent is shown as a root"
    assert list(tree["offset_ms"]) == [0, 10, 12, 30, 50]
    assert tree.iloc[2]["label"] == trace_tree.INDENT * 2 + "grandchild"
    assert (
        trace_tree.trace_totals(spans)["duration_ms"] == 100
        and trace_tree.trace_totals(spans)["cost_usd"] is None
    )


def test_repeated_names_get_their_own_rows() -> None:
    tree = trace_tree.tree(pd.DataFrame([span("r", "", 0, 9, "call"), span("s", "", 1, 1, "call")]))
    assert list(tree["label"]) == ["call", "call (2)"]


def test_messages_tool_calls_and_plain_text_become_a_conversation() -> None:
    text = json.dumps(
        [
            {"role": "user", "parts": [{"type": "text", "content": "weather in Paris?"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Paris"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "sunny"}]},
        ]
    )  # fmt: skip
    messages = chat.conversation(text, "user")
    assert [message.role for message in messages] == ["user", "assistant", "tool"]
    (call,) = chat.tool_calls(messages)
    assert (call.name, json.loads(call.arguments), call.response) == ("weather", {"city": "Paris"}, "sunny")
    assert chat.conversation("just a prompt", "user") == [
        chat.ChatMessage("user", (chat.ChatPart("text", "just a prompt"),))
    ]
    arguments = chat.conversation('{"question": "hi"}', "user")[0].parts[0]
    assert arguments.kind == chat.JSON and json.loads(arguments.text) == {"question": "hi"}
    assert chat.conversation("", "user") == []


@given(st.text(max_size=200))
def test_any_text_renders_as_a_conversation(text: str) -> None:
    messages = chat.conversation(text, "assistant")
    assert (messages == []) == (text == "")


def test_buckets_fit_the_window() -> None:
    assert timeseries.bucket_seconds_for(3600) == 60
    assert timeseries.bucket_seconds_for(7 * 86400) == 3 * 3600
    assert timeseries.bucket_seconds_for(10 * 365 * 86400) == 7 * 86400


@given(st.floats(min_value=1, max_value=1e9))
def test_a_bucket_never_makes_too_many_points(seconds: float) -> None:
    width = timeseries.bucket_seconds_for(seconds)
    assert seconds / width <= timeseries.MAX_BUCKETS or width == timeseries.BUCKET_WIDTHS_S[-1]


def test_per_group_series_fill_missing_groups_with_zero() -> None:
    stats = pd.DataFrame(
        {"bucket": pd.to_datetime(["2026-01-01T00:00Z", "2026-01-01T00:00Z", "2026-01-01T01:00Z"]),
         "group": ["a", "", "a"], "total_tokens": [5, 7, 3]}
    )  # fmt: skip
    wide = timeseries.per_group(stats, "total_tokens")
    assert list(wide.columns) == ["(none)", "a"] and list(wide["(none)"]) == [7, 0]
    assert list(timeseries.with_value(stats)["group"]) == ["a", "a"]


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("numeric", " 0.5 ", 0.5),
        ("boolean", "Yes", True),
        ("boolean", "0", False),
        ("categorical", " refund ", "refund"),
    ],
)
def test_score_values_are_parsed_by_kind(kind: scoring.ScoreKind, text: str, value: object) -> None:
    assert scoring.parse_value(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text"), [("numeric", "good"), ("numeric", "nan"), ("boolean", "maybe"), ("categorical", " ")]
)
def test_bad_score_values_are_refused(kind: scoring.ScoreKind, text: str) -> None:
    with pytest.raises(ValueError):
        scoring.parse_value(kind, text)


def test_distributions_and_field_windows_of_drift() -> None:
    bins = pd.DataFrame(
        {
            "lower": [None, 100.0],
            "upper": [100.0, None],
            "baseline_share": [0.7, 0.3],
            "current_share": [0.2, 0.8],
        }
    )
    long, order = drift.distribution_long(bins)
    assert order == ["< 100", "≥ 100"] and len(long) == 4
    assert long[(long["side"] == "current") & (long["bucket"] == "≥ 100")]["share"].item() == 0.8
    baseline, current = drift.field_windows("release", "v1", "v2", "2026-01-01T00:00:00+00:00", None)
    assert baseline == {"start": "2026-01-01T00:00:00+00:00", "field": "release", "value": "v1"}
    assert current["value"] == "v2"


def test_only_edited_expected_outputs_are_saved() -> None:
    before = pd.DataFrame({"item_id": ["a", "b"], "expected_output": ["x", None]})
    after = pd.DataFrame({"item_id": ["a", "b"], "expected_output": ["x", "y"]})
    assert datasets.edited_expectations(before, after) == [("b", "y")]
    assert datasets.export_file_name("My set / v?", 3, "openai") == "My-set-v-v3-openai.jsonl"
    assert datasets.import_format("items.CSV") == "csv" and datasets.import_format("x.bin") is None
    built = datasets.mining_filter(
        window.Window(start="2026-01-01T00:00:00+00:00"), text=" ", tags=["a", " "]
    )
    assert built == {"start": "2026-01-01T00:00:00+00:00", "kinds": ["llm"], "tags": ["a"]}


def test_windows_are_pinned_to_the_minute() -> None:
    now = datetime(2026, 1, 1, 12, 30, 45, tzinfo=timezone.utc)
    last_hour = window.preset_window("Last hour", now)
    assert last_hour.start == "2026-01-01T11:30:00+00:00" and last_hour.end is None
    assert window.preset_window("All time").start is None
    days = window.date_window(datetime(2026, 1, 3).date(), datetime(2026, 1, 1).date())
    assert (days.start, days.end) == ("2026-01-01T00:00:00+00:00", "2026-01-04T00:00:00+00:00")


def test_figures_are_formatted_for_people() -> None:
    assert (fmt.ms(850), fmt.ms(1250), fmt.ms(None)) == ("850 ms", "1.25 s", fmt.DASH)
    assert (fmt.usd(0.00015), fmt.usd(12.4), fmt.usd(float("nan"))) == ("$0.000150", "$12.4000", fmt.DASH)
    assert (fmt.percent(0.056), fmt.percent(0.25)) == ("5.6%", "25%")
    assert fmt.size_bytes(40 * 2**30) == "40.00 GiB" and fmt.joules(7200) == "2.00 Wh"
