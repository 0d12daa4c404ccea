-- Drift monitors: a drift report request (JSON, with relative windows) the collector evaluates
-- every interval_s. Editing or deleting writes a newer version of the row; reads take the latest.
CREATE TABLE IF NOT EXISTS drift_monitors
(
    project_id  LowCardinality(String),
    monitor_id  String,
    name        String,
    spec        String CODEC(ZSTD(3)),
    interval_s  UInt32,
    created_at  DateTime64(3, 'UTC'),
    deleted     Bool,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, monitor_id);

-- One row per evaluation of a monitor, kept so drift can be shown over time: the overall status
-- ('error' when the evaluation failed), each feature's status and PSI for charts without decoding
-- the report, and the whole report as JSON. A retried insert of the same evaluation collapses.
CREATE TABLE IF NOT EXISTS drift_results
(
    project_id      LowCardinality(String),
    monitor_id      String,
    evaluated_at    DateTime64(3, 'UTC'),
    status          LowCardinality(String),
    error           String,
    feature_status  Map(LowCardinality(String), String),
    feature_psi     Map(LowCardinality(String), Float64),
    report          String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(evaluated_at)
ORDER BY (project_id, monitor_id, evaluated_at);
