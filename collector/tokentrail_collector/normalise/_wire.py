"""A second, read-only view of the OTLP trace wire format, made for fast normalisation.

Reading attributes through the generated OTLP classes costs a Python wrapper object per KeyValue
and per AnyValue, which on its own caps normalisation far below what the collector needs. These
view messages share the OTLP field numbers but declare each attribute list as `repeated bytes`, so
the C parser hands over every encoded KeyValue as one bytes object: identical attributes (the same
model, parameters, tags in span after span) are then identical bytes, and `_attributes` decodes
each distinct one once. Fields the normaliser does not read (links, trace state, counts of dropped
items) are simply not declared, so the parser skips them.

The view is built from a descriptor here rather than a .proto file so the package needs no protoc
step; `tests/otlp` checks each field against the official OTLP descriptors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

_Field = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "tokentrail.otlp_view.v1"

# message -> (field name, number, type, repeated, message type); names follow the OTLP messages.
VIEW_SCHEMA: dict[str, tuple[tuple[str, int, int, bool, str | None], ...]] = {
    "TracesView": (("resource_spans", 1, _Field.TYPE_MESSAGE, True, "ResourceSpansView"),),
    "ResourceSpansView": (
        ("resource", 1, _Field.TYPE_MESSAGE, False, "ResourceView"),
        ("scope_spans", 2, _Field.TYPE_MESSAGE, True, "ScopeSpansView"),
    ),
    "ResourceView": (("attributes", 1, _Field.TYPE_BYTES, True, None),),
    "ScopeSpansView": (
        ("scope", 1, _Field.TYPE_MESSAGE, False, "ScopeView"),
        ("spans", 2, _Field.TYPE_MESSAGE, True, "SpanView"),
    ),
    "ScopeView": (
        ("name", 1, _Field.TYPE_STRING, False, None),
        ("version", 2, _Field.TYPE_STRING, False, None),
    ),
    "SpanView": (
        ("trace_id", 1, _Field.TYPE_BYTES, False, None),
        ("span_id", 2, _Field.TYPE_BYTES, False, None),
        ("parent_span_id", 4, _Field.TYPE_BYTES, False, None),
        ("name", 5, _Field.TYPE_STRING, False, None),
        ("start_time_unix_nano", 7, _Field.TYPE_FIXED64, False, None),
        ("end_time_unix_nano", 8, _Field.TYPE_FIXED64, False, None),
        ("attributes", 9, _Field.TYPE_BYTES, True, None),
        ("events", 11, _Field.TYPE_MESSAGE, True, "EventView"),
        ("status", 15, _Field.TYPE_MESSAGE, False, "StatusView"),
    ),
    "EventView": (
        ("time_unix_nano", 1, _Field.TYPE_FIXED64, False, None),
        ("name", 2, _Field.TYPE_STRING, False, None),
        ("attributes", 3, _Field.TYPE_BYTES, True, None),
    ),
    "StatusView": (
        ("message", 2, _Field.TYPE_STRING, False, None),
        ("code", 3, _Field.TYPE_INT32, False, None),
    ),
}


def _build_view_classes() -> dict[str, type[Message]]:
    file = descriptor_pb2.FileDescriptorProto(
        name="tokentrail/otlp_trace_view.proto", package=_PACKAGE, syntax="proto3"
    )
    for message_name, fields in VIEW_SCHEMA.items():
        message = file.message_type.add(name=message_name)
        for name, number, field_type, repeated, type_name in fields:
            field = message.field.add(
                name=name,
                number=number,
                type=field_type,  # type: ignore[arg-type]
                label=_Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL,
            )
            if type_name is not None:
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()  # private: nothing else sees these types
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name in VIEW_SCHEMA
    }


VIEW_CLASSES = _build_view_classes()
_TracesView = VIEW_CLASSES["TracesView"]


# What the normaliser reads, typed for readers and checkers.
class WireStatus(Protocol):
    message: str
    code: int


class WireEvent(Protocol):
    time_unix_nano: int
    name: str
    attributes: Sequence[bytes]


class WireSpan(Protocol):
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: Sequence[bytes]  # each an encoded opentelemetry.proto.common.v1.KeyValue
    events: Sequence[WireEvent]
    status: WireStatus


class WireScope(Protocol):
    name: str
    version: str


class WireScopeSpans(Protocol):
    scope: WireScope
    spans: Sequence[WireSpan]


class WireResource(Protocol):
    attributes: Sequence[bytes]


class WireResourceSpans(Protocol):
    resource: WireResource
    scope_spans: Sequence[WireScopeSpans]


class WireTraces(Protocol):
    resource_spans: Sequence[WireResourceSpans]


def traces_view(encoded_request: bytes) -> WireTraces:
    """The view of an encoded ExportTraceServiceRequest."""
    view: WireTraces = _TracesView.FromString(encoded_request)  # type: ignore[assignment]
    return view
