"""Derived costs through a real collector: spans, traces and stats show the cost of each span's
usage at the price in force at its start; custom prices (set by API) reprice stored spans; a
model without a price has no cost and its tokens are counted apart; the SQL agrees with `cost_of`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from tests.pricing.otlp_usage import DAY_NS, PROTOBUF, LlmCall, otlp_body
from tests.support import CollectorProcess
from tokentrail.pricing import Usage, cost_of

JAN_2026 = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z
OPENAI_SHAPE = Usage(input_tokens=1000, output_tokens=300, cached_input_tokens=400, reasoning_tokens=200)
ANTHROPIC_SHAPE = Usage(
    input_tokens=150, output_tokens=40, cached_input_tokens=80, cache_write_input_tokens=20
)


@pytest.fixture
def api(collector: CollectorProcess, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client with a key of a project of its own, so each test sees only its spans and prices."""
    project = "pricing-" + request.node.name.replace("_", "-")[5:40].strip("-")
    with collector.client(collector.create_key(project)["key"]) as client:
        yield client


def send(api: httpx.Client, calls: list[LlmCall]) -> str:
    """The calls as spans of one trace; its id."""
    [trace_id] = send_traces(api, calls, trace_each=False)
    return trace_id


def send_traces(api: httpx.Client, calls: list[LlmCall], *, trace_each: bool = True) -> list[str]:
    body, trace_ids = otlp_body(calls, trace_each=trace_each)
    response = api.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 200, response.text
    return trace_ids


def spans_of(api: httpx.Client, trace_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/traces/{trace_id}")
    assert response.status_code == 200, response.text
    return response.json()["spans"]


def at(start_ns: int) -> datetime:
    return datetime.fromtimestamp(start_ns / 1e9, tz=timezone.utc)


def stats_by_model(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get("/api/stats", params={"group_by": "model"})
    assert response.status_code == 200, response.text
    return {row["group"]: row for row in response.json()["rows"]}


def test_cached_cache_write_and_reasoning_tokens_are_priced_for_both_shapes(api: httpx.Client) -> None:
    calls = [
        LlmCall("gpt-4o-mini", JAN_2026, OPENAI_SHAPE),
        LlmCall("o3", JAN_2026 + 1, OPENAI_SHAPE),
        LlmCall("claude-3-5-sonnet-20241022", JAN_2026 + 2, ANTHROPIC_SHAPE),
    ]
    trace_id = send(api, calls)
    spans = {span["request_model"]: span for span in spans_of(api, trace_id)}
    expected = {
        "gpt-4o-mini": (600 * 0.15 + 400 * 0.075 + 300 * 0.60) / 1e6,
        "o3": (600 * 2.0 + 400 * 0.5 + 300 * 8.0) / 1e6,
        "claude-3-5-sonnet-20241022": (50 * 3 + 80 * 0.30 + 20 * 3.75 + 40 * 15) / 1e6,
    }
    for model, cost in expected.items():
        assert spans[model]["cost_usd"] == pytest.approx(cost), model
        assert spans[model]["cost_source"] == "price_table"
    assert spans["claude-3-5-sonnet-20241022"]["cache_write_input_tokens"] == 20
    assert spans["claude-3-5-sonnet-20241022"]["cached_input_tokens"] == 80

    [trace] = api.get("/api/traces").json()["traces"]
    assert trace["cost_usd"] == pytest.approx(sum(expected.values()))
    stats = stats_by_model(api)
    for model, cost in expected.items():
        assert stats[model]["cost_usd"] == pytest.approx(cost)
        assert stats[model]["unpriced_spans"] == 0


def test_a_model_without_a_price_has_no_cost_and_its_tokens_are_counted_apart(api: httpx.Client) -> None:
    trace_id = send(api, [
        LlmCall("in-house-model", JAN_2026, Usage(input_tokens=70, output_tokens=30)),
        LlmCall("gpt-4o", JAN_2026 + 1, Usage(input_tokens=1000, output_tokens=100)),
    ])  # fmt: skip
    spans = {span["request_model"]: span for span in spans_of(api, trace_id)}
    assert spans["in-house-model"]["cost_usd"] is None
    assert spans["in-house-model"]["cost_source"] == "unknown"

    stats = stats_by_model(api)
    assert stats["in-house-model"]["cost_usd"] is None  # never 0
    assert (stats["in-house-model"]["unpriced_spans"], stats["in-house-model"]["unpriced_input_tokens"],
            stats["in-house-model"]["unpriced_output_tokens"]) == (1, 70, 30)  # fmt: skip
    [total] = api.get("/api/stats", params={"group_by": "none"}).json()["rows"]
    assert total["cost_usd"] == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    assert (total["unpriced_spans"], total["unpriced_input_tokens"], total["unpriced_output_tokens"]) == (
        1,
        70,
        30,
    )


def test_a_cost_the_span_carried_wins(api: httpx.Client) -> None:
    trace_id = send(api, [LlmCall("gpt-4o", JAN_2026, Usage(1000, 100), cost_usd=0.5)])
    [span] = spans_of(api, trace_id)
    assert (span["cost_usd"], span["cost_source"]) == (0.5, "sdk")
    api.put("/api/prices", json={"pattern": "gpt-4o", "input": 1, "output": 1}).raise_for_status()
    [span] = spans_of(api, trace_id)
    assert (span["cost_usd"], span["cost_source"]) == (0.5, "sdk")


def test_a_custom_price_reprices_stored_spans_until_it_is_deleted(api: httpx.Client) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_input_tokens=200_000)
    trace_id = send(api, [LlmCall("gpt-4o-mini-2024-07-18", JAN_2026, usage)])
    table_cost = cost_of("gpt-4o-mini", usage, at=at(JAN_2026))
    [span] = spans_of(api, trace_id)
    assert span["cost_usd"] == pytest.approx(table_cost)

    response = api.put("/api/prices", json={
        "pattern": "GPT-4o-mini", "input": 0.1, "output": 0.4, "cached_input": 0.02, "note": "our contract",
    })  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["cost_source"] == "custom_price" and response.json()["model_key"] == "gpt-4o-mini"
    custom_cost = (800_000 * 0.1 + 200_000 * 0.02 + 100_000 * 0.4) / 1e6
    [span] = spans_of(api, trace_id)
    assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(custom_cost), "custom_price")
    assert api.get("/api/traces").json()["traces"][0]["cost_usd"] == pytest.approx(custom_cost)
    assert stats_by_model(api)["gpt-4o-mini-2024-07-18"]["cost_usd"] == pytest.approx(custom_cost)

    assert api.delete("/api/prices", params={"pattern": "gpt-4o-mini"}).status_code == 204
    [span] = spans_of(api, trace_id)
    assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(table_cost), "price_table")
    assert api.delete("/api/prices", params={"pattern": "gpt-4o-mini"}).status_code == 404


