"""Scores for real: the SDK's `tokentrail.score` → a collector process → chDB → `/api/scores`, the score
filter of `/api/traces` and `/api/scores/stats` (averages and category counts per model per day)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import tokentrail
from tests.support import CollectorProcess

from .sdk_traffic import current_ids, llm_call, sdk_session

DAY = 86_400


@dataclass(frozen=True)
class Traffic:
    """What the SDK sent: trace id -> (model, thumbs), and the ids of notable spans."""

    thumbs: dict[str, tuple[str, str]]
    judged_span: tuple[str, str]
    upserted_trace: str


@pytest.fixture(scope="module")
def key(collector: CollectorProcess) -> str:
    return collector.create_key("shop")["key"]


@pytest.fixture(scope="module")
def api(collector: CollectorProcess, key: str) -> Any:
    with collector.client(key) as client:
        yield client


@tokentrail.observe(kind="agent", name="request")
def request(question: str, model: str, thumbs: str) -> tuple[str, str, str]:
    """One user request: an LLM span, then the user's thumbs on the whole trace."""
    trace_id, span_id = llm_call(question, f"answer to {question}", model=model)
    tokentrail.score("thumbs", thumbs, whole_trace=True, comment=f"user said {thumbs}")
    return trace_id, span_id, current_ids()[1]


@pytest.fixture(scope="module")
def traffic(collector: CollectorProcess, key: str) -> Traffic:
    plan = [("gpt-4o", "up"), ("gpt-4o", "down"), ("gpt-4o", "up"), ("claude", "down"), ("claude", "down")]
    thumbs: dict[str, tuple[str, str]] = {}
    with sdk_session(collector, key):
        spans = []
        for number, (model, verdict) in enumerate(plan):
            trace_id, span_id, _root = request(f"question {number}", model, verdict)
            thumbs[trace_id] = (model, verdict)
            spans.append((trace_id, span_id, model))
        # An LLM judge scores the LLM spans, a rule checks them, one score is corrected (same id).
        for trace_id, span_id, model in spans:
            value = 0.9 if model == "gpt-4o" else 0.4
            tokentrail.score("faithfulness", value, trace_id=trace_id, span_id=span_id, source="model")
            tokentrail.score(
                "valid_json", model == "gpt-4o", trace_id=trace_id, span_id=span_id, source="rule"
            )
        trace_id, span_id, _ = spans[0]
        tokentrail.score(
            "relevance", 0.1, trace_id=trace_id, span_id=span_id, score_id="rel-1", source="human"
        )
        tokentrail.score(
            "relevance", 0.8, trace_id=trace_id, span_id=span_id, score_id="rel-1", source="human"
        )
    stats = tokentrail.score_stats()
    assert stats.sent == 5 + 10 + 2 and stats.dropped == 0 and stats.invalid == 0
    return Traffic(thumbs=thumbs, judged_span=(spans[3][0], spans[3][1]), upserted_trace=spans[0][0])


