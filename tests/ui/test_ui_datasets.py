"""The Datasets page: a live count and preview from filters, duplicate removal and sampling,
creating a dataset, editing expected outputs (new versions), every export format, import."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import metrics, page_text, table_with
from tests.ui.seed import DRIFTED_MODEL
from tokentrail.api import Client

COUNT = "Items the dataset would hold"


def preview_count(app: AppTest) -> int:
    return int(metrics(app)[COUNT].replace(",", ""))


def test_live_count_and_preview_follow_the_filters(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("datasets")
    app.toggle(key="tt_ds_dedupe").set_value(False).run()
    llm_spans = len(seeded.data.traces) + 2  # one LLM span per seeded trace, two in the scenario app
    assert preview_count(app) == llm_spans

    app.text_input(key="tt_ds_text").set_value("password").run()
    assert preview_count(app) == seeded.data.count(drifted=True)
    preview = table_with(app, ["input", "output", "source_trace_id"])
    assert preview["input"].str.contains("password").all()
    assert set(preview["source_trace_id"]) <= set(seeded.data.traces)

    app.toggle(key="tt_ds_dedupe").set_value(True).run()
    deduplicated = preview_count(app)
    assert 0 < deduplicated < seeded.data.count(drifted=True), (
        "the same question with other numbers is a near duplicate"
    )
    assert "near duplicates" in page_text(app)

    app.toggle(key="tt_ds_dedupe").set_value(False)
    app.text_input(key="tt_ds_text").set_value("")
    app.toggle(key="tt_ds_sample").set_value(True).run()
    app.number_input(key="tt_ds_size").set_value(10)
    app.selectbox(key="tt_ds_stratify").set_value("model").run()
    assert preview_count(app) == 10
    assert "stratified by model" in page_text(app)


@pytest.fixture(scope="module")
def created(seeded: SeededCollector) -> dict[str, object]:
    """A dataset made on the page: the drifted model's password questions, duplicates kept."""
    from tests.ui.conftest import app_session

    app = app_session(seeded.url, seeded.key)
    app.session_state["tt_model"] = DRIFTED_MODEL
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.toggle(key="tt_ds_dedupe").set_value(False)
    app.text_input(key="tt_ds_text").set_value("password")
    app.text_input(key="tt_ds_name").set_value("password resets").run()
    next(button for button in app.button if button.label == "Create dataset").click().run()
    assert not app.exception, [error.value for error in app.exception]
    assert any("created with" in success.value for success in app.success)
    with Client(seeded.url, api_key=seeded.key) as api:
        listing = api.datasets.list()
    return listing[listing["name"] == "password resets"].iloc[0].to_dict()


def test_a_created_dataset_is_listed_with_its_items_and_versions(
    open_page: Callable[..., AppTest], created: dict[str, object], seeded: SeededCollector
) -> None:
    assert created["item_count"] == seeded.data.count(drifted=True)
    app = open_page("datasets")
    app.selectbox(key="tt_dataset_selected").set_value(created["dataset_id"]).run()
    listing = table_with(app, ["name", "item_count", "latest_version"])
    assert "password resets" in set(listing["name"])
    items = table_with(app, ["item_id", "input", "expected_output", "source_trace_id"])
    assert len(items) == created["item_count"]
    assert items["input"].str.contains("password").all()
    assert f"{created['item_count']} items** in version 1" in page_text(app)


