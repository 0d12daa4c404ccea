"""Pydantic models of the query API's responses: what `/openapi.json` documents and clients rely on."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TraceSummary(BaseModel):
    trace_id: str
    name: str = Field(description="Name of the root span (the earliest span when the root is missing).")
    start_time: datetime
    start_time_unix_nano: int
    duration_ms: float
    status: str = Field(description="error when any span errored, else ok.")
    services: list[str]
    models: list[str]
    span_count: int
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost_usd: float | None = Field(
        description="Sum of the spans' known costs (carried, else derived from usage and prices); null when none is known."
    )


class TraceList(BaseModel):
    total: int = Field(description="Traces matching the filters, over all pages.")
    limit: int
    offset: int
    traces: list[TraceSummary]


class Span(BaseModel):
    """One span as the canonical row (tokentrail.semconv.CANONICAL_COLUMNS), project scoped."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service_name: str
    start_time: datetime
    end_time: datetime
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ms: float
    time_to_first_token_ms: float | None
    status_code: str
    status_message: str
    error_type: str
    finish_reasons: list[str]
    provider: str
    operation: str
    request_model: str
    response_model: str
    is_streaming: bool
    request_params: dict[str, str]
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    cache_write_input_tokens: int | None
    reasoning_tokens: int | None
    total_tokens: int | None
    tokens_estimated: bool
    cost_usd: float | None = Field(
        description="The cost the span carried, else its usage at the price in force at its start; null when unknown."
    )
    cost_source: str = Field(description="sdk, price_table, custom_price or unknown.")
    input_text: str
    output_text: str
    gpu_util_avg: float | None
    gpu_util_max: float | None
    gpu_memory_peak_bytes: int | None
    gpu_power_avg_watts: float | None
    gpu_energy_joules: float | None
    session_id: str
    user_id: str
    tags: list[str]
    attributes: dict[str, str]
    resource_attributes: dict[str, str]
    events: list[dict[str, object]]


class TraceDetail(BaseModel):
    trace_id: str
    spans: list[Span]


class StatsRow(BaseModel):
    bucket: datetime | None = Field(description="Start of the time bucket; null when not bucketed.")
    group: str | None = Field(description="Value of the group_by field; null when not grouped.")
    span_count: int
    error_count: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None
    unpriced_spans: int = Field(description="Spans that used tokens but have no known cost.")
    unpriced_input_tokens: int = Field(description="Input tokens of the spans without a known cost.")
    unpriced_output_tokens: int = Field(description="Output tokens of the spans without a known cost.")
    gpu_span_count: int = Field(
        default=0, description="Spans that carry GPU energy figures: the denominator of energy per request."
    )
    gpu_energy_joules: float | None = Field(
        default=None, description="GPU energy of the spans with GPU figures; null when none had any."
    )
    energy_per_1k_output_tokens: float | None = Field(
        default=None,
        description="GPU joules per 1000 output tokens of the spans with GPU figures; null when unknown.",
    )
    # Tail sampling: only with scaled=true, each stored span weighted by what it stands for.
    estimated_span_count: float | None = Field(
        default=None, description="scaled=true: spans emitted, estimated from the sampled ones."
    )
    estimated_error_count: float | None = Field(default=None, description="scaled=true: error spans emitted.")
    estimated_input_tokens: float | None = Field(default=None, description="scaled=true: input tokens.")
    estimated_output_tokens: float | None = Field(default=None, description="scaled=true: output tokens.")
    estimated_total_tokens: float | None = Field(default=None, description="scaled=true: total tokens.")
    estimated_cost_usd: float | None = Field(default=None, description="scaled=true: cost of all spans.")
    estimated_latency_p50_ms: float | None = Field(default=None, description="scaled=true: weighted p50.")
    estimated_latency_p95_ms: float | None = Field(default=None, description="scaled=true: weighted p95.")
    estimated_latency_p99_ms: float | None = Field(default=None, description="scaled=true: weighted p99.")
    sampled_away_spans: int | None = Field(
        default=None,
        description="scaled=true: spans tail sampling never stored (hour resolution; by model, service or none).",
    )
    sampled_away_traces: int | None = Field(
        default=None, description="scaled=true: traces (their root spans) tail sampling never stored."
    )


class StatsResponse(BaseModel):
    group_by: str | None
    bucket_seconds: int | None
    rows: list[StatsRow]


class Health(BaseModel):
    status: str
    store: str
    store_reachable: bool


class KeyCreateRequest(BaseModel):
    project_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(default="", max_length=200)


class KeyInfo(BaseModel):
    key_id: str
    key_prefix: str
    project_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyInfo):
    key: str = Field(description="The secret key. Shown once: only its hash is stored.")


class GpuPoint(BaseModel):
    """One time bucket of one GPU's gauges."""

    bucket: datetime = Field(description="Start of the time bucket.")
    bucket_unix_nano: int
    utilization_avg_pct: float | None
    utilization_max_pct: float | None
    memory_used_max_bytes: int | None
    power_avg_watts: float | None
    energy_joules: float | None = Field(
        description="Energy used in the bucket, from the device's energy counter; null when it has none."
    )


class GpuDeviceSeries(BaseModel):
    service_name: str
    host: str = Field(description="The sender's host.name resource attribute; empty when it sent none.")
    device_index: int | None = Field(description="NVML index of the device.")
    device_uuid: str
    device_name: str
    points: list[GpuPoint]


class GpuSeries(BaseModel):
    bucket_seconds: int
    devices: list[GpuDeviceSeries]