def scores(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get("/api/scores", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_scores_are_stored_with_their_values_and_sources(api: httpx.Client, traffic: Traffic) -> None:
    listed = scores(api, limit=1000)
    assert listed["total"] == 5 + 10 + 1  # the corrected score replaced the first
    thumbs = [score for score in listed["scores"] if score["name"] == "thumbs"]
    assert {(score["trace_id"], score["value"]) for score in thumbs} == {
        (trace_id, verdict) for trace_id, (_model, verdict) in traffic.thumbs.items()
    }
    assert all(score["span_id"] == "" and score["data_type"] == "categorical" for score in thumbs)
    assert all(score["comment"] == f"user said {score['value']}" for score in thumbs)
    booleans = [score for score in listed["scores"] if score["name"] == "valid_json"]
    assert {score["value"] for score in booleans} == {True, False}
    assert all(score["data_type"] == "boolean" and score["source"] == "rule" for score in booleans)
    timestamps = [score["timestamp_unix_nano"] for score in listed["scores"]]
    assert timestamps == sorted(timestamps, reverse=True)


def test_same_score_id_replaces_the_score(api: httpx.Client, traffic: Traffic) -> None:
    (relevance,) = scores(api, name="relevance")["scores"]
    assert (relevance["score_id"], relevance["value"], relevance["data_type"]) == ("rel-1", 0.8, "numeric")
    assert relevance["trace_id"] == traffic.upserted_trace


def test_filters_and_paging(api: httpx.Client, traffic: Traffic) -> None:
    trace_id, span_id = traffic.judged_span
    on_span = scores(api, trace_id=trace_id, span_id=span_id)
    assert {score["name"] for score in on_span["scores"]} == {"faithfulness", "valid_json"}
    on_trace = scores(api, trace_id=trace_id, span_id="")
    assert [score["name"] for score in on_trace["scores"]] == ["thumbs"]
    assert scores(api, source="model")["total"] == 5
    assert scores(api, name="thumbs", source="model")["total"] == 0
    pages = [scores(api, limit=4, offset=offset) for offset in range(0, 16, 4)]
    assert all(page["total"] == 16 for page in pages)
    ids = [score["score_id"] for page in pages for score in page["scores"]]
    assert len(ids) == len(set(ids)) == 16
    assert scores(api, offset=100)["total"] == 16
    assert scores(api, start="2000-01-01T00:00:00Z", end="2000-01-02T00:00:00Z")["total"] == 0


def test_trace_list_filtered_by_score(api: httpx.Client, traffic: Traffic) -> None:
    def traces(**params: Any) -> set[str]:
        response = api.get("/api/traces", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        return {trace["trace_id"] for trace in response.json()["traces"]}

    thumbs_down = {trace_id for trace_id, (_model, verdict) in traffic.thumbs.items() if verdict == "down"}
    assert traces(score_name="thumbs", score_value="down") == thumbs_down
    claude = {trace_id for trace_id, (model, _verdict) in traffic.thumbs.items() if model == "claude"}
    assert traces(score_name="faithfulness", score_max=0.5) == claude
    assert traces(score_name="faithfulness", score_min=0.5) == set(traffic.thumbs) - claude
    assert traces(score_name="valid_json", score_value="false") == claude
    assert traces(score_name="thumbs", score_value="down", model="claude") == claude
    assert traces(score_name="relevance") == {traffic.upserted_trace}
    assert traces(score_name="no-such-score") == set()
    assert api.get("/api/traces", params={"score_value": "down"}).status_code == 400
    assert api.get("/api/traces", params={"score_name": "q", "score_min": "nan"}).status_code == 422


def stats(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/scores/stats", params=params)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_stats_per_model(api: httpx.Client, traffic: Traffic) -> None:
    rows = {(row["name"], row["group"]): row for row in stats(api)}
    # Trace scores take the model of the trace's LLM span: the user's thumbs per model.
    assert rows[("thumbs", "gpt-4o")]["counts"] == {"up": 2, "down": 1}
    assert rows[("thumbs", "claude")]["counts"] == {"down": 2}
    assert rows[("thumbs", "claude")]["avg"] is None
    assert rows[("faithfulness", "gpt-4o")]["avg"] == pytest.approx(0.9)
    assert rows[("faithfulness", "claude")]["avg"] == pytest.approx(0.4)
    assert (rows[("faithfulness", "claude")]["min"], rows[("faithfulness", "claude")]["max"]) == (0.4, 0.4)
    # A boolean's average is its share of true.
    assert rows[("valid_json", "gpt-4o")]["avg"] == 1.0
    assert rows[("valid_json", "claude")]["counts"] == {"false": 2}
    by_source = {(row["name"], row["group"]) for row in stats(api, group_by="source")}
    assert ("relevance", "human") in by_source and ("faithfulness", "model") in by_source
    (total,) = stats(api, group_by="none", name="faithfulness")
    assert (total["count"], total["group"]) == (5, None)
    assert total["avg"] == pytest.approx((3 * 0.9 + 2 * 0.4) / 5)


def test_average_score_per_model_per_day(api: httpx.Client, traffic: Traffic) -> None:
    """Scores given on earlier days (POSTed with their timestamps) land in their day's bucket."""
    trace_id, span_id = traffic.judged_span  # a claude span
    posted = api.post(
        "/api/scores",
        json=[
            {"trace_id": trace_id, "span_id": span_id, "name": "daily", "value": value, "timestamp": stamp}
            for value, stamp in [
                (1.0, "2026-03-01T08:00:00Z"),
                (0.0, "2026-03-01T20:00:00Z"),
                (0.6, "2026-03-02T12:00:00Z"),
            ]
        ],
    )
    assert posted.status_code == 200, posted.text
    assert len(posted.json()["score_ids"]) == 3
    rows = stats(
        api, name="daily", bucket_seconds=DAY, start="2026-03-01T00:00:00Z", end="2026-03-03T00:00:00Z"
    )
    assert [(row["bucket"][:10], row["group"], row["avg"], row["count"]) for row in rows] == [
        ("2026-03-01", "claude", 0.5, 2),
        ("2026-03-02", "claude", 0.6, 1),
    ]


def test_invalid_scores_are_refused_and_nothing_is_written(api: httpx.Client, traffic: Traffic) -> None:
    good = {"trace_id": traffic.upserted_trace, "name": "batch", "value": 1}
    for bad, status in [
        ({**good, "trace_id": "xyz"}, 422),
        ({**good, "span_id": "12"}, 422),
        ({**good, "source": "robot"}, 422),
        ({**good, "value": None}, 422),
        ({**good, "value": [1]}, 422),
        ({**good, "name": ""}, 422),
    ]:
        response = api.post("/api/scores", json=[good, bad])
        assert response.status_code == status, (bad, response.text)
    not_finite = api.post(
        "/api/scores",
        content=b'{"trace_id": "%s", "name": "batch", "value": NaN}' % traffic.upserted_trace.encode(),
    )
    assert not_finite.status_code == 422, not_finite.text
    assert scores(api, name="batch")["total"] == 0
    assert api.get("/api/scores/stats", params={"bucket_seconds": 0}).status_code == 422
    assert api.get("/api/scores", params={"trace_id": "nothex"}).status_code == 422


def test_scores_are_scoped_to_the_keys_project(collector: CollectorProcess, traffic: Traffic) -> None:
    other = collector.create_key("another-project")["key"]
    with collector.client(other) as client:
        assert client.get("/api/scores").json()["total"] == 0
        assert client.get("/api/scores/stats").json()["rows"] == []
    with httpx.Client(base_url=collector.url) as anonymous:
        assert anonymous.get("/api/scores").status_code == 401
        assert anonymous.post("/api/scores", json=[]).status_code == 401