def test_a_custom_price_from_a_date_leaves_older_spans_at_the_table_price(api: httpx.Client) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    trace_id = send(api, [LlmCall("claude-haiku-4-5", JAN_2026 - DAY_NS, usage),
                          LlmCall("claude-haiku-4-5", JAN_2026 + DAY_NS, usage)])  # fmt: skip
    api.put("/api/prices", json={"pattern": "claude-haiku-4-5", "effective_from": "2026-01-01",
                                 "input": 0.7, "output": 3.5}).raise_for_status()  # fmt: skip
    before, after = spans_of(api, trace_id)
    assert (before["cost_usd"], before["cost_source"]) == (pytest.approx(1.0), "price_table")
    assert (after["cost_usd"], after["cost_source"]) == (pytest.approx(0.7), "custom_price")
    # A custom price for a model the table does not know prices it from its date, and not before.
    trace_id = send(
        api, [LlmCall("acme-chat", JAN_2026 - DAY_NS, usage), LlmCall("acme-chat", JAN_2026 + DAY_NS, usage)]
    )
    api.put("/api/prices", json={"pattern": "acme-*", "effective_from": "2026-01-01T00:00:00Z",
                                 "input": 2, "output": 2}).raise_for_status()  # fmt: skip
    before, after = spans_of(api, trace_id)
    assert (before["cost_usd"], before["cost_source"]) == (None, "unknown")
    assert (after["cost_usd"], after["cost_source"]) == (pytest.approx(2.0), "custom_price")


def test_the_price_in_force_at_the_spans_time_applies(api: httpx.Client) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    june_2024 = 1_717_200_000 * 1_000_000_000
    trace_id = send(api, [LlmCall("gpt-4o", june_2024, usage), LlmCall("gpt-4o", JAN_2026, usage)])
    older, newer = spans_of(api, trace_id)
    assert older["cost_usd"] == pytest.approx(5.0 + 15.0)
    assert newer["cost_usd"] == pytest.approx(2.5 + 10.0)


def test_custom_prices_belong_to_their_project(collector: CollectorProcess, api: httpx.Client) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    with collector.client(collector.create_key("pricing-neighbour")["key"]) as neighbour:
        neighbour.put(
            "/api/prices", json={"pattern": "gpt-4.1", "input": 0.01, "output": 0.01}
        ).raise_for_status()
        trace_id = send(api, [LlmCall("gpt-4.1", JAN_2026, usage)])
        [span] = spans_of(api, trace_id)
        assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(2.0), "price_table")
        assert [row["model_key"] for row in api.get("/api/prices").json()["prices"]
                if row["cost_source"] == "custom_price"] == []  # fmt: skip


