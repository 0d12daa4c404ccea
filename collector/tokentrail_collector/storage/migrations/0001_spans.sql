-- The canonical span row (tokentrail.semconv.CANONICAL_COLUMNS, same order).
-- Idempotent ingest: a span is identified by (project_id, trace_id, span_id) and its start_time,
-- all in the sorting key, so a retried delivery collapses on merge; reads collapse the rest
-- with FINAL, which is cheap here because time-ordered parts rarely intersect.
CREATE TABLE IF NOT EXISTS spans
(
    project_id             LowCardinality(String),
    trace_id               String,
    span_id                String,
    parent_span_id         String,
    name                   LowCardinality(String),
    kind                   LowCardinality(String),
    service_name           LowCardinality(String),
    start_time             DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    end_time               DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    duration_ms            Float64,
    time_to_first_token_ms Nullable(Float64),
    status_code            LowCardinality(String),
    status_message         String CODEC(ZSTD(3)),
    error_type             LowCardinality(String),
    finish_reasons         Array(LowCardinality(String)),
    provider               LowCardinality(String),
    operation              LowCardinality(String),
    request_model          LowCardinality(String),
    response_model         LowCardinality(String),
    is_streaming           Bool,
    request_params         Map(LowCardinality(String), String),
    input_tokens           Nullable(UInt64),
    output_tokens          Nullable(UInt64),
    cached_input_tokens    Nullable(UInt64),
    reasoning_tokens       Nullable(UInt64),
    total_tokens           Nullable(UInt64),
    tokens_estimated       Bool,
    cost_usd               Nullable(Float64),
    cost_source            LowCardinality(String),
    input_text             String CODEC(ZSTD(3)),
    output_text            String CODEC(ZSTD(3)),
    gpu_util_avg           Nullable(Float32),
    gpu_util_max           Nullable(Float32),
    gpu_memory_peak_bytes  Nullable(UInt64),
    gpu_power_avg_watts    Nullable(Float32),
    gpu_energy_joules      Nullable(Float64),
    session_id             String,
    user_id                String,
    tags                   Array(LowCardinality(String)),
    attributes             Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    resource_attributes    Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    events                 String CODEC(ZSTD(3)),
    ingested_at            DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(start_time)
ORDER BY (project_id, start_time, trace_id, span_id);
