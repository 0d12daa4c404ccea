"""The one message shape every dialect's content is read into, and the readers of each source shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail_collector.normalise._messages import (
    as_genai_messages,
    as_message_text,
    message_of,
    messages_of,
    nest,
    ordered,
    system_message,
)


def text(role: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}], **extra}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"role": "user", "content": "Hi?"}, text("user", "Hi?")),
        ({"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "?"}]},
         {"role": "user", "parts": [{"type": "text", "content": "Hi"}, {"type": "text", "content": "?"}]}),
        ({"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]},
         {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"x": 1}}]}),
        ({"role": "tool", "tool_call_id": "c1", "content": "42"},
         {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}),
        # Anthropic: tool_use and tool_result blocks, stop_reason.
        ({"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}],
          "stop_reason": "tool_use"},
         {"role": "assistant", "parts": [{"type": "tool_call", "id": "t1", "name": "f", "arguments": {"x": 1}}],
          "finish_reason": "tool_use"}),
        ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "42"}]},
         {"role": "user", "parts": [{"type": "tool_call_response", "id": "t1", "response": "42"}]}),
        # Already the canonical shape: kept, unknown part types included.
        ({"role": "user", "parts": [{"type": "blob", "modality": "image", "content": "AA=="}]},
         {"role": "user", "parts": [{"type": "blob", "modality": "image", "content": "AA=="}]}),
        ({"role": "assistant", "content": "Hello.", "finish_reason": "stop"}, text("assistant", "Hello.", finish_reason="stop")),
    ],
)  # fmt: skip
def test_message_of_each_source_shape(source: dict[str, Any], expected: dict[str, Any]) -> None:
    assert message_of(source) == expected


def test_message_of_takes_the_given_role_only_when_none_is_named() -> None:
    assert message_of({"content": "Hi?"}, role="user") == text("user", "Hi?")
    assert message_of({"role": "system", "content": "x"}, role="user") == text("system", "x")
    assert message_of({"content": "Hi?"}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('[{"role": "user", "content": "Hi?"}]', [text("user", "Hi?")]),
        ({"role": "assistant", "content": "Hello."}, [text("assistant", "Hello.")]),
        ({"model": "m", "system": "Be brief.", "messages": [{"role": "user", "content": "Hi?"}]},
         [text("system", "Be brief."), text("user", "Hi?")]),
        ({"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "A"}},
                      {"finish_reason": "length", "text": "B"}]},
         [text("assistant", "A", finish_reason="stop"), text("assistant", "B", finish_reason="length")]),
        ({"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "A"}],
          "stop_reason": "end_turn"}, [text("assistant", "A", finish_reason="end_turn")]),
        ("plain text", None), ("[1, 2]", None), ("[]", None), ('{"question": "q"}', None),
        ('[{"role": "user", "content": "ok"}, {"name": "not a message"}]', None), ("[not json", None),
        (42, None), (None, None),
    ],
)  # fmt: skip
def test_messages_of(value: Any, expected: list[dict[str, Any]] | None) -> None:
    assert messages_of(value) == expected


def test_as_message_text_is_messages_json_or_the_text() -> None:
    assert json.loads(str(as_message_text('[{"role": "user", "content": "Hi?"}]'))) == [text("user", "Hi?")]
    assert as_message_text("plain") == "plain"
    assert as_message_text("") is None
    assert as_message_text(["a", "b"]) == '["a","b"]'


def test_genai_messages_text_is_kept_as_sent_and_structured_ones_converted() -> None:
    sent = '[{"role":"user","parts":[{"content":"Hi?","type":"text"}]}]'
    assert as_genai_messages(sent) == sent
    assert as_genai_messages("") is None
    structured = [{"role": "user", "parts": [{"content": "Hi?", "type": "text"}]}]
    assert json.loads(str(as_genai_messages(structured))) == structured  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("instructions", "expected"),
    [
        ('[{"type": "text", "content": "Be brief."}]', text("system", "Be brief.")),
        ([{"type": "text", "content": "Be brief."}], text("system", "Be brief.")),
        ("Be brief.", text("system", "Be brief.")),
        ("", None), (None, None), (7, None),
    ],
)  # fmt: skip
def test_system_message(instructions: Any, expected: dict[str, Any] | None) -> None:
    assert system_message(instructions) == expected


def test_nest_and_ordered() -> None:
    nested = nest(
        {"0.message.role": "user", "10.message.role": "tool", "2.message.content": "x", "1": "leaf"}
    )
    assert nested == {0: {"message": {"role": "user"}}, 10: {"message": {"role": "tool"}},
                      2: {"message": {"content": "x"}}, 1: "leaf"}  # fmt: skip
    assert ordered(nested) == [{"message": {"role": "user"}}, "leaf", {"message": {"content": "x"}},
                               {"message": {"role": "tool"}}]  # fmt: skip
    # A key that is both a value and a prefix keeps the value, whatever the order.
    assert nest({"0.content": "x", "0.content.extra": "y"}) == {0: {"content": "x"}}
    assert nest({"0.content.extra": "y", "0.content": "x"}) == {0: {"content": "x"}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "role",
                    "content",
                    "parts",
                    "type",
                    "text",
                    "tool_calls",
                    "messages",
                    "choices",
                    "message",
                    "id",
                    "function",
                    "name",
                    "arguments",
                    "system",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),  # fmt: skip
    max_leaves=20,
)


@given(json_values)
def test_reading_content_never_fails_and_gives_json_messages_or_text(value: Any) -> None:
    for candidate in (value, json.dumps(value)):
        found = as_message_text(candidate)
        assert found is None or isinstance(found, str)
        listed = messages_of(candidate)
        if listed is not None:
            assert found == json.dumps(listed, separators=(",", ":"), ensure_ascii=False)
            assert all(
                isinstance(message["role"], str) and isinstance(message["parts"], list) for message in listed
            )
