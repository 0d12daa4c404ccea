"""`Client.scores` against a real collector: write (numbers, booleans, categories, upserts), list,
aggregate, and the trace list filtered by score."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.ui.seed import DRIFTED_MODEL, Seeded
from tokentrail.api import ApiError, Client

TRACES_PER_SIDE = 10


def test_scores_of_every_type_are_stored_and_listed(client: Client, seeded: Seeded) -> None:
    trace_id = seeded.tool_trace
    thumbs = client.scores.create(trace_id, "thumbs", False, comment="wrong order", source="user")
    client.scores.create(trace_id, "quality", 0.25, source="model")
    client.scores.create(trace_id, "category", "refund", source="human")

    listed = client.scores.list(trace_id=trace_id)
    assert isinstance(listed, pd.DataFrame) and listed.attrs["total"] == 3
    by_name = {row["name"]: row for _, row in listed.iterrows()}
    assert by_name["thumbs"]["value"] is False and by_name["thumbs"]["data_type"] == "boolean"
    assert by_name["thumbs"]["score_id"] == thumbs and by_name["thumbs"]["comment"] == "wrong order"
    assert by_name["quality"]["value"] == 0.25 and by_name["quality"]["source"] == "model"
    assert by_name["category"]["value"] == "refund" and by_name["category"]["data_type"] == "categorical"
    assert str(listed["timestamp"].dtype).startswith("datetime64")

    client.scores.create(trace_id, "thumbs", True, score_id=thumbs)  # the same id again replaces it
    again = client.scores.list(trace_id=trace_id, name="thumbs")
    assert len(again) == 1 and bool(again.iloc[0]["value"]) and again.iloc[0]["data_type"] == "boolean"


def test_stats_and_the_trace_list_use_scores(client: Client, seeded: Seeded) -> None:
    bad = [trace_id for trace_id, facts in seeded.traces.items() if facts["model"] == DRIFTED_MODEL][:3]
    ids = client.scores.create_many(
        [{"trace_id": trace_id, "name": "verdict", "value": False} for trace_id in bad]
    )
    assert len(ids) == 3
    stats = client.scores.stats(name="verdict", group_by="model")
    assert list(stats["group"]) == [DRIFTED_MODEL]
    assert stats.iloc[0]["count"] == 3 and stats.iloc[0]["avg"] == 0.0
    assert stats.iloc[0]["counts"] == {"false": 3}

    flagged = client.traces(score_name="verdict", score_value="false", limit=100)
    assert set(flagged["trace_id"]) == set(bad) and flagged.attrs["total"] == 3
    assert client.traces(score_name="verdict", score_value="true").empty


def test_empty_answers_keep_their_columns_and_bad_scores_say_why(client: Client, seeded: Seeded) -> None:
    nothing = client.scores.list(name="never given")
    assert nothing.empty and {"score_id", "name", "value", "trace_id"} <= set(nothing.columns)
    assert client.scores.stats(name="never given").empty
    with pytest.raises(ApiError) as refused:
        client.scores.create("not-a-trace-id", "x", 1.0)
    assert refused.value.status == 422 and "trace_id" in refused.value.message
