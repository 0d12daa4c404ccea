"""The captured fixtures through a real collector: what each library sent, POSTed as it would send
it (OTLP/JSON on /v1/traces, and /v1/logs where it also sent log records), read back by the API.

The in-process tests (test_dialects_fixtures.py) check the normaliser's rows against what the fake
provider answered; these check that the same rows come out of the collector: stored whole, with
log-borne content merged into its span, the parent/child structure the library exported, and a cost
derived at read time from the shipped price table at each span's start time (or the cost the span
carried, which wins). The fixtures are older than any retention, which the test collector keeps off.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from tests.dialects import capture_app as app
from tests.dialects.capture_fixtures import LIBRARIES
from tests.dialects.dialect_support import FIXTURES, Row, asking, chat, fixture_rows, openai_call
from tests.support import CollectorProcess
from tokentrail import semconv as sc
from tokentrail.pricing import Usage, shipped_table, usage_cost

JSON = {"Content-Type": "application/json"}
TOKENS = (sc.INPUT_TOKENS, sc.OUTPUT_TOKENS, sc.CACHED_INPUT_TOKENS, sc.CACHE_WRITE_INPUT_TOKENS,
          sc.REASONING_TOKENS, sc.TOTAL_TOKENS)  # fmt: skip
COMPARED = (sc.NAME, sc.KIND, sc.PROVIDER, sc.REQUEST_MODEL, sc.RESPONSE_MODEL, sc.IS_STREAMING, *TOKENS)
# The libraries whose LLM spans carry no cost of their own: every priced one is priced by the table.
TABLE_PRICED = (
    "otel-openai-v2",
    "otel-openai-v2-latest",
    "openllmetry",
    "openllmetry-legacy",
    "openinference",
)
TABLE = shipped_table()


def exported_spans(name: str) -> dict[str, dict[str, Any]]:
    """The fixture's spans as the library exported them, by span id (OTLP/JSON ids are hex)."""
    document = json.loads((FIXTURES / name / "traces.json").read_text())
    return {
        span["spanId"]: span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }


@dataclass
class Stored:
    """One fixture as the API gives it back: its spans by id, and the traces the list finds."""

    spans: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def stored(collector: CollectorProcess) -> Iterator[dict[str, Stored]]:
    """Every fixture POSTed into a project of its own, read back."""
    found: dict[str, Stored] = {}
    for name in LIBRARIES:
        key = collector.create_key(f"dialect-{name}-{uuid.uuid4().hex[:8]}")["key"]
        with collector.client(key) as api:
            post(api, "/v1/traces", name, "traces.json")
            if (FIXTURES / name / "logs.json").exists():
                post(api, "/v1/logs", name, "logs.json")
            found[name] = Stored()
            for trace_id in {span["traceId"] for span in exported_spans(name).values()}:
                response = api.get(f"/api/traces/{trace_id}")
                assert response.status_code == 200, response.text
                found[name].spans.update({span[sc.SPAN_ID]: span for span in response.json()["spans"]})
            found[name].listed = listed(api, name)
    yield found


