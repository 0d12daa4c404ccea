"""`Client.datasets` against a real collector: preview, create from a filter, items and versions,
editing, every export format (with download progress) and import back."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
import pytest

from tests.support import CollectorProcess
from tests.ui.seed import DRIFTED_MODEL, Seeded
from tokentrail.api import ApiError, Client, NotFound

PASSWORDS = {"models": [DRIFTED_MODEL], "text": "password", "start": timedelta(hours=12)}


@pytest.fixture(scope="module")
def dataset(collector: CollectorProcess, project_key: str, seeded: Seeded) -> dict[str, object]:
    with Client(collector.url, api_key=project_key) as api:
        return api.datasets.create("passwords", description="the new topic", filter=PASSWORDS, dedupe=False)


def test_preview_counts_before_creating(client: Client, seeded: Seeded) -> None:
    everything = client.datasets.preview(filter={"start": timedelta(hours=12)}, dedupe=False)
    assert everything.attrs["count"] == len(seeded.traces), "one LLM span per seeded trace"
    kept = client.datasets.preview(filter=PASSWORDS, dedupe=False, preview_items=5)
    assert kept.attrs["count"] == seeded.count(drifted=True) and len(kept) == 5
    assert kept["input"].str.contains("password").all()
    report = kept.attrs["report"]
    assert report["matched"] == seeded.count(drifted=True) and report["dedupe"] is None

    deduplicated = client.datasets.preview(filter=PASSWORDS, dedupe={"threshold": 0.8})
    assert deduplicated.attrs["report"]["near_duplicates"] > 0
    assert deduplicated.attrs["count"] < kept.attrs["count"]
    sampled = client.datasets.preview(
        filter={"start": timedelta(hours=12)}, dedupe=False, sample={"size": 10, "stratify_by": "model"}
    )
    assert sampled.attrs["count"] == 10


def test_a_dataset_holds_the_items_with_their_sources(
    client: Client, dataset: dict[str, object], seeded: Seeded
) -> None:
    assert dataset["item_count"] == seeded.count(drifted=True) and dataset["latest_version"] == 1
    listed = client.datasets.list()
    assert dataset["dataset_id"] in set(listed["dataset_id"]) and listed.attrs["total"] >= 1
    assert client.datasets.get(str(dataset["dataset_id"]))["name"] == "passwords"
    items = client.datasets.items(str(dataset["dataset_id"]), limit=1000)
    assert items.attrs["total"] == dataset["item_count"] and items.attrs["version"] == 1
    assert set(items["source_trace_id"]) <= {t for t, facts in seeded.traces.items() if facts["drifted"]}
    assert (items["expected_output"] == items["output"]).all(), "the expected output starts as the output"
    assert str(items["created_at"].dtype).startswith("datetime64")


def test_edits_and_removals_make_new_versions(client: Client, seeded: Seeded) -> None:
    created = client.datasets.create("to edit", filter=PASSWORDS, dedupe=False)
    dataset_id = str(created["dataset_id"])
    first, second = client.datasets.items(dataset_id, limit=2)["item_id"]
    edited = client.datasets.edit_item(dataset_id, first, expected_output="Send the reset link.")
    assert edited["version"] == 2 and edited["item"]["expected_output"] == "Send the reset link."
    assert client.datasets.remove_item(dataset_id, second) == 3
    versions = client.datasets.versions(dataset_id)
    assert list(versions["version"]) == [1, 2, 3]
    assert list(versions["item_count"]) == [created["item_count"]] * 2 + [created["item_count"] - 1]
    original = client.datasets.items(dataset_id, version=1, limit=1000)
    assert second in set(original["item_id"]), "old versions stay readable"
    with pytest.raises(NotFound):
        client.datasets.items("0" * 32)


@pytest.mark.parametrize("export_format", ["jsonl", "openai", "csv", "parquet"])
def test_every_export_format_round_trips(
    client: Client, dataset: dict[str, object], export_format: str
) -> None:
    dataset_id = str(dataset["dataset_id"])
    seen: list[tuple[int, int | None]] = []
    data = client.datasets.export(
        dataset_id, export_format, progress=lambda got, total: seen.append((got, total))
    )
    assert seen and seen[-1][0] == len(data) and seen[-1][1] in (None, len(data))
    count = int(dataset["item_count"])  # type: ignore[arg-type]
    if export_format == "jsonl":
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert len(rows) == count and {"input", "expected_output", "metadata"} <= set(rows[0])
    elif export_format == "openai":
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert len(rows) == count and rows[0]["messages"][-1]["role"] == "assistant"
    elif export_format == "csv":
        assert len(pd.read_csv(io.BytesIO(data))) == count
    else:
        assert len(pd.read_parquet(io.BytesIO(data))) == count

    copy = client.datasets.create(f"copy {export_format}", empty=True)
    imported = client.datasets.import_items(str(copy["dataset_id"]), data, export_format)  # type: ignore[arg-type]
    assert imported["imported"] == count and imported["version"] == 2
    assert client.datasets.items(str(copy["dataset_id"])).attrs["total"] == count


def test_a_broken_import_is_refused_with_the_reason(client: Client, dataset: dict[str, object]) -> None:
    with pytest.raises(ApiError) as refused:
        client.datasets.import_items(str(dataset["dataset_id"]), b"{not json\n", "jsonl")
    assert refused.value.status == 400 and "jsonl" in refused.value.message
