"""What real instrumentation libraries sent (fixtures captured by capture_fixtures.py), normalised.

Each library instrumented the real openai (and anthropic) client against the fake provider, under
a parent span: the rows must name the model, tokens, cost, streaming and content the provider saw
and answered, and keep the parent/child structure. Where a library does not say something (OTel's
openai-v2 has no streaming flag and no cache figures), the column stays unknown rather than made up.
"""

from __future__ import annotations

import json

import pytest

from tests.dialects import capture_app as app
from tests.dialects.capture_fixtures import LIBRARIES
from tests.dialects.dialect_support import (
    FIXTURES,
    Row,
    anthropic_call,
    asking,
    assert_one_trace,
    by_name,
    chat,
    finish_reasons_in,
    fixture_rows,
    openai_call,
    root,
)
from tokentrail import semconv as sc

SYSTEM = ("system", app.SYSTEM_PROMPT)
OPENAI = openai_call("openai")
OPENAI_STREAM = openai_call("openai_stream", streamed=True)
ANTHROPIC = anthropic_call("anthropic")
ANTHROPIC_STREAM = anthropic_call("anthropic_stream")


def assert_llm(
    row: Row,
    *,
    provider: str,
    request_model: str,
    response_model: str,
    input_tokens: int,
    output_tokens: int,
    cached: int | None,
    streaming: bool,
    reasoning: int | None = None,
) -> None:
    assert (row[sc.KIND], row[sc.PROVIDER]) == ("llm", provider)
    assert (row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == (request_model, response_model)
    assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS]) == (input_tokens, output_tokens)
    assert row[sc.TOTAL_TOKENS] in (
        input_tokens + output_tokens,
        (cached or 0) + input_tokens + output_tokens,
    )
    assert (row[sc.CACHED_INPUT_TOKENS], row[sc.REASONING_TOKENS]) == (cached, reasoning)
    assert row[sc.IS_STREAMING] is streaming


def assert_chat(row: Row, question: str, answer: str, *, system: bool = True) -> None:
    assert chat(row[sc.INPUT_TEXT]) == ([SYSTEM] if system else []) + [("user", question)]
    assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", answer)]


def openai_model(*, streamed: bool) -> str:
    # The fake provider names the dated model in full answers, the alias in stream chunks.
    return app.OPENAI_MODEL if streamed else app.OPENAI_MODEL + "-2024-07-18"


def test_every_fixture_has_its_files_and_versions() -> None:
    assert sorted(path.name for path in FIXTURES.iterdir()) == sorted(LIBRARIES)
    for name, library in LIBRARIES.items():
        meta = json.loads((FIXTURES / name / "meta.json").read_text())
        assert meta["fixture"] == name
        for requirement in library.requirements:
            package, _, version = requirement.partition("==")
            assert meta["versions"][package] == version
        for path in (FIXTURES / name).iterdir():
            assert path.stat().st_size < 64 * 1024, f"{path} is too big for a fixture"


# --- OpenTelemetry's opentelemetry-instrumentation-openai-v2 ----------------------------------------


def test_otel_openai_v2_default_conventions() -> None:
    rows = fixture_rows("otel-openai-v2")
    assert_one_trace(rows)
    parent = root(rows)
    assert parent[sc.NAME] == "support_turn"
    calls = by_name(rows, f"chat {app.OPENAI_MODEL}")
    assert len(calls) == 2 and all(row[sc.PARENT_SPAN_ID] == parent[sc.SPAN_ID] for row in calls)
    plain, streamed = sorted(calls, key=lambda row: row[sc.START_TIME])  # type: ignore[arg-type,return-value]
    for row, call, stream in ((plain, OPENAI, False), (streamed, OPENAI_STREAM, True)):
        # v1.30 conventions: gen_ai.system, no cache figures, no streaming flag, content in logs.
        assert_llm(
            row, provider="openai", request_model=app.OPENAI_MODEL, response_model=openai_model(streamed=stream),
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=None, streaming=False,
        )  # fmt: skip
        assert row[sc.OPERATION] == "chat"
        assert row[sc.REQUEST_PARAMS] == {"temperature": "0.2", "max_tokens": "128"}
        assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT]) == ("", "")
        assert (row[sc.COST_USD], row[sc.COST_SOURCE]) == (None, "unknown")
    assert plain[sc.FINISH_REASONS] == ["stop"]


