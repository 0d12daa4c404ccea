-- Tail sampling (optional: TOKENTRAIL_SAMPLING_RATE below 1; tokentrail_collector/sampling.py).
-- A span kept because its trace's hash fell within the rate weighs 1/rate; a span kept by a rule
-- (error, slow, expensive, low score) or with sampling off weighs 1. sum(sample_weight) estimates
-- what was emitted (Horvitz-Thompson), so scaled stats need no other table.
ALTER TABLE spans ADD COLUMN IF NOT EXISTS sample_weight Float64 DEFAULT 1;

-- Spans sampled away, kept durably for the hold window (held_until) in case later evidence (an
-- error or slow span in a later request, a low score) keeps their trace: then they are copied
-- into spans with weight 1 and written again here with promoted = 1 (the newer version wins), so
-- a trace is promoted once, whatever retries or restarts come between. Same columns as spans
-- (tokentrail.semconv.CANONICAL_COLUMNS, same order); ordered by trace, so promoting a trace reads
-- one key range. Parts hold one hour of expiries each and are dropped whole once expired.
CREATE TABLE IF NOT EXISTS held_spans
(
    project_id               LowCardinality(String),
    trace_id                 String,
    span_id                  String,
    parent_span_id           String,
    name                     LowCardinality(String),
    kind                     LowCardinality(String),
    service_name             LowCardinality(String),
    start_time               DateTime64(9, 'UTC'),
    end_time                 DateTime64(9, 'UTC'),
    duration_ms              Float64,
    time_to_first_token_ms   Nullable(Float64),
    status_code              LowCardinality(String),
    status_message           String,
    error_type               LowCardinality(String),
    finish_reasons           Array(LowCardinality(String)),
    provider                 LowCardinality(String),
    operation                LowCardinality(String),
    request_model            LowCardinality(String),
    response_model           LowCardinality(String),
    is_streaming             Bool,
    request_params           Map(LowCardinality(String), String),
    input_tokens             Nullable(UInt64),
    output_tokens            Nullable(UInt64),
    cached_input_tokens      Nullable(UInt64),
    cache_write_input_tokens Nullable(UInt64),
    reasoning_tokens         Nullable(UInt64),
    total_tokens             Nullable(UInt64),
    tokens_estimated         Bool,
    cost_usd                 Nullable(Float64),
    cost_source              LowCardinality(String),
    input_text               String CODEC(ZSTD(3)),
    output_text              String CODEC(ZSTD(3)),
    gpu_util_avg             Nullable(Float32),
    gpu_util_max             Nullable(Float32),
    gpu_memory_peak_bytes    Nullable(UInt64),
    gpu_power_avg_watts      Nullable(Float32),
    gpu_energy_joules        Nullable(Float64),
    session_id               String,
    user_id                  String,
    tags                     Array(LowCardinality(String)),
    attributes               Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    resource_attributes      Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    events                   String CODEC(ZSTD(3)),
    held_until               DateTime64(3, 'UTC'),
    ingested_at              DateTime64(3, 'UTC') DEFAULT now64(3),
    promoted                 UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toStartOfHour(held_until)
ORDER BY (project_id, trace_id, span_id)
TTL toDateTime(held_until)
SETTINGS ttl_only_drop_parts = 1, merge_with_ttl_timeout = 900;

-- Traces a rule kept (or a low score promoted), for the hold window: spans of theirs arriving
-- later go straight to spans with weight 1, on every collector replica, so a trace whose error
-- came first is still kept whole.
CREATE TABLE IF NOT EXISTS sampling_kept
(
    project_id LowCardinality(String),
    trace_id   String,
    reason     LowCardinality(String),
    kept_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(kept_until)
ORDER BY (project_id, trace_id)
TTL toDateTime(kept_until);

-- What sampling held back and never stored, per hour (of the spans' start), service and model:
-- added when spans are held, subtracted when their trace is promoted. Held spans that expire
-- stay counted: they were sampled away. A request retried after its rows were held counts twice
-- (the counts are a ledger; the weights in spans are what the scaled stats use).
CREATE TABLE IF NOT EXISTS sampled_away
(
    project_id    LowCardinality(String),
    hour          DateTime('UTC'),
    service_name  LowCardinality(String),
    model         LowCardinality(String),
    spans         Int64,
    traces        Int64,
    input_tokens  Int64,
    output_tokens Int64
)
ENGINE = SummingMergeTree
ORDER BY (project_id, hour, service_name, model);
