"""Pydantic models of the scores API (`/api/scores`): what `/openapi.json` documents and clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ScoreSourceName = Literal["user", "human", "model", "rule"]
ScoreDataTypeName = Literal["numeric", "categorical", "boolean"]


class ScoreIn(BaseModel):
    """A score to store. Without span_id (or with "") it scores the whole trace."""

    trace_id: str = Field(pattern=r"^[0-9a-fA-F]{32}$")
    span_id: str = Field(default="", pattern=r"^([0-9a-fA-F]{16})?$")
    name: str = Field(min_length=1, max_length=200)
    # bool first: pydantic's smart union keeps true/false as booleans, never as 1/0.
    value: bool | float | str = Field(
        description="A number (numeric), true/false (boolean) or a string (categorical)."
    )
    comment: str = Field(default="", max_length=10_000)
    source: ScoreSourceName = "user"
    score_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="Same id again replaces the score (upsert)."
    )
    timestamp: datetime | None = Field(default=None, description="When it was scored; default: now.")


class ScoresWritten(BaseModel):
    score_ids: list[str] = Field(description="Ids of the scores stored, in request order.")


class Score(BaseModel):
    score_id: str
    trace_id: str
    span_id: str = Field(description='"" for a score of the whole trace.')
    name: str
    data_type: ScoreDataTypeName
    value: bool | float | str
    comment: str
    source: ScoreSourceName
    timestamp: datetime
    timestamp_unix_nano: int


class ScoreList(BaseModel):
    total: int = Field(description="Scores matching the filters, over all pages.")
    limit: int
    offset: int
    scores: list[Score]


class ScoreStatsRow(BaseModel):
    name: str
    group: str | None = Field(description="Value of group_by; null when not grouped.")
    bucket: datetime | None = Field(description="Start of the time bucket; null when not bucketed.")
    bucket_unix_nano: int | None
    count: int = Field(description="Scores in this cell, of every type.")
    value_count: int = Field(description="Numeric and boolean scores, which avg/min/max cover.")
    avg: float | None = Field(description="Mean of numbers; for booleans the share of true.")
    min: float | None
    max: float | None
    counts: dict[str, int] = Field(description="Count per category (booleans as true/false).")


class ScoreStatsResponse(BaseModel):
    group_by: str | None
    bucket_seconds: int | None
    rows: list[ScoreStatsRow]
