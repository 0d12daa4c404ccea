"""The one gate captured text passes before it is put on a span: serialise, redact, truncate.

Arguments, return values, prompts and completions all go through `ContentPolicy.put`; exception
messages and stack traces through `ContentPolicy.text` (see `_errors`). With capture off nothing
is serialised at all; with a redactor, it sees the full text before the size limit cuts it. A
failing redactor drops the attribute (fail closed, never the raw text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Protocol

from opentelemetry.util.types import AttributeValue

from tokentrail import semconv
from tokentrail._config import Redactor
from tokentrail._internal import IntervalGate, logger


class _AttributeSpan(Protocol):
    def set_attribute(self, key: str, value: AttributeValue) -> None: ...


def safe_repr(value: object) -> str:
    """`repr(value)`, or a placeholder when the object's own `__repr__` fails."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__qualname__} object (repr failed)>"


def _make_encoder() -> Callable[[object], str]:
    """A JSON encoder built once; `json.dumps` rebuilds its C encoder on every call.

    Circular references are not tracked (no markers dict to keep clean between calls): they end
    in RecursionError, answered by `to_json` with the value's repr.
    """
    if c_make_encoder is None:  # pure-Python json: slower, same output
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=safe_repr)
        return encoder.encode
    iterencode = c_make_encoder(
        None, safe_repr, encode_basestring, None, ":", ",", False, False, True
    )  # markers, default, encoder, indent, key sep, item sep, sort_keys, skipkeys, allow_nan

    def encode(value: object) -> str:
        return "".join(iterencode(value, 0))

    return encode


_encode = _make_encoder()


def to_json(value: object) -> str:
    """JSON text of `value`; objects JSON cannot express are written as their repr string."""
    if value.__class__ is str:
        return encode_basestring(value)
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError, OverflowError):
        # Non-string dict keys, circular references and the like: describe the whole value.
        return encode_basestring(safe_repr(value))


_redact_failure_log = IntervalGate(60.0)


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    capture: bool
    redact: Redactor | None
    max_chars: int

    def put(self, span: _AttributeSpan, key: str, value: object) -> None:
        """Set `key` on `span` to the policed JSON text of `value` (nothing when capture is off)."""
        if not self.capture:
            return
        text = self._policed(to_json(value))
        if text is None:
            return
        if len(text) > self.max_chars:
            span.set_attribute(key, text[: self.max_chars])
            mark_truncated(span, key)
        else:
            span.set_attribute(key, text)

    def text(self, text: str, *, keep_end: bool = False) -> str | None:
        """Plain text (an exception's message or stack trace) as it may leave: redacted as by `put`
        and cut to `max_chars`, its head or, with `keep_end` (a stack trace, whose last lines name
        the error), its tail; None when capture is off or the hook failed."""
        if not self.capture:
            return None
        policed = self._policed(text)
        if policed is None or len(policed) <= self.max_chars:
            return policed
        return policed[-self.max_chars :] if keep_end else policed[: self.max_chars]

    def _policed(self, text: str) -> str | None:
        """`text` through the redaction hook, if there is one; None when the hook failed."""
        return text if self.redact is None else self._redacted(text)

    def _redacted(self, text: str) -> str | None:
        try:
            redacted = self.redact(text)  # type: ignore[misc]
            if not isinstance(redacted, str):
                raise TypeError(f"redact returned {type(redacted).__name__}, not str")
            return redacted
        except Exception as error:
            if _redact_failure_log.open():
                logger.warning("tokentrail: redact hook failed, content not recorded: %r", error)
            return None


def mark_truncated(span: _AttributeSpan, key: str) -> None:
    """Add `key` to the span's list of attributes cut at the size limit."""
    attributes = getattr(span, "attributes", None) or {}
    already = tuple(attributes.get(semconv.TT_TRUNCATED, ()))
    if key not in already:
        span.set_attribute(semconv.TT_TRUNCATED, (*already, key))
