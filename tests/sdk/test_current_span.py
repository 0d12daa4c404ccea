"""`update_current_span(...)` and the `attributes(...)` context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

import tokentrail
from tokentrail import semconv

from .spans import attrs, by_name, input_of, output_of

Finished = Callable[[], list[ReadableSpan]]


def test_update_current_span_writes_the_vocabulary(traced: Finished) -> None:
    @tokentrail.observe(name="call", kind="llm")
    def call() -> str:
        tokentrail.update_current_span(
            model="gpt-4o",
            response_model="gpt-4o-2024-08-06",
            provider="openai",
            operation="chat",
            input_tokens=120,
            output_tokens=30,
            cached_input_tokens=100,
            reasoning_tokens=7,
            total_tokens=150,
            cost_usd=0.0015,
            time_to_first_token_ms=42.5,
            finish_reasons=["stop", "length"],
            session_id="s-1",
            user_id="u-1",
            tags=["a", "b"],
            metadata={"tenant": "acme", "retries": 2, "flags": {"beta": True}},
            prompt_version="support-v3",
        )
        return "ok"

    call()
    values = attrs(by_name(traced())["call"])
    assert values[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o"
    assert values[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-2024-08-06"
    assert values[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert values[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert values[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 30
    assert values[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert values[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 7
    assert values[semconv.GEN_AI_USAGE_TOTAL_TOKENS] == 150
    assert values[semconv.TT_COST_USD] == 0.0015
    assert values[semconv.TT_TIME_TO_FIRST_TOKEN_MS] == 42.5
    assert values[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "length")
    assert values[semconv.SESSION_ID] == "s-1"
    assert values[semconv.USER_ID] == "u-1"
    assert values[semconv.TT_TAGS] == ("a", "b")
    assert values[semconv.TT_METADATA_PREFIX + "tenant"] == "acme"
    assert values[semconv.TT_METADATA_PREFIX + "retries"] == 2
    assert values[semconv.TT_METADATA_PREFIX + "flags"] == '{"beta":true}'
    assert values[semconv.TT_SPAN_KIND] == "llm"
    assert values[semconv.TT_PROMPT_VERSION] == "support-v3"


def test_update_current_span_leaves_unset_fields_alone(traced: Finished) -> None:
    @tokentrail.observe(name="call")
    def call() -> None:
        tokentrail.update_current_span(model="a", input_tokens=1)
        tokentrail.update_current_span(output_tokens=2)

    call()
    values = attrs(by_name(traced())["call"])
    assert values[semconv.GEN_AI_REQUEST_MODEL] == "a"
    assert values[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 1
    assert values[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert semconv.TT_COST_USD not in values


def test_update_name_kind_and_content(traced: Finished) -> None:
    @tokentrail.observe(name="placeholder", capture_input=False, capture_output=False)
    def call() -> None:
        tokentrail.update_current_span(
            name="renamed", kind="embedding", input=["a", "b"], output={"v": [0.1]}
        )

    call()
    span = by_name(traced())["renamed"]
    assert attrs(span)[semconv.TT_SPAN_KIND] == "embedding"
    assert input_of(span) == ["a", "b"]
    assert output_of(span) == {"v": [0.1]}


def test_observe_output_wins_over_an_earlier_update(traced: Finished) -> None:
    @tokentrail.observe(name="call")
    def call() -> str:
        tokentrail.update_current_span(output="draft")
        return "final"

    call()
    assert output_of(by_name(traced())["call"]) == "final"


def test_unknown_kind_in_update_is_ignored_with_a_warning(
    traced: Finished, caplog: pytest.LogCaptureFixture
) -> None:
    @tokentrail.observe(name="call", kind="tool")
    def call() -> None:
        tokentrail.update_current_span(kind="nonsense", model="m")

    call()
    values = attrs(by_name(traced())["call"])
    assert values[semconv.TT_SPAN_KIND] == "tool"
    assert values[semconv.GEN_AI_REQUEST_MODEL] == "m"
    assert "nonsense" in caplog.text


def test_update_reaches_spans_of_other_instrumentations(traced: Finished) -> None:
    tracer = trace.get_tracer("vendor.sdk")
    with tracer.start_as_current_span("vendor-span"):
        tokentrail.update_current_span(model="claude", input_tokens=3)
    values = attrs(by_name(traced())["vendor-span"])
    assert values[semconv.GEN_AI_REQUEST_MODEL] == "claude"


def test_update_without_a_span_or_init_does_nothing() -> None:
    tokentrail.update_current_span(model="m", input="x", tags=["t"])  # no span, no init: no error


def test_attributes_apply_to_every_span_inside(traced: Finished) -> None:
    tracer = trace.get_tracer("vendor.sdk")

    @tokentrail.observe(name="inner")
    def inner() -> None:
        with tracer.start_as_current_span("vendor-span"):
            pass

    @tokentrail.observe(name="outside")
    def outside() -> None:
        pass

    with tokentrail.attributes(session_id="s-9", user_id="u-9", tags=["beta"], metadata={"plan": "pro"}):
        inner()
    outside()
    spans = by_name(traced())
    for name in ("inner", "vendor-span"):
        values = attrs(spans[name])
        assert values[semconv.SESSION_ID] == "s-9"
        assert values[semconv.USER_ID] == "u-9"
        assert values[semconv.TT_TAGS] == ("beta",)
        assert values[semconv.TT_METADATA_PREFIX + "plan"] == "pro"
    outside_values = attrs(spans["outside"])
    assert semconv.SESSION_ID not in outside_values
    assert semconv.TT_TAGS not in outside_values


def test_nested_attributes_merge_and_restore(traced: Finished) -> None:
    @tokentrail.observe
    def probe(label: str) -> None:
        pass

    with tokentrail.attributes(user_id="u-1", tags=["outer"], metadata={"a": 1}):
        with tokentrail.attributes(session_id="s-2", tags=["inner", "outer"], metadata={"b": 2}):
            probe("nested")
        probe("outer")
    spans = {input_of(s)["label"]: attrs(s) for s in traced()}  # type: ignore[index]
    nested, outer = spans["nested"], spans["outer"]
    assert nested[semconv.USER_ID] == "u-1"
    assert nested[semconv.SESSION_ID] == "s-2"
    assert nested[semconv.TT_TAGS] == ("outer", "inner")
    assert nested[semconv.TT_METADATA_PREFIX + "a"] == 1
    assert nested[semconv.TT_METADATA_PREFIX + "b"] == 2
    assert semconv.SESSION_ID not in outer
    assert outer[semconv.TT_TAGS] == ("outer",)
    assert semconv.TT_METADATA_PREFIX + "b" not in outer


def test_tags_from_attributes_and_update_are_merged(traced: Finished) -> None:
    @tokentrail.observe(name="call")
    def call() -> None:
        tokentrail.update_current_span(tags=["late", "ctx"])

    with tokentrail.attributes(tags=["ctx"]):
        call()
    assert attrs(by_name(traced())["call"])[semconv.TT_TAGS] == ("ctx", "late")


async def test_attributes_follow_tasks_and_copied_context_threads(traced: Finished) -> None:
    @tokentrail.observe(name="task")
    async def task() -> None:
        await asyncio.sleep(0)

    @tokentrail.observe(name="thread")
    def in_thread() -> None:
        pass

    with tokentrail.attributes(user_id="u-async"):
        await asyncio.gather(task(), task())
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(in_thread,))
        worker.start()
        worker.join()
    spans = traced()
    assert len(spans) == 3
    assert all(attrs(s)[semconv.USER_ID] == "u-async" for s in spans)


def test_attributes_is_harmless_before_init() -> None:
    with tokentrail.attributes(user_id="u"):
        pass
