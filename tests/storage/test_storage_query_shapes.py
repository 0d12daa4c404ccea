"""The query shapes that keep reads cheap give the answers of the plain per-span definitions.

Stats price a group's usage sums once per (model pair, price era) instead of each span; the trace
list reads spans without FINAL unless it sums costs, and searches span text and log-record content
through sets evaluated once. Each test checks the result against the spans one by one (get_trace
prices each span in Python), with duplicate deliveries and price changes inside the window.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from tokentrail import semconv as sc
from tokentrail_collector import pricing
from tokentrail_collector.storage import Store, get_trace, list_traces, stats

SpanFactory = Callable[..., dict[str, object]]
MS = 1_000_000
HOUR_NS = 3_600 * 1_000_000_000


def _content_row(project: str, trace_id: str, span_id: str, at_ns: int, text: str) -> dict[str, object]:
    return {
        "project_id": project,
        "trace_id": trace_id,
        "span_id": span_id,
        "time_unix_nano": at_ns,
        "event_name": "gen_ai.user.message",
        "role": "user",
        "content": '{"input": [{"role": "user", "parts": [{"type": "text", "content": "' + text + '"}]}]}',
        "attributes": {},
    }


def test_stats_costs_equal_the_sum_of_span_costs_across_a_price_change(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    change = datetime.fromtimestamp((base_ns + HOUR_NS + HOUR_NS // 2) // 10**9, tz=timezone.utc)
    book = pricing.price_book(store)
    book.set_custom(project, pricing.custom_price("house-model", input=2.0, output=8.0))
    book.set_custom(
        project, pricing.custom_price("house-model", input=3.0, output=9.0, effective_from=change)
    )
    spans = []
    for i in range(40):
        spans.append(
            make_span(
                trace_id=uuid.uuid4().hex,
                start=base_ns + i * (HOUR_NS // 12),  # 3 h 20 min: the change falls inside an hour
                request_model=["house-model", "gpt-4o", "no-price-anywhere", ""][i % 4],
                response_model="",
                input_tokens=None if i % 7 == 3 else 100 + i,
                output_tokens=None if i % 7 == 3 else 10 + i,
                cached_input_tokens=i if i % 5 == 0 else None,
                reasoning_tokens=2 if i % 6 == 0 else None,
                total_tokens=50 if i % 7 == 3 else None,
                cost_usd=0.5 if i % 9 == 0 else None,
            )
        )
    store.insert_spans(spans)
    store.insert_spans(spans[::3])  # client retries: each must count once

    priced = {}
    for span in spans:
        [read] = get_trace(store, project, str(span[sc.TRACE_ID]))
        priced[read[sc.SPAN_ID]] = read
    for group_by, bucket_seconds in (("model", 3600), ("model", None), (None, 3600), (None, None)):
        rows = stats(store, project, group_by=group_by, bucket_seconds=bucket_seconds)
        assert sum(int(row["span_count"]) for row in rows) == len(spans)  # type: ignore[call-overload]
        for row in rows:
            members = [
                span
                for span in priced.values()
                if (group_by is None or (span[sc.REQUEST_MODEL] or span[sc.RESPONSE_MODEL]) == row["group"])
                and (bucket_seconds is None or span["start_time_unix_nano"] // HOUR_NS * HOUR_NS == row["bucket_unix_nano"])
            ]  # fmt: skip
            assert row["span_count"] == len(members)
            costs = [float(span[sc.COST_USD]) for span in members if span[sc.COST_USD] is not None]  # type: ignore[arg-type]
            assert row[sc.COST_USD] == (pytest.approx(sum(costs), rel=1e-9) if costs else None), row
            unpriced = [
                span
                for span in members
                if span[sc.COST_USD] is None
                and (span[sc.INPUT_TOKENS] or 0) + (span[sc.OUTPUT_TOKENS] or 0) + (span[sc.TOTAL_TOKENS] or 0) > 0  # type: ignore[operator]
            ]  # fmt: skip
            assert row["unpriced_spans"] == len(unpriced)
            assert row["unpriced_input_tokens"] == sum(span[sc.INPUT_TOKENS] or 0 for span in unpriced)  # type: ignore[misc]
            assert row["unpriced_output_tokens"] == sum(span[sc.OUTPUT_TOKENS] or 0 for span in unpriced)  # type: ignore[misc]


def test_trace_list_counts_duplicates_once_with_every_filter_and_order(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    trace_id = uuid.uuid4().hex
    plain = {"request_model": "house", "response_model": ""}
    root = make_span(trace_id=trace_id, start=base_ns, name="root", input_text="where is my parcel", **plain)
    child = make_span(
        trace_id=trace_id, start=base_ns + MS, parent_span_id=root[sc.SPAN_ID], status_code="error",
        request_model="gpt-4o", tags=["beta"], cost_usd=0.25,
    )  # fmt: skip
    other = make_span(start=base_ns + 2 * MS, cost_usd=0.1, **plain)
    store.insert_spans([root, child, other])
    store.insert_spans([root, child])  # a retried delivery

    for filters in (
        {},
        {"search": "PARCEL"},
        {"status": "error"},
        {"model": "gpt-4o"},
        {"tag": "beta"},
        {"min_cost_usd": 0.2},
        {"min_duration_ms": 0.0, "sort": "duration"},
        {"sort": "cost"},
    ):
        page = list_traces(store, project, **filters)  # type: ignore[arg-type]
        expected = 2 if not {"search", "status", "model", "tag", "min_cost_usd"} & set(filters) else 1
        assert page.total == expected, filters
        row = next(row for row in page.traces if row[sc.TRACE_ID] == trace_id)
        assert row["span_count"] == 2, filters
        assert row[sc.COST_USD] == pytest.approx(0.25 + float(root[sc.COST_USD] or 0)), filters  # type: ignore[arg-type]
    assert list_traces(store, project, min_cost_usd=0.3).total == 0  # 0.25 + the root's, counted once
    assert [row[sc.TRACE_ID] for row in list_traces(store, project, sort="cost").traces][0] == trace_id


def test_search_finds_span_text_and_log_content_in_the_window_only(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    in_span = make_span(start=base_ns, output_text="Your ZEPHYR order shipped")
    by_name = make_span(start=base_ns + MS, name="tool: zephyr lookup")
    logged = make_span(start=base_ns + 2 * MS, input_text="", output_text="")
    late = make_span(start=base_ns + 2 * HOUR_NS, input_text="zephyr again")
    store.insert_spans([in_span, by_name, logged, late])
    record = _content_row(
        project, str(logged[sc.TRACE_ID]), str(logged[sc.SPAN_ID]), base_ns + 2 * MS, "a Zephyr question"
    )
    store.insert_table("span_content", [record])
    store.insert_table("span_content", [record])  # delivered twice

    def found(**window: object) -> list[object]:
        page = list_traces(store, project, search="zephyr", **window)  # type: ignore[arg-type]
        assert page.total == len(page.traces)
        return [row[sc.TRACE_ID] for row in page.traces]

    assert found() == [late[sc.TRACE_ID], logged[sc.TRACE_ID], by_name[sc.TRACE_ID], in_span[sc.TRACE_ID]]
    assert found(end=base_ns + HOUR_NS) == [logged[sc.TRACE_ID], by_name[sc.TRACE_ID], in_span[sc.TRACE_ID]]
    assert found(start=base_ns + HOUR_NS) == [late[sc.TRACE_ID]]
    assert list_traces(store, project, search="zephyr", limit=1, offset=3).total == 4


def test_a_trace_reads_each_span_once_at_its_latest_delivery(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    root = make_span(start=base_ns, name="first delivery")
    child = make_span(trace_id=root[sc.TRACE_ID], start=base_ns + MS, parent_span_id=root[sc.SPAN_ID])
    store.insert_spans([root, child])
    time.sleep(0.01)  # ingested_at, the replacing engine's version, has millisecond precision
    store.insert_spans([{**root, sc.NAME: "second delivery"}, child])

    spans = get_trace(store, project, str(root[sc.TRACE_ID]))
    assert [span[sc.NAME] for span in spans] == ["second delivery", child[sc.NAME]]
    [row] = list_traces(store, project).traces
    assert (row[sc.NAME], row["span_count"]) == ("second delivery", 2)
