"""Pydantic models of the drift API: the report request, the report, monitors and their results.

The defaults of every threshold are stated once, in `Thresholds`; a request overrides any of them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DriftFeature(str, Enum):
    """What a drift report compares between the two windows."""

    LATENCY = "latency"
    TIME_TO_FIRST_TOKEN = "time_to_first_token"
    INPUT_TOKENS = "input_tokens"
    OUTPUT_TOKENS = "output_tokens"
    COST = "cost"
    PROMPT_LENGTH = "prompt_length"
    COMPLETION_LENGTH = "completion_length"
    ERROR_RATE = "error_rate"
    FINISH_REASONS = "finish_reasons"
    MODEL_MIX = "model_mix"
    TOOL_USAGE = "tool_usage"
    PROMPT_TOPICS = "prompt_topics"
    COMPLETION_TOPICS = "completion_topics"


class FeatureKind(str, Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TOPICS = "topics"


FEATURE_KINDS: Final[dict[DriftFeature, FeatureKind]] = {
    DriftFeature.LATENCY: FeatureKind.NUMERIC,
    DriftFeature.TIME_TO_FIRST_TOKEN: FeatureKind.NUMERIC,
    DriftFeature.INPUT_TOKENS: FeatureKind.NUMERIC,
    DriftFeature.OUTPUT_TOKENS: FeatureKind.NUMERIC,
    DriftFeature.COST: FeatureKind.NUMERIC,
    DriftFeature.PROMPT_LENGTH: FeatureKind.NUMERIC,
    DriftFeature.COMPLETION_LENGTH: FeatureKind.NUMERIC,
    DriftFeature.ERROR_RATE: FeatureKind.CATEGORICAL,
    DriftFeature.FINISH_REASONS: FeatureKind.CATEGORICAL,
    DriftFeature.MODEL_MIX: FeatureKind.CATEGORICAL,
    DriftFeature.TOOL_USAGE: FeatureKind.CATEGORICAL,
    DriftFeature.PROMPT_TOPICS: FeatureKind.TOPICS,
    DriftFeature.COMPLETION_TOPICS: FeatureKind.TOPICS,
}


class DriftStatus(str, Enum):
    STABLE = "stable"
    WARNING = "warning"
    DRIFTED = "drifted"


STATUS_ORDER: Final = (DriftStatus.STABLE, DriftStatus.WARNING, DriftStatus.DRIFTED)


class WindowField(str, Enum):
    """A field whose value can define a window (see `analysis.drift_sql.WINDOW_FIELDS`)."""

    MODEL = "model"  # the request model, else the response model
    SERVICE = "service"
    RELEASE = "release"  # the resource attribute service.version
    PROMPT_VERSION = "prompt_version"  # tokentrail.prompt.version (or OpenInference's / Langfuse's)
    TAG = "tag"  # spans carrying this tag


_DURATION = re.compile(r"([1-9][0-9]{0,5})([smhdw])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_DURATION_S: Final = 3660 * 86_400  # ten years: the windows stay within DateTime64's range

Duration = Annotated[
    str,
    Field(
        pattern=_DURATION.pattern,
        description="A length of time: a number and s, m, h, d or w (e.g. 24h, 7d).",
    ),
]


def duration_seconds(text: str) -> int:
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 30m, 24h, 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class WindowSpec(BaseModel):
    """One side of a comparison: a time range (absolute or relative to now) and/or a field's value.

    Absolute: `start` (inclusive) and/or `end` (exclusive). Relative: `last` (a duration) ending
    `before` ago (default now): `{"last": "24h"}` is the last day, `{"last": "7d", "before": "24h"}`
    the seven days before it. Field: `{"field": "release", "value": "v2"}`, optionally with a time range.
    """

    model_config = ConfigDict(extra="forbid")

    start: datetime | None = Field(default=None, description="Inclusive lower bound of span start.")
    end: datetime | None = Field(default=None, description="Exclusive upper bound of span start.")
    last: Duration | None = None
    before: Duration | None = None
    field: WindowField | None = None
    value: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _coherent(self) -> WindowSpec:
        if (self.field is None) != (self.value is None):
            raise ValueError("a window's 'field' and 'value' go together")
        absolute = self.start is not None or self.end is not None
        relative = self.last is not None or self.before is not None
        if absolute and relative:
            raise ValueError("a window is either absolute (start/end) or relative (last/before), not both")
        if self.before is not None and self.last is None:
            raise ValueError("'before' needs 'last'")
        for name in ("last", "before"):
            text = getattr(self, name)
            if text is not None and duration_seconds(text) > MAX_DURATION_S:
                raise ValueError(f"'{name}' is longer than ten years")
        if self.start is not None and self.end is not None and _utc(self.end) <= _utc(self.start):
            raise ValueError("a window's 'end' must be after its 'start'")
        if not (absolute or relative or self.field is not None):
            raise ValueError("a window needs a time range (start/end or last) or a field and value")
        return self

    @property
    def relative(self) -> bool:
        return self.last is not None

    def time_range(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC, relative windows resolved against `now`; None for an open end."""
        if self.last is not None:
            end = _utc(now) - timedelta(seconds=duration_seconds(self.before) if self.before else 0)
            return end - timedelta(seconds=duration_seconds(self.last)), end
        return (_utc(self.start) if self.start else None, _utc(self.end) if self.end else None)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Thresholds(BaseModel):
    """When a feature counts as warning or drifted: an effect above the threshold that is also
    significant (p-value below `p_value`: the KS test for KS, the chi-square test for the rest)."""

    model_config = ConfigDict(extra="forbid")

    psi_warning: float = Field(default=0.1, ge=0)
    psi_drifted: float = Field(default=0.25, ge=0)
    ks_warning: float = Field(default=0.1, ge=0, le=1)
    ks_drifted: float = Field(default=0.2, ge=0, le=1)
    js_warning: float = Field(default=0.05, ge=0, le=1, description="Jensen-Shannon divergence, bits.")
    js_drifted: float = Field(default=0.1, ge=0, le=1)
    error_rate_warning: float = Field(
        default=0.02, ge=0, le=1, description="Absolute change of the error rate."
    )
    error_rate_drifted: float = Field(default=0.05, ge=0, le=1)
    p_value: float = Field(default=0.01, gt=0, le=1, description="Significance level a change must reach.")
    min_count: int = Field(default=20, ge=1, description="Fewer values on a side: the feature is not judged.")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        for name in ("psi", "ks", "js", "error_rate"):
            if getattr(self, f"{name}_warning") > getattr(self, f"{name}_drifted"):
                raise ValueError(f"{name}_warning must not exceed {name}_drifted")
        return self


