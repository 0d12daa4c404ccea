"""OTLP spans to canonical span rows (semconv.CANONICAL_COLUMNS), one dict per valid span.

Spans that cannot be stored (bad ids, impossible times) are rejected one by one and counted, so
the rest of the request is kept and the app can answer with a partial success.

The request is read through the wire view of `_wire` (attributes as encoded bytes), and each
distinct small attribute is decoded once and remembered (`CompiledDialects.read_attribute`): that
is what makes normalisation fast enough, as most attributes recur from span to span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tokentrail import semconv as sc
from tokentrail.semconv import (
    ATTRIBUTES,
    COST_SOURCE,
    COST_USD,
    DURATION_MS,
    END_TIME,
    EVENT_ATTRIBUTES,
    EVENT_NAME,
    EVENT_TIME_UNIX_NANO,
    EVENTS,
    FINISH_REASONS,
    INPUT_TEXT,
    INPUT_TOKENS,
    NAME,
    OUTPUT_TEXT,
    OUTPUT_TOKENS,
    PARENT_SPAN_ID,
    PROJECT_ID,
    REQUEST_MODEL,
    REQUEST_PARAMS,
    RESOURCE_ATTRIBUTES,
    RESPONSE_MODEL,
    SERVICE,
    SPAN_ID,
    START_TIME,
    STATUS_CODE,
    STATUS_MESSAGE,
    TAGS,
    TOTAL_TOKENS,
    TRACE_ID,
)
from tokentrail_collector.normalise._dialect import (
    ALWAYS,
    GATES,
    REFUSED,
    CompiledDialects,
    EventRecord,
    ReadAttribute,
    SpanView,
    compile_dialects,
)
from tokentrail_collector.normalise._dialects import DIALECTS
from tokentrail_collector.normalise._limits import (
    CUT_MARK,
    MAX_ATTRIBUTE_VALUE_CHARS,
    MAX_ATTRIBUTES_PER_SPAN,
    MAX_CONTENT_CHARS,
    MAX_EVENTS_PER_SPAN,
    MAX_SPANS_PER_REQUEST,
    cut,
    limits_note,
    too_many,
)
from tokentrail_collector.normalise._values import AttributeValue, compact_json
from tokentrail_collector.normalise._wire import WireEvent, WireSpan, traces_view

MAX_ERRORS = 10  # messages kept per batch; `rejected` counts them all

# Times a span may have: from 2000-01-01 (earlier means a clock that was never set) to the end
# of DateTime64(9), the store's time type (2262-04-11).
MIN_TIME_NS = 946_684_800 * 10**9
MAX_TIME_NS = 2**63 - 1

_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
_STATUS_BY_CODE = {
    0: sc.StatusCode.UNSET.value,
    1: sc.StatusCode.OK.value,
    2: sc.StatusCode.ERROR.value,
}
_UNSET = sc.StatusCode.UNSET.value
_COST_FROM_SDK = sc.CostSource.SDK.value
_NO_EVENTS = "[]"

# Every column's value when nothing says otherwise: None where unknown (never 0), '' for text.
# The lists and maps are placeholders, replaced by a fresh object in every row.
_DEFAULTS: dict[str, object] = {
    sc.PROJECT_ID: "", sc.TRACE_ID: "", sc.SPAN_ID: "", sc.PARENT_SPAN_ID: "", sc.NAME: "",
    sc.KIND: sc.SpanKind.OTHER.value, sc.SERVICE: "",
    sc.START_TIME: 0, sc.END_TIME: 0, sc.DURATION_MS: 0.0, sc.TIME_TO_FIRST_TOKEN_MS: None,
    sc.STATUS_CODE: _UNSET, sc.STATUS_MESSAGE: "", sc.ERROR_TYPE_COLUMN: "", sc.FINISH_REASONS: None,
    sc.PROVIDER: "", sc.OPERATION: "", sc.REQUEST_MODEL: "", sc.RESPONSE_MODEL: "",
    sc.IS_STREAMING: False, sc.REQUEST_PARAMS: None,
    sc.INPUT_TOKENS: None, sc.OUTPUT_TOKENS: None, sc.CACHED_INPUT_TOKENS: None,
    sc.CACHE_WRITE_INPUT_TOKENS: None, sc.REASONING_TOKENS: None, sc.TOTAL_TOKENS: None, sc.TOKENS_ESTIMATED: False,
    sc.COST_USD: None, sc.COST_SOURCE: sc.CostSource.UNKNOWN.value,
    sc.INPUT_TEXT: "", sc.OUTPUT_TEXT: "",
    sc.GPU_UTIL_AVG: None, sc.GPU_UTIL_MAX: None, sc.GPU_MEMORY_PEAK_BYTES: None,
    sc.GPU_POWER_AVG_WATTS: None, sc.GPU_ENERGY_JOULES: None,
    sc.SESSION: "", sc.USER: "", sc.TAGS: None,
    sc.ATTRIBUTES: None, sc.RESOURCE_ATTRIBUTES: None, sc.EVENTS: _NO_EVENTS,
}  # fmt: skip
# In storage order, so `list(row.values())` lines up with the table's columns.
_ROW_TEMPLATE = {column: _DEFAULTS[column] for column in sc.CANONICAL_COLUMNS}

_COMPILED = compile_dialects(DIALECTS)
_MAX_CUT_CONTENT_CHARS = MAX_CONTENT_CHARS + len(CUT_MARK)


@dataclass(slots=True)
class NormalisedBatch:
    """The rows of the valid spans of a request, and how many spans were rejected and why."""

    rows: list[dict[str, object]]
    rejected: int = 0
    errors: list[str] = field(default_factory=list)  # at most MAX_ERRORS human messages
    # Kept spans that did not fit the caps of `_limits`: values cut, attributes or events dropped
    # past the caps (each counts one), and attributes dropped for a refused key.
    truncated: int = 0
    refused_keys: int = 0

    def limits_note(self) -> str:
        """What the caps cut, for the partial-success message; '' when nothing."""
        return limits_note(self.truncated, self.refused_keys, "span")


def normalise_traces(request: ExportTraceServiceRequest | bytes, *, project_id: str) -> NormalisedBatch:
    """The canonical rows of every valid span in `request`, for project `project_id`.

    `request` is the decoded message or, cheaper, its protobuf encoding once it decoded (the
    normaliser reads the encoding through `_wire`; re-encoding a decoded message costs more than
    the rest of the reading). The project comes from the caller (the API key), never from the payload.
    """
    return _normalise(request, project_id, _COMPILED)


def _normalise(
    request: ExportTraceServiceRequest | bytes, project_id: str, compiled: CompiledDialects
) -> NormalisedBatch:
    batch = NormalisedBatch(rows=[])
    rows = batch.rows
    view = traces_view(request if isinstance(request, bytes) else request.SerializeToString())
    spans = sum(len(scope.spans) for resource in view.resource_spans for scope in resource.scope_spans)
    if spans > MAX_SPANS_PER_REQUEST:
        batch.rejected = spans
        batch.errors.append(too_many(spans, "spans", MAX_SPANS_PER_REQUEST))
        return batch
    for resource_spans in view.resource_spans:
        resource_attributes = _flat_attributes(resource_spans.resource.attributes, compiled, batch)
        service_name = resource_attributes.get(sc.SERVICE_NAME) or sc.UNKNOWN_SERVICE
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            for span in scope_spans.spans:
                problem = _problem(span)
                if problem is not None:
                    batch.rejected += 1
                    if len(batch.errors) < MAX_ERRORS:
                        batch.errors.append(_rejection_message(span, problem))
                    continue
                row = _row(span, scope_name, compiled, batch)
                row[PROJECT_ID] = project_id
                row[SERVICE] = service_name
                row[RESOURCE_ATTRIBUTES] = resource_attributes.copy()
                rows.append(row)
    return batch


def _problem(span: WireSpan) -> str | None:
    """Why the span cannot be stored, or None when it can."""
    trace_id = span.trace_id
    span_id = span.span_id
    start = span.start_time_unix_nano
    end = span.end_time_unix_nano
    if (
        len(trace_id) == 16
        and len(span_id) == 8
        and len(span.parent_span_id) in (0, 8)
        and MIN_TIME_NS <= start <= end <= MAX_TIME_NS
        and trace_id != _ZERO_TRACE_ID
        and span_id != _ZERO_SPAN_ID
    ):
        return None
    if len(trace_id) != 16:
        return f"trace_id is {len(trace_id)} bytes, expected 16"
    if trace_id == _ZERO_TRACE_ID:
        return "trace_id is all zeros"
    if len(span_id) != 8:
        return f"span_id is {len(span_id)} bytes, expected 8"
    if span_id == _ZERO_SPAN_ID:
        return "span_id is all zeros"
    if len(span.parent_span_id) not in (0, 8):
        return f"parent_span_id is {len(span.parent_span_id)} bytes, expected 8 or none"
    if start == 0:
        return "start time is missing (0)"
    if not MIN_TIME_NS <= start <= MAX_TIME_NS:
        return f"start time {start} ns is outside the years 2000 to 2262"
    if end < start:
        return f"end time {end} ns is before start time {start} ns"
    return f"end time {end} ns is after the year 2262"


def _rejection_message(span: WireSpan, problem: str) -> str:
    return (
        f"span {span.name[:100]!r} (trace_id {span.trace_id.hex()[:32] or '-'}, "
        f"span_id {span.span_id.hex()[:16] or '-'}) rejected: {problem}"
    )


def _flat_attributes(
    attributes: Sequence[bytes], compiled: CompiledDialects, batch: NormalisedBatch
) -> dict[str, str]:
    """Attributes as a Map(String, String) column holds them (resource attributes), within the caps."""
    remembered = compiled.remembered
    flat: dict[str, str] = {}
    for encoded in _within_cap(attributes, batch):
        read = remembered.get(encoded) or _read_new(encoded, compiled, batch, MAX_ATTRIBUTE_VALUE_CHARS)
        if read is not None:
            flat[read[0]] = read[2]
    return flat


def _within_cap(attributes: Sequence[bytes], batch: NormalisedBatch) -> Sequence[bytes]:
    """The first MAX_ATTRIBUTES_PER_SPAN attributes; the others counted as cut."""
    if len(attributes) <= MAX_ATTRIBUTES_PER_SPAN:
        return attributes
    batch.truncated += len(attributes) - MAX_ATTRIBUTES_PER_SPAN
    return attributes[:MAX_ATTRIBUTES_PER_SPAN]


def _read_new(
    encoded: bytes, compiled: CompiledDialects, batch: NormalisedBatch, text_limit: int
) -> ReadAttribute | None:
    """The slow path of reading an attribute: None for a refused key, the flattened text cut to
    `text_limit`; both counted. (Only here can a key be refused or a value be too long, as what is
    remembered is small and was read here first.)"""
    read = compiled.read_attribute(encoded)
    if read is REFUSED:
        batch.refused_keys += 1
        return None
    if len(read[2]) > text_limit:
        # Only the text is cut: columns and derivers read the value (within MAX_CONTENT_CHARS,
        # as read_attribute cuts it), so a long prompt keeps more of itself in input_text.
        batch.truncated += 1
        return (read[0], read[1], cut(read[2], text_limit), read[3])
    return read


def _row(
    span: WireSpan, scope_name: str, compiled: CompiledDialects, batch: NormalisedBatch
) -> dict[str, object]:
    remembered = compiled.remembered
    values: dict[str, AttributeValue] = {}
    flat: dict[str, str] = {}
    found: dict[str, object] = {}
    ranks: dict[object, int] = {}
    attributes = span.attributes
    if len(attributes) > MAX_ATTRIBUTES_PER_SPAN:  # checked here: a call per span shows in the benchmark
        attributes = _within_cap(attributes, batch)
    for encoded in attributes:
        read = remembered.get(encoded)
        if read is None:
            read = _read_new(encoded, compiled, batch, MAX_ATTRIBUTE_VALUE_CHARS)
            if read is None:
                continue
        key, value, text, actions = read
        flat[key] = text
        values[key] = value
        for rank, column, converted, contested, map_key in actions:
            if map_key is None:
                if contested:
                    held = ranks.get(column)
                    if held is not None and held < rank:
                        continue
                    ranks[column] = rank
                found[column] = converted
            else:
                _put_map_entry(found, ranks, rank, column, map_key, converted, contested)

    if span.events:
        span_events = span.events
        if len(span_events) > MAX_EVENTS_PER_SPAN:
            batch.truncated += len(span_events) - MAX_EVENTS_PER_SPAN
            span_events = span_events[:MAX_EVENTS_PER_SPAN]
        events: list[EventRecord] = [_event_record(event, compiled, batch) for event in span_events]
        events_json = compact_json(events)
    else:
        events = []
        events_json = _NO_EVENTS
    gates = found.pop(GATES, None)
    if gates is not None or compiled.any_always or (events and compiled.any_on_events):
        view = SpanView(values, flat, events, scope_name, span.start_time_unix_nano)
        for derive, gate in compiled.derivers:
            if gate >= 0:
                if gates is not None and gate in gates:
                    derive(view, found)
            elif gate == ALWAYS or events:
                derive(view, found)

    row = _ROW_TEMPLATE.copy()
    row.update(found)
    start = span.start_time_unix_nano
    end = span.end_time_unix_nano
    parent = span.parent_span_id
    status = span.status
    row[TRACE_ID] = span.trace_id.hex()
    row[SPAN_ID] = span.span_id.hex()
    row[PARENT_SPAN_ID] = "" if parent == _ZERO_SPAN_ID else parent.hex()
    name = span.name
    row[NAME] = (
        name if len(name) <= MAX_ATTRIBUTE_VALUE_CHARS else _cut(name, MAX_ATTRIBUTE_VALUE_CHARS, batch)
    )
    row[START_TIME] = start
    row[END_TIME] = end
    row[DURATION_MS] = (end - start) / 1e6
    row[STATUS_CODE] = _STATUS_BY_CODE.get(status.code, _UNSET)
    message = status.message
    row[STATUS_MESSAGE] = (
        message
        if len(message) <= MAX_ATTRIBUTE_VALUE_CHARS
        else _cut(message, MAX_ATTRIBUTE_VALUE_CHARS, batch)
    )
    row[ATTRIBUTES] = flat
    row[EVENTS] = events_json

    # Fresh containers (read attributes are shared between spans), and columns that follow from others.
    reasons = found.get(FINISH_REASONS)
    row[FINISH_REASONS] = [] if reasons is None else list(reasons)  # type: ignore[call-overload]
    tags = found.get(TAGS)
    row[TAGS] = [] if tags is None else list(tags)  # type: ignore[call-overload]
    if REQUEST_PARAMS not in found:
        row[REQUEST_PARAMS] = {}
    if RESPONSE_MODEL not in found and REQUEST_MODEL in found:
        row[RESPONSE_MODEL] = found[REQUEST_MODEL]
    if TOTAL_TOKENS not in found:
        input_tokens = found.get(INPUT_TOKENS)
        output_tokens = found.get(OUTPUT_TOKENS)
        if input_tokens is not None and output_tokens is not None:
            row[TOTAL_TOKENS] = input_tokens + output_tokens  # type: ignore[operator]
    if COST_USD in found and COST_SOURCE not in found:
        row[COST_SOURCE] = _COST_FROM_SDK
    # Derivers may join several messages into the text columns: cap what they made (a value
    # that read_attribute cut already is one mark longer than the cap, and counted already).
    if len(row[INPUT_TEXT]) > _MAX_CUT_CONTENT_CHARS:  # type: ignore[arg-type]
        row[INPUT_TEXT] = _cut(row[INPUT_TEXT], MAX_CONTENT_CHARS, batch)  # type: ignore[arg-type]
    if len(row[OUTPUT_TEXT]) > _MAX_CUT_CONTENT_CHARS:  # type: ignore[arg-type]
        row[OUTPUT_TEXT] = _cut(row[OUTPUT_TEXT], MAX_CONTENT_CHARS, batch)  # type: ignore[arg-type]
    return row


def _cut(text: str, limit: int, batch: NormalisedBatch) -> str:
    batch.truncated += 1
    return cut(text, limit)


def _event_record(event: WireEvent, compiled: CompiledDialects, batch: NormalisedBatch) -> EventRecord:
    """An event as stored; its attribute values may be as long as content (MAX_CONTENT_CHARS),
    as the older GenAI conventions send prompts and completions as event attributes."""
    remembered = compiled.remembered
    attributes: dict[str, AttributeValue] = {}
    for encoded in _within_cap(event.attributes, batch):
        read = remembered.get(encoded) or _read_new(encoded, compiled, batch, MAX_CONTENT_CHARS)
        if read is not None:
            attributes[read[0]] = read[1]
    name = event.name
    if len(name) > MAX_ATTRIBUTE_VALUE_CHARS:
        name = _cut(name, MAX_ATTRIBUTE_VALUE_CHARS, batch)
    return {EVENT_NAME: name, EVENT_TIME_UNIX_NANO: event.time_unix_nano, EVENT_ATTRIBUTES: attributes}


def _put_map_entry(
    found: dict[str, object],
    ranks: dict[object, int],
    rank: int,
    column: str,
    map_key: str,
    converted: object,
    contested: bool,
) -> None:
    entries = found.get(column)
    if entries is None:
        entries = found[column] = {}
    if contested:
        held = ranks.get((column, map_key))
        if held is not None and held < rank:
            return
        ranks[(column, map_key)] = rank
    entries[map_key] = converted  # type: ignore[index]
