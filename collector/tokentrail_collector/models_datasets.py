"""Pydantic models of the datasets API (`/api/datasets`): requests and responses as `/openapi.json` shows them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from tokentrail_collector.analysis.dedupe import DEFAULT_THRESHOLD, MIN_THRESHOLD
from tokentrail_collector.storage.mining import DEFAULT_CANDIDATES, MAX_CANDIDATES

TRACE_ID = r"^[0-9a-fA-F]{32}$"
SPAN_ID = r"^[0-9a-fA-F]{16}$"
MAX_IDS = 10_000
SpanKindName = Literal["llm", "embedding", "chain", "agent", "tool", "retrieval", "other"]
StratifyField = Literal["model", "provider", "service", "status", "kind"]
ExportFormat = Literal["jsonl", "openai", "csv", "parquet"]


class ScoreFilter(BaseModel):
    """Spans with a score of this name (on the span or its whole trace), optionally with this
    category (or true/false) and/or a number in [min, max]."""

    name: str = Field(min_length=1, max_length=200)
    value: str | None = Field(default=None, max_length=1000)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)


class DatasetFilter(BaseModel):
    """Which spans to mine. Lists match any of their values; fields left out match everything."""

    start: datetime | None = Field(default=None, description="Span start, inclusive.")
    end: datetime | None = Field(default=None, description="Span start, exclusive.")
    kinds: list[SpanKindName] = Field(default=["llm"], max_length=7, description="[] for every kind.")
    models: list[str] = Field(default=[], max_length=100, description="Request or response model.")
    services: list[str] = Field(default=[], max_length=100)
    status: Literal["ok", "error"] | None = None
    score: ScoreFilter | None = None
    latency_percentile: float | None = Field(
        default=None, gt=0, lt=100, description="Keep spans at or above this latency percentile (e.g. 95)."
    )
    latency_min_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    cost_min_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    text: str | None = Field(
        default=None, max_length=1000, description="Case-insensitive, in input or output."
    )
    tags: list[str] = Field(default=[], max_length=50, description="Spans carrying all of these tags.")
    trace_ids: list[str] = Field(
        default=[],
        max_length=MAX_IDS,
        description="Only these traces, e.g. a drift report's cluster examples.",
    )
    span_ids: list[str] = Field(default=[], max_length=MAX_IDS, description="Only these spans.")
    limit: int = Field(
        default=DEFAULT_CANDIDATES,
        ge=1,
        le=MAX_CANDIDATES,
        description="Most spans read, oldest first (removing duplicates from 10,000 costs seconds).",
    )

    @model_validator(mode="after")
    def _check(self) -> DatasetFilter:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        if any(not re.fullmatch(TRACE_ID, trace_id) for trace_id in self.trace_ids):
            raise ValueError("trace_ids must be 32 hex digits each")
        if any(not re.fullmatch(SPAN_ID, span_id) for span_id in self.span_ids):
            raise ValueError("span_ids must be 16 hex digits each")
        return self


class DedupeOptions(BaseModel):
    enabled: bool = True
    threshold: float = Field(
        default=DEFAULT_THRESHOLD,
        ge=MIN_THRESHOLD,
        le=1.0,
        description=(
            "Jaccard similarity of 5-byte shingles of the normalised input (system messages left out) at or "
            "above which an item is a near duplicate of an earlier one and removed; exact duplicates (after "
            "normalisation) always are. MinHash (120 hashes) with LSH banding finds the candidates, the exact "
            "Jaccard similarity decides."
        ),
    )


class SampleRequest(BaseModel):
    size: int = Field(ge=1, le=100_000)
    seed: int = 0
    stratify_by: StratifyField | None = Field(default=None, description="Keep each value's share of items.")


class MiningOptions(BaseModel):
    filter: DatasetFilter = Field(default_factory=DatasetFilter)
    dedupe: DedupeOptions = Field(default_factory=DedupeOptions)
    sample: SampleRequest | None = None


class PreviewRequest(MiningOptions):
    preview_items: int = Field(default=20, ge=0, le=200, description="How many of the items to return.")


class DatasetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    mining: MiningOptions | None = Field(
        default=None, description="Mine items from spans; null: empty dataset."
    )


class MiningReport(BaseModel):
    matched: int = Field(description="Spans matching the filter.")
    considered: int = Field(description="Of those, read (up to the filter's limit).")
    exact_duplicates: int
    near_duplicates: int
    after_dedupe: int
    items: int = Field(description="Items after duplicate removal and sampling.")
    dedupe: dict[str, object] | None = Field(description="The method and threshold used.")
    sample: dict[str, object] | None


class ItemIn(BaseModel):
    input: str = Field(max_length=1_000_000)
    output: str = Field(default="", max_length=1_000_000)
    expected_output: str | None = Field(
        default=None, max_length=1_000_000, description="Default: the output."
    )
    metadata: dict[str, object] = Field(default_factory=dict)
    source_trace_id: str = Field(default="", pattern=r"^([0-9a-fA-F]{32})?$")
    source_span_id: str = Field(default="", pattern=r"^([0-9a-fA-F]{16})?$")


class ItemPreview(BaseModel):
    input: str
    output: str
    expected_output: str
    metadata: dict[str, object]
    source_trace_id: str
    source_span_id: str


class Item(ItemPreview):
    item_id: str
    revision: int
    created_at: datetime


class PreviewResponse(BaseModel):
    count: int = Field(description="Items the dataset would hold.")
    report: MiningReport
    items: list[ItemPreview]


class Dataset(BaseModel):
    dataset_id: str
    name: str
    description: str
    created_at: datetime
    latest_version: int
    item_count: int = Field(description="Items in the latest version.")
    metadata: dict[str, object] = Field(description="How the dataset was made: filter, dedupe, sampling.")


class DatasetList(BaseModel):
    total: int
    limit: int
    offset: int
    datasets: list[Dataset]


class ItemList(BaseModel):
    dataset_id: str
    version: int
    total: int = Field(description="Items in this version.")
    limit: int
    offset: int
    items: list[Item]


class ItemsAdded(BaseModel):
    version: int = Field(description="The new version.")
    item_ids: list[str]


class ItemEdit(BaseModel):
    input: str | None = Field(default=None, max_length=1_000_000)
    output: str | None = Field(default=None, max_length=1_000_000)
    expected_output: str | None = Field(default=None, max_length=1_000_000)
    metadata: dict[str, object] | None = None


class ItemEdited(BaseModel):
    version: int = Field(description="The new version.")
    item: Item


class VersionCreated(BaseModel):
    version: int


class Version(BaseModel):
    version: int
    item_count: int
    note: str
    created_at: datetime


class VersionList(BaseModel):
    dataset_id: str
    versions: list[Version]


class ImportResult(BaseModel):
    version: int = Field(description="The new version holding the imported items.")
    imported: int
    item_ids: list[str]
