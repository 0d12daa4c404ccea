"""Properties over generated spans: protobuf and OTLP/JSON give the same rows, JSON round-trips,
no attribute is lost, and every row fits the spans table whatever values the attributes hold."""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.trace import Status as SdkStatus
from opentelemetry.trace import StatusCode as SdkStatusCode
from opentelemetry.trace import Tracer

from tests.otlp.otlp_schema import column_types, fits
from tests.otlp.otlp_spans import FixedIds, export_request
from tokentrail import semconv as sc
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.normalise._limits import refused_key
from tokentrail_collector.normalise._traces import MAX_TIME_NS, MIN_TIME_NS
from tokentrail_collector.otlp import decode_trace_request, encode_trace_request_json

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
COLUMN_TYPES = column_types()

# Every key a dialect reads, so generated values of every type reach every converter.
KNOWN_KEYS = sorted(
    value
    for name, value in vars(sc).items()
    if isinstance(value, str) and name.startswith(("GEN_AI_", "TT_", "SESSION_ID", "USER_ID", "ERROR_TYPE"))
    and "." in value
)  # fmt: skip

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
# Refused keys (control characters, __proto__, ...) are dropped: tests/hostile covers them.
keys = st.one_of(st.sampled_from(KNOWN_KEYS), text.filter(bool).filter(lambda key: not refused_key(key)))
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=True, allow_infinity=True)
# What the SDK accepts as an attribute value: a scalar, or a sequence of one scalar type.
sdk_values = st.one_of(
    text,
    st.booleans(),
    int64,
    floats,
    st.lists(text, max_size=4).map(tuple),
    st.lists(int64, max_size=4).map(tuple),
    st.lists(floats, max_size=4).map(tuple),
    st.lists(st.booleans(), max_size=4).map(tuple),
)
sdk_attributes = st.dictionaries(keys, sdk_values, max_size=12)


@dataclass
class GeneratedSpan:
    name: str
    attributes: dict[str, Any]
    trace_id: int
    span_id: int
    start: int
    duration: int
    events: list[tuple[str, dict[str, Any], int]]
    status: SdkStatusCode
    status_message: str


generated_spans = st.builds(
    GeneratedSpan,
    name=text,
    attributes=sdk_attributes,
    trace_id=st.integers(min_value=1, max_value=2**128 - 1),
    span_id=st.integers(min_value=1, max_value=2**64 - 1),
    start=st.integers(min_value=MIN_TIME_NS, max_value=MAX_TIME_NS - 10**15),
    duration=st.integers(min_value=0, max_value=10**15),
    events=st.lists(st.tuples(text, st.dictionaries(text.filter(bool), sdk_values, max_size=3), st.integers(0, 10**12)), max_size=2),
    status=st.sampled_from(list(SdkStatusCode)),
    status_message=text,
)  # fmt: skip


def sdk_request(spans: list[GeneratedSpan], resource: dict[str, Any]) -> ExportTraceServiceRequest:
    def emit(tracer: Tracer) -> None:
        for generated in spans:
            span = tracer.start_span(
                generated.name, attributes=generated.attributes, start_time=generated.start
            )
            for name, attributes, offset in generated.events:
                span.add_event(name, attributes, timestamp=generated.start + offset)
            message = generated.status_message if generated.status is SdkStatusCode.ERROR else None
            span.set_status(SdkStatus(generated.status, message))
            span.end(end_time=generated.start + generated.duration)

    ids = FixedIds([s.trace_id for s in spans], [s.span_id for s in spans])
    return export_request(emit, resource=resource, id_generator=ids)


def decode(body: bytes, content_type: str, content_encoding: str | None = None) -> ExportTraceServiceRequest:
    return decode_trace_request(
        body, content_type=content_type, content_encoding=content_encoding, max_body_bytes=1 << 26
    )


@PROPERTY_SETTINGS
@given(spans=st.lists(generated_spans, min_size=1, max_size=4), resource=sdk_attributes)
def test_protobuf_and_json_of_the_same_spans_give_identical_rows(
    spans: list[GeneratedSpan], resource: dict[str, Any]
) -> None:
    request = sdk_request(spans, resource)
    from_protobuf = decode(gzip.compress(request.SerializeToString()), "application/x-protobuf", "gzip")
    from_json = decode(encode_trace_request_json(request), "application/json")
    rows = normalise_traces(request, project_id="p")
    assert (rows.rejected, len(rows.rows)) == (0, len(spans))
    assert normalise_traces(from_protobuf, project_id="p") == rows
    assert normalise_traces(from_json, project_id="p") == rows


