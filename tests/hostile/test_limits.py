"""The caps of normalisation: what passes them is cut and counted, the span kept; refused keys are
dropped and counted; a request with too many spans is refused whole."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.hostile.spans import request_of, valid_span
from tokentrail import semconv as sc
from tokentrail_collector.normalise import NormalisedBatch, _traces, normalise_traces
from tokentrail_collector.normalise._limits import (
    CUT_MARK,
    MAX_ATTRIBUTE_KEY_CHARS,
    MAX_ATTRIBUTE_VALUE_CHARS,
    MAX_ATTRIBUTES_PER_SPAN,
    MAX_CONTENT_CHARS,
    MAX_EVENTS_PER_SPAN,
    refused_key,
)

PROJECT = "p"


def normalise(*spans: Span, resource: dict[str, str] | None = None) -> NormalisedBatch:
    return normalise_traces(request_of(*spans, resource=resource), project_id=PROJECT)


def test_attributes_past_the_cap_are_dropped_and_counted() -> None:
    extra = 44
    span = valid_span(attributes={f"key.{i:04}": str(i) for i in range(MAX_ATTRIBUTES_PER_SPAN + extra)})
    batch = normalise(span)
    (row,) = batch.rows
    assert len(row[sc.ATTRIBUTES]) == MAX_ATTRIBUTES_PER_SPAN  # type: ignore[arg-type]
    assert "key.0000" in row[sc.ATTRIBUTES]  # type: ignore[operator]  # the first ones are kept
    assert (batch.truncated, batch.rejected, batch.refused_keys) == (extra, 0, 0)
    assert "cut or dropped" in batch.limits_note()


def test_a_long_value_is_cut_in_the_attributes_but_read_whole_into_the_text_column() -> None:
    prompt = "p" * (MAX_ATTRIBUTE_VALUE_CHARS * 3)
    batch = normalise(
        valid_span(attributes={sc.TT_INPUT: prompt, "note": "n" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)})
    )
    (row,) = batch.rows
    attributes = row[sc.ATTRIBUTES]
    assert isinstance(attributes, dict)
    assert attributes[sc.TT_INPUT] == prompt[:MAX_ATTRIBUTE_VALUE_CHARS] + CUT_MARK
    assert attributes["note"] == "n" * MAX_ATTRIBUTE_VALUE_CHARS + CUT_MARK
    assert row[sc.INPUT_TEXT] == prompt  # under the content cap: whole
    assert batch.truncated == 2


def test_content_past_its_cap_is_cut_and_counted() -> None:
    prompt = "q" * (MAX_CONTENT_CHARS + 10)
    batch = normalise(valid_span(attributes={sc.TT_INPUT: prompt}))
    (row,) = batch.rows
    assert row[sc.INPUT_TEXT] == prompt[:MAX_CONTENT_CHARS] + CUT_MARK
    assert batch.truncated == 1  # one value, counted once though both its places were cut


def test_a_value_exactly_at_the_cap_is_kept_whole() -> None:
    value = "v" * MAX_ATTRIBUTE_VALUE_CHARS
    batch = normalise(valid_span(attributes={"v": value}))
    assert batch.rows[0][sc.ATTRIBUTES] == {"v": value}
    assert batch.truncated == 0 and batch.limits_note() == ""


def test_a_structured_value_past_the_content_cap_becomes_its_cut_json() -> None:
    big = AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="x" * 1000)] * 1100))
    span = valid_span()
    span.attributes.append(KeyValue(key="big", value=big))
    batch = normalise(span)
    text = batch.rows[0][sc.ATTRIBUTES]["big"]  # type: ignore[index]
    assert text.startswith('["xxx') and text.endswith(CUT_MARK)
    assert len(text) == MAX_ATTRIBUTE_VALUE_CHARS + 1
    assert batch.truncated == 1


def test_events_past_the_cap_are_dropped_and_counted() -> None:
    span = valid_span()
    for i in range(MAX_EVENTS_PER_SPAN + 5):
        span.events.add(time_unix_nano=span.start_time_unix_nano + i, name=f"event {i}")
    batch = normalise(span)
    events = json.loads(batch.rows[0][sc.EVENTS])  # type: ignore[arg-type]
    assert [event[sc.EVENT_NAME] for event in events] == [f"event {i}" for i in range(MAX_EVENTS_PER_SPAN)]
    assert batch.truncated == 5


def test_event_attribute_values_keep_content_length_and_refuse_keys() -> None:
    span = valid_span()
    event = span.events.add(time_unix_nano=span.start_time_unix_nano, name="gen_ai.user.message")
    long_content = "c" * (MAX_ATTRIBUTE_VALUE_CHARS * 2)  # content: over the attribute cap, kept
    event.attributes.add(key="content", value=AnyValue(string_value=long_content))
    event.attributes.add(key="__proto__", value=AnyValue(string_value="polluted"))
    batch = normalise(span)
    (stored,) = json.loads(batch.rows[0][sc.EVENTS])  # type: ignore[arg-type]
    assert stored[sc.EVENT_ATTRIBUTES] == {"content": long_content}
    assert (batch.truncated, batch.refused_keys) == (0, 1)


HOSTILE_KEYS = [
    "__proto__",
    "constructor",
    "prototype",
    "nul\x00byte",
    "line\nbreak",
    "tab\tkey",
    "escape\x1b[31m",
    "bidi\u202eoverride",
    "zero\u200bwidth",
    "k" * (MAX_ATTRIBUTE_KEY_CHARS + 1),
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=repr)
def test_hostile_keys_are_refused(key: str) -> None:
    assert refused_key(key)


@pytest.mark.parametrize(
    "key",
    ["gen_ai.request.model", "模型.名前", "with space", "k" * MAX_ATTRIBUTE_KEY_CHARS, "\U000e0100x", ""],
)
def test_ordinary_keys_pass(key: str) -> None:
    assert not refused_key(key)


def test_refused_keys_are_dropped_from_spans_and_resources_and_counted() -> None:
    attributes = {key: "x" for key in HOSTILE_KEYS} | {"fine": "kept"}
    batch = normalise(valid_span(attributes=attributes), resource={"__proto__": "x", "service.name": "svc"})
    (row,) = batch.rows
    assert row[sc.ATTRIBUTES] == {"fine": "kept"}
    assert row[sc.RESOURCE_ATTRIBUTES] == {"service.name": "svc"}
    assert row[sc.SERVICE] == "svc"
    assert (batch.refused_keys, batch.rejected) == (len(HOSTILE_KEYS) + 1, 0)
    assert "refused key" in batch.limits_note()


def test_refused_keys_stay_refused_when_they_recur() -> None:
    # Small attributes are remembered after their first read: a refused one must never be.
    spans = [valid_span(i, attributes={"__proto__": "x", "ok": "y"}) for i in range(1, 4)]
    batch = normalise(*spans)
    assert [row[sc.ATTRIBUTES] for row in batch.rows] == [{"ok": "y"}] * 3
    assert batch.refused_keys == 3


def test_long_names_and_status_messages_are_cut() -> None:
    span = valid_span()
    span.name = "n" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)
    span.status.message = "m" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)
    batch = normalise(span)
    (row,) = batch.rows
    assert row[sc.NAME] == "n" * MAX_ATTRIBUTE_VALUE_CHARS + CUT_MARK
    assert row[sc.STATUS_MESSAGE] == "m" * MAX_ATTRIBUTE_VALUE_CHARS + CUT_MARK
    assert batch.truncated == 2


def test_a_request_with_too_many_spans_is_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_traces, "MAX_SPANS_PER_REQUEST", 3)
    batch = normalise(*(valid_span(i) for i in range(1, 5)))
    assert (batch.rows, batch.rejected) == ([], 4)
    assert batch.errors == [
        "the request carries 4 spans, over the limit of 3 per request: send them in smaller requests"
    ]
    assert len(normalise(*(valid_span(i) for i in range(1, 4))).rows) == 3


def test_invalid_spans_are_still_rejected_one_by_one_beside_cut_ones() -> None:
    bad = valid_span(2)
    bad.trace_id = b"short"
    batch = normalise(valid_span(1, attributes={"__proto__": "x"}), bad)
    assert (len(batch.rows), batch.rejected, batch.refused_keys) == (1, 1, 1)
    assert "trace_id is 5 bytes" in batch.errors[0]
