-- Feedback and evaluation scores on traces and spans (tokentrail.semconv.SCORE_COLUMNS, same order).
-- A score is identified by (project_id, score_id): writing the same id again is an upsert, the
-- row with the highest row_version (the collector's nanosecond clock at the write) wins, and
-- reads collapse versions with FINAL. span_id is '' for a score of a whole trace.
-- Numbers and booleans (1/0) are in numeric_value; categories (and booleans as 'true'/'false')
-- in label, so "average per model" and "count per category" are both plain aggregates.
CREATE TABLE IF NOT EXISTS scores
(
    project_id    LowCardinality(String),
    score_id      String,
    trace_id      String,
    span_id       String,
    name          LowCardinality(String),
    data_type     LowCardinality(String),
    numeric_value Nullable(Float64),
    label         String,
    comment       String CODEC(ZSTD(3)),
    source        LowCardinality(String),
    timestamp     DateTime64(3, 'UTC'),
    row_version   UInt64,
    INDEX idx_scores_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (project_id, score_id);
