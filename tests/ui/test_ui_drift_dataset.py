"""The Drift page's "Make a dataset from this cluster" on a collector holding a planted change:
the grown prompt cluster of the drifted model becomes a dataset of exactly its new-topic prompts."""

from __future__ import annotations

import re
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.seed import DRIFTED_MODEL, NEW_TOPIC
from tokentrail.api import Client

COMPARISON = "Last 3 hours vs the 3 hours before"
FEATURE = "prompt_topics"


def test_a_dataset_made_from_the_grown_cluster_holds_its_new_topic_prompts(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("drift", sidebar={"tt_model": DRIFTED_MODEL})
    app.selectbox(key="tt_drift_comparison").set_value(COMPARISON)
    next(button for button in app.button if button.label == "Compute drift report").click().run()
    assert not app.exception, [error.value for error in app.exception]

    pick = app.selectbox(key=f"tt_cluster_pick_{FEATURE}")
    assert pick.options, "the clusters that grew are offered"
    listed = re.search(r"(\d+) spans\)$", str(pick.options[0]))
    assert listed, pick.options
    app.text_input(key=f"tt_cluster_dataset_name_{FEATURE}").set_value("ui grown cluster")
    app.checkbox(key=f"tt_cluster_dedupe_{FEATURE}").uncheck()
    app.button(key=f"tt_cluster_create_{FEATURE}").click().run()
    assert not app.exception, [error.value for error in app.exception]

    (message,) = [str(box.value) for box in app.success if "ui grown cluster" in str(box.value)]
    found = re.search(r"`([0-9a-f]{32})`\) with (\d+) items", message)
    assert found, message
    dataset_id, count = found.group(1), int(found.group(2))
    assert count == int(listed.group(1)) > 0, "every span the cluster lists, none removed"

    with Client(seeded.url, api_key=seeded.key) as api:
        items = api.datasets.items(dataset_id, limit=1000)
    assert len(items) == count
    new_topic = NEW_TOPIC.split("{", 1)[0]
    for _, item in items.iterrows():
        facts = seeded.data.traces[item["source_trace_id"]]
        assert facts["drifted"] and facts["model"] == DRIFTED_MODEL and facts["current"]
        assert str(facts["question"]) in item["input"] and new_topic in item["input"]
        assert item["metadata"]["kind"] == "llm" and re.fullmatch(r"[0-9a-f]{16}", item["source_span_id"])
