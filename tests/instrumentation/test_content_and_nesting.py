"""Content goes through the SDK's one gate (capture switch, redaction hook, size limit); model-call
spans nest under the caller's `@observe` span through the OpenTelemetry context."""

from __future__ import annotations

import anthropic
import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tests.instrumentation.helpers import (
    ANTHROPIC_QUESTION,
    QUESTION,
    WEATHER_TOOL,
    Finished,
    attrs,
    llm_spans,
)
from tests.sdk.conftest import FAST_SCHEDULE_MS
from tokentrail import semconv as sc

pytestmark = pytest.mark.usefixtures("instrumented")

CONTENT_KEYS = (
    sc.GEN_AI_INPUT_MESSAGES,
    sc.GEN_AI_OUTPUT_MESSAGES,
    sc.GEN_AI_SYSTEM_INSTRUCTIONS,
    sc.GEN_AI_TOOL_DEFINITIONS,
)


def spans_with(exporter: InMemorySpanExporter, **settings: object) -> Finished:
    tokentrail.init(exporter=exporter, schedule_delay_ms=FAST_SCHEDULE_MS, **settings)  # type: ignore[arg-type]

    def finished() -> list:  # type: ignore[type-arg]
        assert tokentrail.flush(timeout_s=10)
        return llm_spans(list(exporter.get_finished_spans()))

    return finished


def test_capture_off_records_no_content(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, exporter: InMemorySpanExporter
) -> None:
    finished = spans_with(exporter, capture_content=False)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, tools=[WEATHER_TOOL])
    list(openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True))
    anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=9, system="s", messages=ANTHROPIC_QUESTION
    )
    openai_client.responses.create(model="gpt-4o-mini", input="hi", instructions="be brief")
    spans = finished()
    assert len(spans) == 4
    for span in spans:
        values = attrs(span)
        assert not set(CONTENT_KEYS) & set(values), span.name
        assert values[sc.GEN_AI_USAGE_OUTPUT_TOKENS] > 0  # the rest is recorded as usual
    assert attrs(spans[1])[sc.TT_TOKENS_ESTIMATED] is True  # estimated without capturing the text


def test_redaction_hook_sees_content_before_it_leaves(
    openai_client: openai.OpenAI, exporter: InMemorySpanExporter
) -> None:
    finished = spans_with(exporter, redact=lambda text: text.replace("password", "[redacted]"))
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    list(openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True))
    for span in finished():
        sent = str(attrs(span)[sc.GEN_AI_INPUT_MESSAGES])
        assert "[redacted]" in sent and "password" not in sent
        assert "password" not in str(attrs(span)[sc.GEN_AI_OUTPUT_MESSAGES])


def test_failing_redaction_drops_content(
    openai_client: openai.OpenAI, exporter: InMemorySpanExporter
) -> None:
    def broken(text: str) -> str:
        raise ValueError("no")

    finished = spans_with(exporter, redact=broken)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    (span,) = finished()
    assert not set(CONTENT_KEYS) & set(attrs(span))
    assert attrs(span)[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0


def test_content_is_truncated_like_the_rest(
    openai_client: openai.OpenAI, exporter: InMemorySpanExporter
) -> None:
    finished = spans_with(exporter, max_payload_chars=40)
    long_question = [{"role": "user", "content": "word " * 200}]
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=long_question)
    (span,) = finished()
    values = attrs(span)
    assert len(str(values[sc.GEN_AI_INPUT_MESSAGES])) == 40
    assert sc.GEN_AI_INPUT_MESSAGES in values[sc.TT_TRUNCATED]  # type: ignore[operator]


def test_nested_under_observe(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, traced: Finished
) -> None:
    @tokentrail.observe(kind="chain")
    def answer(question: str) -> str:
        first = openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        stream = anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
        )
        return (first.choices[0].message.content or "") + "".join(
            event.delta.text for event in stream if event.type == "content_block_delta"
        )

    answer("reset?")
    spans = traced()
    (parent,) = [span for span in spans if span.name == "test_nested_under_observe.<locals>.answer"]
    children = llm_spans(spans)
    assert len(children) == 2
    for child in children:
        assert child.parent is not None and child.parent.span_id == parent.context.span_id
        assert child.context.trace_id == parent.context.trace_id


def test_context_attributes_reach_model_spans(openai_client: openai.OpenAI, traced: Finished) -> None:
    with tokentrail.attributes(session_id="s-1", user_id="u-1"):
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    (span,) = llm_spans(traced())
    assert attrs(span)[sc.SESSION_ID] == "s-1"
    assert attrs(span)[sc.USER_ID] == "u-1"
