"""GenAI content sent as log records: rows of the span content table, and back to a span's text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

import tokentrail_collector
from tests.dialects import capture_app as app
from tests.dialects.dialect_support import (
    REPO_ROOT,
    asking,
    chat,
    finish_reasons_in,
    fixture_logs,
    fixture_rows,
    openai_call,
)
from tests.otlp.otlp_schema import _split_top_level, fits
from tests.otlp.otlp_spans import START_NS
from tokentrail import semconv as sc
from tokentrail_collector.normalise.logs import LogsBatch, content_texts, normalise_logs

MIGRATION = Path(tokentrail_collector.__file__).parent / "storage" / "migrations" / "0003_span_content.sql"
PROJECT = "project-logs"
TRACE_ID = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN_ID = bytes.fromhex("b7ad6b7169203331")
SYSTEM = ("system", app.SYSTEM_PROMPT)


def normalise(*records: LogRecord) -> LogsBatch:
    request = ExportLogsServiceRequest()
    request.resource_logs.add().scope_logs.add().log_records.extend(records)
    return normalise_logs(request, project_id=PROJECT)


def any_value(value: Any) -> AnyValue:
    if isinstance(value, dict):
        return AnyValue(
            kvlist_value=KeyValueList(values=[KeyValue(key=k, value=any_value(v)) for k, v in value.items()])
        )
    if isinstance(value, list):
        return AnyValue(array_value={"values": [any_value(item) for item in value]})
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    return AnyValue(string_value=str(value))


def record(
    event_name: str = "",
    body: Any = None,
    *,
    attributes: dict[str, Any] | None = None,
    time: int = START_NS,
    observed: int = 0,
    trace_id: bytes = TRACE_ID,
    span_id: bytes = SPAN_ID,
) -> LogRecord:
    built = LogRecord(
        event_name=event_name, time_unix_nano=time, observed_time_unix_nano=observed,
        trace_id=trace_id, span_id=span_id,
        attributes=[KeyValue(key=k, value=any_value(v)) for k, v in (attributes or {}).items()],
    )  # fmt: skip
    if body is not None:
        built.body.CopyFrom(any_value(body))
    return built


def only_row(batch: LogsBatch) -> dict[str, object]:
    assert (batch.rejected, batch.skipped, batch.errors) == (0, 0, [])
    (row,) = batch.rows
    return row


def content(row: dict[str, object]) -> dict[str, Any]:
    document = json.loads(str(row[sc.CONTENT]))
    assert isinstance(document, dict)
    return document


# --- the fixtures: OpenTelemetry's openai-v2 and OpenLIT, for real ------------------------------------


def test_openai_v2_message_events_become_one_row_each() -> None:
    batch = normalise_logs(fixture_logs("otel-openai-v2"), project_id=PROJECT)
    assert (batch.rejected, batch.skipped, batch.errors) == (0, 0, [])
    spans = {row[sc.SPAN_ID]: row for row in fixture_rows("otel-openai-v2")}
    assert [(row[sc.CONTENT_EVENT_NAME], row[sc.CONTENT_ROLE]) for row in batch.rows] == [
        (sc.GEN_AI_SYSTEM_MESSAGE_EVENT, "system"), (sc.GEN_AI_USER_MESSAGE_EVENT, "user"),
        (sc.GEN_AI_CHOICE_EVENT, "assistant"),
    ] * 2  # fmt: skip
    for row in batch.rows:
        assert tuple(row) == sc.SPAN_CONTENT_COLUMNS
        span = spans[row[sc.SPAN_ID]]  # every record belongs to a span of the trace fixture
        assert (row[sc.PROJECT_ID], row[sc.TRACE_ID], span[sc.KIND]) == (PROJECT, span[sc.TRACE_ID], "llm")
        assert span[sc.START_TIME] <= row[sc.CONTENT_TIME_UNIX_NANO] <= span[sc.END_TIME]  # type: ignore[operator]
        assert row[sc.ATTRIBUTES] == {sc.GEN_AI_SYSTEM: "openai"}

    for call in (openai_call("openai"), openai_call("openai_stream", streamed=True)):
        question_rows = [row for row in batch.rows if call.question in str(row[sc.CONTENT])]
        (span_id,) = {row[sc.SPAN_ID] for row in question_rows}
        span_rows = [row for row in batch.rows if row[sc.SPAN_ID] == span_id]
        input_text, output_text = content_texts(reversed(span_rows))  # any order
        assert chat(input_text) == [SYSTEM, ("user", call.question)]
        assert chat(output_text) == [("assistant", call.answer)]
        assert finish_reasons_in(output_text) == ["stop"]


def test_operation_details_records_carry_the_whole_exchange() -> None:
    batch = normalise_logs(fixture_logs("otel-openai-v2-latest"), project_id=PROJECT)
    assert (batch.rejected, batch.skipped, len(batch.rows)) == (0, 0, 2)
    spans = fixture_rows("otel-openai-v2-latest")
    for call in (openai_call("openai"), openai_call("openai_stream", streamed=True)):
        span = asking(spans, call.question)
        (row,) = [row for row in batch.rows if row[sc.SPAN_ID] == span[sc.SPAN_ID]]
        assert (row[sc.CONTENT_EVENT_NAME], row[sc.CONTENT_ROLE]) == (sc.GEN_AI_OPERATION_DETAILS_EVENT, "")
        input_text, output_text = content_texts([row])
        # The same chat the span itself carries in its attributes.
        assert chat(input_text) == chat(span[sc.INPUT_TEXT]) == [SYSTEM, ("user", call.question)]
        assert chat(output_text) == chat(span[sc.OUTPUT_TEXT]) == [("assistant", call.answer)]
        attributes = row[sc.ATTRIBUTES]
        assert isinstance(attributes, dict)
        assert attributes[sc.GEN_AI_REQUEST_MODEL] == app.OPENAI_MODEL
        assert sc.GEN_AI_INPUT_MESSAGES not in attributes and sc.GEN_AI_OUTPUT_MESSAGES not in attributes


def test_openlit_records_name_the_span_they_were_sent_under() -> None:
    batch = normalise_logs(fixture_logs("openlit"), project_id=PROJECT)
    assert (batch.rejected, batch.skipped, len(batch.rows)) == (0, 0, 4)
    span_ids = {row[sc.SPAN_ID] for row in fixture_rows("openlit")}
    for row in batch.rows:
        assert row[sc.SPAN_ID] in span_ids
        input_text, output_text = content_texts([row])
        assert chat(input_text)[0] == SYSTEM and chat(output_text)[0][0] == "assistant"


# --- rules ---------------------------------------------------------------------------------------------------


def test_event_name_from_the_field_or_the_older_attribute() -> None:
    from_field = only_row(normalise(record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "Hi?"})))
    from_attribute = only_row(normalise(
        record(body={"content": "Hi?"}, attributes={sc.EVENT_NAME_ATTRIBUTE: sc.GEN_AI_USER_MESSAGE_EVENT})
    ))  # fmt: skip
    for row in (from_field, from_attribute):
        assert (row[sc.CONTENT_EVENT_NAME], row[sc.CONTENT_ROLE]) == (sc.GEN_AI_USER_MESSAGE_EVENT, "user")
        assert content(row) == {"input": [{"role": "user", "parts": [{"type": "text", "content": "Hi?"}]}]}
    assert from_attribute[sc.ATTRIBUTES] == {sc.EVENT_NAME_ATTRIBUTE: sc.GEN_AI_USER_MESSAGE_EVENT}


def test_records_that_are_not_genai_content_are_skipped_not_rejected() -> None:
    batch = normalise(
        record(body="GET /healthz 200"),  # an application log line
        record("http.request", {"a": 1}),
        record(body="x", attributes={sc.EVENT_NAME_ATTRIBUTE: "browser.click"}),
        record(sc.GEN_AI_CHOICE_EVENT, {"index": 0, "message": {"content": "Hello."}}),
    )
    assert (batch.skipped, batch.rejected, len(batch.rows)) == (3, 0, 1)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"span_id": b""}, "no span_id"), ({"span_id": bytes(8)}, "no span_id"), ({"trace_id": b""}, "no trace_id"),
     ({"time": 0}, "time 0 ns"), ({"time": 1}, "outside the years")],
)  # fmt: skip
def test_genai_records_without_a_span_or_a_time_are_rejected(kwargs: dict[str, Any], problem: str) -> None:
    batch = normalise(
        record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "Hi?"}, **kwargs),
        record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "kept"}),
    )
    assert (batch.rejected, len(batch.rows)) == (1, 1)
    (error,) = batch.errors
    assert problem in error and sc.GEN_AI_USER_MESSAGE_EVENT in error


def test_observed_time_stands_in_for_a_missing_time() -> None:
    row = only_row(
        normalise(record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "Hi?"}, time=0, observed=START_NS + 5))
    )
    assert row[sc.CONTENT_TIME_UNIX_NANO] == START_NS + 5


def test_choice_with_tool_calls_and_tool_message() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    choice = only_row(normalise(record(sc.GEN_AI_CHOICE_EVENT, {
        "index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "tool_calls": [call]},
    })))  # fmt: skip
    assert content(choice) == {"output": [{"role": "assistant", "finish_reason": "tool_calls", "parts": [
        {"type": "tool_call", "id": "c1", "name": "f", "arguments": {"x": 1}}]}]}  # fmt: skip
    tool = only_row(normalise(record(sc.GEN_AI_TOOL_MESSAGE_EVENT, {"content": "42", "id": "c1"})))
    assert content(tool) == {
        "input": [{"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}]
    }


def test_genai_records_without_messages_keep_their_body() -> None:
    # Content capture off: the choice still comes, with no content.
    off = only_row(
        normalise(
            record(
                sc.GEN_AI_CHOICE_EVENT,
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}},
            )
        )
    )
    assert (off[sc.CONTENT_ROLE], content(off)) == (
        "",
        {"body": {"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}}},
    )
    evaluation = only_row(
        normalise(record("gen_ai.evaluation.result", attributes={"gen_ai.evaluation.score.value": 1}))
    )
    assert (content(evaluation), evaluation[sc.ATTRIBUTES]) == ({}, {"gen_ai.evaluation.score.value": "1"})
    assert content_texts([off, evaluation]) == ("", "")


def test_older_content_events_as_records() -> None:
    prompt = only_row(normalise(record(sc.GEN_AI_CONTENT_PROMPT_EVENT, attributes={sc.GEN_AI_PROMPT: "Hi?"})))
    completion = only_row(normalise(record(sc.GEN_AI_CONTENT_COMPLETION_EVENT, attributes={sc.GEN_AI_COMPLETION: "Hello."}, time=START_NS + 1)))  # fmt: skip
    assert (prompt[sc.CONTENT_ROLE], completion[sc.CONTENT_ROLE]) == ("user", "assistant")
    assert sc.GEN_AI_PROMPT not in prompt[sc.ATTRIBUTES]  # type: ignore[operator]  # read into content, not kept twice
    input_text, output_text = content_texts([completion, prompt])
    assert (chat(input_text), chat(output_text)) == ([("user", "Hi?")], [("assistant", "Hello.")])


def test_content_texts_order_and_duplicates() -> None:
    rows = [
        only_row(normalise(record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "second"}, time=START_NS + 2))),
        only_row(normalise(record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "first"}, time=START_NS + 1))),
        # Stamped together, as older SDKs do: the system message leads.
        only_row(normalise(record(sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "third"}, time=START_NS + 3))),
        only_row(normalise(record(sc.GEN_AI_SYSTEM_MESSAGE_EVENT, {"content": "rules"}, time=START_NS + 3))),
    ]
    input_text, output_text = content_texts(rows + rows)  # a read that did not collapse duplicates
    assert chat(input_text) == [("user", "first"), ("user", "second"), ("system", "rules"), ("user", "third")]
    assert output_text == ""
    assert content_texts([]) == ("", "")


# --- the table -----------------------------------------------------------------------------------------------


def migration_column_types() -> dict[str, str]:
    types: dict[str, str] = {}
    for line in MIGRATION.read_text().splitlines():
        match = re.match(r"\s+(\w+)\s+(.+?)(?:\s+CODEC\(.*\))?(?:\s+DEFAULT\s.*)?,?\s*$", line)
        if match and match.group(1) != "ingested_at":
            types[match.group(1)] = match.group(2)
    return types


def test_rows_have_the_table_columns_in_order_and_their_types() -> None:
    types = migration_column_types()
    assert tuple(types) == sc.SPAN_CONTENT_COLUMNS
    assert _split_top_level("String, String") == ["String", "String"]
    rows = normalise_logs(fixture_logs("otel-openai-v2-latest"), project_id=PROJECT).rows
    rows += normalise(record("gen_ai.evaluation.result", {"score": 1})).rows
    for row in rows:
        wrong = {
            column: (types[column], value) for column, value in row.items() if not fits(value, types[column])
        }
        assert wrong == {}


def test_the_table_collapses_a_retried_delivery_in_chdb(tmp_path: Path) -> None:
    """The migration applied to a real chDB store (in a child process: chDB opens one store per
    process), the fixture's rows inserted twice, one copy left after a merge."""
    script = textwrap.dedent(
        """
        import sys
        from tokentrail import semconv as sc
        from tokentrail_collector.normalise.logs import content_texts, normalise_logs
        from tokentrail_collector.storage import Store
        from tests.dialects.dialect_support import fixture_logs

        rows = normalise_logs(fixture_logs("otel-openai-v2"), project_id="p").rows
        store = Store.open("chdb://" + sys.argv[1])
        store.migrate()
        for _ in range(2):
            store.insert_rows("span_content", sc.SPAN_CONTENT_COLUMNS,
                              [[row[column] for column in sc.SPAN_CONTENT_COLUMNS] for row in rows])
        store.command("OPTIMIZE TABLE span_content FINAL")
        (count,), = store.query("SELECT count() FROM span_content").result_rows
        stored = store.query("SELECT span_id, time_unix_nano, event_name, role, content FROM span_content "
                             "WHERE project_id = {p:String} ORDER BY span_id", {"p": "p"}).result_rows
        store.close()
        names = ("span_id", "time_unix_nano", "event_name", "role", "content")
        first_span = [dict(zip(names, values)) for values in stored if values[0] == stored[0][0]]
        print(count, len(rows), content_texts(first_span)[0] != "")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["6", "6", "True"]
