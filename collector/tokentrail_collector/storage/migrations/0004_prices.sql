-- Cost is derived when spans are read, from their usage and the price in force at their start
-- (tokentrail.pricing's shipped table, or a project's custom price), so the stored rows never
-- change when a price does. This migration adds what that needs.

-- Tokens written to a provider's prompt cache (Anthropic's cache_creation_input_tokens), priced at
-- their own rate. Like cached_input_tokens they are part of input_tokens.
ALTER TABLE spans ADD COLUMN IF NOT EXISTS cache_write_input_tokens Nullable(UInt64) AFTER cached_input_tokens;

-- A project's own prices (USD per 1M tokens) for the models whose names match `pattern`, from
-- `effective_from` on (tokentrail_collector.pricing). A row is identified by (project_id, pattern,
-- effective_from); a change or a deletion writes a newer version, reads take the latest.
CREATE TABLE IF NOT EXISTS custom_prices
(
    project_id            LowCardinality(String),
    pattern               String,
    effective_from        DateTime64(3, 'UTC'),
    input                 Float64,
    output                Float64,
    cached_input          Nullable(Float64),
    cache_write_input     Nullable(Float64),
    reasoning             Nullable(Float64),
    note                  String,
    deleted               Bool,
    updated_at            DateTime64(3, 'UTC'),
    version               UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, pattern, effective_from);
