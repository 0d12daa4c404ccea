"""`tokentrail.attributes(...)`: session, user, tags and metadata for every span started inside.

The values live in a contextvar (so they follow threads started with a copied context and asyncio
tasks) as a ready-made attribute dict, computed once on entering the block; the span processor's
`on_start` only reads it, which is how spans of other instrumentations get them too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar

from opentelemetry.util.types import AttributeValue

from tokentrail import semconv
from tokentrail._content import to_json
from tokentrail._internal import CAPTURE

SpanAttributes = Mapping[str, AttributeValue]

_current: ContextVar[SpanAttributes | None] = ContextVar("tokentrail_attributes", default=None)


def current_attributes() -> SpanAttributes | None:
    """The attributes the enclosing `attributes()` blocks put on each new span, if any."""
    return _current.get()


@contextlib.contextmanager
def attributes(
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] | None = None,
    metadata: Mapping[str, object] | None = None,
) -> Iterator[None]:
    """Apply these values to every span started inside the block (nested blocks merge)."""
    token = None
    with CAPTURE:
        merged = dict(_current.get() or {})
        if session_id is not None:
            merged[semconv.SESSION_ID] = str(session_id)
        if user_id is not None:
            merged[semconv.USER_ID] = str(user_id)
        if tags is not None:
            merged[semconv.TT_TAGS] = merge_tags(merged.get(semconv.TT_TAGS), tags)
        if metadata:
            merged.update(metadata_attributes(metadata))
        token = _current.set(merged)
    try:
        yield
    finally:
        if token is not None:
            with CAPTURE:
                _current.reset(token)


def merge_tags(existing: object, new: Iterable[str] | str) -> tuple[str, ...]:
    """Union of two tag lists, first-seen order kept; a bare string counts as one tag."""
    old = tuple(existing) if isinstance(existing, (tuple, list)) else ()
    added = (new,) if isinstance(new, str) else tuple(str(tag) for tag in new)
    return tuple(dict.fromkeys(old + added))


def metadata_attributes(metadata: Mapping[str, object]) -> dict[str, AttributeValue]:
    """`{k: v}` → `{"tokentrail.metadata.k": v}`; values OTel cannot hold become JSON text."""
    result: dict[str, AttributeValue] = {}
    for key, value in metadata.items():
        if isinstance(value, (str, bool, int, float)):
            result[semconv.TT_METADATA_PREFIX + str(key)] = value
        else:
            result[semconv.TT_METADATA_PREFIX + str(key)] = to_json(value)
    return result
