"""The normaliser's wire view of OTLP traces matches the official schema, and its memory stays bounded."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

import tokentrail_collector.normalise._dialect as dialect_module
from tests.otlp.otlp_spans import llm_request
from tokentrail import semconv as sc
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.normalise._traces import _COMPILED
from tokentrail_collector.normalise._wire import VIEW_CLASSES, traces_view

OFFICIAL = {
    "TracesView": ExportTraceServiceRequest,
    "ResourceSpansView": ResourceSpans,
    "ResourceView": Resource,
    "ScopeSpansView": ScopeSpans,
    "ScopeView": InstrumentationScope,
    "SpanView": Span,
    "EventView": Span.Event,
    "StatusView": Status,
}
# (view type, official type) pairs that share a wire encoding.
COMPATIBLE = {
    (FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_MESSAGE),  # an attribute list read as encoded KeyValues
    (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_ENUM),
}


@pytest.mark.parametrize("view_name", list(OFFICIAL))
def test_every_view_field_has_the_number_and_wire_type_of_the_otlp_field(view_name: str) -> None:
    view = VIEW_CLASSES[view_name].DESCRIPTOR
    official = OFFICIAL[view_name].DESCRIPTOR
    for field in view.fields:
        twin = official.fields_by_name[field.name]
        assert field.number == twin.number, field.name
        assert field.is_repeated == twin.is_repeated, field.name
        same_type = field.type == twin.type or (field.type, twin.type) in COMPATIBLE
        assert same_type, f"{view_name}.{field.name}: {field.type} vs {twin.type}"
        if field.type == twin.type == FieldDescriptor.TYPE_MESSAGE:
            assert OFFICIAL[field.message_type.name] is not None
            assert OFFICIAL[field.message_type.name].DESCRIPTOR.full_name == twin.message_type.full_name
        if field.type == FieldDescriptor.TYPE_BYTES and twin.type == FieldDescriptor.TYPE_MESSAGE:
            assert twin.message_type.full_name == KeyValue.DESCRIPTOR.full_name


def test_view_reads_what_the_official_classes_read() -> None:
    request = llm_request(3)
    view = traces_view(request.SerializeToString())
    for resource_spans, resource_view in zip(request.resource_spans, view.resource_spans, strict=True):
        assert [kv.SerializeToString() for kv in resource_spans.resource.attributes] == list(
            resource_view.resource.attributes
        )
        for scope_spans, scope_view in zip(
            resource_spans.scope_spans, resource_view.scope_spans, strict=True
        ):
            assert (scope_view.scope.name, scope_view.scope.version) == (scope_spans.scope.name, "1.0")
            for span, span_view in zip(scope_spans.spans, scope_view.spans, strict=True):
                assert [kv.SerializeToString() for kv in span.attributes] == list(span_view.attributes)
                for name in (
                    "trace_id",
                    "span_id",
                    "parent_span_id",
                    "name",
                    "start_time_unix_nano",
                    "end_time_unix_nano",
                ):
                    assert getattr(span_view, name) == getattr(span, name)
                assert (span_view.status.code, span_view.status.message) == (
                    span.status.code,
                    span.status.message,
                )


def test_remembered_attributes_stay_bounded_and_large_ones_are_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dialect_module, "MAX_REMEMBERED_ATTRIBUTES", 50)
    _COMPILED.remembered.clear()
    batch = normalise_traces(llm_request(40), project_id="p")  # dozens of distinct small attributes
    assert len(batch.rows) == 40
    assert 0 < len(_COMPILED.remembered) <= 50
    assert all(
        len(encoded) <= dialect_module.MAX_REMEMBERED_ATTRIBUTE_BYTES for encoded in _COMPILED.remembered
    )
    # What was cleared along the way is read again, identically (ids and the SDK's instance id differ).
    again = normalise_traces(llm_request(40), project_id="p")
    same = [c for c in sc.CANONICAL_COLUMNS if c not in (sc.TRACE_ID, sc.SPAN_ID, sc.RESOURCE_ATTRIBUTES)]
    assert [[row[c] for c in same] for row in again.rows] == [[row[c] for c in same] for row in batch.rows]
    _COMPILED.remembered.clear()


def test_changing_a_row_does_not_change_the_next_one() -> None:
    first, second = normalise_traces(llm_request(2), project_id="p").rows
    first[sc.TAGS].append("mutated")  # type: ignore[union-attr]
    first[sc.FINISH_REASONS].clear()  # type: ignore[union-attr]
    first[sc.REQUEST_PARAMS]["temperature"] = "9"  # type: ignore[index]
    (third,) = normalise_traces(llm_request(1), project_id="p").rows
    for row in (second, third):
        assert row[sc.TAGS] == ["prod", "checkout"]
        assert row[sc.FINISH_REASONS] == ["stop"]
        assert row[sc.REQUEST_PARAMS]["temperature"] == "0.7"  # type: ignore[index]
