"""`tokentrail datasets versions|items|edit` as a subprocess against a real collector process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.datasets.test_datasets_api import cli
from tests.support import CollectorProcess

SOURCE_TRACE, SOURCE_SPAN = "ab" * 16, "cd" * 8


def test_cli_versions_items_and_edit(collector: CollectorProcess, tmp_path: Path) -> None:
    key = collector.create_key("datasets-cli")["key"]
    dataset = json.loads(cli(collector, key, "create", "by hand", "--empty", "--json").stdout)
    dataset_id = dataset["dataset_id"]
    with collector.client(key) as api:
        added = api.post(
            f"/api/datasets/{dataset_id}/items",
            json=[
                {"input": "What is 2 + 2?", "output": "5", "source_trace_id": SOURCE_TRACE,
                 "source_span_id": SOURCE_SPAN},
                {"input": "Capital of France?", "output": "Paris"},
            ],
        )  # fmt: skip
    assert added.status_code == 201, added.text
    first_id = added.json()["item_ids"][0]

    shown = cli(collector, key, "items", dataset_id)
    assert shown.returncode == 0, shown.stderr
    assert "version 2: items 1-2 of 2" in shown.stdout
    assert f"{first_id} (revision 1, source {SOURCE_TRACE}/{SOURCE_SPAN})" in shown.stdout
    assert "expected: 5" in shown.stdout

    edited = cli(collector, key, "edit", dataset_id, first_id, "--expected-output", "4")
    assert edited.returncode == 0, edited.stderr
    assert "revision 2" in edited.stdout and "now at version 3" in edited.stdout
    answer_file = tmp_path / "answer.txt"
    answer_file.write_text("four\n", encoding="utf-8")
    from_file = cli(collector, key, "edit", dataset_id, first_id, "--expected-output-file", str(answer_file))
    assert from_file.returncode == 0 and "now at version 4" in from_file.stdout

    latest = json.loads(cli(collector, key, "items", dataset_id, "--json").stdout)
    assert latest["version"] == 4
    edited_item = next(item for item in latest["items"] if item["item_id"] == first_id)
    assert edited_item["expected_output"] == "four\n" and edited_item["output"] == "5"
    assert edited_item["source_trace_id"] == SOURCE_TRACE and edited_item["source_span_id"] == SOURCE_SPAN
    old = json.loads(cli(collector, key, "items", dataset_id, "--version", "2", "--json").stdout)
    assert {item["expected_output"] for item in old["items"]} == {"5", "Paris"}, "old versions stay readable"
    page = cli(collector, key, "items", dataset_id, "--limit", "1", "--offset", "1")
    assert "items 2-2 of 2" in page.stdout

    versions = cli(collector, key, "versions", dataset_id)
    assert versions.returncode == 0, versions.stderr
    rows = [line.split() for line in versions.stdout.splitlines()[1:]]
    assert [(row[0], row[1]) for row in rows] == [("1", "0"), ("2", "2"), ("3", "2"), ("4", "2")]
    listed = json.loads(cli(collector, key, "versions", dataset_id, "--json").stdout)
    assert len(listed["versions"]) == 4

    missing = cli(collector, key, "edit", dataset_id, "0" * 32, "--expected-output", "x")
    assert missing.returncode == 1 and "404" in missing.stderr
    no_choice = cli(collector, key, "edit", dataset_id, first_id)
    assert no_choice.returncode == 2 and "--expected-output" in no_choice.stderr
