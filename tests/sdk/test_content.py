"""Captured content: JSON with repr fallback, redaction before anything leaves, truncation, the off switch."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail import semconv
from tokentrail._arguments import ArgumentBinder
from tokentrail._content import to_json

from .spans import attrs, by_name, input_of, output_of

Finished = Callable[[], list[ReadableSpan]]


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr broke")


def test_non_serialisable_values_become_their_repr(traced: Finished) -> None:
    @tokentrail.observe(name="f")
    def f(obj: object, items: set[int]) -> object:
        return {"thing": Opaque(), "n": 1}

    f(Opaque(), {1})
    span = by_name(traced())["f"]
    assert input_of(span) == {"obj": "<Opaque thing>", "items": "{1}"}
    assert output_of(span) == {"thing": "<Opaque thing>", "n": 1}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("ünïcode ✓", "ünïcode ✓"),
        ([1, 2.5, None, True], [1, 2.5, None, True]),
        ((1, 2), [1, 2]),
        ({"a": {"b": [1]}}, {"a": {"b": [1]}}),
        ({1: "int key"}, {"1": "int key"}),
    ],
)
def test_to_json_plain_values(value: object, expected: object) -> None:
    assert json.loads(to_json(value)) == expected


def test_to_json_awkward_values() -> None:
    assert json.loads(to_json({(1, 2): "tuple key"})) == "{(1, 2): 'tuple key'}"
    circular: list[object] = [1]
    circular.append(circular)
    assert json.loads(to_json(circular)) == "[1, [...]]"
    assert json.loads(to_json(BrokenRepr())) == "<BrokenRepr object (repr failed)>"
    assert json.loads(to_json({"x": BrokenRepr()})) == {"x": "<BrokenRepr object (repr failed)>"}
    assert to_json(math.nan) == "NaN"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_to_json_round_trips_json_values(value: object) -> None:
    assert json.loads(to_json(value)) == value


@given(st.recursive(st.integers() | st.text() | st.builds(Opaque) | st.sets(st.integers(), max_size=3),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                    max_leaves=10))  # fmt: skip
def test_to_json_always_returns_valid_json(value: object) -> None:
    json.loads(to_json(value))


def _sample(a, b=2, /, c=3, *args, d, e=5, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    return None


def _sample_no_varargs(x, y=1, *, z=2):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    return None


calls = st.tuples(
    st.lists(st.integers(), min_size=1, max_size=5).map(tuple),
    st.dictionaries(st.sampled_from(["c", "d", "e", "f", "g"]), st.integers(), max_size=4),
)


@given(calls)
def test_binder_matches_signature_bind(call: tuple[tuple[int, ...], dict[str, int]]) -> None:
    args, kwargs = call
    for func in (_sample, _sample_no_varargs):
        try:
            expected = inspect.signature(func).bind(*args, **kwargs).arguments
        except TypeError:
            continue  # not a valid call: nothing to compare
        assert ArgumentBinder(func).bind(args, kwargs) == dict(expected)


def test_binder_leaves_out_self_and_cls() -> None:
    class C:
        def m(self, x: int) -> None: ...

    assert ArgumentBinder(C.m).bind((C(), 1), {}) == {"x": 1}
    assert ArgumentBinder(lambda cls, y: None).bind((object, 2), {}) == {"y": 2}


def test_binder_for_callables_without_signature() -> None:
    binder = ArgumentBinder(min)  # a builtin inspect cannot read
    assert binder.bind((3, 1), {"key": None}) == {"args": (3, 1), "kwargs": {"key": None}}


def test_truncation_is_marked(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, max_payload_chars=50)

    @tokentrail.observe(name="big")
    def big(text: str) -> str:
        return text * 2

    @tokentrail.observe(name="small")
    def small(text: str) -> str:
        return text

    big("x" * 100)
    small("ok")
    assert tokentrail.flush()
    spans = by_name(list(exporter.get_finished_spans()))
    big_attrs = attrs(spans["big"])
    assert len(str(big_attrs[semconv.TT_INPUT])) == 50
    assert len(str(big_attrs[semconv.TT_OUTPUT])) == 50
    assert str(big_attrs[semconv.TT_OUTPUT]) == '"' + "x" * 49
    assert big_attrs[semconv.TT_TRUNCATED] == (semconv.TT_INPUT, semconv.TT_OUTPUT)
    assert semconv.TT_TRUNCATED not in attrs(spans["small"])
    assert output_of(spans["small"]) == "ok"


def test_only_output_truncated(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, max_payload_chars=20)

    @tokentrail.observe(name="f")
    def f() -> str:
        return "y" * 40

    f()
    assert tokentrail.flush()
    (span,) = exporter.get_finished_spans()
    assert attrs(span)[semconv.TT_TRUNCATED] == (semconv.TT_OUTPUT,)


def test_redaction_sees_full_text_before_truncation(exporter: InMemorySpanExporter) -> None:
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return text.replace("sk-secret", "[KEY]")

    tokentrail.init(exporter=exporter, redact=redact, max_payload_chars=30)

    @tokentrail.observe(name="f")
    def f(prompt: str) -> str:
        return "the key is sk-secret"

    f("use sk-secret please " + "z" * 50)
    assert tokentrail.flush()
    (span,) = exporter.get_finished_spans()
    values = attrs(span)
    assert "sk-secret" not in str(values)
    assert output_of(span) == "the key is [KEY]"
    assert str(values[semconv.TT_INPUT]).startswith('{"prompt":"use [KEY] please')
    assert len(seen) == 2 and len(seen[0]) > 30


def test_redaction_applies_to_update_current_span(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, redact=lambda text: text.replace("4111", "####"))

    @tokentrail.observe(name="f", capture_input=False, capture_output=False)
    def f() -> None:
        tokentrail.update_current_span(input={"card": "4111"}, output="paid with 4111")

    f()
    assert tokentrail.flush()
    (span,) = exporter.get_finished_spans()
    assert input_of(span) == {"card": "####"}
    assert output_of(span) == "paid with ####"


def test_failing_redactor_records_nothing(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    def redact(text: str) -> str:
        raise ValueError("redactor bug")

    tokentrail.init(exporter=exporter, redact=redact)

    @tokentrail.observe(name="f")
    def f(secret: str) -> str:
        return secret

    assert f("hunter2") == "hunter2"
    assert tokentrail.flush()
    (span,) = exporter.get_finished_spans()
    assert semconv.TT_INPUT not in attrs(span)
    assert semconv.TT_OUTPUT not in attrs(span)
    assert "hunter2" not in str(attrs(span))


@pytest.fixture(params=["argument", "environment"])
def content_off(
    request: pytest.FixtureRequest, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.param == "argument":
        tokentrail.init(exporter=exporter, capture_content=False)
    else:
        monkeypatch.setenv("TOKENTRAIL_CAPTURE_CONTENT", "false")
        tokentrail.init(exporter=exporter)
    yield


async def test_capture_content_off_records_no_text(content_off: None, exporter: InMemorySpanExporter) -> None:
    @tokentrail.observe(name="sync")
    def sync_fn(prompt: str) -> str:
        tokentrail.update_current_span(input="prompt text", output="completion text", model="m")
        return "secret answer"

    @tokentrail.observe(name="async")
    async def async_fn(prompt: str) -> str:
        return "secret answer"

    @tokentrail.observe(name="gen")
    def gen_fn(prompt: str) -> Iterator[str]:
        yield "secret chunk"

    sync_fn("secret prompt")
    await async_fn("secret prompt")
    list(gen_fn("secret prompt"))
    assert tokentrail.flush()
    spans = by_name(list(exporter.get_finished_spans()))
    assert set(spans) == {"sync", "async", "gen"}
    for span in spans.values():
        values = attrs(span)
        assert semconv.TT_INPUT not in values
        assert semconv.TT_OUTPUT not in values
        assert "secret" not in str(values)
        assert values[semconv.TT_SPAN_KIND] == "chain"
    assert attrs(spans["sync"])[semconv.GEN_AI_REQUEST_MODEL] == "m"


def test_capture_content_env_on_by_default(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENTRAIL_CAPTURE_CONTENT", raising=False)
    tokentrail.init(exporter=exporter)

    @tokentrail.observe(name="f")
    def f(x: int) -> int:
        return x

    f(1)
    assert tokentrail.flush()
    (span,) = exporter.get_finished_spans()
    assert input_of(span) == {"x": 1}
