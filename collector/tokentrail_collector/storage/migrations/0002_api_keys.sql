-- API keys, stored only as SHA-256 hashes. A key belongs to exactly one project.
-- Revocation writes a newer version of the row; reads take the latest version of each key.
CREATE TABLE IF NOT EXISTS api_keys
(
    key_id      String,
    key_hash    String,
    key_prefix  String,
    project_id  LowCardinality(String),
    name        String,
    created_at  DateTime64(3, 'UTC'),
    revoked_at  Nullable(DateTime64(3, 'UTC')),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY key_id;
