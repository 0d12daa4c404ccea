"""The issue's drift test on a real data flow: an app instrumented with the SDK calls the real
`openai` client against the fake provider, its spans go over OTLP to a collector process, and the
drift report is asked of that collector's API.

The plant: after a point in time, ONE model (gpt-4o) gets prompts on a new topic (cooking instead
of shop support) and answers about four times slower. Everything else is held equal on purpose, so
that the expected verdict is exact: every prompt i has the same length whatever its topic (so
prompt length and input tokens do not move), the provider's answers are scripted in the same
order in every window (output tokens, completion length, completion topics, finish reasons), and
no call fails. Expected: gpt-4o drifts in latency and prompt topics and nothing else; gpt-4o-mini
is stable; the same traffic without the plant is stable everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import openai
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import tokentrail
from tests.instrumentation.helpers import FakeProvider, Reply, fake
from tests.support import CollectorProcess
from tokentrail import _internal
from tokentrail import semconv as sc
from tokentrail.api import Client, drift_window

CHANGED, UNCHANGED = "gpt-4o", "gpt-4o-mini"
CALLS = 40  # per model and window
SYSTEM = "You are the assistant of an online shop. Answer in one short sentence."
SUPPORT = [
    "I forgot my password and the reset link never arrives",
    "Please send me a copy of the invoice for my last order",
    "My refund for the returned jacket has not shown up",
    "How can I change the delivery address of an open order",
    "The discount code from the newsletter is not accepted",
    "Can I cancel my subscription before the next billing date",
    "The parcel tracking page has not updated for four days",
    "I was charged twice for the same pair of shoes",
    "Where do I find the warranty terms for my headphones",
    "Please delete my account and all data you keep about me",
]
COOKING = [
    "What is the best way to roast garlic in the oven",
    "How long should fresh tagliatelle boil before serving",
    "Give me a quick recipe for tomato and basil sauce",
    "Can I freeze homemade bread dough for next week",
    "Which spices go well with a roasted pumpkin soup",
    "How do I keep a risotto creamy without too much butter",
    "What can I use instead of eggs when baking muffins",
    "How thin should I slice potatoes for a gratin",
    "Is it safe to marinate chicken in yogurt overnight",
    "What temperature should the pan be for searing steak",
]
FILLERS = ["thanks a lot", "kind regards", "many thanks", "cheers", "best wishes", "thank you", "regards"]
LENGTHS = [80 + (i * 37) % 120 for i in range(CALLS)]
# Spread wide, so that what a busy machine adds to every call moves the distribution little.
BASE_LATENCY_S = [0.040 + 0.005 * ((7 * i) % CALLS) for i in range(CALLS)]  # 40..235 ms
PLANTED_LATENCY_S = [0.400 + 0.005 * ((7 * i) % CALLS) for i in range(CALLS)]  # 400..595 ms
PLANTED = {"latency", "prompt_topics"}


def question(templates: list[str], i: int, window: int) -> str:
    """Call i's question: its template and a filler, cut or padded to LENGTHS[i] characters."""
    text = f"{templates[i % len(templates)]}, {FILLERS[(3 * i + window) % len(FILLERS)]}"
    while len(text) < LENGTHS[i]:
        text += " " + text
    cut = text[: LENGTHS[i]]
    return cut[:-1] + "." if cut.endswith(" ") else cut


@tokentrail.observe(name="answer_customer")
def answer(client: openai.OpenAI, model: str, text: str) -> str:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    )
    return reply.choices[0].message.content or ""


@dataclass(frozen=True)
class Traffic:
    key: str
    boundaries: tuple[str, str, str]  # baseline start, the point in time, current end (ISO)


def iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest:09d}Z"


def run_traffic(
    collector: CollectorProcess, provider: FakeProvider, *, project: str, planted: bool
) -> Traffic:
    key = collector.create_key(project)["key"]
    times = [time.time_ns()]
    with openai.OpenAI(base_url=provider.base_url, api_key="sk-fake", max_retries=0) as client:
        for window, release in enumerate(("v1", "v2")):
            resource = Resource.create({sc.SERVICE_NAME: "shop-assistant", sc.SERVICE_VERSION: release})
            tokentrail.init(
                endpoint=collector.url,
                api_key=key,
                tracer_provider=TracerProvider(resource=resource),
                capture_content=True,
                instrument=["openai"],
            )
            for i in range(CALLS):
                for model in (UNCHANGED, CHANGED):
                    changed = planted and window == 1 and model == CHANGED
                    provider.server.latency_s = (PLANTED_LATENCY_S if changed else BASE_LATENCY_S)[i]  # type: ignore[attr-defined]
                    provider.script(Reply(text=fake.ANSWERS[i % len(fake.ANSWERS)]))
                    answer(client, model, question(COOKING if changed else SUPPORT, i, window))
            assert tokentrail.flush(timeout_s=60), "every span reached the collector"
            times.append(time.time_ns())
    assert tokentrail.export_stats().dropped == 0
    return Traffic(key=key, boundaries=(iso(times[0]), iso(times[1]), iso(times[2] + 1)))


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake_provider:
        yield fake_provider


