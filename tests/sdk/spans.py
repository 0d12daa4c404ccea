"""Small helpers for reading finished spans in the SDK tests."""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import ReadableSpan

from tokentrail import semconv


def by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    result = {span.name: span for span in spans}
    assert len(result) == len(spans), f"span names not unique: {[s.name for s in spans]}"
    return result


def attrs(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def input_of(span: ReadableSpan) -> object:
    return json.loads(str(attrs(span)[semconv.TT_INPUT]))


def output_of(span: ReadableSpan) -> object:
    return json.loads(str(attrs(span)[semconv.TT_OUTPUT]))


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None
