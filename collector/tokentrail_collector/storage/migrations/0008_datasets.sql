-- Eval datasets mined from traces (storage/datasets.py).
-- datasets: one row per dataset; an update writes a newer row_version, reads take the latest.
CREATE TABLE IF NOT EXISTS datasets
(
    project_id  LowCardinality(String),
    dataset_id  String,
    name        String,
    description String,
    metadata    String CODEC(ZSTD(3)),
    created_at  DateTime64(3, 'UTC'),
    row_version UInt64
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (project_id, dataset_id);

-- Items are immutable revisions: editing an item writes revision + 1 beside the old one, so every
-- version that lists the old revision still reads it. Identical rows (a retried insert) collapse.
-- metadata is JSON: model, provider, tokens, latency, cost, tags, scores of the source span.
CREATE TABLE IF NOT EXISTS dataset_items
(
    project_id      LowCardinality(String),
    dataset_id      String,
    item_id         String,
    revision        UInt32,
    input           String CODEC(ZSTD(3)),
    output          String CODEC(ZSTD(3)),
    expected_output String CODEC(ZSTD(3)),
    metadata        String CODEC(ZSTD(3)),
    source_trace_id String,
    source_span_id  String,
    created_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (project_id, dataset_id, item_id, revision);

-- A version is immutable: the (item id, revision) pairs it holds, in order. Adding, editing,
-- removing or importing items writes the next version; old versions stay readable.
CREATE TABLE IF NOT EXISTS dataset_versions
(
    project_id     LowCardinality(String),
    dataset_id     String,
    version        UInt32,
    item_ids       Array(String) CODEC(ZSTD(3)),
    item_revisions Array(UInt32),
    item_count     UInt32,
    note           String,
    created_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (project_id, dataset_id, version);