EMBEDDER_HASHED: Final = "hashed"
SENTENCE_TRANSFORMERS_PREFIX: Final = "sentence-transformers:"
CLUSTER_IDS: Final = 1000  # span (and trace) ids a topic cluster lists, nearest its centre first


class TopicOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_size: int = Field(default=1000, ge=10, le=5000, description="Texts sampled per side at most.")
    clusters: int = Field(default=8, ge=2, le=30)
    embedder: str = Field(
        default=EMBEDDER_HASHED,
        pattern=r"^(hashed|sentence-transformers:[\w./@-]{1,200})$",
        description="hashed: character n-grams, no download; sentence-transformers:<model> when installed.",
    )


class DriftRequest(BaseModel):
    """A drift report: `current` compared to `baseline`, on the spans both filters keep."""

    model_config = ConfigDict(extra="forbid")

    baseline: WindowSpec
    current: WindowSpec
    model: str | None = Field(default=None, min_length=1, max_length=256, description="Only this model.")
    service: str | None = Field(default=None, min_length=1, max_length=256, description="Only this service.")
    features: list[DriftFeature] | None = Field(default=None, description="Default: every feature.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    topics: TopicOptions = Field(default_factory=TopicOptions)
    examples: int = Field(default=5, ge=0, le=50, description="Example spans per drifted feature.")

    @model_validator(mode="after")
    def _distinct(self) -> DriftRequest:
        if self.baseline == self.current:
            raise ValueError("baseline and current are the same window")
        if self.features is not None and not self.features:
            raise ValueError("'features' must name at least one feature (omit it for all)")
        return self

    def selected_features(self) -> list[DriftFeature]:
        chosen = set(self.features) if self.features is not None else set(DriftFeature)
        return [feature for feature in DriftFeature if feature in chosen]


# --- the report ------------------------------------------------------------------------------


class WindowSummary(BaseModel):
    start: datetime | None
    end: datetime | None
    field: WindowField | None
    value: str | None
    span_count: int = Field(description="LLM spans in the window (after the filters).")
    tool_span_count: int = Field(description="Tool spans in the window (tool usage counts them too).")


class Quantiles(BaseModel):
    p10: float | None
    p50: float | None
    p90: float | None
    p99: float | None
    mean: float | None


class HistogramBin(BaseModel):
    lower: float | None = Field(description="Inclusive lower edge; null: unbounded.")
    upper: float | None = Field(description="Exclusive upper edge; null: unbounded.")
    baseline_share: float
    current_share: float


class CategoryShare(BaseModel):
    value: str
    baseline_count: int
    current_count: int
    baseline_share: float
    current_share: float


class Example(BaseModel):
    trace_id: str
    span_id: str
    value: float | None = None
    category: str | None = None
    text: str | None = None


class TopicSample(BaseModel):
    trace_id: str
    span_id: str
    side: Literal["baseline", "current"]
    text: str


class TopicCluster(BaseModel):
    cluster: int
    label: list[str] = Field(description="Words most typical of the cluster (against the other texts).")
    baseline_count: int
    current_count: int
    baseline_share: float
    current_share: float
    change: float = Field(description="current_share - baseline_share.")
    centroid_distance: float | None = Field(description="Cosine distance of the two sides' centroids in it.")
    samples: list[TopicSample]
    trace_ids: list[str] = Field(
        description=(
            "The trace of each of span_ids (same order, so a trace may repeat). Only sampled texts are"
            " clustered: current_sampled of the feature says how many of the window's spans that is."
        )
    )
    span_ids: list[str] = Field(
        default_factory=list,
        description=(
            "The spans whose current-window text fell in the cluster, nearest its centre first, at most"
            f" {CLUSTER_IDS}; they cover the sampled texts only (current_sampled of the feature). A dataset filter"
            ' `{"span_ids": ...}` mines these examples (tokentrail.api: report.cluster_filter(...)).'
        ),
    )


class TopicSummary(BaseModel):
    embedder: str
    dimensions: int
    centroid_distance: float | None = Field(description="Cosine distance of the sides' mean vectors.")
    clusters: list[TopicCluster] = Field(description="Largest change first.")


class FeatureReport(BaseModel):
    feature: DriftFeature
    kind: FeatureKind
    status: DriftStatus
    note: str = ""
    baseline_count: int = Field(description="Spans with a value on the baseline side.")
    current_count: int
    baseline_sampled: int = Field(description="Values the statistics used (all of them except for topics).")
    current_sampled: int
    psi: float | None = None
    js: float | None = None
    ks: float | None = None
    ks_p_value: float | None = None
    chi2: float | None = None
    chi2_df: int | None = None
    chi2_p_value: float | None = None
    baseline_rate: float | None = Field(default=None, description="Error rate (error_rate only).")
    current_rate: float | None = None
    baseline_quantiles: Quantiles | None = None
    current_quantiles: Quantiles | None = None
    bins: list[HistogramBin] | None = None
    categories: list[CategoryShare] | None = None
    topics: TopicSummary | None = None
    examples: list[Example] = Field(default_factory=list, description="Spans of what moved most.")


class DriftReport(BaseModel):
    status: DriftStatus
    generated_at: datetime
    baseline: WindowSummary
    current: WindowSummary
    model: str | None
    service: str | None
    thresholds: Thresholds
    drifted: list[DriftFeature]
    warnings: list[DriftFeature]
    features: list[FeatureReport]


# --- monitors --------------------------------------------------------------------------------


class MonitorCreate(DriftRequest):
    """A drift check the collector runs every `interval_s`; its windows are usually relative."""

    name: str = Field(min_length=1, max_length=200)
    interval_s: int = Field(default=3600, ge=5, le=30 * 86_400)


class Monitor(MonitorCreate):
    monitor_id: str
    project_id: str
    created_at: datetime
    last_evaluated_at: datetime | None = None
    last_status: str | None = None


class MonitorList(BaseModel):
    monitors: list[Monitor]


MONITOR_ERROR_STATUS: Final = "error"


class MonitorResult(BaseModel):
    monitor_id: str
    evaluated_at: datetime
    status: str = Field(description="stable, warning, drifted, or error when the evaluation failed.")
    error: str = ""
    feature_status: dict[str, str]
    feature_psi: dict[str, float]
    report: DriftReport | None = None


class MonitorResults(BaseModel):
    monitor_id: str
    results: list[MonitorResult] = Field(description="Newest first.")