def test_the_prices_endpoint(collector: CollectorProcess, api: httpx.Client) -> None:
    table = api.get("/api/prices").json()
    assert table["table_as_of"] == "2026-11-23" and table["currency"] == "USD"
    assert {"price_table"} == {row["cost_source"] for row in table["prices"]}
    api.put(
        "/api/prices", json={"pattern": "gpt-4o", "effective_from": "2025-01-01", "input": 1, "output": 4}
    )
    mine = api.get("/api/prices", params={"model": "gpt-4o-2024-11-20", "at": "2026-01-01T00:00:00Z"}).json()
    assert mine["model"] == "gpt-4o-2024-11-20"
    assert mine["prices"][0]["cost_source"] == "custom_price"
    assert {row["model_key"] for row in mine["prices"]} == {"gpt-4o", "openai/gpt-4o"}
    assert (mine["in_force"]["cost_source"], mine["in_force"]["input"]) == ("custom_price", 1.0)
    older = api.get("/api/prices", params={"model": "gpt-4o", "at": "2024-06-01T00:00:00Z"}).json()
    assert (older["in_force"]["cost_source"], older["in_force"]["input"]) == ("price_table", 5.0)
    assert api.get("/api/prices", params={"model": "in-house"}).json()["in_force"] is None

    assert api.put("/api/prices", json={"pattern": "has space", "input": 1, "output": 1}).status_code == 400
    assert api.put("/api/prices", json={"pattern": "x", "input": -1, "output": 1}).status_code == 422
    assert api.put("/api/prices", json={"pattern": "x", "output": 1}).status_code == 422
    assert (
        api.delete("/api/prices", params={"pattern": "gpt-4o", "effective_from": "2020-01-01"}).status_code
        == 404
    )
    assert (
        api.delete("/api/prices", params={"pattern": "gpt-4o", "effective_from": "2025-01-01"}).status_code
        == 204
    )
    assert httpx.get(collector.url + "/api/prices").status_code == 401


def test_sql_and_python_agree_on_every_span(api: httpx.Client) -> None:
    """The collector prices random spans exactly as tokentrail.pricing.cost_of does: in SQL (a
    trace of one span: the trace list's cost) and in Python (the span in its trace)."""
    rng = random.Random(20261123)
    names = ["gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "o1-mini", "o3", "claude-3-5-sonnet-20240620",
             "claude-3-haiku-20240307", "gemini-1.5-flash", "deepseek-chat", "mistral-large-latest",
             "us.anthropic.claude-3-5-haiku-20241022-v1:0", "in-house-model"]  # fmt: skip
    calls = []
    for index in range(200):
        total = rng.randint(0, 50_000)
        cached = rng.choice([None, rng.randint(0, total)])
        written = rng.choice([None, rng.randint(0, total - (cached or 0))])
        output = rng.randint(0, 5_000)
        usage = Usage(
            input_tokens=rng.choice([None, total, total, total]),
            output_tokens=rng.choice([None, output, output, output]),
            cached_input_tokens=cached,
            cache_write_input_tokens=written,
            reasoning_tokens=rng.choice([None, rng.randint(0, output)]),
        )
        start = rng.randint(1_704_067_200, 1_795_000_000) * 1_000_000_000 + index  # 2024 .. 2026
        calls.append(LlmCall(rng.choice(names), start, usage))
    trace_ids = send_traces(api, calls)
    listed = api.get("/api/traces", params={"limit": 1000}).json()["traces"]
    sql_cost = {trace["trace_id"]: trace["cost_usd"] for trace in listed}
    assert len(sql_cost) == len(calls)
    priced = 0
    for call, trace_id in zip(calls, trace_ids, strict=True):
        expected = cost_of(call.model, call.usage, at=at(call.start_ns))
        [span] = spans_of(api, trace_id) if call.start_ns % 4 == 0 else [None]  # a sample, for time
        if expected is None:
            assert sql_cost[trace_id] is None, call
            assert span is None or (span["cost_usd"], span["cost_source"]) == (None, "unknown"), call
        else:
            priced += 1
            assert sql_cost[trace_id] == pytest.approx(expected, rel=1e-12, abs=1e-15), call
            if span is not None:
                assert span["cost_usd"] == pytest.approx(expected, rel=1e-12, abs=1e-15), call
                assert span["cost_source"] == "price_table"
    assert priced > 100


def test_a_model_first_seen_after_earlier_reads_is_priced_on_its_first_read(api: httpx.Client) -> None:
    send(api, [LlmCall("gpt-4o", JAN_2026, Usage(1000, 100))])
    assert stats_by_model(api)["gpt-4o"]["cost_usd"] is not None  # the project's plan now knows gpt-4o
    trace_id = send(api, [LlmCall("gemini-2.0-flash", JAN_2026 + 1, Usage(1_000_000, 1_000_000))])
    assert stats_by_model(api)["gemini-2.0-flash"]["cost_usd"] == pytest.approx(0.5)
    [span] = spans_of(api, trace_id)
    assert span["cost_usd"] == pytest.approx(0.5)


def test_the_trace_list_sorts_and_filters_by_derived_cost(api: httpx.Client) -> None:
    cheap = send(api, [LlmCall("gpt-4o-mini", JAN_2026, Usage(1000, 100))])
    dear = send(api, [LlmCall("gpt-4o-2024-05-13", JAN_2026 + 1, Usage(1000, 100))])
    unpriced = send(api, [LlmCall("in-house-model", JAN_2026 + 2, Usage(1000, 100))])
    by_cost = api.get("/api/traces", params={"sort": "cost"}).json()["traces"]
    assert [trace["trace_id"] for trace in by_cost] == [dear, cheap, unpriced]
    costly = api.get("/api/traces", params={"min_cost_usd": 0.001}).json()["traces"]
    assert [trace["trace_id"] for trace in costly] == [dear]