def expected_flat(value: Any) -> str:
    """What the `attributes` column should hold for an SDK attribute value (an independent oracle)."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@PROPERTY_SETTINGS
@given(spans=st.lists(generated_spans, min_size=1, max_size=3), resource=sdk_attributes)
def test_rows_keep_every_attribute_and_fit_the_table(
    spans: list[GeneratedSpan], resource: dict[str, Any]
) -> None:
    batch = normalise_traces(sdk_request(spans, resource), project_id="p")
    for generated, row in zip(spans, batch.rows, strict=True):
        assert tuple(row) == sc.CANONICAL_COLUMNS
        assert row[sc.ATTRIBUTES] == {
            key: expected_flat(value) for key, value in generated.attributes.items()
        }
        resource_attributes = row[sc.RESOURCE_ATTRIBUTES]
        assert isinstance(resource_attributes, dict)
        assert {key: resource_attributes[key] for key in resource} == {
            key: expected_flat(value) for key, value in resource.items()
        }
        assert row[sc.TRACE_ID] == f"{generated.trace_id:032x}"
        assert row[sc.SPAN_ID] == f"{generated.span_id:016x}"
        assert (row[sc.NAME], row[sc.START_TIME]) == (generated.name, generated.start)
        assert row[sc.DURATION_MS] == generated.duration / 1e6
        assert (
            row[sc.STATUS_CODE]
            == {SdkStatusCode.UNSET: "unset", SdkStatusCode.OK: "ok", SdkStatusCode.ERROR: "error"}[
                generated.status
            ]
        )
        assert len(json.loads(row[sc.EVENTS])) == len(generated.events)  # type: ignore[arg-type]
        misfits = {c: row[c] for c, t in COLUMN_TYPES.items() if not fits(row[c], t)}
        assert misfits == {}


# --- OTLP/JSON round trip over hand-built messages (every AnyValue kind, links, events) -----

finite = st.floats(allow_nan=False, allow_infinity=True)
any_values = st.recursive(
    st.one_of(
        st.just(AnyValue()),
        text.map(lambda v: AnyValue(string_value=v)),
        st.booleans().map(lambda v: AnyValue(bool_value=v)),
        int64.map(lambda v: AnyValue(int_value=v)),
        finite.map(lambda v: AnyValue(double_value=v)),
        st.binary(max_size=12).map(lambda v: AnyValue(bytes_value=v)),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda v: AnyValue(array_value=ArrayValue(values=v))),
        st.lists(st.tuples(text, children), max_size=3).map(
            lambda pairs: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in pairs])
            )
        ),
    ),
    max_leaves=8,
)
key_values = st.lists(st.builds(KeyValue, key=text, value=any_values), max_size=4)
uint64 = st.integers(min_value=0, max_value=2**64 - 1)
proto_spans = st.builds(
    Span,
    trace_id=st.binary(min_size=16, max_size=16),
    span_id=st.binary(min_size=8, max_size=8),
    parent_span_id=st.one_of(st.just(b""), st.binary(min_size=8, max_size=8)),
    trace_state=text,
    name=text,
    kind=st.integers(min_value=0, max_value=5),
    start_time_unix_nano=uint64,
    end_time_unix_nano=uint64,
    attributes=key_values,
    dropped_attributes_count=st.integers(min_value=0, max_value=2**32 - 1),
    events=st.lists(st.builds(Span.Event, time_unix_nano=uint64, name=text, attributes=key_values), max_size=2),
    links=st.lists(
        st.builds(Span.Link, trace_id=st.binary(min_size=16, max_size=16), span_id=st.binary(min_size=8, max_size=8),
                  attributes=key_values, flags=st.integers(0, 2**32 - 1)),
        max_size=2,
    ),
    status=st.builds(Status, code=st.integers(min_value=0, max_value=2), message=text),
    flags=st.integers(min_value=0, max_value=2**32 - 1),
)  # fmt: skip


@st.composite
def proto_requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        resource_spans = request.resource_spans.add(schema_url=draw(text))
        resource_spans.resource.attributes.extend(draw(key_values))
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = draw(text)
        scope_spans.scope.version = draw(text)
        scope_spans.spans.extend(draw(st.lists(proto_spans, max_size=3)))
    return request


@PROPERTY_SETTINGS
@given(request=proto_requests())
def test_json_encode_then_decode_gives_back_the_request(request: ExportTraceServiceRequest) -> None:
    body = encode_trace_request_json(request)
    decoded = decode(body, "application/json")
    assert decoded.SerializeToString(deterministic=True) == request.SerializeToString(deterministic=True)
    assert encode_trace_request_json(decoded) == body


@PROPERTY_SETTINGS
@given(request=proto_requests())
def test_normalisation_never_fails_and_accounts_for_every_span(request: ExportTraceServiceRequest) -> None:
    batch = normalise_traces(request, project_id="p")
    total = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
    assert len(batch.rows) + batch.rejected == total
    assert len(batch.errors) == min(batch.rejected, 10)
    for row in batch.rows:
        assert {c: row[c] for c, t in COLUMN_TYPES.items() if not fits(row[c], t)} == {}


def test_nan_doubles_survive_the_json_round_trip() -> None:
    request = ExportTraceServiceRequest()
    span = (
        request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    )
    span.attributes.add(key="nan", value=AnyValue(double_value=math.nan))
    decoded = decode(encode_trace_request_json(request), "application/json")
    assert math.isnan(decoded.resource_spans[0].scope_spans[0].spans[0].attributes[0].value.double_value)