@pytest.fixture(scope="module")
def traffic(collector: CollectorProcess, provider: FakeProvider) -> Iterator[dict[str, Traffic]]:
    errors: list[BaseException] = []
    previous = _internal.set_internal_error_hook(errors.append)
    try:
        yield {
            "planted": run_traffic(collector, provider, project="drift-planted", planted=True),
            "steady": run_traffic(collector, provider, project="drift-steady", planted=False),
        }
    finally:
        tokentrail.shutdown(timeout_s=10)
        tokentrail.uninstrument()
        _internal.set_internal_error_hook(previous)
    assert not errors, f"tokentrail swallowed internal errors: {errors!r}"


def report(collector: CollectorProcess, traffic: Traffic, **body: Any) -> dict[str, Any]:
    start, point, end = traffic.boundaries
    body.setdefault("baseline", {"start": start, "end": point})
    body.setdefault("current", {"start": point, "end": end})
    with collector.client(traffic.key) as api:
        response = api.post("/api/drift", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def features(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["feature"]: feature for feature in result["features"]}


def test_questions_are_the_same_length_whatever_their_topic() -> None:
    for i in range(CALLS):
        assert len(question(SUPPORT, i, 0)) == len(question(COOKING, i, 1)) == LENGTHS[i]
        assert "?" not in question(SUPPORT, i, 0)  # the fake provider slows down per question mark


def test_the_changed_model_drifts_in_latency_and_prompt_topics_only(
    collector: CollectorProcess, traffic: dict[str, Traffic]
) -> None:
    result = report(collector, traffic["planted"], model=CHANGED)
    assert result["baseline"]["span_count"] == CALLS and result["current"]["span_count"] == CALLS
    assert set(result["drifted"]) == PLANTED, result["drifted"]
    assert result["warnings"] == [], result["warnings"]
    assert result["status"] == "drifted"
    by_name = features(result)

    latency = by_name["latency"]
    assert latency["current_quantiles"]["p50"] > 2.5 * latency["baseline_quantiles"]["p50"]
    with collector.client(traffic["planted"].key) as api:
        for example in latency["examples"]:
            span = next(
                s
                for s in api.get(f"/api/traces/{example['trace_id']}").json()["spans"]
                if s["span_id"] == example["span_id"]
            )
            assert span["request_model"] == CHANGED and span["kind"] == "llm"
            assert span["duration_ms"] >= 400 and span["start_time"] >= traffic["planted"].boundaries[1][:19]
    assert latency["examples"], "a drifted feature names the spans that moved"

    topics = by_name["prompt_topics"]
    assert topics["baseline_sampled"] == CALLS and topics["current_sampled"] == CALLS
    clusters = topics["topics"]["clusters"]
    # The share of texts that changed cluster (total variation distance): k-means with 8 clusters
    # over 20 question templates may put a few new questions with old ones, not half of them.
    assert sum(max(0.0, c["change"]) for c in clusters) >= 0.6
    grown = max(clusters, key=lambda c: c["change"])  # clusters come largest change first
    assert grown["current_count"] > 3 * grown["baseline_count"]
    cooking_words = {word.lower().strip(",.") for text in COOKING for word in text.split()}
    assert any(word in cooking_words for word in grown["label"]), grown["label"]
    assert all(any(t[:30] in s["text"] for t in COOKING) for s in grown["samples"])
    assert topics["examples"] and all(any(t[:30] in e["text"] for t in COOKING) for e in topics["examples"])

    for name in ("input_tokens", "output_tokens", "prompt_length", "completion_length", "completion_topics"):
        assert by_name[name]["status"] == "stable", name
    assert by_name["time_to_first_token"]["note"].startswith("not judged"), "no streamed calls"


def test_the_other_model_is_stable(collector: CollectorProcess, traffic: dict[str, Traffic]) -> None:
    result = report(collector, traffic["planted"], model=UNCHANGED)
    assert result["baseline"]["span_count"] == CALLS and result["current"]["span_count"] == CALLS
    assert result["status"] == "stable", (result["drifted"], result["warnings"])
    assert result["warnings"] == []


def test_the_same_verdict_for_releases_as_windows(
    collector: CollectorProcess, traffic: dict[str, Traffic]
) -> None:
    by_release = {
        "baseline": {"field": "release", "value": "v1"},
        "current": {"field": "release", "value": "v2"},
    }
    changed = report(collector, traffic["planted"], model=CHANGED, **by_release)
    assert set(changed["drifted"]) == PLANTED and changed["warnings"] == []
    assert report(collector, traffic["planted"], model=UNCHANGED, **by_release)["status"] == "stable"


def test_without_a_model_filter_only_the_planted_features_move(
    collector: CollectorProcess, traffic: dict[str, Traffic]
) -> None:
    result = report(collector, traffic["planted"])
    assert result["baseline"]["span_count"] == 2 * CALLS
    assert set(result["drifted"]) | set(result["warnings"]) <= PLANTED
    assert "latency" in result["drifted"]
    assert features(result)["model_mix"]["status"] == "stable"


@pytest.mark.parametrize("model", [CHANGED, UNCHANGED, None])
def test_the_same_traffic_without_the_change_is_stable(
    collector: CollectorProcess, traffic: dict[str, Traffic], model: str | None
) -> None:
    result = report(collector, traffic["steady"], model=model)
    assert result["current"]["span_count"] == CALLS * (1 if model else 2)
    assert result["status"] == "stable", (result["drifted"], result["warnings"])
    assert result["warnings"] == []


def test_the_report_is_reproducible(collector: CollectorProcess, traffic: dict[str, Traffic]) -> None:
    first = features(report(collector, traffic["planted"], model=CHANGED, features=["prompt_topics"]))
    second = features(report(collector, traffic["planted"], model=CHANGED, features=["prompt_topics"]))
    assert first["prompt_topics"]["topics"] == second["prompt_topics"]["topics"]


def test_traces_api_sees_the_same_spans(collector: CollectorProcess, traffic: dict[str, Traffic]) -> None:
    with collector.client(traffic["planted"].key) as api:
        listed = api.get("/api/traces", params={"model": CHANGED, "limit": 1000}).json()
    assert listed["total"] == 2 * CALLS


def test_a_dataset_from_the_grown_cluster_holds_the_new_topic_of_the_changed_model(
    collector: CollectorProcess, traffic: dict[str, Traffic]
) -> None:
    """The issue's "create a dataset from the examples of a drifted topic cluster", through
    tokentrail.api: the report's grown cluster -> its filter -> preview and create -> items."""
    start, point, end = traffic["planted"].boundaries
    with Client(collector.url, api_key=traffic["planted"].key) as api:
        result = api.drift.report(
            baseline=drift_window(start=start, end=point),
            current=drift_window(start=point, end=end),
            model=CHANGED,
            features=["prompt_topics"],
        )
        grown = result.grown_cluster("prompt_topics")
        assert grown is not None
        table = result.topics("prompt_topics")
        assert {"trace_ids", "span_ids"} <= set(table.columns)
        cluster = result.cluster("prompt_topics", grown)
        assert len(cluster["span_ids"]) == len(cluster["trace_ids"]) == cluster["current_count"] > 0
        wanted = result.cluster_filter("prompt_topics", grown)

        preview = api.datasets.preview(filter=wanted, dedupe=False, preview_items=200)
        assert preview.attrs["count"] == len(cluster["span_ids"])
        dataset = api.datasets.create("grown cluster", filter=wanted, dedupe=False)
        assert dataset["item_count"] == len(cluster["span_ids"])
        items = api.datasets.items(dataset["dataset_id"], limit=1000)

    assert len(items) == len(cluster["span_ids"])
    assert set(items["source_span_id"]) == set(cluster["span_ids"])
    pairs = set(zip(cluster["trace_ids"], cluster["span_ids"], strict=True))
    assert set(zip(items["source_trace_id"], items["source_span_id"], strict=True)) == pairs
    for _, item in items.iterrows():
        assert item["metadata"]["model"] == CHANGED
        assert point <= str(item["metadata"]["start_time"]) < end
        assert any(template[:30] in item["input"] for template in COOKING), item["input"]
