"""`Client.scores`: feedback and evaluation scores on traces and spans (`/api/scores`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from tokentrail.api._frames import frame
from tokentrail.api._http import TimeArg, Transport, as_time_param

if TYPE_CHECKING:
    import pandas as pd

ScoreValue = bool | float | int | str
ScoreSourceName = Literal["user", "human", "model", "rule"]
ScoreGroupBy = Literal["model", "provider", "service", "source", "none"]

SCORE_COLUMNS = (
    "score_id", "trace_id", "span_id", "name", "data_type", "value", "comment", "source", "timestamp",
)  # fmt: skip
SCORE_STATS_COLUMNS = ("name", "group", "bucket", "count", "value_count", "avg", "min", "max", "counts")


class Scores:
    """Scores of one project: write them, list them, aggregate them.

    api.scores.create(trace_id, "thumbs", True, source="user")
    api.scores.list(name="thumbs")                       # a DataFrame, newest first
    api.scores.stats(name="thumbs", group_by="model")    # avg (share of true), counts per category
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        trace_id: str,
        name: str,
        value: ScoreValue,
        *,
        span_id: str = "",
        comment: str = "",
        source: ScoreSourceName = "user",
        score_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Store one score (a number, True/False or a category); its id. The same id again replaces it."""
        return self.create_many(
            [
                score_payload(
                    trace_id,
                    name,
                    value,
                    span_id=span_id,
                    comment=comment,
                    source=source,
                    score_id=score_id,
                    timestamp=timestamp,
                )
            ]
        )[0]

    def create_many(self, scores: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store several scores (dicts shaped like `score_payload`'s) in one request; their ids in order."""
        answer = self._transport.request("POST", "/api/scores", json=list(scores))
        return list(answer["score_ids"])

    def list(
        self,
        *,
        trace_id: str | None = None,
        span_id: str | None = None,
        name: str | None = None,
        source: ScoreSourceName | None = None,
        start: TimeArg = None,
        end: TimeArg = None,
        limit: int = 100,
        offset: int = 0,
    ) -> pd.DataFrame:
        """One row per score, newest first; `.attrs["total"]` counts the matches over all pages."""
        page = self._transport.request(
            "GET",
            "/api/scores",
            params={
                "trace_id": trace_id,
                "span_id": span_id,
                "name": name,
                "source": source,
                "start": as_time_param(start),
                "end": as_time_param(end),
                "limit": limit,
                "offset": offset,
            },
        )
        table = frame(page["scores"], None if page["scores"] else SCORE_COLUMNS)
        table.attrs["total"] = page["total"]
        return table

    def stats(
        self,
        *,
        name: str | None = None,
        source: ScoreSourceName | None = None,
        start: TimeArg = None,
        end: TimeArg = None,
        group_by: ScoreGroupBy = "model",
        bucket_seconds: int | None = None,
    ) -> pd.DataFrame:
        """Per score name, group and bucket: count, mean (share of true for booleans), min, max, counts."""
        answer = self._transport.request(
            "GET",
            "/api/scores/stats",
            params={
                "name": name,
                "source": source,
                "start": as_time_param(start),
                "end": as_time_param(end),
                "group_by": group_by,
                "bucket_seconds": bucket_seconds,
            },
        )
        return frame(answer["rows"], None if answer["rows"] else SCORE_STATS_COLUMNS)


def score_payload(
    trace_id: str,
    name: str,
    value: ScoreValue,
    *,
    span_id: str = "",
    comment: str = "",
    source: ScoreSourceName = "user",
    score_id: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The JSON body of one score, as `POST /api/scores` takes it."""
    payload: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "name": name,
        "value": value,
        "comment": comment,
        "source": source,
    }
    if score_id is not None:
        payload["score_id"] = score_id
    if timestamp is not None:
        moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)
        payload["timestamp"] = moment.isoformat()
    return payload
