"""Trace list, single trace and stats against a real chDB store, checked against Python."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokentrail import semconv as sc
from tokentrail_collector.storage import InvalidProjectId, Store, get_trace, list_traces, stats

SpanFactory = Callable[..., dict[str, object]]
MS = 1_000_000
HOUR_NS = 3_600 * 1_000_000_000


def _trace(
    make_span: SpanFactory, start: int, *, n_children: int = 2, **root: object
) -> list[dict[str, object]]:
    """A root span and children starting 1 ms apart, sharing a trace id."""
    trace_id = uuid.uuid4().hex
    first = make_span(trace_id=trace_id, start=start, name="root", kind="chain", **root)
    children = [
        make_span(
            trace_id=trace_id, start=start + (i + 1) * MS, parent_span_id=first[sc.SPAN_ID], name=f"child-{i}"
        )
        for i in range(n_children)
    ]
    return [first, *children]


# --- trace list ----------------------------------------------------------------------------


def test_trace_rows_summarise_whole_traces(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    trace_id = uuid.uuid4().hex
    root = make_span(
        trace_id=trace_id, start=base_ns, duration=50.0, name="agent run", service_name="api",
        request_model="", response_model="", input_tokens=None, output_tokens=None, total_tokens=None,
        cost_usd=None, status_code="unset",
    )  # fmt: skip
    # A child ends after the root: the duration runs to the latest end.
    llm = make_span(
        trace_id=trace_id, start=base_ns + 10 * MS, duration=100.0, parent_span_id=root[sc.SPAN_ID],
        service_name="worker", request_model="gpt-4o", response_model="gpt-4o-2024", input_tokens=100,
        output_tokens=20, total_tokens=None, cost_usd=0.25, status_code="error",
    )  # fmt: skip
    unpriced = make_span(
        trace_id=trace_id, start=base_ns + 5 * MS, duration=1.0, parent_span_id=root[sc.SPAN_ID],
        request_model="claude", response_model="", input_tokens=1, output_tokens=2, total_tokens=3, cost_usd=None,
        status_code="ok",
    )  # fmt: skip
    store.insert_spans([llm, unpriced, root])

    page = list_traces(store, project)
    assert page.total == 1
    [row] = page.traces
    assert row == {
        sc.TRACE_ID: trace_id,
        sc.NAME: "agent run",
        sc.START_TIME: "2026-01-01T00:00:00.000000000Z",
        "start_time_unix_nano": base_ns,
        sc.DURATION_MS: pytest.approx(110.0),
        "status": "error",
        "services": ["api", "worker"],
        "models": ["claude", "gpt-4o", "gpt-4o-2024"],
        "span_count": 3,
        sc.INPUT_TOKENS: 101,
        sc.OUTPUT_TOKENS: 22,
        sc.TOTAL_TOKENS: 123,  # input + output where a span reported no total
        sc.COST_USD: pytest.approx(0.25),
    }


def test_root_is_the_earliest_span_when_none_lacks_a_parent(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    trace_id = uuid.uuid4().hex
    store.insert_spans(
        [
            make_span(trace_id=trace_id, start=base_ns + 2 * MS, parent_span_id="remote", name="later"),
            make_span(trace_id=trace_id, start=base_ns + 1 * MS, parent_span_id="remote", name="entry"),
        ]
    )
    [row] = list_traces(store, project).traces
    assert row[sc.NAME] == "entry"


def test_cost_is_none_when_no_span_has_one(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    unpriced = make_span(
        start=base_ns, cost_usd=None, cost_source="unknown", request_model="in-house", response_model=""
    )
    store.insert_spans([unpriced])
    [row] = list_traces(store, project).traces
    assert row[sc.COST_USD] is None


def test_traces_come_newest_first_with_paging(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    traces = [_trace(make_span, base_ns + i * 1_000 * MS) for i in range(7)]
    store.insert_spans([span for trace in traces for span in trace])
    newest_first = [str(trace[0][sc.TRACE_ID]) for trace in reversed(traces)]

    first = list_traces(store, project, limit=3)
    second = list_traces(store, project, limit=3, offset=3)
    third = list_traces(store, project, limit=3, offset=6)
    beyond = list_traces(store, project, limit=3, offset=30)
    assert [page.total for page in (first, second, third, beyond)] == [7, 7, 7, 7]
    ids = [row[sc.TRACE_ID] for page in (first, second, third) for row in page.traces]
    assert ids == newest_first
    assert beyond.traces == []
    assert [row["span_count"] for row in first.traces] == [3, 3, 3]


def test_trace_list_filters(store: Store, make_span: SpanFactory, project: str, base_ns: int) -> None:
    a = _trace(make_span, base_ns, service_name="billing")
    b = _trace(make_span, base_ns + HOUR_NS)
    b[2].update({sc.STATUS_CODE: "error", sc.REQUEST_MODEL: "claude-3-5", sc.RESPONSE_MODEL: "claude-3-5-x"})
    c = _trace(
        make_span,
        base_ns + 2 * HOUR_NS,
        n_children=0,
        status_code="unset",
        request_model="",
        response_model="",
    )
    c[0][sc.INPUT_TEXT] = "Where is my REFUND?"
    d = _trace(make_span, base_ns + 3 * HOUR_NS, n_children=1)
    d[1][sc.OUTPUT_TEXT] = "Your refund is on its way"
    e = _trace(make_span, base_ns + 4 * HOUR_NS, n_children=1)
    e[1][sc.NAME] = "tool: Refund lookup"
    store.insert_spans([span for trace in (a, b, c, d, e) for span in trace])

    def ids(**filters: object) -> list[object]:
        page = list_traces(store, project, **filters)  # type: ignore[arg-type]
        assert page.total == len(page.traces)
        return [row[sc.TRACE_ID] for row in page.traces]

    def tid(trace: list[dict[str, object]]) -> object:
        return trace[0][sc.TRACE_ID]

    assert ids(service="billing") == [tid(a)]
    assert ids(model="claude-3-5") == [tid(b)]
    assert ids(model="claude-3-5-x") == [tid(b)]  # the response model matches too
    assert ids(status="error") == [tid(b)]
    assert ids(status="ok") == [tid(e), tid(d), tid(c), tid(a)]  # no span failed: "unset" is ok
    assert ids(search="refund") == [tid(e), tid(d), tid(c)]  # name, output, input; any case
    assert ids(search="refund", status="ok") == [tid(e), tid(d), tid(c)]
    assert ids(search="nothing like this") == []
    assert ids(start=base_ns + HOUR_NS, end=base_ns + 3 * HOUR_NS) == [tid(c), tid(b)]
    as_datetime = datetime.fromtimestamp((base_ns + 4 * HOUR_NS) // 10**9, tz=timezone.utc)
    assert ids(start=as_datetime) == [tid(e)]
    assert ids(start=as_datetime.replace(tzinfo=None)) == [tid(e)]  # naive means UTC


def test_search_text_is_bound_not_interpreted(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    store.insert_spans([make_span(start=base_ns, input_text="100% off_sale 'quoted' \\ {x:String}")])
    for needle in ("100%", "off_sale", "'quoted'", "\\", "{x:String}", "' OR 1=1 --"):
        expected = 0 if needle.startswith("' OR") else 1
        assert list_traces(store, project, search=needle).total == expected, needle


def test_invalid_arguments_are_refused(store: Store) -> None:
    with pytest.raises(InvalidProjectId):
        list_traces(store, "bad project!")
    with pytest.raises(InvalidProjectId):
        get_trace(store, "x" * 65, "t")
    with pytest.raises(InvalidProjectId):
        stats(store, "")
    with pytest.raises(ValueError):
        list_traces(store, "p", status="failed")
    with pytest.raises(ValueError):
        list_traces(store, "p", limit=0)
    with pytest.raises(ValueError):
        list_traces(store, "p", offset=-1)
    with pytest.raises(ValueError):
        stats(store, "p", group_by="user")
    with pytest.raises(ValueError):
        stats(store, "p", bucket_seconds=0)


# --- one trace -----------------------------------------------------------------------------


def test_get_trace_returns_spans_in_start_order(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    spans = _trace(make_span, base_ns, n_children=3)
    store.insert_spans(list(reversed(spans)))
    read = get_trace(store, project, str(spans[0][sc.TRACE_ID]))
    assert [span[sc.SPAN_ID] for span in read] == [span[sc.SPAN_ID] for span in spans]
    assert [span["start_time_unix_nano"] for span in read] == [span[sc.START_TIME] for span in spans]
    assert set(sc.CANONICAL_COLUMNS) <= set(read[0])
    assert get_trace(store, project, uuid.uuid4().hex) == []


def test_events_come_back_decoded(store: Store, make_span: SpanFactory, project: str, base_ns: int) -> None:
    spans = [
        make_span(start=base_ns, events='[{"name": "first_token", "time_unix_nano": 5}]'),
        make_span(start=base_ns + 1, events=""),
        make_span(start=base_ns + 2, events="not json"),
    ]
    store.insert_spans(spans)
    decoded = [get_trace(store, project, str(span[sc.TRACE_ID]))[0][sc.EVENTS] for span in spans]
    assert decoded == [[{"name": "first_token", "time_unix_nano": 5}], [], []]


# --- isolation and duplicates --------------------------------------------------------------


def test_projects_never_see_each_other(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    other = project + "-other"
    mine = _trace(make_span, base_ns)
    theirs = [
        {**span, sc.PROJECT_ID: other, sc.SERVICE: "theirs"} for span in mine
    ]  # same trace and span ids
    theirs.append({**mine[0], sc.PROJECT_ID: other, sc.TRACE_ID: uuid.uuid4().hex, sc.SPAN_ID: "x"})
    store.insert_spans(mine + theirs)

    assert list_traces(store, project).total == 1
    assert list_traces(store, project, service="theirs").total == 0
    assert list_traces(store, other).total == 2
    trace_id = str(mine[0][sc.TRACE_ID])
    assert {span[sc.PROJECT_ID] for span in get_trace(store, project, trace_id)} == {project}
    assert len(get_trace(store, project, trace_id)) == 3
    [mine_stats] = stats(store, project, group_by=None)
    [their_stats] = stats(store, other, group_by=None)
    assert (mine_stats["span_count"], their_stats["span_count"]) == (3, 4)
    assert stats(store, project, service="theirs") == []


def test_a_span_delivered_twice_counts_once(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    spans = _trace(make_span, base_ns, n_children=2)
    store.insert_spans(spans)
    store.insert_spans(spans)  # a client retry: a separate insert of the same spans
    store.insert_spans(spans[1:2])

    page = list_traces(store, project)
    assert page.total == 1
    assert page.traces[0]["span_count"] == 3
    assert page.traces[0][sc.INPUT_TOKENS] == 30
    assert len(get_trace(store, project, str(spans[0][sc.TRACE_ID]))) == 3
    [row] = stats(store, project, group_by=None)
    assert row["span_count"] == 3
    assert row[sc.INPUT_TOKENS] == 30
    assert row[sc.COST_USD] == pytest.approx(0.003)


# --- stats ---------------------------------------------------------------------------------


def _between_order_statistics(value: float | None, values: list[float], level: float) -> bool:
    """t-digest returns an estimate between the order statistics around the exact quantile."""
    assert value is not None
    low = float(np.quantile(values, level, method="lower"))
    high = float(np.quantile(values, level, method="higher"))
    return low * (1 - 1e-6) - 1e-9 <= value <= high * (1 + 1e-6) + 1e-9


def test_stats_per_model_and_hour_match_python(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    rng = np.random.default_rng(7)
    spans = []
    for i in range(300):
        model = ["gpt-4o", "claude", ""][i % 3]
        hour = int(rng.integers(0, 3))
        spans.append(
            make_span(
                start=base_ns + hour * HOUR_NS + int(rng.integers(0, HOUR_NS)),
                duration=float(rng.lognormal(5, 1)),
                request_model=model,
                response_model="resp-only" if not model and i % 2 else "",
                provider="anthropic" if model == "claude" else "openai",
                status_code="error" if i % 10 == 0 else "ok",
                time_to_first_token_ms=float(rng.uniform(5, 50)) if model == "gpt-4o" else None,
                input_tokens=int(rng.integers(0, 1000)),
                output_tokens=int(rng.integers(0, 100)),
                total_tokens=None,
                cost_usd=None if model == "claude" else float(rng.uniform(0, 0.01)),
            )
        )
    store.insert_spans(spans)

    rows = stats(store, project, group_by="model", bucket_seconds=3600)
    expected_keys = sorted(
        {
            (int(s[sc.START_TIME]) // HOUR_NS * HOUR_NS, str(s[sc.REQUEST_MODEL] or s[sc.RESPONSE_MODEL]))
            for s in spans
        }
    )
    assert [(row["bucket_unix_nano"], row["group"]) for row in rows] == expected_keys
    for row in rows:
        members = [
            s for s in spans
            if int(s[sc.START_TIME]) // HOUR_NS * HOUR_NS == row["bucket_unix_nano"]
            and str(s[sc.REQUEST_MODEL] or s[sc.RESPONSE_MODEL]) == row["group"]
        ]  # fmt: skip
        durations = [float(s[sc.DURATION_MS]) for s in members]  # type: ignore[arg-type]
        errors = sum(s[sc.STATUS_CODE] == "error" for s in members)
        assert row["span_count"] == len(members)
        assert row["error_count"] == errors
        assert row["error_rate"] == pytest.approx(errors / len(members))
        for key, level in (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95), ("latency_p99_ms", 0.99)):
            assert _between_order_statistics(row[key], durations, level), (key, row[key])  # type: ignore[arg-type]
        ttfts = [
            float(s[sc.TIME_TO_FIRST_TOKEN_MS]) for s in members if s[sc.TIME_TO_FIRST_TOKEN_MS] is not None
        ]  # type: ignore[arg-type]
        if ttfts:
            assert _between_order_statistics(row["ttft_p50_ms"], ttfts, 0.5)  # type: ignore[arg-type]
            assert _between_order_statistics(row["ttft_p95_ms"], ttfts, 0.95)  # type: ignore[arg-type]
        else:
            assert row["ttft_p50_ms"] is None and row["ttft_p95_ms"] is None
        inputs = sum(int(s[sc.INPUT_TOKENS]) for s in members)  # type: ignore[call-overload]
        outputs = sum(int(s[sc.OUTPUT_TOKENS]) for s in members)  # type: ignore[call-overload]
        assert (row[sc.INPUT_TOKENS], row[sc.OUTPUT_TOKENS], row[sc.TOTAL_TOKENS]) == (
            inputs,
            outputs,
            inputs + outputs,
        )
        costs = [float(s[sc.COST_USD]) for s in members if s[sc.COST_USD] is not None]  # type: ignore[arg-type]
        if costs:
            assert row[sc.COST_USD] == pytest.approx(sum(costs))
        else:
            assert row[sc.COST_USD] is None
        assert row["unpriced_spans"] == sum(
            1 for s in members if s[sc.COST_USD] is None and (s[sc.INPUT_TOKENS] or s[sc.OUTPUT_TOKENS])
        )


def test_stats_groupings_filters_and_window(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    spans = [
        make_span(start=base_ns, service_name="api", provider="openai", request_model="gpt-4o", duration=10.0),
        make_span(start=base_ns + 1, service_name="api", provider="anthropic", request_model="claude", duration=20.0),
        make_span(start=base_ns + 2, service_name="rag", provider="openai", request_model="gpt-4o", duration=30.0),
        make_span(start=base_ns + HOUR_NS, service_name="rag", provider="", request_model="", response_model="",
                  duration=40.0, input_tokens=None, output_tokens=None, total_tokens=None, cost_usd=None),
    ]  # fmt: skip
    store.insert_spans(spans)

    def counts(**kwargs: object) -> dict[object, object]:
        return {row["group"]: row["span_count"] for row in stats(store, project, **kwargs)}  # type: ignore[arg-type]

    assert counts(group_by="provider") == {"": 1, "anthropic": 1, "openai": 2}
    assert counts(group_by="service") == {"api": 2, "rag": 2}
    assert counts(group_by="model") == {"": 1, "claude": 1, "gpt-4o": 2}
    assert counts(group_by=None) == {None: 4}
    assert counts(group_by="model", service="rag") == {"": 1, "gpt-4o": 1}
    assert counts(group_by="service", model="gpt-4o") == {"api": 1, "rag": 1}
    assert counts(group_by="service", model="gpt-4o-2024-08-06") == {"api": 2, "rag": 1}  # response model
    assert counts(group_by=None, start=base_ns + 1, end=base_ns + HOUR_NS) == {None: 2}

    [unbucketed] = stats(store, project, group_by=None)
    assert unbucketed["bucket"] is None and unbucketed["bucket_unix_nano"] is None
    assert unbucketed["unpriced_spans"] == 0
    assert unbucketed[sc.GPU_ENERGY_JOULES] is None
    buckets = stats(store, project, group_by=None, bucket_seconds=1800)
    assert [(row["bucket"], row["span_count"]) for row in buckets] == [
        ("2026-01-01T00:00:00.000000000Z", 3),
        ("2026-01-01T01:00:00.000000000Z", 1),
    ]
    assert stats(store, project, start=base_ns + 2 * HOUR_NS) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spans=st.lists(
        st.tuples(
            st.sampled_from(["api", "rag", "batch"]),
            st.sampled_from(["ok", "error", "unset"]),
            st.one_of(st.none(), st.integers(0, 10_000)),
            st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
            st.booleans(),  # delivered twice
        ),
        min_size=1,
        max_size=40,
    )
)
def test_stats_counts_and_sums_match_python(
    store: Store,
    make_span: SpanFactory,
    base_ns: int,
    spans: list[tuple[str, str, int | None, float | None, bool]],
) -> None:
    project = "prop-" + uuid.uuid4().hex[:12]
    rows = [
        make_span(project_id=project, start=base_ns + i * MS, service_name=service, status_code=status,
                  input_tokens=tokens, output_tokens=None, total_tokens=None, cost_usd=cost,
                  request_model="in-house", response_model="")  # no price: only carried costs count
        for i, (service, status, tokens, cost, _twice) in enumerate(spans)
    ]  # fmt: skip
    store.insert_spans(rows)
    store.insert_spans([row for row, spec in zip(rows, spans, strict=True) if spec[4]])

    by_service = {row["group"]: row for row in stats(store, project, group_by="service")}
    assert set(by_service) == {spec[0] for spec in spans}
    for service, row in by_service.items():
        members = [spec for spec in spans if spec[0] == service]
        assert row["span_count"] == len(members)
        assert row["error_count"] == sum(spec[1] == "error" for spec in members)
        assert row[sc.INPUT_TOKENS] == sum(spec[2] or 0 for spec in members)
        costs = [spec[3] for spec in members if spec[3] is not None]
        assert row[sc.COST_USD] == (pytest.approx(sum(costs)) if costs else None)
        assert row["unpriced_spans"] == sum(1 for spec in members if spec[3] is None and spec[2])