def test_otel_openai_v2_latest_conventions_carry_content_in_attributes() -> None:
    rows = fixture_rows("otel-openai-v2-latest")
    assert_one_trace(rows)
    parent = root(rows)
    for call, stream in ((OPENAI, False), (OPENAI_STREAM, True)):
        row = asking(rows, call.question)
        assert row[sc.PARENT_SPAN_ID] == parent[sc.SPAN_ID]
        assert_llm(
            row, provider="openai", request_model=app.OPENAI_MODEL, response_model=openai_model(streamed=stream),
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=None, streaming=False,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        assert finish_reasons_in(row[sc.OUTPUT_TEXT]) == ["stop"]


# --- OpenLLMetry (traceloop-sdk) -----------------------------------------------------------------------


def test_openllmetry_workflow_tasks_and_calls() -> None:
    rows = fixture_rows("openllmetry")
    assert_one_trace(rows)
    workflow = root(rows)
    assert (workflow[sc.NAME], workflow[sc.KIND]) == ("support_turn.workflow", "chain")
    tasks = by_name(rows, "answer.task")
    assert len(tasks) == 4
    assert all(task[sc.KIND] == "chain" and task[sc.PARENT_SPAN_ID] == workflow[sc.SPAN_ID] for task in tasks)
    assert json.loads(str(workflow[sc.OUTPUT_TEXT]))[0] == OPENAI.answer
    for row in rows:
        assert (row[sc.SESSION], row[sc.USER]) == (app.SESSION_ID, app.USER_ID)

    task_ids = {task[sc.SPAN_ID] for task in tasks}
    for call, stream in ((OPENAI, False), (OPENAI_STREAM, True)):
        row = asking(rows, call.question, name="openai.chat")
        assert row[sc.PARENT_SPAN_ID] in task_ids
        assert_llm(
            row, provider="openai", request_model=app.OPENAI_MODEL, response_model=openai_model(streamed=stream),
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=stream, reasoning=None if stream else app.REASONING_TOKENS,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        assert row[sc.FINISH_REASONS] == ["stop"]
        assert row[sc.OPERATION] == "chat"
    for call, stream in ((ANTHROPIC, False), (ANTHROPIC_STREAM, True)):
        row = asking(rows, call.question, name="anthropic.chat")
        assert row[sc.PARENT_SPAN_ID] in task_ids
        assert_llm(
            row, provider="anthropic", request_model=app.ANTHROPIC_MODEL, response_model=app.ANTHROPIC_MODEL,
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens + stream,  # counts a stream's start
            cached=call.cached_tokens, streaming=stream,
        )  # fmt: skip
        # The system prompt came apart, as gen_ai.system_instructions: it leads the input.
        assert_chat(row, call.question, call.answer)


def test_openllmetry_legacy_release_sends_the_deprecated_names() -> None:
    # traceloop-sdk 0.40: gen_ai.system `OpenAI`, numbered gen_ai.prompt.N / gen_ai.completion.N,
    # gen_ai.usage.prompt_tokens / completion_tokens, llm.usage.total_tokens, llm.is_streaming.
    rows = fixture_rows("openllmetry-legacy")
    assert_one_trace(rows)
    workflow = root(rows)
    assert (workflow[sc.NAME], workflow[sc.KIND]) == ("support_turn.workflow", "chain")
    tasks = by_name(rows, "answer.task")
    assert len(tasks) == 4 and all(task[sc.PARENT_SPAN_ID] == workflow[sc.SPAN_ID] for task in tasks)
    task_ids = {task[sc.SPAN_ID] for task in tasks}
    for row in rows:
        assert (row[sc.SESSION], row[sc.USER]) == (app.SESSION_ID, app.USER_ID)
    calls = ((OPENAI, "openai.chat", "openai", app.OPENAI_MODEL, openai_model(streamed=False)),
             (ANTHROPIC, "anthropic.chat", "anthropic", app.ANTHROPIC_MODEL, app.ANTHROPIC_MODEL))  # fmt: skip
    for call, name, provider, request_model, response_model in calls:
        row = asking(rows, call.question, name=name)
        assert row[sc.PARENT_SPAN_ID] in task_ids
        assert_llm(
            row, provider=provider, request_model=request_model, response_model=response_model,
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=False,
        )  # fmt: skip
        assert row[sc.TOTAL_TOKENS] == call.prompt_tokens + call.completion_tokens  # llm.usage.total_tokens
        assert_chat(row, call.question, call.answer)
        assert row[sc.FINISH_REASONS] == (["stop"] if provider == "openai" else ["end_turn"])
    # This release reports no usage for streams (it would count tokens with tiktoken, which needs
    # the network): the streamed calls have content and model but unknown tokens, never 0.
    for call, name in ((OPENAI_STREAM, "openai.chat"), (ANTHROPIC_STREAM, "anthropic.chat")):
        row = asking(rows, call.question, name=name)
        assert row[sc.PARENT_SPAN_ID] in task_ids
        assert (row[sc.IS_STREAMING], row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS]) == (True, None, None)
        assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", call.answer)]


def test_anthropic_sdk_own_spans_sit_under_the_instrumentation() -> None:
    # anthropic's client traces itself (gen_ai.* without content) wherever a tracer provider is set.
    rows = fixture_rows("openllmetry")
    own = by_name(rows, "anthropic.messages.create")
    assert sorted(row[sc.IS_STREAMING] for row in own) == [False, True]  # type: ignore[type-var]
    for row in own:
        assert (row[sc.KIND], row[sc.PROVIDER], row[sc.REQUEST_MODEL]) == (
            "llm",
            "anthropic",
            app.ANTHROPIC_MODEL,
        )
        assert (row[sc.INPUT_TOKENS], row[sc.CACHED_INPUT_TOKENS]) == (
            ANTHROPIC.prompt_tokens,
            ANTHROPIC.cached_tokens,
        )
        assert (row[sc.TIME_TO_FIRST_TOKEN_MS] is not None) is row[sc.IS_STREAMING]
        assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT]) == ("", "")


