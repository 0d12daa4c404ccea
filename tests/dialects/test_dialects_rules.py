"""Each dialect's rules, one by one, on hand-built spans (the fixtures show them together)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dialects.dialect_support import chat, messages, row_with
from tests.otlp.otlp_spans import START_NS
from tokentrail import semconv as sc

USER_AND_ANSWER = [("user", "Hi?"), ("assistant", "Hello.")]


# --- OpenInference -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected", "operation"),
    [("LLM", "llm", "chat"), ("EMBEDDING", "embedding", "embeddings"), ("CHAIN", "chain", ""),
     ("AGENT", "agent", ""), ("TOOL", "tool", ""), ("RETRIEVER", "retrieval", ""), ("RERANKER", "retrieval", ""),
     ("GUARDRAIL", "other", ""), ("llm", "llm", "chat"), ("SOMETHING", "other", "")],
)  # fmt: skip
def test_openinference_span_kind(kind: str, expected: str, operation: str) -> None:
    row = row_with({sc.OI_SPAN_KIND: kind})
    assert (row[sc.KIND], row[sc.OPERATION]) == (expected, operation)


def test_openinference_models_provider_and_usage() -> None:
    row = row_with({
        sc.OI_LLM_PROVIDER: "azure", sc.OI_LLM_SYSTEM: "openai",
        sc.OI_LLM_MODEL_NAME: "gpt-4o-2024-08-06",
        sc.OI_LLM_INVOCATION_PARAMETERS: json.dumps({"model": "gpt-4o", "temperature": 0.5, "stream": True,
                                                     "messages": [], "stop": ["\n"]}),
        sc.OI_LLM_TOKEN_COUNT_PROMPT: 100, sc.OI_LLM_TOKEN_COUNT_COMPLETION: 20, sc.OI_LLM_TOKEN_COUNT_TOTAL: 120,
        sc.OI_LLM_TOKEN_COUNT_CACHE_READ: 64, sc.OI_LLM_TOKEN_COUNT_REASONING: 8,
        sc.OI_LLM_FINISH_REASON: "length", sc.OI_LLM_COST_TOTAL: 0.0012,
        sc.OI_TAG_TAGS: ("a", "b"), sc.SESSION_ID: "s", sc.USER_ID: "u", sc.OI_METADATA: '{"k": 1}',
    })  # fmt: skip
    assert (row[sc.PROVIDER], row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == (
        "azure",
        "gpt-4o",
        "gpt-4o-2024-08-06",
    )
    assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS], row[sc.TOTAL_TOKENS]) == (100, 20, 120)
    assert (row[sc.CACHED_INPUT_TOKENS], row[sc.REASONING_TOKENS]) == (64, 8)
    assert (row[sc.FINISH_REASONS], row[sc.COST_USD], row[sc.COST_SOURCE]) == (["length"], 0.0012, "sdk")
    assert row[sc.IS_STREAMING] is True
    assert row[sc.REQUEST_PARAMS] == {"temperature": "0.5", "stream": "true", "stop": '["\\n"]'}
    assert (row[sc.TAGS], row[sc.SESSION], row[sc.USER]) == (["a", "b"], "s", "u")
    assert row[sc.ATTRIBUTES][sc.OI_METADATA] == '{"k": 1}'  # type: ignore[index]  # kept as sent


def test_openinference_request_and_response_model_names_come_first() -> None:
    row = row_with({
        sc.OI_LLM_MODEL_NAME: "m", sc.OI_LLM_REQUEST_MODEL_NAME: "req", sc.OI_LLM_RESPONSE_MODEL_NAME: "resp",
        sc.OI_LLM_INVOCATION_PARAMETERS: '{"model": "param"}',
    })  # fmt: skip
    assert (row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == ("req", "resp")
    row = row_with({sc.OI_LLM_MODEL_NAME: "m"})
    assert (row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == ("m", "m")
    row = row_with({sc.OI_EMBEDDING_MODEL_NAME: "text-embedding-3-small", sc.OI_SPAN_KIND: "EMBEDDING"})
    assert row[sc.REQUEST_MODEL] == "text-embedding-3-small"


def test_openinference_numbered_messages_with_contents_and_tool_calls() -> None:
    prefix_in, prefix_out = sc.OI_LLM_INPUT_MESSAGES_PREFIX, sc.OI_LLM_OUTPUT_MESSAGES_PREFIX
    row = row_with({
        f"{prefix_in}0.message.role": "system", f"{prefix_in}0.message.content": "Be brief.",
        f"{prefix_in}1.message.role": "user",
        f"{prefix_in}1.message.contents.0.message_content.type": "text",
        f"{prefix_in}1.message.contents.0.message_content.text": "Weather in ",
        f"{prefix_in}1.message.contents.1.message_content.type": "text",
        f"{prefix_in}1.message.contents.1.message_content.text": "Paris?",
        f"{prefix_in}2.message.role": "assistant",
        f"{prefix_in}2.message.tool_calls.0.tool_call.id": "call_1",
        f"{prefix_in}2.message.tool_calls.0.tool_call.function.name": "weather",
        f"{prefix_in}2.message.tool_calls.0.tool_call.function.arguments": '{"city": "Paris"}',
        f"{prefix_in}3.message.role": "tool", f"{prefix_in}3.message.tool_call_id": "call_1",
        f"{prefix_in}3.message.content": "18C",
        # Ten and more messages sort as numbers, not as text.
        **{f"{prefix_in}{index}.message.role": "user" for index in range(4, 12)},
        **{f"{prefix_in}{index}.message.content": f"m{index}" for index in range(4, 12)},
        f"{prefix_out}0.message.role": "assistant", f"{prefix_out}0.message.content": "Sunny.",
        sc.OI_LLM_FINISH_REASON: "stop",
        sc.OI_INPUT_VALUE: "ignored: messages win", sc.OI_OUTPUT_VALUE: "ignored too",
    })  # fmt: skip
    sent = json.loads(str(row[sc.INPUT_TEXT]))
    assert [message["role"] for message in sent[:4]] == ["system", "user", "assistant", "tool"]
    assert chat(row[sc.INPUT_TEXT])[:2] == [("system", "Be brief."), ("user", "Weather in Paris?")]
    assert sent[2]["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}
    ]
    assert sent[3]["parts"] == [{"type": "tool_call_response", "id": "call_1", "response": "18C"}]
    assert [text for _, text in chat(row[sc.INPUT_TEXT])[4:]] == [f"m{index}" for index in range(4, 12)]
    assert json.loads(str(row[sc.OUTPUT_TEXT])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"}
    ]


@pytest.mark.parametrize(
    "value",
    [
        "What is 2+2?",  # a chain's plain input stays text
        '{"question": "q"}',  # JSON that holds no messages stays as sent
        '[{"role": "admin"}]',  # nor does a list of objects that merely have a role
    ],
)
def test_openinference_input_value_without_messages_stays_as_sent(value: str) -> None:
    assert row_with({sc.OI_SPAN_KIND: "CHAIN", sc.OI_INPUT_VALUE: value})[sc.INPUT_TEXT] == value


def test_openinference_input_value_of_a_request_body_gives_its_messages() -> None:
    body = {"model": "m", "system": "Be brief.", "messages": [{"role": "user", "content": "Hi?"}]}
    row = row_with({sc.OI_INPUT_VALUE: json.dumps(body)})
    assert chat(row[sc.INPUT_TEXT]) == [("system", "Be brief."), ("user", "Hi?")]


def test_openinference_output_value_of_a_chat_completion_response() -> None:
    response = {"id": "x", "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": "Hello."}}]}  # fmt: skip
    row = row_with({sc.OI_OUTPUT_VALUE: json.dumps(response)})
    assert json.loads(str(row[sc.OUTPUT_TEXT])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello."}], "finish_reason": "stop"}
    ]


def test_openinference_first_token_event_gives_time_to_first_token() -> None:
    row = row_with({sc.OI_SPAN_KIND: "LLM"}, events=[(sc.OI_FIRST_TOKEN_EVENT, {}, 250_000_000)])
    assert row[sc.TIME_TO_FIRST_TOKEN_MS] == 250.0


def test_genai_messages_win_over_openinference_messages() -> None:
    row = row_with({
        sc.GEN_AI_INPUT_MESSAGES: messages(("user", "from gen_ai")),
        f"{sc.OI_LLM_INPUT_MESSAGES_PREFIX}0.message.role": "user",
        f"{sc.OI_LLM_INPUT_MESSAGES_PREFIX}0.message.content": "from openinference",
    })  # fmt: skip
    assert chat(row[sc.INPUT_TEXT]) == [("user", "from gen_ai")]


# --- OpenLLMetry ------------------------------------------------------------------------------------


def test_openllmetry_numbered_prompts_and_completions() -> None:
    row = row_with({
        sc.GEN_AI_SYSTEM: "openai", sc.LLM_REQUEST_TYPE: "chat", sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Be brief.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": json.dumps([{"type": "text", "text": "Weather?"}]),  # blocks, as JSON text
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "",
        "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.id": "call_1", "gen_ai.completion.0.tool_calls.0.name": "weather",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
        sc.GEN_AI_USAGE_PROMPT_TOKENS: 30, sc.GEN_AI_USAGE_COMPLETION_TOKENS: 5, sc.LLM_USAGE_TOTAL_TOKENS: 35,
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: 16, sc.GEN_AI_USAGE_REASONING_TOKENS_OLD: 2,
        sc.LLM_IS_STREAMING: True,
    })  # fmt: skip
    assert (row[sc.KIND], row[sc.OPERATION], row[sc.PROVIDER]) == ("llm", "chat", "openai")
    assert chat(row[sc.INPUT_TEXT]) == [("system", "Be brief."), ("user", "Weather?")]
    assert json.loads(str(row[sc.OUTPUT_TEXT])) == [{
        "role": "assistant", "finish_reason": "tool_calls",
        "parts": [{"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}],
    }]  # fmt: skip
    assert row[sc.FINISH_REASONS] == ["tool_calls"]
    assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS], row[sc.TOTAL_TOKENS]) == (30, 5, 35)
    assert (row[sc.CACHED_INPUT_TOKENS], row[sc.REASONING_TOKENS], row[sc.IS_STREAMING]) == (16, 2, True)


def test_openllmetry_llm_usage_names() -> None:
    # The earliest releases' usage names: without them the row has no tokens, so no cost.
    row = row_with({
        sc.GEN_AI_SYSTEM: "openai", sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        sc.LLM_USAGE_PROMPT_TOKENS: 11, sc.LLM_USAGE_COMPLETION_TOKENS: 5, sc.LLM_USAGE_REASONING_TOKENS: 2,
    })  # fmt: skip
    assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS], row[sc.REASONING_TOKENS]) == (11, 5, 2)
    # A GenAI name beside them wins, as every OpenTelemetry name does over a library's own.
    row = row_with({sc.GEN_AI_USAGE_INPUT_TOKENS: 12, sc.LLM_USAGE_PROMPT_TOKENS: 11})
    assert row[sc.INPUT_TOKENS] == 12


def test_openllmetry_first_release_names() -> None:
    # OpenLLMetry's 2023 spelling: llm.vendor, llm.request/response.model, llm.prompts/completions.N.*
    row = row_with({
        sc.LLM_VENDOR: "OpenAI", sc.LLM_REQUEST_MODEL: "gpt-3.5-turbo", sc.LLM_RESPONSE_MODEL: "gpt-3.5-turbo-0613",
        sc.LLM_REQUEST_TYPE: "chat", "llm.prompts.0.role": "system", "llm.prompts.0.content": "be brief",
        "llm.prompts.1.role": "user", "llm.prompts.1.content": "hi", "llm.completions.0.role": "assistant",
        "llm.completions.0.content": "hello", "llm.completions.0.finish_reason": "stop",
        sc.LLM_USAGE_PROMPT_TOKENS: 9, sc.LLM_USAGE_COMPLETION_TOKENS: 1,
    })  # fmt: skip
    assert (row[sc.PROVIDER], row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == (
        "openai", "gpt-3.5-turbo", "gpt-3.5-turbo-0613")  # fmt: skip
    assert chat(row[sc.INPUT_TEXT]) == [("system", "be brief"), ("user", "hi")]
    assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", "hello")]
    assert list(row[sc.FINISH_REASONS]) == ["stop"]
    assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS]) == (9, 1)
    # The GenAI names win where both are sent.
    row = row_with({sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.LLM_REQUEST_MODEL: "gpt-3.5-turbo"})
    assert row[sc.REQUEST_MODEL] == "gpt-4o"


def test_the_deprecated_system_name_is_lowercased() -> None:
    # Older OpenLLMetry releases send `OpenAI`; its spans must group with the ones saying `openai`.
    assert row_with({sc.GEN_AI_SYSTEM: "OpenAI"})[sc.PROVIDER] == "openai"
    assert row_with({sc.GEN_AI_SYSTEM: "OpenAI", sc.GEN_AI_PROVIDER_NAME: "azure.ai.openai"})[sc.PROVIDER] == (
        "azure.ai.openai")  # fmt: skip


def test_openllmetry_numbered_prompts_do_not_shadow_the_deprecated_prompt() -> None:
    row = row_with({sc.GEN_AI_PROMPT: "plain prompt", "gen_ai.prompt.0.content": "numbered"})
    assert row[sc.INPUT_TEXT] == "plain prompt"
    row = row_with({"gen_ai.prompt.0.content": "numbered", "gen_ai.prompt.0.role": "user"})
    assert chat(row[sc.INPUT_TEXT]) == [("user", "numbered")]


@pytest.mark.parametrize(
    ("attributes", "kind", "operation"),
    [({sc.TRACELOOP_SPAN_KIND: "workflow"}, "chain", ""), ({sc.TRACELOOP_SPAN_KIND: "task"}, "chain", ""),
     ({sc.TRACELOOP_SPAN_KIND: "agent"}, "agent", ""), ({sc.TRACELOOP_SPAN_KIND: "tool"}, "tool", ""),
     ({sc.LLM_REQUEST_TYPE: "completion"}, "llm", "text_completion"),
     ({sc.LLM_REQUEST_TYPE: "embedding"}, "embedding", "embeddings"),
     ({sc.LLM_REQUEST_TYPE: "chat", sc.GEN_AI_OPERATION_NAME: "embeddings"}, "embedding", "embeddings")],
)  # fmt: skip
def test_openllmetry_kinds(attributes: dict[str, str], kind: str, operation: str) -> None:
    row = row_with(attributes)
    assert (row[sc.KIND], row[sc.OPERATION]) == (kind, operation)


def test_openllmetry_entities_and_association_properties() -> None:
    row = row_with({
        sc.TRACELOOP_SPAN_KIND: "workflow", sc.TRACELOOP_ENTITY_INPUT: '{"args": ["q"], "kwargs": {}}',
        sc.TRACELOOP_ENTITY_OUTPUT: '"a"', sc.TRACELOOP_SESSION_ID: "s", sc.TRACELOOP_USER_ID: "u",
        sc.GEN_AI_IS_STREAMING: False,
    })  # fmt: skip
    assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT]) == ('{"args": ["q"], "kwargs": {}}', '"a"')
    assert (row[sc.SESSION], row[sc.USER], row[sc.IS_STREAMING]) == ("s", "u", False)
    assert row_with({sc.SESSION_ID: "general", sc.TRACELOOP_SESSION_ID: "s"})[sc.SESSION] == "general"


# --- OpenLIT ---------------------------------------------------------------------------------------


def test_openlit_cost_time_to_first_token_and_streaming() -> None:
    row = row_with(
        {sc.OPENLIT_USAGE_COST: 0.25, sc.OPENLIT_TIME_TO_FIRST_TOKEN: 0.125, sc.GEN_AI_REQUEST_STREAM: True}
    )
    assert (row[sc.COST_USD], row[sc.COST_SOURCE], row[sc.TIME_TO_FIRST_TOKEN_MS]) == (0.25, "sdk", 125.0)
    assert row[sc.IS_STREAMING] is True
    assert row_with({sc.OPENLIT_REQUEST_IS_STREAM: True})[sc.IS_STREAMING] is True
    assert row_with({sc.OPENLIT_USAGE_COST: 0})[sc.COST_USD] == 0.0  # an SDK's zero is a real zero
    assert row_with({sc.OPENLIT_USAGE_COST: -1})[sc.COST_SOURCE] == "unknown"
    assert row_with({sc.TT_COST_USD: 0.5, sc.OPENLIT_USAGE_COST: 0.25})[sc.COST_USD] == 0.5


def test_openlit_content_events_plain_text() -> None:
    row = row_with({}, events=[
        (sc.GEN_AI_CONTENT_PROMPT_EVENT, {sc.GEN_AI_PROMPT: "user: Hi?"}),
        (sc.GEN_AI_CONTENT_COMPLETION_EVENT, {sc.GEN_AI_COMPLETION: "Hello."}),
    ])  # fmt: skip
    assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT]) == ("user: Hi?", "Hello.")


def test_content_events_with_chat_json() -> None:
    row = row_with({}, events=[
        (sc.GEN_AI_CONTENT_PROMPT_EVENT, {sc.GEN_AI_PROMPT: json.dumps([{"role": "user", "content": "Hi?"}])}),
        (sc.GEN_AI_CONTENT_COMPLETION_EVENT, {sc.GEN_AI_COMPLETION: json.dumps(
            [{"role": "assistant", "content": "Hello.", "finish_reason": "stop"}])}),
    ])  # fmt: skip
    assert chat(row[sc.INPUT_TEXT]) + chat(row[sc.OUTPUT_TEXT]) == USER_AND_ANSWER


# --- Langfuse ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observation", "kind"),
    [("generation", "llm"), ("span", "chain"), ("agent", "agent"), ("tool", "tool"), ("retriever", "retrieval"),
     ("embedding", "embedding"), ("chain", "chain"), ("event", "other"), ("evaluator", "other")],
)  # fmt: skip
def test_langfuse_observation_types(observation: str, kind: str) -> None:
    assert row_with({sc.LANGFUSE_OBSERVATION_TYPE: observation})[sc.KIND] == kind


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"input": 10, "output": 5, "total": 15, "input_cached_tokens": 4, "output_reasoning_tokens": 1},
         (10, 5, 15, 4, 1)),
        ({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
          "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 1}},
         (10, 5, 15, 4, 1)),
        ({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 4}, (10, 5, 15, 4, None)),
        ({"input": "lots"}, (None, None, None, None, None)),
    ],
)  # fmt: skip
def test_langfuse_usage_details(usage: dict[str, Any], expected: tuple[int | None, ...]) -> None:
    row = row_with({sc.LANGFUSE_OBSERVATION_USAGE_DETAILS: json.dumps(usage)})
    columns = (
        sc.INPUT_TOKENS,
        sc.OUTPUT_TOKENS,
        sc.TOTAL_TOKENS,
        sc.CACHED_INPUT_TOKENS,
        sc.REASONING_TOKENS,
    )
    assert tuple(row[column] for column in columns) == expected


@pytest.mark.parametrize(
    ("cost", "expected", "source"),
    [({"input": 0.1, "output": 0.2, "total": 0.3}, 0.3, "sdk"), ({"input": 0.1, "output": 0.2}, 0.3, "sdk"),
     ({}, None, "unknown"), ({"total": "n/a"}, None, "unknown")],
)  # fmt: skip
def test_langfuse_cost_details(cost: dict[str, Any], expected: float | None, source: str) -> None:
    row = row_with({sc.LANGFUSE_OBSERVATION_COST_DETAILS: json.dumps(cost)})
    assert (row[sc.COST_USD], row[sc.COST_SOURCE]) == (pytest.approx(expected) if expected else None, source)


def test_langfuse_generation_content_parameters_and_trace_attributes() -> None:
    row = row_with({
        sc.LANGFUSE_OBSERVATION_TYPE: "generation", sc.LANGFUSE_OBSERVATION_MODEL: "claude-sonnet-4",
        sc.LANGFUSE_OBSERVATION_INPUT: json.dumps([{"role": "user", "content": "Hi?"}]),
        sc.LANGFUSE_OBSERVATION_OUTPUT: json.dumps({"role": "assistant", "content": "Hello."}),
        sc.LANGFUSE_OBSERVATION_MODEL_PARAMETERS: json.dumps({"temperature": 0.1, "max_tokens": "inf"}),
        sc.LANGFUSE_OBSERVATION_FINISH_REASON: '"end_turn"',
        sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME: json.dumps("2026-01-01T00:00:00.300000Z"),
        sc.LANGFUSE_SESSION_ID: "s", sc.LANGFUSE_USER_ID: "u", sc.LANGFUSE_TRACE_TAGS: ("x",),
    })  # fmt: skip
    assert (row[sc.KIND], row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == (
        "llm",
        "claude-sonnet-4",
        "claude-sonnet-4",
    )
    assert chat(row[sc.INPUT_TEXT]) + chat(row[sc.OUTPUT_TEXT]) == USER_AND_ANSWER
    assert row[sc.REQUEST_PARAMS] == {"temperature": "0.1", "max_tokens": "inf"}
    assert row[sc.FINISH_REASONS] == ["end_turn"]
    assert START_NS == 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z: the completion started 300 ms in
    assert row[sc.TIME_TO_FIRST_TOKEN_MS] == 300.0
    assert (row[sc.SESSION], row[sc.USER], row[sc.TAGS]) == ("s", "u", ["x"])


def test_langfuse_plain_output_and_odd_start_times() -> None:
    row = row_with({sc.LANGFUSE_OBSERVATION_OUTPUT: "just text",
                    sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME: '"yesterday"'})  # fmt: skip
    assert (row[sc.OUTPUT_TEXT], row[sc.TIME_TO_FIRST_TOKEN_MS]) == ("just text", None)
    before_start = row_with({sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME: '"2025-12-31T23:59:59Z"'})
    assert before_start[sc.TIME_TO_FIRST_TOKEN_MS] is None
    naive = row_with({sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME: '"2026-01-01T00:00:01"'})
    assert naive[sc.TIME_TO_FIRST_TOKEN_MS] is None


# --- OpenTelemetry GenAI: system instructions, deprecated content, events -----------------------------


def test_system_instructions_lead_the_input_messages() -> None:
    instructions = json.dumps([{"type": "text", "content": "Be brief."}])
    row = row_with(
        {sc.GEN_AI_SYSTEM_INSTRUCTIONS: instructions, sc.GEN_AI_INPUT_MESSAGES: messages(("user", "Hi?"))}
    )
    assert chat(row[sc.INPUT_TEXT]) == [("system", "Be brief."), ("user", "Hi?")]
    # Not twice when the messages have their system message already.
    both = messages(("system", "Be brief."), ("user", "Hi?"))
    row = row_with({sc.GEN_AI_SYSTEM_INSTRUCTIONS: instructions, sc.GEN_AI_INPUT_MESSAGES: both})
    assert row[sc.INPUT_TEXT] == both
    # Alone, they are the input; under tokentrail's own input, they stay out of it.
    assert chat(row_with({sc.GEN_AI_SYSTEM_INSTRUCTIONS: "Be brief."})[sc.INPUT_TEXT]) == [
        ("system", "Be brief.")
    ]
    row = row_with({sc.TT_INPUT: '{"q": 1}', sc.GEN_AI_SYSTEM_INSTRUCTIONS: instructions,
                    sc.GEN_AI_INPUT_MESSAGES: messages(("user", "Hi?"))})  # fmt: skip
    assert row[sc.INPUT_TEXT] == '{"q": 1}'


def test_current_messages_are_kept_as_sent() -> None:
    sent = '[{"role": "user", "parts": [{"content": "Hi?", "type": "text"}]}]'
    assert row_with({sc.GEN_AI_INPUT_MESSAGES: sent})[sc.INPUT_TEXT] == sent


def test_deprecated_prompt_and_completion_as_chat_json_become_messages() -> None:
    row = row_with({
        sc.GEN_AI_PROMPT: json.dumps([{"role": "user", "content": "Hi?"}]),
        sc.GEN_AI_COMPLETION: json.dumps([{"role": "assistant", "content": "Hello."}]),
    })  # fmt: skip
    assert chat(row[sc.INPUT_TEXT]) + chat(row[sc.OUTPUT_TEXT]) == USER_AND_ANSWER


def test_anthropic_time_to_first_chunk_in_seconds() -> None:
    assert row_with({sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: 0.5})[sc.TIME_TO_FIRST_TOKEN_MS] == 500.0


def test_genai_message_events_on_the_span() -> None:
    row = row_with({}, events=[
        (sc.GEN_AI_SYSTEM_MESSAGE_EVENT, {"content": "Be brief."}, 1),
        (sc.GEN_AI_USER_MESSAGE_EVENT, {sc.GEN_AI_EVENT_CONTENT: json.dumps({"content": "Hi?"})}, 2),
        (sc.GEN_AI_ASSISTANT_MESSAGE_EVENT, {sc.GEN_AI_EVENT_CONTENT: json.dumps(
            {"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})}, 3),
        (sc.GEN_AI_TOOL_MESSAGE_EVENT, {"content": "42", "id": "c1"}, 4),
        (sc.GEN_AI_CHOICE_EVENT, {"index": 0, "finish_reason": "stop",
                                  "message": json.dumps({"role": "assistant", "content": "Hello."})}, 5),
        (sc.GEN_AI_USER_MESSAGE_EVENT, {"gen_ai.system": "openai"}, 6),  # no content: capture was off
        ("gen_ai.content.completion.chunk", {}, 7),
    ])  # fmt: skip
    sent = json.loads(str(row[sc.INPUT_TEXT]))
    assert [message["role"] for message in sent] == ["system", "user", "assistant", "tool"]
    assert sent[2]["parts"] == [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}]
    assert sent[3]["parts"] == [{"type": "tool_call_response", "id": "c1", "response": "42"}]
    assert json.loads(str(row[sc.OUTPUT_TEXT])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello."}], "finish_reason": "stop"}
    ]


def test_operation_details_event_on_the_span() -> None:
    row = row_with({}, events=[(sc.GEN_AI_OPERATION_DETAILS_EVENT, {
        sc.GEN_AI_SYSTEM_INSTRUCTIONS: json.dumps([{"type": "text", "content": "Be brief."}]),
        sc.GEN_AI_INPUT_MESSAGES: messages(("user", "Hi?")),
        sc.GEN_AI_OUTPUT_MESSAGES: messages(("assistant", "Hello.")),
    })])  # fmt: skip
    assert chat(row[sc.INPUT_TEXT]) == [("system", "Be brief."), ("user", "Hi?")]
    assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", "Hello.")]


def test_attributes_win_over_events_and_events_fill_only_the_missing_side() -> None:
    events = [(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "from event"}),
              (sc.GEN_AI_CHOICE_EVENT, {"message": json.dumps({"content": "answer from event"})})]  # fmt: skip
    row = row_with({sc.GEN_AI_INPUT_MESSAGES: messages(("user", "from attribute"))}, events=events)
    assert chat(row[sc.INPUT_TEXT]) == [("user", "from attribute")]
    assert chat(row[sc.OUTPUT_TEXT]) == [("assistant", "answer from event")]


def test_events_without_content_leave_content_empty() -> None:
    row = row_with(
        {}, events=[("exception", {"exception.type": "ValueError"}), (sc.GEN_AI_CHOICE_EVENT, {"index": 0})]
    )
    assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT], row[sc.ERROR_TYPE_COLUMN]) == ("", "", "ValueError")
