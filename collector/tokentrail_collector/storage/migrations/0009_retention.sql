-- Retention per project (storage/retention.py): how many days of a project's telemetry the
-- collector keeps; 0 keeps it forever. A project without a row here has the collector's default
-- (TOKENTRAIL_RETENTION_DAYS). Setting or resetting writes a newer version of the row; reads take
-- the latest. The collector's retention task deletes what is older, from every table of
-- telemetry (spans, span_content, gpu_metrics, scores, drift_results), never from datasets.
CREATE TABLE IF NOT EXISTS project_retention
(
    project_id     LowCardinality(String),
    retention_days UInt32,
    deleted        Bool,
    updated_at     DateTime64(3, 'UTC'),
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY project_id;
