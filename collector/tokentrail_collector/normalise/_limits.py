"""The caps a span must fit in, and the attribute keys refused, so a hostile sender cannot blow up
a row, the store or a reader of the UI (issue 6, "Hostile and broken input").

What passes a cap is cut, not rejected: the span is kept and the cut is counted in the batch, and
the OTLP reply says so in its partial-success message. Only a request with too many spans is
refused whole.
"""

from __future__ import annotations

from unicodedata import category

MAX_SPANS_PER_REQUEST = 50_000  # more is refused whole (400): the sender should split it
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
