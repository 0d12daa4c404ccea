"""GenAI log records (POST /v1/logs) to rows of the span content table, one per record.

Instrumentations that keep content out of spans send it as log records tied to the span by their
trace and span ids: OpenTelemetry's GenAI events (`gen_ai.user.message`, `gen_ai.choice`, ...,
`gen_ai.client.inference.operation.details`), named in LogRecord.event_name or, from older SDKs,
in the `event.name` attribute. Each becomes a row of `span_content` (semconv.SPAN_CONTENT_COLUMNS)
whose `content` is a JSON object `{"input": [messages], "output": [messages]}` in the canonical
message shape (`_messages`); a GenAI record that carries no messages keeps its body as
`{"body": ...}`. Records of other events, or plain application logs, are not GenAI content: they
are skipped (and counted), not rejected. `content_texts` turns a span's rows back into the
`input_text` / `output_text` a span row would have had.

Public as `tokentrail_collector.normalise.logs` (the package's own `__all__` stays the traces API).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from tokentrail import semconv as sc
from tokentrail_collector.normalise._content import event_content
from tokentrail_collector.normalise._limits import (
    MAX_ATTRIBUTE_KEY_CHARS,
    MAX_CONTENT_CHARS,
    MAX_SPANS_PER_REQUEST,
    capped_attributes,
    capped_text,
    flat_attributes,
    limits_note,
    too_many,
)
from tokentrail_collector.normalise._messages import Message, messages_json
from tokentrail_collector.normalise._traces import MAX_ERRORS, MAX_TIME_NS, MIN_TIME_NS
from tokentrail_collector.normalise._values import AttributeValue, compact_json, python_value

__all__ = ["LogsBatch", "content_texts", "normalise_logs"]

# Attributes that carry content: once read into `content`, not kept a second time in `attributes`.
_CONTENT_ATTRIBUTES = frozenset({
    sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES, sc.GEN_AI_SYSTEM_INSTRUCTIONS,
    sc.GEN_AI_PROMPT, sc.GEN_AI_COMPLETION, sc.GEN_AI_EVENT_CONTENT,
})  # fmt: skip
_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
# The order of roles among a span's records with the same time (older SDKs stamp a request's
# message events in one go): the order in which a conversation states them.
_ROLE_ORDER = {"system": 0, "user": 1, "assistant": 2, "tool": 3}


@dataclass(slots=True)
class LogsBatch:
    """The content rows of a logs request, and how many records were skipped or rejected and why."""

    rows: list[dict[str, object]]
    skipped: int = 0  # records that are not GenAI content (kept nowhere, by design)
    rejected: int = 0  # GenAI records that cannot be stored (no span to attach to, impossible time)
    errors: list[str] = field(default_factory=list)  # at most MAX_ERRORS human messages
    # Kept records that did not fit the caps of `_limits` (as for spans): values cut, attributes
    # dropped past the cap, attributes dropped for a refused key.
    truncated: int = 0
    refused_keys: int = 0

    def limits_note(self) -> str:
        return limits_note(self.truncated, self.refused_keys, "log record")


def normalise_logs(request: ExportLogsServiceRequest, *, project_id: str) -> LogsBatch:
    """The span content rows of every GenAI log record in `request`, for project `project_id`.

    A row has exactly the columns of `semconv.SPAN_CONTENT_COLUMNS`: project_id, trace_id and
    span_id (lowercase hex), time_unix_nano (int, ns: the record's time, else its observed time),
    event_name, role ('' unless the record carries exactly one message), content (JSON text) and
    attributes (the record's attributes, flattened to strings).
    """
    batch = LogsBatch(rows=[])
    records = sum(
        len(scope.log_records) for resource in request.resource_logs for scope in resource.scope_logs
    )
    if records > MAX_SPANS_PER_REQUEST:
        batch.rejected = records
        batch.errors.append(too_many(records, "log records", MAX_SPANS_PER_REQUEST))
        return batch
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                event_name = record.event_name or _event_name_attribute(record)
                if not event_name.startswith(sc.GEN_AI_EVENT_PREFIX):
                    batch.skipped += 1
                    continue
                problem = _problem(record, event_name)
                if problem is not None:
                    batch.rejected += 1
                    if len(batch.errors) < MAX_ERRORS:
                        batch.errors.append(f"log record {event_name[:100]!r} rejected: {problem}")
                    continue
                attributes = capped_attributes(record.attributes, batch)
                batch.rows.append(_row(record, event_name, attributes, project_id, batch))
    return batch


def _event_name_attribute(record: LogRecord) -> str:
    """The `event.name` attribute older SDKs name events with ('' without one); the other
    attributes of what may be any application log line are left undecoded."""
    for key_value in record.attributes:
        if key_value.key == sc.EVENT_NAME_ATTRIBUTE:
            return key_value.value.string_value
    return ""


def _time(record: LogRecord) -> int:
    return record.time_unix_nano or record.observed_time_unix_nano


def _problem(record: LogRecord, event_name: str) -> str | None:
    if len(record.trace_id) != 16 or record.trace_id == _ZERO_TRACE_ID:
        return "no trace_id: content must belong to a span"
    if len(record.span_id) != 8 or record.span_id == _ZERO_SPAN_ID:
        return "no span_id: content must belong to a span"
    time = _time(record)
    if not MIN_TIME_NS <= time <= MAX_TIME_NS:
        return f"time {time} ns is outside the years 2000 to 2262"
    if len(event_name) > MAX_ATTRIBUTE_KEY_CHARS:
        return f"an event name of {len(event_name)} characters (at most {MAX_ATTRIBUTE_KEY_CHARS})"
    return None


def _row(
    record: LogRecord,
    event_name: str,
    attributes: dict[str, AttributeValue],
    project_id: str,
    batch: LogsBatch,
) -> dict[str, object]:
    body = (
        capped_text(python_value(record.body), MAX_CONTENT_CHARS, batch) if record.HasField("body") else None
    )
    found = event_content(event_name, attributes, body)
    if found is not None:
        found = found.messages_only()
    content: dict[str, object]
    kept = attributes
    if found is None or not (found.input or found.output):
        content = {} if body in (None, "") else {sc.CONTENT_BODY: body}
        role = ""
    else:
        kept = {key: value for key, value in attributes.items() if key not in _CONTENT_ATTRIBUTES}
        content = {}
        if found.input:
            content[sc.CONTENT_INPUT] = found.input
        if found.output:
            content[sc.CONTENT_OUTPUT] = found.output
        role = found.role
    return {
        sc.PROJECT_ID: project_id,
        sc.TRACE_ID: record.trace_id.hex(),
        sc.SPAN_ID: record.span_id.hex(),
        sc.CONTENT_TIME_UNIX_NANO: _time(record),
        sc.CONTENT_EVENT_NAME: event_name,
        sc.CONTENT_ROLE: role,
        sc.CONTENT: compact_json(content),
        sc.ATTRIBUTES: flat_attributes(kept, batch),
    }


def content_texts(rows: Iterable[Mapping[str, object]]) -> tuple[str, str]:
    """A span's `input_text` and `output_text` from its content rows (any order, duplicates
    allowed, as a read without FINAL may see them): the input messages, then the output messages,
    each as a canonical JSON list in time order; '' for a side no row speaks of."""
    unique: dict[tuple[object, ...], Mapping[str, object]] = {}
    for row in rows:
        key = (
            row[sc.CONTENT_TIME_UNIX_NANO],
            row[sc.CONTENT_EVENT_NAME],
            row[sc.CONTENT_ROLE],
            row[sc.CONTENT],
        )
        unique.setdefault(key, row)
    ordered = sorted(
        unique.values(),
        key=lambda row: (row[sc.CONTENT_TIME_UNIX_NANO], _ROLE_ORDER.get(str(row[sc.CONTENT_ROLE]), 4)),
    )
    inputs: list[Message] = []
    outputs: list[Message] = []
    for row in ordered:
        try:
            document = json.loads(str(row[sc.CONTENT]))
        except ValueError:
            continue
        if isinstance(document, dict):
            inputs.extend(m for m in document.get(sc.CONTENT_INPUT) or () if isinstance(m, dict))
            outputs.extend(m for m in document.get(sc.CONTENT_OUTPUT) or () if isinstance(m, dict))
    return (messages_json(inputs) if inputs else "", messages_json(outputs) if outputs else "")
