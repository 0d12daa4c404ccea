-- OTLP metric points (POST /v1/metrics), one row per point (tokentrail.semconv.GPU_METRIC_COLUMNS,
-- same order; rows from normalise.metrics.normalise_metrics). The SDK's GPU gauges
-- (tokentrail.gpu.*) name their device in device_index/device_uuid/device_name; other gauge and
-- sum points are kept too, with device_index -1, their other attributes in `attributes`.
-- Idempotent ingest: a point is identified by its series (project, metric, service, host, device,
-- attributes) and its time, all in the sorting key, so a retried delivery collapses on merge,
-- and reads collapse the rest with FINAL. Metric and time lead the key: reads are a time range of a
-- few metrics.
CREATE TABLE IF NOT EXISTS gpu_metrics
(
    project_id     LowCardinality(String),
    service_name   LowCardinality(String),
    host           LowCardinality(String),
    device_index   Int32,
    device_uuid    LowCardinality(String),
    device_name    LowCardinality(String),
    metric         LowCardinality(String),
    unit           LowCardinality(String),
    time_unix_nano DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    value          Float64 CODEC(Gorilla, ZSTD(1)),
    attributes     Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(time_unix_nano)
ORDER BY (project_id, metric, time_unix_nano, service_name, host, device_uuid, device_index,
          cityHash64(mapKeys(attributes), mapValues(attributes)));
