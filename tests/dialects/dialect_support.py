"""Helpers of the dialect tests: the captured fixtures as rows, what the fake provider answered,
and hand-built spans and log records for the per-rule tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import Tracer

from tests.dialects import capture_app as app
from tests.otlp.otlp_spans import START_NS, export_request
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.otlp import decode_logs_request, decode_trace_request

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "project-dialects"
_MAX_BODY = 1 << 24

Row = dict[str, object]


@cache
def fake_provider() -> Any:
    return app.load_fake_provider(REPO_ROOT)


def fixture_traces(name: str) -> ExportTraceServiceRequest:
    body = (FIXTURES / name / "traces.json").read_bytes()
    return decode_trace_request(
        body, content_type="application/json", content_encoding=None, max_body_bytes=_MAX_BODY
    )


def fixture_logs(name: str) -> ExportLogsServiceRequest:
    body = (FIXTURES / name / "logs.json").read_bytes()
    return decode_logs_request(
        body, content_type="application/json", content_encoding=None, max_body_bytes=_MAX_BODY
    )


def fixture_rows(name: str) -> list[Row]:
    batch = normalise_traces(fixture_traces(name), project_id=PROJECT)
    assert (batch.rejected, batch.errors) == (0, [])
    return batch.rows


@dataclass(frozen=True)
class Call:
    """What the fake provider saw and answered for one question (see capture_app)."""

    question: str
    answer: str  # as the client read it (a stream has a space after every word)
    prompt_tokens: int  # all of the prompt, cached part included
    completion_tokens: int
    cached_tokens: int


def openai_call(key: str, *, streamed: bool = False) -> Call:
    fake = fake_provider()
    question = app.QUESTIONS[key]
    prompt = f"{app.SYSTEM_PROMPT}\n{question}"
    answer = fake.answer_for(prompt)
    tokens = fake.count_tokens(prompt)
    return Call(
        question,
        answer + " " if streamed else answer,
        tokens,
        fake.count_tokens(answer),
        tokens // app.CACHED_SHARE,
    )


def anthropic_call(key: str) -> Call:
    fake = fake_provider()
    question = app.QUESTIONS[key]
    prompt = f"{app.SYSTEM_PROMPT}\n{question}"
    answer = fake.answer_for(prompt)
    tokens = fake.count_tokens(prompt)
    return Call(question, answer, tokens, fake.count_tokens(answer), tokens // app.CACHED_SHARE)


def chat(text: object) -> list[tuple[str, str]]:
    """(role, text) of each canonical message in a content column (the parts' text joined)."""
    assert isinstance(text, str) and text, f"no content: {text!r}"
    messages = json.loads(text)
    assert isinstance(messages, list), text
    pairs = []
    for message in messages:
        assert set(message) <= {"role", "parts", "finish_reason"}, message
        texts = [part["content"] for part in message["parts"] if part["type"] == "text"]
        pairs.append((message["role"], "".join(texts)))
    return pairs


def finish_reasons_in(text: object) -> list[str | None]:
    assert isinstance(text, str)
    return [message.get("finish_reason") for message in json.loads(text)]


def by_name(rows: Iterable[Row], name: str) -> list[Row]:
    return [row for row in rows if row["name"] == name]


def asking(rows: Iterable[Row], question: str, *, name: str | None = None) -> Row:
    """The one row whose input mentions `question` (and named `name`, when given)."""
    found = [
        row for row in rows if question in str(row["input_text"]) and (name is None or row["name"] == name)
    ]
    assert len(found) == 1, [(row["name"], row["input_text"]) for row in found]
    return found[0]


def root(rows: Sequence[Row]) -> Row:
    (found,) = [row for row in rows if row["parent_span_id"] == ""]
    return found


def assert_one_trace(rows: Sequence[Row]) -> None:
    """Every span in one trace, every parent a span of it."""
    assert len({row["trace_id"] for row in rows}) == 1
    ids = {row["span_id"] for row in rows}
    assert len(ids) == len(rows)
    assert all(row["parent_span_id"] in ids for row in rows if row["parent_span_id"])


# --- hand-built spans -------------------------------------------------------------------------------

EventSpec = tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], int]


def span_request(
    attributes: Mapping[str, Any], *, events: Sequence[EventSpec] = (), name: str = "span"
) -> ExportTraceServiceRequest:
    """One SDK span starting at START_NS, with `attributes` and events (name, attributes[, offset ns])."""

    def emit(tracer: Tracer) -> None:
        span = tracer.start_span(name, attributes=dict(attributes), start_time=START_NS)
        for event in events:
            offset = event[2] if len(event) == 3 else 1000  # type: ignore[misc]
            span.add_event(event[0], dict(event[1]), timestamp=START_NS + offset)
        span.end(end_time=START_NS + 2_000_000_000)

    return export_request(emit)


def row_with(attributes: Mapping[str, Any], *, events: Sequence[EventSpec] = ()) -> Row:
    batch = normalise_traces(span_request(attributes, events=events), project_id=PROJECT)
    (row,) = batch.rows
    return row


def messages(*pairs: tuple[str, str]) -> str:
    """Canonical message JSON of (role, text) pairs, as the OpenTelemetry GenAI attributes hold it."""
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]} for role, text in pairs])
