"""Span normalisation: canonical columns and their types, every field rule, rejection of bad spans."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.trace import Status as SdkStatus
from opentelemetry.trace import StatusCode as SdkStatusCode
from opentelemetry.trace import Tracer

from tests.otlp.otlp_schema import column_types, fits
from tests.otlp.otlp_spans import (
    LLM_RESOURCE,
    START_NS,
    export_request,
    llm_attributes,
    llm_request,
    one_span_request,
)
from tokentrail import semconv as sc
from tokentrail_collector.normalise import NormalisedBatch, normalise_traces
from tokentrail_collector.normalise._traces import MAX_ERRORS

PROJECT = "project-a"


def only_row(request: ExportTraceServiceRequest) -> dict[str, object]:
    batch = normalise_traces(request, project_id=PROJECT)
    assert (batch.rejected, batch.errors, len(batch.rows)) == (0, [], 1)
    return batch.rows[0]


def row_of(attributes: dict[str, Any], **kwargs: Any) -> dict[str, object]:
    return only_row(one_span_request(attributes, **kwargs))


# --- shape and types -----------------------------------------------------------------------


def test_migration_parser_sees_every_canonical_column() -> None:
    assert list(column_types()) == list(sc.CANONICAL_COLUMNS)


@pytest.fixture(
    params=["llm", "bare", "gpu-and-everything"],
)
def varied_row(request: pytest.FixtureRequest) -> dict[str, object]:
    if request.param == "llm":
        return row_of(llm_attributes(), resource=LLM_RESOURCE, exception=RuntimeError("late"))
    if request.param == "bare":
        return row_of({})
    return row_of({
        **llm_attributes(),
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 100, sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 7,
        sc.GEN_AI_USAGE_TOTAL_TOKENS: 999, sc.TT_TOKENS_ESTIMATED: True,
        sc.TT_GPU_UTIL_AVG: 55, sc.TT_GPU_UTIL_MAX: 97.5, sc.TT_GPU_MEMORY_PEAK_BYTES: 8 << 30,
        sc.TT_GPU_POWER_AVG_WATTS: 210.25, sc.TT_GPU_ENERGY_JOULES: 52,
    })  # fmt: skip


def test_row_has_exactly_the_canonical_columns_in_storage_order(varied_row: dict[str, object]) -> None:
    assert tuple(varied_row) == sc.CANONICAL_COLUMNS


def test_row_values_have_the_python_types_of_the_spans_table(varied_row: dict[str, object]) -> None:
    wrong = {
        column: (clickhouse_type, varied_row[column])
        for column, clickhouse_type in column_types().items()
        if not fits(varied_row[column], clickhouse_type)
    }
    assert wrong == {}


def test_realistic_sdk_llm_span() -> None:
    row = row_of(llm_attributes(7), name="chat gpt-4o-mini", resource=LLM_RESOURCE)
    attributes = llm_attributes(7)
    assert re.fullmatch("[0-9a-f]{32}", row[sc.TRACE_ID])  # type: ignore[arg-type]
    assert re.fullmatch("[0-9a-f]{16}", row[sc.SPAN_ID])  # type: ignore[arg-type]
    expected = {
        sc.PROJECT_ID: PROJECT, sc.PARENT_SPAN_ID: "", sc.NAME: "chat gpt-4o-mini", sc.KIND: "llm",
        sc.SERVICE: "checkout-assistant", sc.START_TIME: START_NS, sc.END_TIME: START_NS + 1_500_000_000,
        sc.DURATION_MS: 1500.0, sc.TIME_TO_FIRST_TOKEN_MS: 151.0,
        sc.STATUS_CODE: "unset", sc.STATUS_MESSAGE: "", sc.ERROR_TYPE_COLUMN: "", sc.FINISH_REASONS: ["stop"],
        sc.PROVIDER: "openai", sc.OPERATION: "chat", sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", sc.IS_STREAMING: True,
        sc.REQUEST_PARAMS: {"temperature": "0.7", "max_tokens": "512", "top_p": "1.0"},
        sc.INPUT_TOKENS: 207, sc.OUTPUT_TOKENS: 57, sc.CACHED_INPUT_TOKENS: None, sc.REASONING_TOKENS: None,
        sc.TOTAL_TOKENS: 264, sc.TOKENS_ESTIMATED: False, sc.COST_USD: attributes[sc.TT_COST_USD],
        sc.COST_SOURCE: "sdk", sc.INPUT_TEXT: attributes[sc.GEN_AI_INPUT_MESSAGES],
        sc.OUTPUT_TEXT: attributes[sc.GEN_AI_OUTPUT_MESSAGES],
        sc.GPU_UTIL_AVG: None, sc.GPU_UTIL_MAX: None, sc.GPU_MEMORY_PEAK_BYTES: None,
        sc.GPU_POWER_AVG_WATTS: None, sc.GPU_ENERGY_JOULES: None,
        sc.SESSION: "session-000000", sc.USER: "user-7", sc.TAGS: ["prod", "checkout"], sc.EVENTS: "[]",
    }  # fmt: skip
    assert {column: row[column] for column in expected} == expected
    assert row[sc.ATTRIBUTES][sc.GEN_AI_REQUEST_TEMPERATURE] == "0.7"  # type: ignore[index]
    assert row[sc.RESOURCE_ATTRIBUTES][sc.SERVICE_NAME] == "checkout-assistant"  # type: ignore[index]


# --- field rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "kind"),
    [("chat", "llm"), ("text_completion", "llm"), ("generate_content", "llm"), ("completion", "llm"),
     ("embeddings", "embedding"), ("execute_tool", "tool"), ("invoke_agent", "agent"),
     ("create_agent", "agent"), ("rerank", "other")],
)  # fmt: skip
def test_kind_from_operation_name(operation: str, kind: str) -> None:
    row = row_of({sc.GEN_AI_OPERATION_NAME: operation})
    assert (row[sc.KIND], row[sc.OPERATION]) == (kind, operation)


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({sc.TT_SPAN_KIND: "retrieval", sc.GEN_AI_OPERATION_NAME: "chat"}, "retrieval"),
        ({sc.TT_SPAN_KIND: "Chain"}, "chain"),
        ({sc.TT_SPAN_KIND: "banana", sc.GEN_AI_OPERATION_NAME: "execute_tool"}, "tool"),
        ({sc.TT_SPAN_KIND: "banana"}, "other"),
        ({}, "other"),
    ],
)
def test_tokentrail_kind_comes_first_and_must_be_a_known_kind(attributes: dict[str, str], kind: str) -> None:
    assert row_of(attributes)[sc.KIND] == kind


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({sc.GEN_AI_PROVIDER_NAME: "anthropic"}, "anthropic"),
        ({sc.GEN_AI_SYSTEM: "openai"}, "openai"),
        ({sc.GEN_AI_SYSTEM: "openai", sc.GEN_AI_PROVIDER_NAME: "azure.ai.openai"}, "azure.ai.openai"),
        ({sc.GEN_AI_SYSTEM: "openai", sc.GEN_AI_PROVIDER_NAME: ""}, "openai"),
        ({}, ""),
    ],
)
def test_provider_from_current_then_deprecated_name(attributes: dict[str, str], expected: str) -> None:
    assert row_of(attributes)[sc.PROVIDER] == expected


@pytest.mark.parametrize(
    ("attributes", "request_model", "response_model"),
    [
        (
            {sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06"},
            "gpt-4o",
            "gpt-4o-2024-08-06",
        ),
        ({sc.GEN_AI_REQUEST_MODEL: "gpt-4o"}, "gpt-4o", "gpt-4o"),
        ({sc.GEN_AI_RESPONSE_MODEL: "claude-3-5"}, "", "claude-3-5"),
        ({}, "", ""),
    ],
)
def test_models_with_response_falling_back_to_request(
    attributes: dict[str, str], request_model: str, response_model: str
) -> None:
    row = row_of(attributes)
    assert (row[sc.REQUEST_MODEL], row[sc.RESPONSE_MODEL]) == (request_model, response_model)


TOKEN_COLUMNS = (
    sc.INPUT_TOKENS,
    sc.OUTPUT_TOKENS,
    sc.CACHED_INPUT_TOKENS,
    sc.REASONING_TOKENS,
    sc.TOTAL_TOKENS,
)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: 10, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 5}, (10, 5, None, None, 15)),
        ({sc.GEN_AI_USAGE_PROMPT_TOKENS: 11, sc.GEN_AI_USAGE_COMPLETION_TOKENS: 6}, (11, 6, None, None, 17)),
        (
            {sc.GEN_AI_USAGE_INPUT_TOKENS: 10, sc.GEN_AI_USAGE_PROMPT_TOKENS: 99,
             sc.GEN_AI_USAGE_OUTPUT_TOKENS: 5, sc.GEN_AI_USAGE_COMPLETION_TOKENS: 99},
            (10, 5, None, None, 15),
        ),
        (
            {sc.GEN_AI_USAGE_INPUT_TOKENS: 10, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
             sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 4, sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 3,
             sc.GEN_AI_USAGE_TOTAL_TOKENS: 20},
            (10, 5, 4, 3, 20),
        ),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: 10}, (10, None, None, None, None)),
        ({sc.GEN_AI_USAGE_OUTPUT_TOKENS: 0}, (None, 0, None, None, None)),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: 0, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 0}, (0, 0, None, None, 0)),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: 12.0, sc.GEN_AI_USAGE_OUTPUT_TOKENS: "8"}, (12, 8, None, None, 20)),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: -1, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 2.5}, (None, None, None, None, None)),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: "many", sc.GEN_AI_USAGE_OUTPUT_TOKENS: True}, (None,) * 5),
        ({sc.GEN_AI_USAGE_TOTAL_TOKENS: 30}, (None, None, None, None, 30)),
        ({}, (None,) * 5),
    ],
)  # fmt: skip
def test_token_counts_current_then_deprecated_and_never_invented(
    attributes: dict[str, Any], expected: tuple[int | None, ...]
) -> None:
    row = row_of(attributes)
    assert tuple(row[column] for column in TOKEN_COLUMNS) == expected


def test_tokens_estimated_flag() -> None:
    assert row_of({sc.TT_TOKENS_ESTIMATED: True})[sc.TOKENS_ESTIMATED] is True
    assert row_of({sc.TT_TOKENS_ESTIMATED: "true"})[sc.TOKENS_ESTIMATED] is True
    assert row_of({sc.TT_TOKENS_ESTIMATED: False})[sc.TOKENS_ESTIMATED] is False
    assert row_of({})[sc.TOKENS_ESTIMATED] is False


def test_request_params_are_every_gen_ai_request_attribute_but_the_model() -> None:
    row = row_of({
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_REQUEST_TEMPERATURE: 0.2, sc.GEN_AI_REQUEST_MAX_TOKENS: 256,
        sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("\n\n", "END"), sc.GEN_AI_REQUEST_SEED: 42,
        sc.GEN_AI_REQUEST_PREFIX + "choice.count": 2, sc.GEN_AI_REQUEST_PREFIX + "stream": True,
        "gen_ai.requested": "not a param", "gen_ai.response.id": "also not",
    })  # fmt: skip
    assert row[sc.REQUEST_PARAMS] == {
        "temperature": "0.2",
        "max_tokens": "256",
        "stop_sequences": '["\\n\\n","END"]',
        "seed": "42",
        "choice.count": "2",
        "stream": "true",
    }
    assert row_of({sc.GEN_AI_REQUEST_MODEL: "gpt-4o"})[sc.REQUEST_PARAMS] == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(("stop",), ["stop"]), (("length", "tool_calls"), ["length", "tool_calls"]), ("stop", ["stop"]),
     ('["end_turn"]', ["end_turn"]), ((), [])],
)  # fmt: skip
def test_finish_reasons(value: object, expected: list[str]) -> None:
    assert row_of({sc.GEN_AI_RESPONSE_FINISH_REASONS: value})[sc.FINISH_REASONS] == expected


def test_streaming_and_time_to_first_token() -> None:
    row = row_of({sc.TT_IS_STREAMING: True, sc.TT_TIME_TO_FIRST_TOKEN_MS: 87.5})
    assert (row[sc.IS_STREAMING], row[sc.TIME_TO_FIRST_TOKEN_MS]) == (True, 87.5)
    row = row_of({sc.TT_TIME_TO_FIRST_TOKEN_MS: 120})
    assert (row[sc.IS_STREAMING], row[sc.TIME_TO_FIRST_TOKEN_MS]) == (False, 120.0)
    assert row_of({sc.TT_TIME_TO_FIRST_TOKEN_MS: -3.0})[sc.TIME_TO_FIRST_TOKEN_MS] is None


@pytest.mark.parametrize(
    ("attributes", "cost", "source"),
    [
        ({sc.TT_COST_USD: 0.0042}, 0.0042, "sdk"),
        ({sc.TT_COST_USD: 0}, 0.0, "sdk"),
        ({}, None, "unknown"),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: 100, sc.GEN_AI_REQUEST_MODEL: "gpt-4o"}, None, "unknown"),
        ({sc.TT_COST_USD: -1.0}, None, "unknown"),
        ({sc.TT_COST_USD: float("nan")}, None, "unknown"),
        ({sc.TT_COST_USD: "free"}, None, "unknown"),
    ],
)
def test_cost_from_sdk_else_unknown_never_zero(
    attributes: dict[str, Any], cost: float | None, source: str
) -> None:
    row = row_of(attributes)
    assert (row[sc.COST_USD], row[sc.COST_SOURCE]) == (cost, source)


@pytest.mark.parametrize(
    ("attributes", "input_text", "output_text"),
    [
        ({sc.TT_INPUT: '{"q": 1}', sc.GEN_AI_INPUT_MESSAGES: "m", sc.GEN_AI_PROMPT: "p",
          sc.TT_OUTPUT: '"a"', sc.GEN_AI_OUTPUT_MESSAGES: "o", sc.GEN_AI_COMPLETION: "c"}, '{"q": 1}', '"a"'),
        ({sc.GEN_AI_INPUT_MESSAGES: "m", sc.GEN_AI_PROMPT: "p", sc.GEN_AI_OUTPUT_MESSAGES: "o",
          sc.GEN_AI_COMPLETION: "c"}, "m", "o"),
        ({sc.GEN_AI_PROMPT: "p", sc.GEN_AI_COMPLETION: "c"}, "p", "c"),
        ({sc.GEN_AI_PROMPT: "p"}, "p", ""),
        ({}, "", ""),
    ],
)  # fmt: skip
def test_content_from_tokentrail_then_messages_then_deprecated(
    attributes: dict[str, str], input_text: str, output_text: str
) -> None:
    row = row_of(attributes)
    assert (row[sc.INPUT_TEXT], row[sc.OUTPUT_TEXT]) == (input_text, output_text)


def test_session_user_and_tags() -> None:
    row = row_of(
        {sc.SESSION_ID: "s1", sc.GEN_AI_CONVERSATION_ID: "c1", sc.USER_ID: "u1", sc.TT_TAGS: ("a", "b")}
    )
    assert (row[sc.SESSION], row[sc.USER], row[sc.TAGS]) == ("s1", "u1", ["a", "b"])
    row = row_of({sc.GEN_AI_CONVERSATION_ID: "c1", sc.USER_ID: 42})
    assert (row[sc.SESSION], row[sc.USER], row[sc.TAGS]) == ("c1", "42", [])


def test_gpu_columns() -> None:
    row = row_of({
        sc.TT_GPU_UTIL_AVG: 41.5, sc.TT_GPU_UTIL_MAX: 100, sc.TT_GPU_MEMORY_PEAK_BYTES: 6_000_000_000,
        sc.TT_GPU_POWER_AVG_WATTS: 180.0, sc.TT_GPU_ENERGY_JOULES: 12.25,
    })  # fmt: skip
    assert (row[sc.GPU_UTIL_AVG], row[sc.GPU_UTIL_MAX], row[sc.GPU_MEMORY_PEAK_BYTES]) == (
        41.5,
        100.0,
        6_000_000_000,
    )
    assert (row[sc.GPU_POWER_AVG_WATTS], row[sc.GPU_ENERGY_JOULES]) == (180.0, 12.25)


def test_unknown_figures_stay_none_not_zero() -> None:
    row = row_of({sc.GEN_AI_OPERATION_NAME: "chat", sc.GEN_AI_REQUEST_MODEL: "gpt-4o"})
    unknown = (*TOKEN_COLUMNS, sc.COST_USD, sc.TIME_TO_FIRST_TOKEN_MS, sc.GPU_UTIL_AVG, sc.GPU_UTIL_MAX,
               sc.GPU_MEMORY_PEAK_BYTES, sc.GPU_POWER_AVG_WATTS, sc.GPU_ENERGY_JOULES)  # fmt: skip
    assert {column: row[column] for column in unknown} == dict.fromkeys(unknown)
    assert row[sc.COST_SOURCE] == "unknown"


# --- status and errors ---------------------------------------------------------------------


def _request_with(emit_body) -> ExportTraceServiceRequest:  # type: ignore[no-untyped-def]
    def emit(tracer: Tracer) -> None:
        span = tracer.start_span("call", start_time=START_NS)
        emit_body(span)
        span.end(end_time=START_NS + 1000)

    return export_request(emit)


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (None, "unset", ""),
        (SdkStatus(SdkStatusCode.OK), "ok", ""),
        (SdkStatus(SdkStatusCode.ERROR, "rate limited"), "error", "rate limited"),
    ],
)
def test_status(status: SdkStatus | None, code: str, message: str) -> None:
    row = only_row(_request_with(lambda span: status and span.set_status(status)))
    assert (row[sc.STATUS_CODE], row[sc.STATUS_MESSAGE]) == (code, message)


def test_error_type_from_exception_event_or_error_type_attribute() -> None:
    def failing(span) -> None:  # type: ignore[no-untyped-def]
        span.record_exception(TimeoutError("slow"))
        span.set_status(SdkStatus(SdkStatusCode.ERROR, "slow"))

    row = only_row(_request_with(failing))
    assert (row[sc.STATUS_CODE], row[sc.ERROR_TYPE_COLUMN]) == ("error", "TimeoutError")

    def typed(span) -> None:  # type: ignore[no-untyped-def]
        span.set_attribute(sc.ERROR_TYPE, "openai.RateLimitError")
        span.record_exception(TimeoutError("slow"))

    assert only_row(_request_with(typed))[sc.ERROR_TYPE_COLUMN] == "openai.RateLimitError"
    assert only_row(_request_with(lambda span: None))[sc.ERROR_TYPE_COLUMN] == ""


def test_events_are_compact_json_with_their_attributes() -> None:
    def with_events(span) -> None:  # type: ignore[no-untyped-def]
        span.add_event("first token", {"index": 0, "ratio": 0.5, "ok": True}, timestamp=START_NS + 10)
        span.add_event("retry", {"reasons": ("timeout", "5xx")}, timestamp=START_NS + 20)

    row = only_row(_request_with(with_events))
    assert row[sc.EVENTS] == (
        f'[{{"name":"first token","time_unix_nano":{START_NS + 10},"attributes":{{"index":0,"ratio":0.5,"ok":true}}}},'
        f'{{"name":"retry","time_unix_nano":{START_NS + 20},"attributes":{{"reasons":["timeout","5xx"]}}}}]'
    )
    assert only_row(_request_with(lambda span: None))[sc.EVENTS] == "[]"


# --- raw attributes, resource, identity ----------------------------------------------------


def any_value(**kwargs: Any) -> AnyValue:
    return AnyValue(**kwargs)


def hand_built_request(
    *spans: Span, resource: dict[str, AnyValue] | None = None
) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, value in (resource or {}).items():
        resource_spans.resource.attributes.add(key=key, value=value)
    resource_spans.scope_spans.add().spans.extend(spans)
    return request


def span(index: int = 1, **fields: Any) -> Span:
    defaults: dict[str, Any] = {
        "trace_id": bytes([index]) * 16, "span_id": bytes([index]) * 8, "name": f"span {index}",
        "start_time_unix_nano": START_NS, "end_time_unix_nano": START_NS + 2_000_000,
    }  # fmt: skip
    return Span(**{**defaults, **fields})


def test_every_attribute_type_is_kept_flattened() -> None:
    values = {
        "text": any_value(string_value="héllo"),
        "empty_text": any_value(string_value=""),
        "yes": any_value(bool_value=True),
        "no": any_value(bool_value=False),
        "int": any_value(int_value=-42),
        "zero": any_value(int_value=0),
        "big": any_value(int_value=2**63 - 1),
        "double": any_value(double_value=0.1),
        "zero_double": any_value(double_value=0.0),
        "nan": any_value(double_value=math.nan),
        "inf": any_value(double_value=-math.inf),
        "bytes": any_value(bytes_value=b"\x00\xffbin"),
        "unset": AnyValue(),
        "strings": any_value(array_value=ArrayValue(values=[any_value(string_value="a"), any_value(string_value="")])),
        "mixed": any_value(array_value=ArrayValue(values=[
            any_value(int_value=1), any_value(double_value=2.5), any_value(bool_value=False), AnyValue(),
            any_value(bytes_value=b"\x01"),
        ])),
        "empty_array": any_value(array_value=ArrayValue()),
        "kvlist": any_value(kvlist_value=KeyValueList(values=[
            KeyValue(key="role", value=any_value(string_value="user")),
            KeyValue(key="n", value=any_value(array_value=ArrayValue(values=[any_value(int_value=3)]))),
        ])),
    }  # fmt: skip
    request = hand_built_request(span(attributes=[KeyValue(key=k, value=v) for k, v in values.items()]))
    assert only_row(request)[sc.ATTRIBUTES] == {
        "text": "héllo",
        "empty_text": "",
        "yes": "true",
        "no": "false",
        "int": "-42",
        "zero": "0",
        "big": "9223372036854775807",
        "double": "0.1",
        "zero_double": "0.0",
        "nan": "NaN",
        "inf": "-Infinity",
        "bytes": base64.b64encode(b"\x00\xffbin").decode(),
        "unset": "",
        "strings": '["a",""]',
        "mixed": '[1,2.5,false,null,"AQ=="]',
        "empty_array": "[]",
        "kvlist": '{"role":"user","n":[3]}',
    }


def test_resource_attributes_service_name_and_project_from_the_caller() -> None:
    resource = {
        sc.SERVICE_NAME: any_value(string_value="rag-api"),
        sc.TT_PROJECT: any_value(string_value="someone-elses-project"),
        "host.cpu.count": any_value(int_value=8),
    }
    row = only_row(hand_built_request(span(), resource=resource))
    assert row[sc.PROJECT_ID] == PROJECT
    assert row[sc.SERVICE] == "rag-api"
    assert row[sc.RESOURCE_ATTRIBUTES] == {
        sc.SERVICE_NAME: "rag-api",
        sc.TT_PROJECT: "someone-elses-project",
        "host.cpu.count": "8",
    }


@pytest.mark.parametrize("resource", [{}, {sc.SERVICE_NAME: any_value(string_value="")}])
def test_missing_service_name_is_unknown_service(resource: dict[str, AnyValue]) -> None:
    assert only_row(hand_built_request(span(), resource=resource))[sc.SERVICE] == sc.UNKNOWN_SERVICE


def test_parent_span_id_of_sdk_child_span() -> None:
    def emit(tracer: Tracer) -> None:
        with tracer.start_as_current_span("parent") as parent:
            with tracer.start_as_current_span("child"):
                pass
        assert parent is not None

    batch = normalise_traces(export_request(emit), project_id=PROJECT)
    child, parent = batch.rows
    assert (child[sc.NAME], parent[sc.NAME]) == ("child", "parent")
    assert child[sc.PARENT_SPAN_ID] == parent[sc.SPAN_ID]
    assert child[sc.TRACE_ID] == parent[sc.TRACE_ID]
    assert parent[sc.PARENT_SPAN_ID] == ""


def test_all_zero_parent_span_id_means_no_parent() -> None:
    assert only_row(hand_built_request(span(parent_span_id=bytes(8))))[sc.PARENT_SPAN_ID] == ""


def test_ids_are_lowercase_hex() -> None:
    row = only_row(hand_built_request(span(trace_id=bytes(range(0xA0, 0xB0)), span_id=b"\xab" * 8,
                                           parent_span_id=b"\xcd" * 8)))  # fmt: skip
    assert (row[sc.TRACE_ID], row[sc.SPAN_ID], row[sc.PARENT_SPAN_ID]) == (
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "abababababababab",
        "cdcdcdcdcdcdcdcd",
    )


def test_rows_do_not_share_containers() -> None:
    batch = normalise_traces(llm_request(2), project_id=PROJECT)
    first, second = batch.rows
    for column in (sc.FINISH_REASONS, sc.TAGS, sc.REQUEST_PARAMS, sc.ATTRIBUTES, sc.RESOURCE_ATTRIBUTES):
        assert first[column] == second[column] or column == sc.ATTRIBUTES
        assert first[column] is not second[column]
    bare = normalise_traces(hand_built_request(span(1), span(2)), project_id=PROJECT).rows
    for column in (sc.FINISH_REASONS, sc.TAGS, sc.REQUEST_PARAMS):
        assert bare[0][column] is not bare[1][column]


# --- invalid spans -------------------------------------------------------------------------


INVALID = {
    "short trace_id": dict(trace_id=b"\x01" * 15),
    "no trace_id": dict(trace_id=b""),
    "zero trace_id": dict(trace_id=bytes(16)),
    "long span_id": dict(span_id=b"\x01" * 9),
    "zero span_id": dict(span_id=bytes(8)),
    "short parent": dict(parent_span_id=b"\x01" * 4),
    "no start": dict(start_time_unix_nano=0),
    "start in 1970": dict(start_time_unix_nano=5_000_000_000, end_time_unix_nano=6_000_000_000),
    "end before start": dict(end_time_unix_nano=START_NS - 1),
    "not ended": dict(end_time_unix_nano=0),
    "past 2262": dict(end_time_unix_nano=2**63),
}
REASON_WORDS = {
    "short trace_id": "trace_id is 15 bytes", "no trace_id": "trace_id is 0 bytes", "zero trace_id": "all zeros",
    "long span_id": "span_id is 9 bytes", "zero span_id": "span_id is all zeros",
    "short parent": "parent_span_id is 4 bytes", "no start": "start time is missing",
    "start in 1970": "outside the years", "end before start": "before start", "not ended": "before start",
    "past 2262": "after the year 2262",
}  # fmt: skip


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_span_is_rejected_and_the_rest_kept(case: str) -> None:
    request = hand_built_request(span(1), span(2, name="bad one", **INVALID[case]), span(3))
    batch = normalise_traces(request, project_id=PROJECT)
    assert [row[sc.NAME] for row in batch.rows] == ["span 1", "span 3"]
    assert batch.rejected == 1
    (message,) = batch.errors
    assert "'bad one'" in message and REASON_WORDS[case] in message


def test_a_batch_of_only_invalid_spans_still_returns_a_batch() -> None:
    bad = [span(index, trace_id=b"") for index in range(1, 4)]
    assert normalise_traces(hand_built_request(*bad), project_id=PROJECT) == NormalisedBatch(
        rows=[], rejected=3, errors=[
            f"span 'span {index}' (trace_id -, span_id {bytes([index]).hex() * 8}) rejected: trace_id is 0 bytes, expected 16"
            for index in range(1, 4)
        ],
    )  # fmt: skip


def test_error_messages_are_capped_but_every_rejection_counted() -> None:
    bad = [span(index % 250 + 1, start_time_unix_nano=0) for index in range(3 * MAX_ERRORS)]
    batch = normalise_traces(hand_built_request(span(251), *bad), project_id=PROJECT)
    assert (len(batch.rows), batch.rejected, len(batch.errors)) == (1, 3 * MAX_ERRORS, MAX_ERRORS)


def test_empty_request_gives_an_empty_batch() -> None:
    assert normalise_traces(ExportTraceServiceRequest(), project_id=PROJECT) == NormalisedBatch(rows=[])


def test_boundary_times_are_accepted() -> None:
    zero_length = only_row(hand_built_request(span(end_time_unix_nano=START_NS)))
    assert zero_length[sc.DURATION_MS] == 0.0
    latest = only_row(hand_built_request(span(start_time_unix_nano=2**63 - 2, end_time_unix_nano=2**63 - 1)))
    assert latest[sc.END_TIME] == 2**63 - 1


def test_events_json_is_valid_for_exception_events() -> None:
    row = row_of({}, exception=ValueError('quote " and \n newline'))
    (event,) = json.loads(row[sc.EVENTS])  # type: ignore[arg-type]
    assert event[sc.EVENT_NAME] == sc.EXCEPTION_EVENT
    assert event[sc.EVENT_ATTRIBUTES][sc.EXCEPTION_MESSAGE] == 'quote " and \n newline'
    assert isinstance(event[sc.EVENT_TIME_UNIX_NANO], int)
