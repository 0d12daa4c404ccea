"""OTLP attribute values as Python values, as strings, and as the types canonical columns take.

An AnyValue becomes a plain Python value: str, bool, int, float, list, dict, None for an empty
value; bytes become base64 text so every value is also JSON. `flatten` turns one into the string a
Map(String, String) column holds: strings as they are, everything else as compact JSON.
The `as_*` converters read a column's value out of an attribute value and give None for anything
that does not fit, so a reader never invents a value (a missing token count stays missing, not 0).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import TypeAlias

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

# An attribute value once decoded: JSON's types (bytes arrive as base64 text).
AttributeValue: TypeAlias = (
    "str | bool | int | float | list[AttributeValue] | dict[str, AttributeValue] | None"
)
Converter = Callable[[AttributeValue], object]

compact_json: Callable[[object], str] = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_UINT64_MAX = 2**64 - 1


def python_value(value: AnyValue) -> AttributeValue:
    """The Python value of an OTLP AnyValue."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [python_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: python_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    scalar: AttributeValue = getattr(value, which)
    return scalar


def decode(value: AnyValue) -> tuple[AttributeValue, str]:
    """The Python value of an AnyValue and its flattened text, the common types first.

    Reading an unset member of a oneof gives its zero value, and probing that way is cheaper than
    WhichOneof for the strings and numbers most attributes are.
    """
    text = value.string_value
    if text:
        return text, text
    number = value.int_value
    if number:
        return number, str(number)
    real = value.double_value
    if real and real - real == 0.0:  # non-zero and finite
        return real, repr(real)
    if value.bool_value:
        return True, "true"
    if value.WhichOneof("value") == "array_value":
        strings = [item.string_value for item in value.array_value.values]
        if all(strings):  # arrays of non-empty strings (finish reasons, tags) are the common case
            return strings, "[" + ",".join(map(encode_basestring, strings)) + "]"
    decoded = python_value(value)
    return decoded, flatten(decoded)


def flatten(value: AttributeValue) -> str:
    """The string form of an attribute value: strings as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a finite float
    if value is None:
        return ""
    return compact_json(value)


def as_text(value: AttributeValue) -> str | None:
    """A string column's value; an empty value counts as absent so the next reader may fill it."""
    if value.__class__ is str:
        return value or None  # type: ignore[return-value]
    return flatten(value) or None


def as_provider(value: AttributeValue) -> str | None:
    """A provider name in lowercase, as the conventions' well-known values are, whichever attribute
    carries it: OpenLLMetry before 0.50 or so sends `OpenAI` and `Anthropic`, and those spans must
    group with the ones that say `openai`."""
    text = as_text(value)
    return None if text is None else text.lower()


def as_count(value: AttributeValue) -> int | None:
    """A non-negative integer (token counts, bytes), from an int, an integral float or digits."""
    number: int
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():  # also rejects inf and nan
            return None
        number = int(value)
    elif isinstance(value, str) and value.strip().isdecimal():
        number = int(value)
    else:
        return None
    return number if 0 <= number <= _UINT64_MAX else None


def as_number(value: AttributeValue) -> float | None:
    """A finite float, from an int, a float or numeric text."""
    number: float
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_non_negative_number(value: AttributeValue) -> float | None:
    """A finite float that is 0 or more (a cost, a duration)."""
    number = as_number(value)
    return number if number is not None and number >= 0 else None


def as_flag(value: AttributeValue) -> bool | None:
    """A boolean, from a bool, 0/1 or the text true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    return None


def as_text_list(value: AttributeValue) -> list[str] | None:
    """A list of strings: a string array (items flattened), a JSON array in text, or one string."""
    if isinstance(value, list):
        return [flatten(item) for item in value if item is not None]
    if isinstance(value, str) and value:
        if value.startswith("["):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                return [flatten(item) for item in decoded if item is not None]
        return [value]
    return None


def as_milliseconds_from_seconds(value: AttributeValue) -> float | None:
    """A duration sent in seconds (a time to first token), in milliseconds."""
    seconds = as_non_negative_number(value)
    return None if seconds is None else seconds * 1000.0


def json_object(value: AttributeValue) -> dict[str, AttributeValue] | None:
    """The object a value holds: a structured value, or JSON text of an object."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return None
        if isinstance(decoded, dict):
            return decoded
    return None


def json_text(value: AttributeValue) -> AttributeValue:
    """A value sent JSON-encoded as text (`"\\"stop\\""`), decoded; other values as they are."""
    if isinstance(value, str) and value[:1] in ('"', "[", "{"):
        try:
            decoded: AttributeValue = json.loads(value)
        except (ValueError, RecursionError):
            return value
        return decoded
    return value


def json_field(convert: Converter, *paths: str) -> Converter:
    """A converter reading the first of `paths` (dotted, into nested objects) that `convert` accepts
    from a JSON object attribute, such as `llm.invocation_parameters` or Langfuse's usage details."""
    split_paths = [path.split(".") for path in paths]

    def read(value: AttributeValue) -> object:
        document = json_object(value)
        if document is None:
            return None
        for path in split_paths:
            node: AttributeValue = document
            for name in path:
                node = node.get(name) if isinstance(node, dict) else None
            if node is not None:
                converted = convert(node)
                if converted is not None:
                    return converted
        return None

    return read
