"""The dialect machinery later dialects plug into: precedence, prefix reads, derivers, validation."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.otlp.otlp_spans import START_NS
from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import (
    Dialect,
    PrefixRead,
    Read,
    SpanView,
    compile_dialects,
)
from tokentrail_collector.normalise._traces import _normalise
from tokentrail_collector.normalise._values import as_count, as_text, flatten

FIRST = Dialect(
    "first", reads=(Read(sc.PROVIDER, "first.provider", as_text), Read(sc.INPUT_TOKENS, "first.in", as_count))
)
SECOND = Dialect("second", reads=(Read(sc.PROVIDER, "second.provider", as_text), Read(sc.INPUT_TOKENS, "second.in", as_count)))  # fmt: skip


def rows_with(dialects: list[Dialect], attributes: list[tuple[str, AnyValue]]) -> dict[str, object]:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(
        Span(
            trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="s",
            start_time_unix_nano=START_NS, end_time_unix_nano=START_NS + 1,
            attributes=[KeyValue(key=key, value=value) for key, value in attributes],
        )
    )  # fmt: skip
    (row,) = _normalise(request, "p", compile_dialects(dialects)).rows
    return row


def text(value: str) -> AnyValue:
    return AnyValue(string_value=value)


def number(value: int) -> AnyValue:
    return AnyValue(int_value=value)


@pytest.mark.parametrize("second_first", [False, True])
def test_earlier_dialect_wins_whatever_the_attribute_order(second_first: bool) -> None:
    attributes = [("first.provider", text("from-first")), ("second.provider", text("from-second"))]
    if second_first:
        attributes.reverse()
    assert rows_with([FIRST, SECOND], attributes)[sc.PROVIDER] == "from-first"
    assert rows_with([SECOND, FIRST], attributes)[sc.PROVIDER] == "from-second"


def test_a_value_a_reader_cannot_use_falls_through_to_the_next_dialect() -> None:
    attributes = [("first.in", text("lots")), ("second.in", number(12))]
    assert rows_with([FIRST, SECOND], attributes)[sc.INPUT_TOKENS] == 12


def test_prefix_read_gathers_a_map_and_respects_exclusions_and_precedence() -> None:
    params = Dialect(
        "params",
        prefix_reads=(
            PrefixRead(sc.REQUEST_PARAMS, "x.param.", flatten, exclude=frozenset({"x.param.model"})),
        ),
    )
    other = Dialect("other", prefix_reads=(PrefixRead(sc.REQUEST_PARAMS, "y.", flatten),))
    row = rows_with(
        [params, other],
        [
            ("y.top_k", number(1)),
            ("x.param.top_k", number(5)),
            ("x.param.model", text("m")),
            ("y.seed", number(3)),
        ],
    )
    assert row[sc.REQUEST_PARAMS] == {"top_k": "5", "seed": "3"}


def test_derivers_see_the_span_and_only_fill_what_is_missing() -> None:
    seen: list[SpanView] = []

    def from_scope(span: SpanView, found: dict[str, object]) -> None:
        seen.append(span)
        found.setdefault(sc.PROVIDER, "derived")
        found.setdefault(sc.OPERATION, f"derived from {len(span.attributes)} attributes")

    dialects = [FIRST, Dialect("deriving", derivers=(from_scope,))]
    row = rows_with(dialects, [("first.provider", text("read")), ("n", number(1))])
    assert (row[sc.PROVIDER], row[sc.OPERATION]) == ("read", "derived from 2 attributes")
    (view,) = seen
    assert view.attributes == {"first.provider": "read", "n": 1}
    assert view.flat_attributes == {"first.provider": "read", "n": "1"}
    assert (view.events, view.scope_name) == ([], "")


@pytest.mark.parametrize(
    "column", [sc.TRACE_ID, sc.START_TIME, sc.ATTRIBUTES, sc.PROJECT_ID, "no_such_column"]
)
def test_a_read_cannot_set_span_identity_or_unknown_columns(column: str) -> None:
    with pytest.raises(ValueError, match=column):
        compile_dialects([Dialect("rogue", reads=(Read(column, "k", as_text),))])


def test_a_read_cannot_target_a_map_column_nor_a_prefix_read_a_plain_one() -> None:
    with pytest.raises(ValueError, match=sc.REQUEST_PARAMS):
        compile_dialects([Dialect("rogue", reads=(Read(sc.REQUEST_PARAMS, "k", as_text),))])
    with pytest.raises(ValueError, match=sc.PROVIDER):
        compile_dialects([Dialect("rogue", prefix_reads=(PrefixRead(sc.PROVIDER, "p.", flatten),))])


def test_plans_stop_growing_past_the_key_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokentrail_collector.normalise._dialect as dialect_module

    monkeypatch.setattr(dialect_module, "_MAX_PLANNED_KEYS", 3)
    compiled = compile_dialects([FIRST])
    for index in range(10):
        compiled.plan(f"invented.key.{index}")
    assert len(compiled.plans) == 3
    assert compiled.plan("first.provider")[0][1] == sc.PROVIDER
