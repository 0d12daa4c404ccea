"""OTLP/JSON: the protobuf JSON mapping with the deviations the OTLP specification makes.

Trace and span ids are hex strings (case-insensitive), not base64; enums are integers; keys are
lowerCamelCase (the proto field names are accepted too); unknown fields are ignored. The hex ids
are turned into the protobuf JSON mapping's base64 before `json_format.ParseDict`, and back on
the way out, guided by the message descriptors so every signal (spans, span links, log records,
metric exemplars) is covered without listing paths by hand.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from tokentrail_collector.otlp._errors import OtlpError

MessageT = TypeVar("MessageT", bound=Message)

# The bytes fields OTLP/JSON writes in hex, with the length each must have.
_ID_LENGTHS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
_MAX_JSON_DEPTH = 100  # the same nesting limit the protobuf parser applies


@dataclass(frozen=True, slots=True)
class _IdField:
    name: str  # the lowerCamelCase JSON name, for messages
    length: int


@dataclass(frozen=True, slots=True)
class _Nested:
    name: str
    plan: dict[str, _IdField | _Nested]
    repeated: bool


def parse_json(data: bytes, message_type: type[MessageT]) -> MessageT:
    """An OTLP message from its OTLP/JSON text, or OtlpError 400 saying what does not fit."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise OtlpError(400, f"invalid JSON body: {exc}") from None
    if not isinstance(document, dict):
        raise OtlpError(400, f"invalid OTLP/JSON body: expected a JSON object, got {type(document).__name__}")
    _hex_ids_to_base64(document, _plan(message_type.DESCRIPTOR), message_type.DESCRIPTOR.name)
    try:
        return json_format.ParseDict(
            document, message_type(), ignore_unknown_fields=True, max_recursion_depth=_MAX_JSON_DEPTH
        )
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise OtlpError(400, f"invalid OTLP/JSON body: {exc}") from None


def to_json(message: Message) -> bytes:
    """The OTLP/JSON text of an OTLP message: lowerCamelCase keys, integer enums, hex ids."""
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    _base64_ids_to_hex(document, _plan(message.DESCRIPTOR))
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@functools.cache
def _plan(descriptor: Descriptor) -> dict[str, _IdField | _Nested]:
    """For one message type: its JSON keys (both spellings) that hold ids or lead to them."""
    return _build_plan(descriptor, frozenset())


def _build_plan(descriptor: Descriptor, seen: frozenset[str]) -> dict[str, _IdField | _Nested]:
    plan: dict[str, _IdField | _Nested] = {}
    seen = seen | {descriptor.full_name}
    for field in descriptor.fields:
        step: _IdField | _Nested | None = None
        if field.type == FieldDescriptor.TYPE_BYTES and field.name in _ID_LENGTHS:
            step = _IdField(field.json_name, _ID_LENGTHS[field.name])
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.full_name not in seen:
            if field.message_type.GetOptions().map_entry:
                continue  # OTLP has no map fields; nothing under one would hold an id
            nested = _build_plan(field.message_type, seen)
            if nested:
                step = _Nested(field.json_name, nested, _is_repeated(field))
        if step is not None:
            plan[field.json_name] = step
            plan[field.name] = step
    return plan


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 6 added `is_repeated` and protobuf 7 removed `label`; older releases have only `label`.
    is_repeated = getattr(field, "is_repeated", None)
    if is_repeated is None:
        return field.label == FieldDescriptor.LABEL_REPEATED
    return bool(is_repeated)


def _hex_ids_to_base64(document: dict[str, object], plan: dict[str, _IdField | _Nested], path: str) -> None:
    for key, value in document.items():
        step = plan.get(key)
        if step is None or value is None:
            continue
        if isinstance(step, _IdField):
            document[key] = _hex_to_base64(value, step.length, f"{path}.{step.name}")
        elif step.repeated:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        _hex_ids_to_base64(item, step.plan, f"{path}.{step.name}[{index}]")
        elif isinstance(value, dict):
            _hex_ids_to_base64(value, step.plan, f"{path}.{step.name}")
        # Anything else has the wrong shape; ParseDict reports it with its own words.


def _hex_to_base64(value: object, length: int, path: str) -> str:
    if not isinstance(value, str):
        raise OtlpError(400, f"invalid OTLP/JSON body: {path} must be a hex string, got {value!r:.80}")
    if not value:
        return value  # an absent id (a root span's parent, a log record outside a trace)
    try:
        raw = bytes.fromhex(value) if len(value) == 2 * length else b""
    except ValueError:
        raw = b""
    if len(raw) != length:
        raise OtlpError(
            400,
            f"invalid OTLP/JSON body: {path} is {value!r:.80}, not a {length}-byte id in hex "
            f"({2 * length} hex digits; OTLP/JSON ids are hex, not base64)",
        )
    return base64.b64encode(raw).decode("ascii")


def _base64_ids_to_hex(document: dict[str, object], plan: dict[str, _IdField | _Nested]) -> None:
    for key, value in document.items():
        step = plan.get(key)
        if step is None:
            continue
        if isinstance(step, _IdField):
            if isinstance(value, str):
                document[key] = binascii.a2b_base64(value).hex()
        elif step.repeated:
            if isinstance(value, list):
                for item in value:
                    _base64_ids_to_hex(item, step.plan)
        elif isinstance(value, dict):
            _base64_ids_to_hex(value, step.plan)