def save_an_expected_output(
    open_page: Callable[..., AppTest], dataset_id: str, expected: str
) -> tuple[str, int]:
    """Edit the first item's expected output on the page and save it: (item id, version edited)."""
    app = open_page("datasets")
    app.selectbox(key="tt_dataset_selected").set_value(dataset_id).run()
    version = int(app.selectbox(key=f"tt_ds_version_{dataset_id}").value)
    editor_key = f"tt_ds_editor_{dataset_id}_{version}_1"
    item_id = str(table_with(app, ["item_id", "expected_output"]).iloc[0]["item_id"])
    app.session_state[editor_key] = {
        "edited_rows": {0: {"expected_output": expected}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    save = next(button for button in app.button if button.label.startswith("Save 1 edited"))
    save.click().run()
    assert not app.exception, [error.value for error in app.exception]
    return item_id, version


def test_editing_an_expected_output_makes_a_new_version(
    open_page: Callable[..., AppTest], created: dict[str, object], seeded: SeededCollector
) -> None:
    dataset_id = str(created["dataset_id"])
    item_id, version = save_an_expected_output(open_page, dataset_id, "Use the reset link.")
    with Client(seeded.url, api_key=seeded.key) as api:
        latest = api.datasets.items(dataset_id)
        before = api.datasets.items(dataset_id, version=version)
    assert latest.attrs["version"] == version + 1
    edited = latest[latest["item_id"] == item_id].iloc[0]
    assert edited["expected_output"] == "Use the reset link."
    assert before[before["item_id"] == item_id].iloc[0]["expected_output"] != "Use the reset link.", (
        "old versions stay"
    )


def editor_columns(app: AppTest) -> dict[str, dict[str, object]]:
    """The column settings of the items' editor (the one table that can be edited)."""
    (editor,) = [table for table in app.dataframe if table.proto.editing_mode]
    return json.loads(editor.proto.columns)


def test_an_older_version_is_shown_read_only(
    open_page: Callable[..., AppTest], created: dict[str, object]
) -> None:
    dataset_id = str(created["dataset_id"])
    app = open_page("datasets")
    app.selectbox(key="tt_dataset_selected").set_value(dataset_id).run()
    if int(app.selectbox(key=f"tt_ds_version_{dataset_id}").value) == 1:  # run alone: make version 2
        save_an_expected_output(open_page, dataset_id, "Reset it from the login page.")
        app = open_page("datasets")
        app.selectbox(key="tt_dataset_selected").set_value(dataset_id).run()
    picker = app.selectbox(key=f"tt_ds_version_{dataset_id}")
    latest = int(picker.value)
    assert latest >= 2 and {1, latest} <= {int(option) for option in picker.options}
    text = page_text(app)
    assert f"in version {latest} (latest: edit expected outputs below)" in text
    assert not editor_columns(app).get("expected_output", {}).get("disabled"), "the latest is editable"

    picker.set_value(1).run()
    assert not app.exception, [error.value for error in app.exception]
    text = page_text(app)
    assert f"{created['item_count']} items** in version 1 (read only: an older version)" in text
    columns = editor_columns(app)
    assert all(columns[name].get("disabled") for name in ("expected_output", "input", "output", "item_id"))
    assert not any(button.label.startswith("Save") for button in app.button), "nothing to save"


@pytest.mark.parametrize("export_format", ["jsonl", "openai", "csv", "parquet"])
def test_every_export_format_downloads(
    open_page: Callable[..., AppTest], created: dict[str, object], export_format: str
) -> None:
    app = open_page("datasets")
    app.selectbox(key="tt_dataset_selected").set_value(created["dataset_id"])
    app.radio(key="tt_ds_format").set_value(export_format).run()
    next(button for button in app.button if button.label == "Prepare download").click().run()
    assert not app.exception, [error.value for error in app.exception]
    assert any(button.label.startswith("Download") for button in app.get("download_button"))
    (progress,) = app.get("progress")
    assert progress.proto.value == 100 and progress.proto.text.startswith("Ready: "), progress.proto
    assert progress.proto.text.endswith(" KiB")
    dataset_id, _version, chosen, data = app.session_state["tt_dataset_export"]
    assert (dataset_id, chosen) == (created["dataset_id"], export_format)
    count = int(created["item_count"])
    if export_format in ("jsonl", "openai"):
        rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        assert len(rows) == count
        assert ("messages" in rows[0]) if export_format == "openai" else ("expected_output" in rows[0])
    elif export_format == "csv":
        assert len(pd.read_csv(io.BytesIO(data))) == count
    else:
        assert len(pd.read_parquet(io.BytesIO(data))) == count
