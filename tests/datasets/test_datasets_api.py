"""Eval datasets for real: spans and scores sent through the SDK (and the instrumented openai client
against the fake provider) to a collector process, mined into datasets with `/api/datasets`,
exported in every format, imported back, versioned, and driven from the `tokentrail datasets` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

import tokentrail
from tests.datasets.test_dedupe import DISTINCT, PLANTED
from tests.datasets.test_formats import MALFORMED
from tests.instrumentation.helpers import FakeProvider
from tests.scores.sdk_traffic import ModelCallFailed, current_ids, llm_call, sdk_session
from tests.support import CollectorProcess

ANSWER = "We are looking into it."
ERROR_PROMPT = "The payment page crashed with a stack trace when I clicked pay; what is going on there?"
SLOW_PROMPTS = [
    "Please write a detailed migration plan for moving our analytics warehouse to a new region.",
    "Draft a long onboarding guide for new support engineers covering escalation and tooling.",
]
EXPENSIVE_PROMPT = "Translate our entire terms of service into Japanese, Korean and Brazilian Portuguese."
CHAT = [
    {"role": "system", "content": "You are the support assistant of a hardware shop. Answer briefly."},
    {"role": "user", "content": "Is the red kettle dishwasher safe?"},
]
ROUND_TRIP_FIELDS = ("input", "output", "expected_output", "metadata", "source_trace_id", "source_span_id")


@dataclass
class Seeded:
    """What the SDK sent: prompt -> (trace id, LLM span id, model), and groups of LLM span ids."""

    spans: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    planted: set[str] = field(default_factory=set)
    exact_duplicate: str = ""
    chain_spans: set[str] = field(default_factory=set)
    refund: set[str] = field(default_factory=set)
    thumbs_down: set[str] = field(default_factory=set)
    chat_span: str = ""

    def of(self, *prompts: str) -> set[str]:
        return {self.spans[prompt][1] for prompt in prompts}

    def model(self, name: str) -> set[str]:
        return {span_id for _, span_id, model in self.spans.values() if model == name}

    def every_llm_span(self) -> set[str]:
        spans = {span_id for _, span_id, _ in self.spans.values()}
        return spans | self.planted | {self.exact_duplicate, self.chat_span}


@tokentrail.observe(kind="chain", name="handle")
def handle(prompt: str, model: str, **options: Any) -> tuple[str, str, str]:
    """A request: a chain span around one LLM span; (trace id, LLM span id, chain span id)."""
    try:
        trace_id, span_id = llm_call(prompt, ANSWER, model=model, **options)
    except ModelCallFailed as failure:
        trace_id, span_id = failure.ids
    return trace_id, span_id, current_ids()[1]


@tokentrail.observe(kind="chain", name="chat-request")
def ask(client: openai.OpenAI) -> tuple[str, str]:
    """A request answered by the instrumented openai client: (trace id, chain span id)."""
    client.chat.completions.create(model="gpt-4o-mini", messages=CHAT)  # type: ignore[arg-type]
    return current_ids()


@pytest.fixture(scope="module")
def key(collector: CollectorProcess) -> str:
    return collector.create_key("support")["key"]


@pytest.fixture(scope="module")
def api(collector: CollectorProcess, key: str) -> Any:
    with collector.client(key) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(collector: CollectorProcess, key: str, api: httpx.Client) -> Seeded:
    seen = Seeded()

    def send(prompt: str, model: str, **options: Any) -> str:
        trace_id, span_id, chain_id = handle(prompt, model, **options)
        seen.chain_spans.add(chain_id)
        seen.spans.setdefault(prompt, (trace_id, span_id, model))
        return span_id

    with FakeProvider() as provider, sdk_session(collector, key, service_name="support"):
        for number, prompt in enumerate(DISTINCT):
            tags = ["refund"] if number in (0, 2) else []
            span_id = send(prompt, "gpt-4o" if number % 2 == 0 else "claude", tags=tags)
            seen.refund |= {span_id} if tags else set()
        seen.planted = {send(prompt, "gpt-4o") for prompt in PLANTED}
        seen.exact_duplicate = send(DISTINCT[3], "claude")
        send(ERROR_PROMPT, "claude", fail=True)
        for prompt in SLOW_PROMPTS:
            send(prompt, "gpt-4o", delay_s=0.15)
        send(EXPENSIVE_PROMPT, "claude", cost_usd=0.5)
        for prompt in (DISTINCT[1], DISTINCT[4]):
            tokentrail.score("thumbs", "down", trace_id=seen.spans[prompt][0])
        seen.thumbs_down = seen.of(DISTINCT[1], DISTINCT[4])
        tokentrail.instrument("openai")
        try:
            with openai.OpenAI(base_url=provider.base_url, api_key="sk-fake", max_retries=0) as client:
                chat_trace, chain_id = ask(client)
                seen.chain_spans.add(chain_id)
        finally:
            tokentrail.uninstrument()
    spans = api.get(f"/api/traces/{chat_trace}").json()["spans"]
    (seen.chat_span,) = [span["span_id"] for span in spans if span["kind"] == "llm"]
    return seen


def preview(api: httpx.Client, span_filter: dict[str, Any], **options: Any) -> dict[str, Any]:
    body = {"filter": span_filter, "preview_items": 200, **options}
    response = api.post("/api/datasets/preview", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def span_ids(answer: dict[str, Any]) -> set[str]:
    return {item["source_span_id"] for item in answer["items"]}


def create(api: httpx.Client, name: str, mining: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/api/datasets", json={"name": name, "mining": mining})
    assert response.status_code == 201, response.text
    return response.json()


def items(api: httpx.Client, dataset_id: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/datasets/{dataset_id}/items", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()


def versions(api: httpx.Client, dataset_id: str) -> list[tuple[int, int]]:
    answer = api.get(f"/api/datasets/{dataset_id}/versions").json()
    return [(version["version"], version["item_count"]) for version in answer["versions"]]


def test_preview_counts_before_creating_and_the_dataset_matches(api: httpx.Client, seeded: Seeded) -> None:
    seen = preview(api, {}, preview_items=3)
    llm_spans = len(seeded.every_llm_span())
    assert (seen["report"]["matched"], seen["report"]["considered"]) == (llm_spans, llm_spans)
    assert (seen["report"]["exact_duplicates"], seen["report"]["near_duplicates"]) == (1, len(PLANTED))
    assert seen["count"] == llm_spans - 1 - len(PLANTED) == seen["report"]["items"]
    assert len(seen["items"]) == 3
    dataset = create(api, "support-all", {"filter": {}})
    assert (dataset["item_count"], dataset["latest_version"]) == (seen["count"], 1)
    assert dataset["metadata"]["mining"] == seen["report"]
    assert dataset["metadata"]["filter"]["kinds"] == ["llm"]
    listed = api.get("/api/datasets").json()
    assert dataset["dataset_id"] in {entry["dataset_id"] for entry in listed["datasets"]}
    assert api.get(f"/api/datasets/{dataset['dataset_id']}").json() == dataset


def test_near_duplicates_are_removed_as_stated(api: httpx.Client, seeded: Seeded) -> None:
    dataset = create(api, "deduplicated", {"filter": {}, "dedupe": {"threshold": 0.8}})
    method = dataset["metadata"]["mining"]["dedupe"]
    assert (method["method"], method["threshold"], method["permutations"]) == ("minhash-lsh", 0.8, 120)
    assert "5-byte shingles" in method["shingles"]
    kept = span_ids(items(api, dataset["dataset_id"]))
    assert seeded.of(*DISTINCT) <= kept, "every distinct prompt is kept, once"
    assert not kept & (seeded.planted | {seeded.exact_duplicate})
    assert seeded.of(ERROR_PROMPT, EXPENSIVE_PROMPT, *SLOW_PROMPTS) | {seeded.chat_span} <= kept
    everything = preview(api, {}, dedupe={"enabled": False})
    assert span_ids(everything) == seeded.every_llm_span()
    assert everything["report"]["dedupe"] is None


def test_items_keep_metadata_and_provenance(api: httpx.Client, seeded: Seeded) -> None:
    by_span = {item["source_span_id"]: item for item in preview(api, {})["items"]}
    trace_id, span_id, _ = seeded.spans[DISTINCT[0]]
    item = by_span[span_id]
    assert item["source_trace_id"] == trace_id
    assert json.loads(item["input"]) == DISTINCT[0]
    assert item["output"] == item["expected_output"] == json.dumps(ANSWER)  # as captured: JSON text
    metadata = item["metadata"]
    assert (metadata["model"], metadata["provider"], metadata["service_name"]) == (
        "gpt-4o",
        "openai",
        "support",
    )
    assert (metadata["input_tokens"], metadata["output_tokens"], metadata["cost_usd"]) == (20, 10, 0.001)
    assert metadata["tags"] == ["refund"] and metadata["kind"] == "llm"
    assert metadata["duration_ms"] > 0 and metadata["start_time"].endswith("Z")
    scored = by_span[seeded.spans[DISTINCT[1]][1]]["metadata"]["scores"]
    assert scored == [{"name": "thumbs", "value": "down", "source": "user"}]
    trace = api.get(f"/api/traces/{trace_id}").json()
    assert span_id in {span["span_id"] for span in trace["spans"]}
    chat = by_span[seeded.chat_span]
    assert [message["role"] for message in json.loads(chat["input"])] == ["system", "user"]
    assert chat["metadata"]["model"] == "gpt-4o-mini"


def test_filters(api: httpx.Client, seeded: Seeded) -> None:
    def mined(span_filter: dict[str, Any]) -> set[str]:
        return span_ids(preview(api, span_filter, dedupe={"enabled": False}))

    claude = seeded.model("claude") | {seeded.exact_duplicate}
    assert mined({"models": ["claude"]}) == claude
    assert mined({"tags": ["refund"]}) == seeded.refund
    assert mined({"models": ["claude"], "tags": ["refund"]}) == set()
    assert mined({"status": "error"}) == seeded.of(ERROR_PROMPT)
    assert mined({"status": "ok"}) == seeded.every_llm_span() - seeded.of(ERROR_PROMPT)
    invoices = {span_id for prompt, (_, span_id, _) in seeded.spans.items() if "invoice" in prompt.lower()}
    assert len(invoices) == 3 and mined({"text": "INVOICE"}) == invoices
    assert mined({"score": {"name": "thumbs", "value": "down"}}) == seeded.thumbs_down
    assert mined({"score": {"name": "thumbs", "value": "up"}}) == set()
    assert mined({"cost_min_usd": 0.1}) == seeded.of(EXPENSIVE_PROMPT)
    assert mined({"latency_min_ms": 100}) == seeded.of(*SLOW_PROMPTS)
    two_traces = [seeded.spans[DISTINCT[0]][0], seeded.spans[EXPENSIVE_PROMPT][0]]
    assert mined({"trace_ids": two_traces}) == seeded.of(DISTINCT[0], EXPENSIVE_PROMPT)
    assert mined({"span_ids": sorted(seeded.planted)}) == seeded.planted
    assert mined({"kinds": ["chain"]}) == seeded.chain_spans
    assert mined({"kinds": []}) == seeded.every_llm_span() | seeded.chain_spans
    assert mined({"services": ["billing"]}) == set()
    assert mined({"end": "2000-01-01T00:00:00Z"}) == set()


def test_latency_above_a_percentile_is_computed_over_the_filtered_spans(
    api: httpx.Client, seeded: Seeded
) -> None:
    everything = preview(api, {"models": ["gpt-4o"]}, dedupe={"enabled": False})["items"]
    durations = {item["source_span_id"]: item["metadata"]["duration_ms"] for item in everything}
    cutoff = float(np.quantile(list(durations.values()), 0.8))  # linear, as quantileExactInclusive
    expected = {span_id for span_id, duration in durations.items() if duration >= cutoff}
    slowest = span_ids(
        preview(api, {"models": ["gpt-4o"], "latency_percentile": 80}, dedupe={"enabled": False})
    )
    assert slowest == expected
    assert seeded.of(*SLOW_PROMPTS) <= slowest < set(durations)


def test_sampling_stratified_by_model_and_repeatable(api: httpx.Client, seeded: Seeded) -> None:
    options = {"dedupe": {"enabled": False}, "sample": {"size": 5, "seed": 3, "stratify_by": "model"}}
    first = preview(api, {"models": ["gpt-4o", "claude", "gpt-4o-mini"]}, **options)
    # 16 spans: 9 gpt-4o, 6 claude, 1 gpt-4o-mini -> shares 2.81, 1.88, 0.31 -> 3, 2, 0.
    models = [item["metadata"]["model"] for item in first["items"]]
    assert sorted(models) == ["claude", "claude", "gpt-4o", "gpt-4o", "gpt-4o"]
    again = preview(api, {"models": ["gpt-4o", "claude", "gpt-4o-mini"]}, **options)
    assert span_ids(again) == span_ids(first)
    assert first["report"]["sample"] == {
        "size": 5, "seed": 3, "stratify_by": "model", "method": "stratified by model, proportional",
    }  # fmt: skip


def export(api: httpx.Client, dataset_id: str, fmt: str, **params: Any) -> bytes:
    response = api.get(f"/api/datasets/{dataset_id}/export", params={"format": fmt, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.content


def comparable(answer: dict[str, Any]) -> list[tuple[object, ...]]:
    return [
        tuple(json.dumps(item[name], sort_keys=True) for name in ROUND_TRIP_FIELDS)
        for item in answer["items"]
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_then_import_round_trips_items_and_provenance(
    api: httpx.Client, seeded: Seeded, fmt: str
) -> None:
    source = create(api, f"source-{fmt}", {"filter": {}})
    body = export(api, source["dataset_id"], fmt)
    target = create(api, f"imported-{fmt}")
    assert target["item_count"] == 0
    if fmt == "jsonl":  # a raw body with the format named
        response = api.post(
            f"/api/datasets/{target['dataset_id']}/import", params={"format": fmt}, content=body
        )
    else:  # a multipart upload, the format from the file name
        files = {"file": (f"items.{fmt}", body, "application/octet-stream")}
        response = api.post(f"/api/datasets/{target['dataset_id']}/import", files=files)
    assert response.status_code == 201, response.text
    assert (response.json()["imported"], response.json()["version"]) == (source["item_count"], 2)
    assert comparable(items(api, target["dataset_id"])) == comparable(items(api, source["dataset_id"]))
    provenance = {item["source_span_id"] for item in items(api, target["dataset_id"])["items"]}
    assert seeded.of(*DISTINCT) <= provenance


def test_openai_export_builds_chat_messages_and_reimports(api: httpx.Client, seeded: Seeded) -> None:
    source = create(api, "fine-tune", {"filter": {}})
    body = export(api, source["dataset_id"], "openai")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert len(lines) == source["item_count"]
    assert all(set(line) == {"messages"} and line["messages"][-1]["role"] == "assistant" for line in lines)
    by_first_user = {
        next(message["content"] for message in line["messages"] if message["role"] == "user"): line[
            "messages"
        ]
        for line in lines
    }
    assert by_first_user[DISTINCT[0]] == [
        {"role": "user", "content": DISTINCT[0]},
        {"role": "assistant", "content": ANSWER},
    ]
    chat = by_first_user[CHAT[1]["content"]]
    assert chat[:2] == CHAT and chat[2]["role"] == "assistant" and chat[2]["content"]
    target = create(api, "fine-tune-copy")
    response = api.post(
        f"/api/datasets/{target['dataset_id']}/import", params={"format": "openai"}, content=body
    )
    assert response.status_code == 201, response.text
    assert export(api, target["dataset_id"], "openai") == body


def test_versions_stay_readable(api: httpx.Client, seeded: Seeded) -> None:
    dataset = create(api, "versioned", {"filter": {}, "sample": {"size": 3, "seed": 1}})
    dataset_id = dataset["dataset_id"]
    original = items(api, dataset_id)
    assert (original["version"], original["total"]) == (1, 3)

    added = api.post(
        f"/api/datasets/{dataset_id}/items",
        json=[{"input": "A hand-written question?", "expected_output": "A hand-written answer."}],
    )
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2
    first_id = original["items"][0]["item_id"]
    edited = api.patch(
        f"/api/datasets/{dataset_id}/items/{first_id}", json={"expected_output": "Better answer."}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["item"]["revision"]) == (3, 2)
    assert edited.json()["item"]["source_span_id"] == original["items"][0]["source_span_id"]
    second_id = original["items"][1]["item_id"]
    assert api.delete(f"/api/datasets/{dataset_id}/items/{second_id}").json() == {"version": 4}

    assert versions(api, dataset_id) == [(1, 3), (2, 4), (3, 4), (4, 3)]
    assert items(api, dataset_id, version=1)["items"] == original["items"]
    assert (
        items(api, dataset_id, version=2)["items"][0]["expected_output"]
        == original["items"][0]["expected_output"]
    )
    assert items(api, dataset_id, version=3)["items"][0]["expected_output"] == "Better answer."
    latest = items(api, dataset_id)
    assert latest["version"] == 4
    assert [item["item_id"] for item in latest["items"]] == [
        first_id, original["items"][2]["item_id"], added.json()["item_ids"][0],
    ]  # fmt: skip
    assert latest["items"][2]["expected_output"] == "A hand-written answer."
    old_export = export(api, dataset_id, "jsonl", version=1).decode().splitlines()
    assert [json.loads(line)["expected_output"] for line in old_export] == [
        item["expected_output"] for item in original["items"]
    ]
    paged = [
        items(api, dataset_id, version=2, limit=1, offset=offset)["items"][0]["item_id"]
        for offset in range(4)
    ]
    assert paged == [item["item_id"] for item in items(api, dataset_id, version=2)["items"]]
    assert api.get(f"/api/datasets/{dataset_id}", params={}).json()["latest_version"] == 4
    assert api.get(f"/api/datasets/{dataset_id}/items", params={"version": 9}).status_code == 404
    assert api.patch(f"/api/datasets/{dataset_id}/items/{second_id}", json={"output": "x"}).status_code == 404


@pytest.mark.parametrize(("fmt", "body", "named"), MALFORMED)
def test_malformed_imports_are_refused_and_nothing_is_written(
    api: httpx.Client, seeded: Seeded, fmt: str, body: bytes, named: str
) -> None:
    dataset = create(api, f"guarded-{fmt}", {"filter": {"models": ["claude"]}})
    dataset_id = dataset["dataset_id"]
    before = items(api, dataset_id)
    response = api.post(f"/api/datasets/{dataset_id}/import", params={"format": fmt}, content=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"]
    assert versions(api, dataset_id) == [(1, dataset["item_count"])]
    assert items(api, dataset_id) == before


def test_import_requests_that_cannot_be_served(api: httpx.Client, seeded: Seeded) -> None:
    dataset_id = create(api, "requests")["dataset_id"]
    url = f"/api/datasets/{dataset_id}/import"
    assert api.post(url, content=b'{"input": "q"}\n').status_code == 400  # no format, no file name
    assert api.post(url, params={"format": "xml"}, content=b"<a/>").status_code == 422
    assert api.post(url, params={"format": "jsonl"}, content=b"\n\n").status_code == 400  # no items
    assert api.post(url, files={"other": ("x.csv", b"input\nq\n")}).status_code == 400
    missing = "0" * 32
    assert (
        api.post(
            f"/api/datasets/{missing}/import", params={"format": "jsonl"}, content=b'{"input": "q"}'
        ).status_code
        == 404
    )
    assert api.get(f"/api/datasets/{missing}/export").status_code == 404
    assert api.get("/api/datasets/not-an-id").status_code == 422
    assert versions(api, dataset_id) == [(1, 0)]
    bad_filter = api.post("/api/datasets/preview", json={"filter": {"trace_ids": ["xyz"]}})
    assert bad_filter.status_code == 422
    assert api.post("/api/datasets/preview", json={"dedupe": {"threshold": 0.1}}).status_code == 422
    assert api.post("/api/datasets/preview", json={"filter": {"latency_percentile": 100}}).status_code == 422
    assert api.post("/api/datasets", json={"name": ""}).status_code == 422


def test_datasets_are_scoped_to_the_keys_project(
    collector: CollectorProcess, api: httpx.Client, seeded: Seeded
) -> None:
    dataset_id = create(api, "private", {"filter": {}})["dataset_id"]
    other = collector.create_key("elsewhere")["key"]
    with collector.client(other) as client:
        assert client.get("/api/datasets").json()["total"] == 0
        assert client.post("/api/datasets/preview", json={}).json()["count"] == 0
        assert client.get(f"/api/datasets/{dataset_id}").status_code == 404
        assert client.get(f"/api/datasets/{dataset_id}/items").status_code == 404
        assert client.get(f"/api/datasets/{dataset_id}/export").status_code == 404
        imported = client.post(
            f"/api/datasets/{dataset_id}/import", params={"format": "jsonl"}, content=b'{"input": "q"}'
        )
        assert imported.status_code == 404
    with httpx.Client(base_url=collector.url) as anonymous:
        assert anonymous.get("/api/datasets").status_code == 401


def cli(collector: CollectorProcess, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOKENTRAIL_")}
    if key is not None:
        env["TOKENTRAIL_API_KEY"] = key
    command = [sys.executable, "-m", "tokentrail_collector.cli", "datasets", *args, "--url", collector.url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_create_list_export_import(
    collector: CollectorProcess, key: str, seeded: Seeded, tmp_path: Path
) -> None:
    created = cli(collector, key, "create", "from-cli", "--model", "claude", "--no-dedupe", "--json")
    assert created.returncode == 0, created.stderr
    dataset = json.loads(created.stdout)
    assert dataset["item_count"] == len(seeded.model("claude") | {seeded.exact_duplicate})
    assert dataset["metadata"]["filter"]["models"] == ["claude"]

    listed = cli(collector, key, "list")
    assert listed.returncode == 0 and dataset["dataset_id"] in listed.stdout and "from-cli" in listed.stdout

    target = tmp_path / "claude.csv"
    exported = cli(collector, key, "export", dataset["dataset_id"], "--format", "csv", "-o", str(target))
    assert exported.returncode == 0, exported.stderr
    assert target.read_text().startswith("input,output,expected_output,metadata")

    empty = json.loads(cli(collector, key, "create", "cli-copy", "--empty", "--json").stdout)
    imported = cli(collector, key, "import", empty["dataset_id"], str(target))
    assert imported.returncode == 0, imported.stderr
    assert f"imported {dataset['item_count']} items" in imported.stdout
    with collector.client(key) as client:
        assert comparable(items(client, empty["dataset_id"])) == comparable(
            items(client, dataset["dataset_id"])
        )

    previewed = cli(collector, key, "create", "unused", "--preview", "--tag", "refund")
    assert previewed.returncode == 0 and "spans matched: 2" in previewed.stdout

    refused = cli(collector, None, "list")
    assert refused.returncode == 1 and "TOKENTRAIL_API_KEY" in refused.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "ok"}\n{oops\n')
    failed = cli(collector, key, "import", empty["dataset_id"], str(bad))
    assert failed.returncode == 1 and "line 2" in failed.stderr
