"""Gated derivers: they run for the spans that carry their keys (or events), and cost the others nothing."""

from __future__ import annotations

import pytest

from tests.dialects.dialect_support import span_request
from tests.otlp.otlp_spans import llm_attributes
from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, Read, SpanView, compile_dialects
from tokentrail_collector.normalise._dialects import DIALECTS
from tokentrail_collector.normalise._traces import _normalise
from tokentrail_collector.normalise._values import as_text


def run(dialects: list[Dialect], attributes: dict[str, object], *, events: bool = False) -> dict[str, object]:
    request = span_request(attributes, events=[("something", {})] if events else [])
    (row,) = _normalise(request, "p", compile_dialects(dialects)).rows
    return row


class Recorder:
    def __init__(self, column: str) -> None:
        self.column = column
        self.seen: list[SpanView] = []

    def __call__(self, span: SpanView, found: dict[str, object]) -> None:
        self.seen.append(span)
        found.setdefault(self.column, "derived")


def test_a_key_gate_opens_for_its_key_and_its_prefixes_only() -> None:
    record = Recorder(sc.PROVIDER)
    dialect = Dialect("d", derivers=(GatedDeriver(record, keys=frozenset({"x.key"}), prefixes=("x.list.",)),))
    assert run([dialect], {"other": 1})[sc.PROVIDER] == ""
    assert run([dialect], {"x.keys": 1, "x.list": 2}, events=True)[sc.PROVIDER] == ""
    assert record.seen == []
    assert run([dialect], {"x.key": 1})[sc.PROVIDER] == "derived"
    assert run([dialect], {"x.list.0.role": "user", "x.list.1.role": "user"})[sc.PROVIDER] == "derived"
    assert len(record.seen) == 2  # once per span, however many keys opened the gate
    assert record.seen[1].start_time_unix_nano > 0


def test_an_events_gate_opens_for_spans_with_events() -> None:
    record = Recorder(sc.OPERATION)
    dialect = Dialect("d", derivers=(GatedDeriver(record, events=True),))
    assert run([dialect], {"a": 1})[sc.OPERATION] == ""
    assert run([dialect], {"a": 1}, events=True)[sc.OPERATION] == "derived"


def test_gated_and_plain_derivers_keep_dialect_order_and_reads_come_first() -> None:
    first, second = Recorder(sc.OPERATION), Recorder(sc.OPERATION)
    dialects = [
        Dialect("one", derivers=(GatedDeriver(first, keys=frozenset({"k"})),)),
        Dialect("two", reads=(Read(sc.PROVIDER, "p", as_text),), derivers=(second,)),
    ]
    row = run(dialects, {"k": 1, "p": "read"})
    assert (row[sc.OPERATION], row[sc.PROVIDER]) == ("derived", "read")
    assert len(first.seen) == len(second.seen) == 1


def test_a_deriver_is_gated_by_events_or_by_keys_not_both() -> None:
    both = GatedDeriver(Recorder(sc.OPERATION), keys=frozenset({"k"}), events=True)
    with pytest.raises(ValueError, match="not both"):
        compile_dialects([Dialect("rogue", derivers=(both,))])


def test_the_gate_column_never_reaches_a_row() -> None:
    row = run(list(DIALECTS), {sc.OI_LLM_INVOCATION_PARAMETERS: '{"temperature": 1}'})
    assert set(row) == set(sc.CANONICAL_COLUMNS)
    assert row[sc.REQUEST_PARAMS] == {"temperature": "1"}


def test_spans_of_only_tokentrail_and_genai_keys_run_no_deriver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throughput guard: such spans (most of them) never build a SpanView."""
    import tokentrail_collector.normalise._traces as traces

    built: list[object] = []

    class CountingView(SpanView):
        __slots__ = ()

        def __init__(self, *args: object) -> None:
            built.append(args)
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(traces, "SpanView", CountingView)
    compiled = compile_dialects(DIALECTS)
    _normalise(span_request(llm_attributes()), "p", compiled)
    assert built == []
    _normalise(span_request({**llm_attributes(), sc.GEN_AI_SYSTEM_INSTRUCTIONS: "Be brief."}), "p", compiled)
    assert len(built) == 1
