-- GenAI content that arrives as log records (POST /v1/logs), one row per record, kept per span
-- (tokentrail.semconv.SPAN_CONTENT_COLUMNS, same order; rows from normalise.logs.normalise_logs).
-- `content` is JSON: {"input": [messages], "output": [messages]} in OpenTelemetry GenAI's message
-- shape, or {"body": ...} for a GenAI record without messages.
-- Idempotent ingest: a record is identified by its span, time, event, role and content, all in
-- the sorting key (content by its hash), so a retried delivery collapses on merge while two
-- different messages stamped with the same time stay apart. Reads are by trace, the key's prefix.
CREATE TABLE IF NOT EXISTS span_content
(
    project_id     LowCardinality(String),
    trace_id       String,
    span_id        String,
    time_unix_nano DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    event_name     LowCardinality(String),
    role           LowCardinality(String),
    content        String CODEC(ZSTD(3)),
    attributes     Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(time_unix_nano)
ORDER BY (project_id, trace_id, span_id, time_unix_nano, event_name, role, cityHash64(content));