def post(api: httpx.Client, path: str, name: str, file: str) -> None:
    response = api.post(path, content=(FIXTURES / name / file).read_bytes(), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json().get("partialSuccess", {}) == {}, response.text


def listed(api: httpx.Client, name: str) -> list[str]:
    """The trace ids the trace list gives for a window around the fixture's spans (captured long ago)."""
    starts = [int(span["startTimeUnixNano"]) for span in exported_spans(name).values()]
    window = {"start": min(starts) // 10**9 - 60, "end": max(starts) // 10**9 + 60}
    response = api.get("/api/traces", params=window)
    assert response.status_code == 200, response.text
    return [trace["trace_id"] for trace in response.json()["traces"]]


def table_cost(span: dict[str, Any]) -> float | None:
    """What the shipped table charges for the span's usage: the response model's price, else the
    request model's, in force at the span's start."""
    entry = TABLE.match(span[sc.RESPONSE_MODEL]) or TABLE.match(span[sc.REQUEST_MODEL])
    if entry is None:
        return None
    row = entry.price_at(datetime.fromtimestamp(span["start_time_unix_nano"] / 1e9, tz=timezone.utc))
    assert row is not None
    return usage_cost(Usage(*(span[column] for column in TOKENS[:-1])), row.rates)


@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_every_fixture_span_is_stored_with_its_structure_model_and_tokens(
    stored: dict[str, Stored], name: str
) -> None:
    exported = exported_spans(name)
    spans = stored[name].spans
    assert sorted(spans) == sorted(exported)
    assert sorted(stored[name].listed) == sorted({span["traceId"] for span in exported.values()})
    rows: dict[str, Row] = {str(row[sc.SPAN_ID]): row for row in fixture_rows(name)}
    for span_id, span in spans.items():
        assert (span[sc.PARENT_SPAN_ID] or "") == exported[span_id].get("parentSpanId", ""), span_id
        assert {column: span[column] for column in COMPARED} == {
            column: rows[span_id][column] for column in COMPARED
        }
        if rows[span_id][sc.INPUT_TEXT]:  # content the span itself carries comes back as normalised
            assert (span[sc.INPUT_TEXT], span[sc.OUTPUT_TEXT]) == (
                rows[span_id][sc.INPUT_TEXT], rows[span_id][sc.OUTPUT_TEXT])  # fmt: skip
    llm = [span for span in spans.values() if span[sc.KIND] == "llm"]
    assert llm and all(span[sc.REQUEST_MODEL] for span in llm)
    # The anthropic client's own spans (beside some libraries' ones) carry no content; the
    # libraries' spans do, or their log records do (otel-openai-v2's default conventions).
    assert sum(bool(span[sc.INPUT_TEXT] and span[sc.OUTPUT_TEXT]) for span in llm) >= 2
    assert any(span[sc.INPUT_TOKENS] and span[sc.OUTPUT_TOKENS] for span in llm)


@pytest.mark.parametrize("name", TABLE_PRICED + ("langfuse",))
def test_usage_is_priced_by_the_table_at_the_spans_time(stored: dict[str, Stored], name: str) -> None:
    carried = {
        str(row[sc.SPAN_ID]): row[sc.COST_USD] for row in fixture_rows(name) if row[sc.COST_USD] is not None
    }
    if name in TABLE_PRICED:
        assert carried == {}
    priced = 0
    for span_id, span in stored[name].spans.items():
        if span_id in carried:  # Langfuse's generation with cost_details: the carried cost wins
            assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(carried[span_id]), "sdk")
            continue
        expected = table_cost(span) if span[sc.INPUT_TOKENS] is not None else None
        if expected is None:
            assert (span["cost_usd"], span["cost_source"]) == (None, "unknown"), span_id
            continue
        assert expected > 0
        assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(expected), "price_table"), span_id
        priced += 1
    assert priced >= 2  # the openai and the anthropic calls at least


def test_openlit_carried_costs_win(stored: dict[str, Stored]) -> None:
    llm = [span for span in stored["openlit"].spans.values() if span[sc.KIND] == "llm"]
    carried = {str(row[sc.SPAN_ID]): row[sc.COST_USD] for row in fixture_rows("openlit")}
    assert len(llm) == 4
    for span in llm:
        assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(carried[span[sc.SPAN_ID]]), "sdk")
    # OpenLIT priced them from the pricing file capture_app gave it, which has no cache discount:
    # the table would charge the openai calls (half their prompt read from cache) less.
    openai = [span for span in llm if span[sc.PROVIDER] == "openai"]
    assert len(openai) == 2
    assert all(span["cost_usd"] > table_cost(span) for span in openai)  # type: ignore[operator]


def test_otel_openai_v2_log_borne_content_is_merged_into_its_span(
    stored: dict[str, Stored],
) -> None:
    # Default conventions: the spans carry no content; the messages came as log records.
    rows = fixture_rows("otel-openai-v2")
    assert all(row[sc.INPUT_TEXT] == "" for row in rows)
    spans = list(stored["otel-openai-v2"].spans.values())
    for key, streamed in (("openai", False), ("openai_stream", True)):
        call = openai_call(key, streamed=streamed)
        span = asking(spans, call.question)
        assert chat(span[sc.INPUT_TEXT]) == [("system", app.SYSTEM_PROMPT), ("user", call.question)]
        assert chat(span[sc.OUTPUT_TEXT]) == [("assistant", call.answer)]