# --- OpenInference ---------------------------------------------------------------------------------------


def test_openinference_chain_and_llm_spans() -> None:
    rows = fixture_rows("openinference")
    assert_one_trace(rows)
    chain = root(rows)
    assert (chain[sc.NAME], chain[sc.KIND]) == ("support_turn", "chain")
    assert (chain[sc.INPUT_TEXT], chain[sc.OUTPUT_TEXT]) == (
        OPENAI.question,
        OPENAI.answer,
    )  # plain text stays text

    for call, stream in ((OPENAI, False), (OPENAI_STREAM, True)):
        row = asking(rows, call.question, name="ChatCompletion")
        assert row[sc.PARENT_SPAN_ID] == chain[sc.SPAN_ID]
        assert_llm(
            row, provider="openai", request_model=app.OPENAI_MODEL, response_model=openai_model(streamed=stream),
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=stream, reasoning=app.REASONING_TOKENS,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        assert row[sc.FINISH_REASONS] == ["stop"] and finish_reasons_in(row[sc.OUTPUT_TEXT]) == ["stop"]
        assert (row[sc.SESSION], row[sc.USER], row[sc.TAGS]) == (app.SESSION_ID, app.USER_ID, app.TAGS)
        assert row[sc.REQUEST_PARAMS]["temperature"] == "0.2"  # type: ignore[index]
        assert "model" not in row[sc.REQUEST_PARAMS]  # type: ignore[operator]
        # The first-token event of a streamed call times it.
        assert (row[sc.TIME_TO_FIRST_TOKEN_MS] is not None) is stream
    for call, stream in ((ANTHROPIC, False), (ANTHROPIC_STREAM, True)):
        row = asking(rows, call.question, name="messages.create")
        assert row[sc.PARENT_SPAN_ID] == chain[sc.SPAN_ID]
        assert_llm(
            row, provider="anthropic", request_model=app.ANTHROPIC_MODEL, response_model=app.ANTHROPIC_MODEL,
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=stream,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        assert row[sc.FINISH_REASONS] == ["end_turn"]


# --- OpenLIT -------------------------------------------------------------------------------------------------


def test_openlit_calls_with_their_cost() -> None:
    rows = fixture_rows("openlit")
    assert_one_trace(rows)
    parent = root(rows)
    assert parent[sc.NAME] == "support_turn"
    prices = app.OPENLIT_PRICES["chat"]
    for call, stream in ((OPENAI, False), (OPENAI_STREAM, True)):
        row = asking(rows, call.question)
        assert row[sc.PARENT_SPAN_ID] == parent[sc.SPAN_ID]
        assert_llm(
            row, provider="openai", request_model=app.OPENAI_MODEL, response_model=openai_model(streamed=stream),
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=stream,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        price = prices[app.OPENAI_MODEL]
        expected = (
            call.prompt_tokens * price["promptPrice"] + call.completion_tokens * price["completionPrice"]
        ) / 1000
        assert row[sc.COST_USD] == pytest.approx(expected) and row[sc.COST_SOURCE] == "sdk"
        assert row[sc.TIME_TO_FIRST_TOKEN_MS] is not None and row[sc.TIME_TO_FIRST_TOKEN_MS] > 0  # type: ignore[operator]
    for call, stream in ((ANTHROPIC, False), (ANTHROPIC_STREAM, True)):
        row = asking(rows, call.question)
        # OpenLIT counts Anthropic's input without the cached part, and loses the cache figure of
        # a stream: what it sent is what the row says.
        assert_llm(
            row, provider="anthropic", request_model=app.ANTHROPIC_MODEL, response_model=app.ANTHROPIC_MODEL,
            input_tokens=call.prompt_tokens - call.cached_tokens, output_tokens=call.completion_tokens,
            cached=0 if stream else call.cached_tokens, streaming=stream,
        )  # fmt: skip
        assert_chat(row, call.question, call.answer)
        assert row[sc.COST_SOURCE] == "sdk" and row[sc.COST_USD] > 0  # type: ignore[operator]
    # OpenLIT's HTTP client spans sit under the calls; they are no model calls.
    for row in by_name(rows, "POST"):
        assert row[sc.KIND] == "other" and row[sc.PARENT_SPAN_ID] != parent[sc.SPAN_ID]


# --- Langfuse ------------------------------------------------------------------------------------------------


def test_langfuse_observations() -> None:
    rows = fixture_rows("langfuse")
    assert_one_trace(rows)
    trace_root = root(rows)
    assert (trace_root[sc.NAME], trace_root[sc.KIND]) == ("support_turn", "chain")
    assert json.loads(str(trace_root[sc.INPUT_TEXT])) == {"args": [OPENAI.question], "kwargs": {}}
    for row in rows:
        assert (row[sc.SESSION], row[sc.USER], row[sc.TAGS]) == (app.SESSION_ID, app.USER_ID, app.TAGS)

    for call, stream in ((OPENAI, False), (OPENAI_STREAM, True)):
        row = asking(rows, call.question, name="OpenAI-generation")
        assert row[sc.PARENT_SPAN_ID] == trace_root[sc.SPAN_ID]
        # Langfuse names the model the provider answered with, and has no streaming flag.
        model = openai_model(streamed=stream)
        assert_llm(
            row, provider="", request_model=model, response_model=model,
            input_tokens=call.prompt_tokens, output_tokens=call.completion_tokens, cached=call.cached_tokens,
            streaming=False, reasoning=app.REASONING_TOKENS,
        )  # fmt: skip
        assert chat(row[sc.INPUT_TEXT]) == [SYSTEM, ("user", call.question)]
        assert row[sc.REQUEST_PARAMS]["max_tokens"] == "128"  # type: ignore[index]
        if stream:  # its output is the streamed text, plain; its first token is timed
            assert row[sc.OUTPUT_TEXT] == call.answer
            assert row[sc.FINISH_REASONS] == ["stop"]
            assert row[sc.TIME_TO_FIRST_TOKEN_MS] is not None and row[sc.TIME_TO_FIRST_TOKEN_MS] >= 0  # type: ignore[operator]
        else:
            assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", call.answer)]
        assert (row[sc.COST_USD], row[sc.COST_SOURCE]) == (None, "unknown")

    claude = asking(rows, ANTHROPIC.question, name="answer_with_claude")
    assert claude[sc.PARENT_SPAN_ID] == trace_root[sc.SPAN_ID]
    # The app reported Anthropic's usage as it came: input without the cached part.
    assert_llm(
        claude, provider="", request_model=app.ANTHROPIC_MODEL, response_model=app.ANTHROPIC_MODEL,
        input_tokens=ANTHROPIC.prompt_tokens - ANTHROPIC.cached_tokens, output_tokens=ANTHROPIC.completion_tokens,
        cached=ANTHROPIC.cached_tokens, streaming=False,
    )  # fmt: skip
    assert (claude[sc.COST_USD], claude[sc.COST_SOURCE]) == (pytest.approx(app.LANGFUSE_COST["total"]), "sdk")
    assert chat(claude[sc.INPUT_TEXT]) == [SYSTEM, ("user", ANTHROPIC.question)]
    assert claude[sc.OUTPUT_TEXT] == ANTHROPIC.answer
    (own,) = by_name(rows, "anthropic.messages.create")
    assert own[sc.PARENT_SPAN_ID] == claude[sc.SPAN_ID]
