"""The caps a span must fit in, and the attribute keys refused, so a hostile sender cannot blow up
a row, the store or a reader of the UI (issue 6, "Hostile and broken input").

What passes a cap is cut, not rejected: the span is kept and the cut is counted in the batch, and
the OTLP reply says so in its partial-success message. Only a request with too many spans is
refused whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol
from unicodedata import category

from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from tokentrail_collector.normalise._values import AttributeValue, flatten, python_value

# Spans, log records or metric points: more is refused whole (400): the sender should split it.
MAX_SPANS_PER_REQUEST = 50_000
MAX_ATTRIBUTES_PER_SPAN = 256  # also per resource and per event; the rest is dropped
MAX_EVENTS_PER_SPAN = 128  # the first ones are kept
# Characters of one attribute value as stored in an attribute map (the flattened text).
MAX_ATTRIBUTE_VALUE_CHARS = 64 * 1024
# Characters of content: the input/output text columns, and event attribute values (the older
# GenAI conventions send prompts and completions as event attributes).
MAX_CONTENT_CHARS = 1024 * 1024
MAX_ATTRIBUTE_KEY_CHARS = 256

# Keys that mean something to the JavaScript a UI or a downstream tool runs on the JSON we serve.
HOSTILE_KEYS = frozenset({"__proto__", "constructor", "prototype"})


# Characters a key may not hold: controls, invisible formatting (bidi overrides, zero widths),
# lone surrogates, and line or paragraph separators. Unassigned and private-use characters pass:
# a newer Unicode than Python's is not an attack.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def refused_key(key: str) -> bool:
    """Whether attribute `key` is dropped: too long, hostile, or holding a character that is not
    printable (a control character, an invisible format character)."""
    if len(key) > MAX_ATTRIBUTE_KEY_CHARS or key in HOSTILE_KEYS:
        return True
    # isprintable is the fast check that passes nearly every key; the categories decide the rest.
    return not key.isprintable() and any(category(char) in _UNPRINTABLE_CATEGORIES for char in key)


# Ends every value that was cut, so a reader sees it was (and a cut value is one character longer
# than its cap, which is how the normaliser tells a cut value from one exactly at the cap).
CUT_MARK = "…"


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters and marked as cut."""
    return text[:limit] + CUT_MARK


def limits_note(truncated: int, refused_keys: int, item: str) -> str:
    """What the caps cut in a request, for its partial-success message; '' when nothing."""
    notes = []
    if truncated:
        notes.append(
            f"{truncated} value(s), attribute(s) or event(s) cut or dropped to fit the limits "
            f"({MAX_ATTRIBUTES_PER_SPAN} attributes and {MAX_EVENTS_PER_SPAN} events per {item}, "
            f"{MAX_ATTRIBUTE_VALUE_CHARS} characters per attribute value)"
        )
    if refused_keys:
        notes.append(
            f"{refused_keys} attribute(s) dropped for a refused key "
            f"(not printable, over {MAX_ATTRIBUTE_KEY_CHARS} characters, or __proto__/constructor/prototype)"
        )
    return "; ".join(notes)


def too_many(count: int, items: str, limit: int) -> str:
    """The message for a request refused whole for carrying more than `limit` items."""
    return f"the request carries {count} {items}, over the limit of {limit} per request: send them in smaller requests"


class CutCounts(Protocol):
    """A batch that counts what the caps cut (every signal's batch does)."""

    truncated: int
    refused_keys: int


def capped_attributes(key_values: Sequence[KeyValue], counts: CutCounts) -> dict[str, AttributeValue]:
    """The first MAX_ATTRIBUTES_PER_SPAN attributes as Python values, refused keys dropped and a
    string past MAX_CONTENT_CHARS cut, each counted: the reading the logs and metrics paths share
    (the span path has its own, remembering attributes it has read)."""
    if len(key_values) > MAX_ATTRIBUTES_PER_SPAN:
        counts.truncated += len(key_values) - MAX_ATTRIBUTES_PER_SPAN
        key_values = key_values[:MAX_ATTRIBUTES_PER_SPAN]
    values: dict[str, AttributeValue] = {}
    for key_value in key_values:
        if refused_key(key_value.key):
            counts.refused_keys += 1
            continue
        values[key_value.key] = capped_text(python_value(key_value.value), MAX_CONTENT_CHARS, counts)
    return values


def capped_text(value: AttributeValue, limit: int, counts: CutCounts) -> AttributeValue:
    """`value`, cut and counted when it is a string longer than `limit`."""
    if isinstance(value, str) and len(value) > limit:
        counts.truncated += 1
        return cut(value, limit)
    return value


def flat_attributes(
    values: Mapping[str, AttributeValue], counts: CutCounts, keys: Iterable[str] | None = None
) -> dict[str, str]:
    """Attributes as a Map(String, String) column holds them (of `keys`, in that order, when
    given), each text cut to MAX_ATTRIBUTE_VALUE_CHARS and counted."""
    return {
        key: str(capped_text(flatten(values[key]), MAX_ATTRIBUTE_VALUE_CHARS, counts))
        for key in (values if keys is None else keys)
    }
